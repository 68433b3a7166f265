//! Where rollcall keeps its files: `ROLLCALL_HOME` when set (keys in `keys/`, the default ledger as
//! `ledger.db`), otherwise the platform's config directory for keys and data directory for the ledger.

use std::path::PathBuf;

/// Environment variable that moves every rollcall file under one directory.
pub(crate) const HOME_ENV: &str = "ROLLCALL_HOME";

#[derive(Debug, thiserror::Error)]
#[error("cannot determine a home directory for rollcall; set {HOME_ENV}")]
pub struct NoHome;

fn home_override() -> Option<PathBuf> {
    std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn project_dirs() -> Result<directories::ProjectDirs, NoHome> {
    directories::ProjectDirs::from("", "", "rollcall").ok_or(NoHome)
}

/// The directory holding encrypted private keys.
pub(crate) fn keys_dir() -> Result<PathBuf, NoHome> {
    match home_override() {
        Some(h) => Ok(h.join("keys")),
        None => Ok(project_dirs()?.config_dir().join("keys")),
    }
}

/// The directory holding encrypted origin (per-ledger log) keys.
pub(crate) fn origin_keys_dir() -> Result<PathBuf, NoHome> {
    match home_override() {
        Some(h) => Ok(h.join("origins")),
        None => Ok(project_dirs()?.config_dir().join("origins")),
    }
}

/// The ledger used when neither `--ledger` nor `ROLLCALL_LEDGER` names one.
pub(crate) fn default_ledger() -> Result<PathBuf, NoHome> {
    match home_override() {
        Some(h) => Ok(h.join("ledger.db")),
        None => Ok(project_dirs()?.data_dir().join("ledger.db")),
    }
}

/// The directory holding configuration (`keymap.toml`, `theme.toml`).
pub(crate) fn config_dir() -> Result<PathBuf, NoHome> {
    match home_override() {
        Some(h) => Ok(h),
        None => Ok(project_dirs()?.config_dir().to_path_buf()),
    }
}

/// Creates `dir` and any missing parents with mode 0700 (on Unix): whatever rollcall creates is
/// readable by its user only. Directories that already exist keep their mode.
pub(crate) fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Options that create a file with mode 0600 (on Unix) for writing; an existing file keeps its mode.
pub(crate) fn private_file_options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Writes `bytes` to `path` (created with mode 0600, or truncated), as `std::fs::write` does.
pub(crate) fn write_private(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = private_file_options().create(true).truncate(true).open(path)?;
    f.write_all(bytes.as_ref())
}

/// Opens `path` for reading without following a symbolic link in its last component, and without waiting
/// for a writer when it is a FIFO: a path swapped after the caller checked it fails to open instead. The
/// caller checks the handle (`File::metadata`).
pub(crate) fn open_no_follow(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    opts.open(path)
}

/// Reads a regular file of at most `cap` bytes whole. Anything else (a FIFO, a device such as `/dev/zero`,
/// a directory) or a file that grows past `cap` while it is read is refused instead of read without end:
/// the size in the metadata alone says nothing about a device.
pub(crate) fn read_capped(path: &std::path::Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(invalid("not a regular file".into()));
    }
    let mut out = Vec::new();
    std::fs::File::open(path)?.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(invalid(format!("larger than {cap} bytes")));
    }
    Ok(out)
}

/// Whether a file can be written at `path`, asked before work that must not happen for output that cannot
/// be written (an audited read is recorded before its report). `path` must not be a directory. Written in
/// place (`by_rename` false, [`LazyFile`]): an existing regular file must open for writing (left as it is);
/// a device or a pipe (`/dev/null`, `/dev/stdout`, a FIFO) is taken as it is, not opened (a FIFO's reader
/// would see the end of its input); a path not there needs a directory that takes a new file (one is made
/// and removed). Written beside and renamed into place (`by_rename`): the directory must take a new file.
pub(crate) fn check_writable(path: &std::path::Path, by_rename: bool) -> std::io::Result<()> {
    let probe_dir = || {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        // A name no other process uses; one left by a killed process of the same id is tried past.
        for n in 0..16 {
            let probe = dir.join(format!(".rollcall-probe-{}-{n}", std::process::id()));
            match private_file_options().create_new(true).open(&probe) {
                Ok(_) => return std::fs::remove_file(&probe),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no probe file could be made"))
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory")),
        _ if by_rename => probe_dir(),
        Ok(m) if m.is_file() => std::fs::OpenOptions::new().write(true).open(path).map(drop),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => probe_dir(),
        Err(e) => Err(e),
    }
}

/// A private file (0600, truncating) created at its first write, so output refused before it starts (a
/// wrong passphrase, a damaged ledger) leaves whatever was at the path alone. Buffered.
pub(crate) struct LazyFile<'p> {
    path: &'p std::path::Path,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl<'p> LazyFile<'p> {
    pub(crate) fn new(path: &'p std::path::Path) -> LazyFile<'p> {
        LazyFile { path, file: None }
    }
}

impl std::io::Write for LazyFile<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let f = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(std::io::BufWriter::new(
                crate::paths::private_file_options().create(true).truncate(true).open(self.path)?,
            )),
        };
        f.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    /// Probe names left by killed processes of this process's id are tried past; when every one is taken
    /// the check fails saying so, and the files found there are left as they were.
    #[test]
    fn a_directory_whose_probe_names_are_all_taken_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let taken = |n: u32| dir.path().join(format!(".rollcall-probe-{}-{n}", std::process::id()));
        for n in 0..15 {
            std::fs::write(taken(n), "left").unwrap();
        }
        assert!(super::check_writable(&dir.path().join("new.md"), true).is_ok(), "the 16th name is free");
        std::fs::write(taken(15), "left").unwrap();
        let e = super::check_writable(&dir.path().join("new.md"), true).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(e.to_string().contains("no probe file could be made"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 16, "nothing added or removed");
        assert!((0..16).all(|n| std::fs::read_to_string(taken(n)).unwrap() == "left"));
    }

    #[test]
    fn a_destination_is_checked_without_being_changed() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("kept.md");
        std::fs::write(&existing, "before").unwrap();
        for by_rename in [false, true] {
            assert!(super::check_writable(&existing, by_rename).is_ok());
            assert_eq!(std::fs::read_to_string(&existing).unwrap(), "before");
            assert!(super::check_writable(&dir.path().join("new.md"), by_rename).is_ok());
            assert!(!dir.path().join("new.md").exists());
            assert!(super::check_writable(&dir.path().join("missing/new.md"), by_rename).is_err());
            assert!(super::check_writable(dir.path(), by_rename).is_err());
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "nothing left behind");
        // Written in place, a device is taken as it is (its directory, /dev, takes no new file for most
        // users), and a FIFO is not opened: opened and closed, it would end its reader's input (and with
        // no reader, the open would wait).
        assert!(super::check_writable(std::path::Path::new("/dev/null"), false).is_ok());
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(super::check_writable(&fifo, false).is_ok());
        // A read-only regular file is refused in place.
        std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o400)).unwrap();
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        assert_eq!(super::check_writable(&existing, false).is_err(), !root);
    }

    #[test]
    fn created_files_and_dirs_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        super::create_private_dir(&dir).unwrap();
        for d in [tmp.path().join("a"), dir.clone()] {
            assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700, "{}", d.display());
        }
        let f = dir.join("f");
        super::write_private(&f, b"x").unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
        super::write_private(&f, b"yy").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"yy");
    }

    #[test]
    fn capped_reads_refuse_devices_and_growth() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(super::read_capped(&f, 5).unwrap(), b"12345");
        assert!(super::read_capped(&f, 4).unwrap_err().to_string().contains("larger than 4 bytes"));
        let zero = std::path::Path::new("/dev/zero");
        assert!(super::read_capped(zero, 1 << 20).unwrap_err().to_string().contains("not a regular file"));
        assert!(super::read_capped(tmp.path(), 10).is_err());
    }
}
