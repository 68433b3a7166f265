//! The keystore directory: people's keys as `keys/<name>.key` and origin keys as
//! `origins/<key id>.key`, each an encrypted key file with mode 0600 in a 0700 directory.

use super::error::IdentityError;
use super::keyfile::{KeyFile, KeyFileError, Purpose};
use super::passphrase::Passphrase;
use crate::ledger::PublicKey;
use ed25519_dalek::SigningKey;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The public facts about a stored key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: String,
    pub public_key: PublicKey,
    pub created: String,
    pub path: PathBuf,
    /// The KDF parameters the file records.
    pub kdf: super::keyfile::KdfParams,
}

/// An unlocked private key. Its secret is wiped on drop and never shown by `Debug`.
pub struct UnlockedKey {
    pub name: String,
    signing: SigningKey,
}

impl UnlockedKey {
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::from_signing(&self.signing)
    }
}

impl std::fmt::Debug for UnlockedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UnlockedKey({}, {})", self.name, self.public().key_id())
    }
}

/// Person key names: 1-64 of `[A-Za-z0-9._-]`, starting with a letter or digit.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The keystore rooted at the configured directories.
#[derive(Clone, Debug)]
pub struct Keystore {
    keys: PathBuf,
    origins: PathBuf,
    /// Unlock keys weaker than the default KDF: in debug builds, and for the demo's throwaway keys.
    allow_weak: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
    move |e| IdentityError::Io(path.to_path_buf(), e)
}

fn ensure_private_dir(dir: &Path) -> Result<(), IdentityError> {
    crate::paths::create_private_dir(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

/// How the name of a key file being written starts, before it is linked under its own name.
const TMP_PREFIX: &str = ".tmp-";

/// Writes `bytes` to `path` with mode 0600, atomically, never replacing an existing file.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_private_dir(dir)?;
    let tmp = dir.join(format!(
        "{TMP_PREFIX}{}-{}",
        std::process::id(),
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key")
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::hard_link(&tmp, path).map_err(io(path))
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// As ssh does with a private key: a key file others may read (an offline guess at its passphrase) or
/// write is refused before its secret is used, until it is private again. Its public facts stay readable
/// (which key signs, `key list`), so a loose file never makes another key the one chosen.
fn check_private(path: &Path) -> Result<(), IdentityError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(io(path))?.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(IdentityError::KeyFileNotPrivate(path.to_path_buf(), mode));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn read_key_file(path: &Path) -> Result<KeyFile, IdentityError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.len() > 64 * 1024 {
        return Err(IdentityError::BadKeyFile(path.to_path_buf(), "too large".into()));
    }
    let text = crate::paths::read_capped(path, 64 * 1024).map_err(io(path))?;
    serde_json::from_slice(&text).map_err(|e| IdentityError::BadKeyFile(path.to_path_buf(), e.to_string()))
}

/// A file that `rollcall demo` writes beside the keystore it creates: the keys there are throwaway (their
/// passphrase is printed on screen), so their weak KDF is accepted even by a release build. No other
/// command writes it.
pub(crate) const DEMO_MARKER: &str = "DEMO-KEYSTORE";

/// Whether the keystore whose `keys/` directory is `keys` was made by `rollcall demo`.
fn demo_keystore(keys: &Path) -> bool {
    keys.parent().is_some_and(|root| root.join(DEMO_MARKER).is_file())
}

impl Keystore {
    /// The keystore of `ROLLCALL_HOME` or the platform config directory.
    pub(crate) fn default_location() -> Result<Keystore, IdentityError> {
        let keys = crate::paths::keys_dir()?;
        Ok(Keystore {
            allow_weak: super::keyfile::weak_keys_allowed_by_build() || demo_keystore(&keys),
            keys,
            origins: crate::paths::origin_keys_dir()?,
        })
    }

    pub fn at(root: &Path) -> Keystore {
        let keys = root.join("keys");
        Keystore {
            allow_weak: super::keyfile::weak_keys_allowed_by_build() || demo_keystore(&keys),
            keys,
            origins: root.join("origins"),
        }
    }

    /// This keystore holds throwaway keys (the demo's): weak keys unlock even in a release build.
    pub fn throwaway(mut self) -> Keystore {
        self.allow_weak = true;
        self
    }

    pub(crate) fn keys_dir(&self) -> &Path {
        &self.keys
    }

    fn person_path(&self, name: &str) -> PathBuf {
        self.keys.join(format!("{name}.key"))
    }

    fn origin_path(&self, key: &PublicKey) -> PathBuf {
        self.origins.join(format!("{}.key", key.key_id()))
    }

    /// Generates a person key `name`, sealed with `passphrase`.
    pub fn create(&self, name: &str, passphrase: &Passphrase) -> Result<KeyInfo, IdentityError> {
        self.create_with(name, passphrase, super::keyfile::KdfCost::Default)
    }

    /// As [`Keystore::create`] with a chosen KDF cost.
    pub(crate) fn create_with(
        &self,
        name: &str,
        passphrase: &Passphrase,
        cost: super::keyfile::KdfCost,
    ) -> Result<KeyInfo, IdentityError> {
        if !valid_name(name) {
            return Err(IdentityError::InvalidName(name.to_string()));
        }
        let path = self.person_path(name);
        if path.exists() {
            return Err(IdentityError::KeyExists(name.to_string()));
        }
        let key = super::keyfile::generate().map_err(|e| IdentityError::Random(e.to_string()))?;
        let file = KeyFile::seal_with(name, Purpose::Person, &key, passphrase.expose(), cost)
            .map_err(|e| map_kf(&path, name, e))?;
        let json =
            serde_json::to_vec_pretty(&file).map_err(|e| IdentityError::BadKeyFile(path.clone(), e.to_string()))?;
        write_new_private(&path, &json).map_err(|e| match e {
            IdentityError::Io(_, ref io) if io.kind() == std::io::ErrorKind::AlreadyExists => {
                IdentityError::KeyExists(name.to_string())
            }
            e => e,
        })?;
        Ok(KeyInfo {
            name: name.to_string(),
            public_key: PublicKey::from_signing(&key),
            created: file.created,
            path,
            kdf: file.kdf,
        })
    }

    /// The public facts of person key `name`.
    pub(crate) fn info(&self, name: &str) -> Result<KeyInfo, IdentityError> {
        if !valid_name(name) {
            return Err(IdentityError::InvalidName(name.to_string()));
        }
        let path = self.person_path(name);
        if !path.exists() {
            return Err(IdentityError::UnknownKey { name: name.to_string(), dir: self.keys.clone() });
        }
        let f = read_key_file(&path)?;
        let public_key = PublicKey::parse(&f.public_key)
            .ok_or_else(|| IdentityError::BadKeyFile(path.clone(), "public key is not valid".into()))?;
        if f.name != name || f.purpose != Purpose::Person {
            return Err(IdentityError::BadKeyFile(path, "the file's name or purpose does not match".into()));
        }
        Ok(KeyInfo { name: f.name, public_key, created: f.created, path, kdf: f.kdf })
    }

    /// Every person key, sorted by name. Unreadable files are reported beside the list.
    pub(crate) fn list(&self) -> Result<(Vec<KeyInfo>, Vec<String>), IdentityError> {
        let mut keys = Vec::new();
        let mut problems = Vec::new();
        let dir = match std::fs::read_dir(&self.keys) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((keys, problems)),
            Err(e) => return Err(IdentityError::Io(self.keys.clone(), e)),
        };
        for entry in dir {
            let entry = entry.map_err(io(&self.keys))?;
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".key")) else {
                continue;
            };
            if name.starts_with(TMP_PREFIX) {
                problems.push(format!(
                    "{}: a temporary file an interrupted key write left behind (not a key of its own; delete it)",
                    path.display()
                ));
                continue;
            }
            match self.info(name) {
                Ok(k) => {
                    // Said here, not first at the signing that refuses it.
                    if let Err(e) = check_private(&k.path) {
                        problems.push(e.to_string());
                    }
                    keys.push(k)
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((keys, problems))
    }

    /// Refuses, before any passphrase is asked, a signing whose key files are not private: person key
    /// `person` (its path) and, when this keystore holds it, origin key `origin`.
    pub(crate) fn check_private_files(&self, person: &Path, origin: &PublicKey) -> Result<(), IdentityError> {
        check_private(person)?;
        let origin = self.origin_path(origin);
        if origin.exists() {
            check_private(&origin)?;
        }
        Ok(())
    }

    /// Decrypts person key `name`.
    pub fn unlock(&self, name: &str, passphrase: &Passphrase) -> Result<UnlockedKey, IdentityError> {
        let info = self.info(name)?;
        check_private(&info.path)?;
        let f = read_key_file(&info.path)?;
        f.kdf.check_strength(self.allow_weak).map_err(|e| map_kf(&info.path, name, e))?;
        let signing = f.open(passphrase.expose()).map_err(|e| map_kf(&info.path, name, e))?;
        Ok(UnlockedKey { name: name.to_string(), signing })
    }

    /// Stores an origin key sealed with `passphrase`.
    pub fn store_origin(
        &self,
        origin: &str,
        key: &SigningKey,
        passphrase: &Passphrase,
    ) -> Result<PathBuf, IdentityError> {
        self.store_origin_with(origin, key, passphrase, super::keyfile::KdfCost::Default)
    }

    /// As [`Keystore::store_origin`] with a chosen KDF cost.
    pub(crate) fn store_origin_with(
        &self,
        origin: &str,
        key: &SigningKey,
        passphrase: &Passphrase,
        cost: super::keyfile::KdfCost,
    ) -> Result<PathBuf, IdentityError> {
        let path = self.origin_path(&PublicKey::from_signing(key));
        let file = KeyFile::seal_with(origin, Purpose::Origin, key, passphrase.expose(), cost)
            .map_err(|e| map_kf(&path, origin, e))?;
        let json =
            serde_json::to_vec_pretty(&file).map_err(|e| IdentityError::BadKeyFile(path.clone(), e.to_string()))?;
        write_new_private(&path, &json)?;
        Ok(path)
    }

    /// Removes an origin key file written by [`Keystore::store_origin`] (only when creating its ledger failed).
    pub(crate) fn discard_origin(&self, key: &PublicKey) {
        let _ = std::fs::remove_file(self.origin_path(key));
    }

    /// Whether this keystore holds the private key of origin `key`.
    pub(crate) fn has_origin(&self, key: &PublicKey) -> bool {
        self.origin_path(key).exists()
    }

    /// Decrypts the key of an origin.
    pub(crate) fn unlock_origin(
        &self,
        origin: &str,
        key: &PublicKey,
        passphrase: &Passphrase,
    ) -> Result<SigningKey, IdentityError> {
        let path = self.origin_path(key);
        if !path.exists() {
            return Err(IdentityError::UnknownKey { name: format!("origin {origin}"), dir: self.origins.clone() });
        }
        check_private(&path)?;
        let f = read_key_file(&path)?;
        if f.public_key != key.encode() || f.purpose != Purpose::Origin {
            return Err(IdentityError::BadKeyFile(path, "not the key of this origin".into()));
        }
        f.kdf.check_strength(self.allow_weak).map_err(|e| map_kf(&path, origin, e))?;
        f.open(passphrase.expose()).map_err(|e| map_kf(&path, origin, e))
    }
}

fn map_kf(path: &Path, name: &str, e: KeyFileError) -> IdentityError {
    match e {
        KeyFileError::WrongPassphrase => IdentityError::WrongPassphrase(name.to_string()),
        KeyFileError::Damaged(why) => IdentityError::BadKeyFile(path.to_path_buf(), why),
        KeyFileError::Random(why) => IdentityError::Random(why),
        KeyFileError::TooWeak(why) => IdentityError::WeakKey(name.to_string(), why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_keystore_the_demo_marked_accepts_weak_keys_whatever_the_build() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!demo_keystore(&dir.path().join("keys")));
        std::fs::write(dir.path().join(DEMO_MARKER), "x").unwrap();
        assert!(demo_keystore(&dir.path().join("keys")));
        assert!(Keystore::at(dir.path()).allow_weak);
    }

    fn setup() -> (tempfile::TempDir, Keystore) {
        // SAFETY: every test in the crate sets this to the same value.
        unsafe { std::env::set_var(super::super::keyfile::INSECURE_KDF_ENV, "1") };
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::at(dir.path());
        (dir, ks)
    }

    fn pass(s: &str) -> Passphrase {
        Passphrase::new(s.into())
    }

    #[test]
    fn create_list_unlock() {
        let (_d, ks) = setup();
        let info = ks.create("alice", &pass("passphrase-a")).unwrap();
        ks.create("bob", &pass("passphrase-b")).unwrap();
        let (keys, problems) = ks.list().unwrap();
        assert_eq!(keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
        assert!(problems.is_empty());
        let k = ks.unlock("alice", &pass("passphrase-a")).unwrap();
        assert_eq!(k.public(), info.public_key);
        assert!(!format!("{k:?}").contains(&hex::encode(k.signing_key().to_bytes())));
        assert!(matches!(ks.unlock("alice", &pass("passphrase-b")), Err(IdentityError::WrongPassphrase(_))));
        assert!(matches!(ks.unlock("carol", &pass("x")), Err(IdentityError::UnknownKey { .. })));
        assert!(matches!(ks.create("alice", &pass("passphrase-a")), Err(IdentityError::KeyExists(_))));
        assert!(matches!(ks.create("../evil", &pass("passphrase-a")), Err(IdentityError::InvalidName(_))));
        // A write killed between its temporary file and the link leaves the temporary file: said as such,
        // not as a key with an invalid name.
        std::fs::copy(&info.path, ks.keys_dir().join(".tmp-4242-alice.key")).unwrap();
        let (keys, problems) = ks.list().unwrap();
        assert_eq!(keys.len(), 2);
        assert!(
            problems.len() == 1 && problems[0].contains("interrupted key write") && !problems[0].contains("invalid"),
            "{problems:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, ks) = setup();
        let info = ks.create("alice", &pass("passphrase-a")).unwrap();
        assert_eq!(std::fs::metadata(&info.path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(ks.keys_dir()).unwrap().permissions().mode() & 0o777, 0o700);
    }

    /// A key file others may read or write is refused before it is decrypted, naming the fix; made private
    /// again, it unlocks.
    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_is_refused_until_it_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, ks) = setup();
        let info = ks.create("alice", &pass("passphrase-a")).unwrap();
        for mode in [0o640, 0o604, 0o620, 0o666] {
            std::fs::set_permissions(&info.path, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = ks.unlock("alice", &pass("passphrase-a")).unwrap_err();
            assert!(matches!(e, IdentityError::KeyFileNotPrivate(_, m) if m == mode), "{e}");
            assert!(
                e.to_string().contains(&format!("(mode {mode:04o})")) && e.to_string().contains("chmod 600"),
                "{e}"
            );
            // Its public facts stay readable: it is still the key listed (and chosen when it is the only one),
            // with the problem said beside it.
            let (keys, problems) = ks.list().unwrap();
            assert!(keys.len() == 1 && problems.len() == 1, "{problems:?}");
            assert!(problems[0].contains(&format!("(mode {mode:04o})")), "{problems:?}");
        }
        std::fs::set_permissions(&info.path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(ks.unlock("alice", &pass("passphrase-a")).is_ok(), "read-only to its owner is private");
        let key = super::super::keyfile::generate().unwrap();
        let pk = PublicKey::from_signing(&key);
        ks.store_origin("rollcall/test", &key, &pass("passphrase-a")).unwrap();
        let origin = ks.origin_path(&pk);
        std::fs::set_permissions(&origin, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = ks.unlock_origin("rollcall/test", &pk, &pass("passphrase-a")).unwrap_err();
        assert!(matches!(e, IdentityError::KeyFileNotPrivate(..)), "{e}");
    }

    #[test]
    fn origin_keys_round_trip() {
        let (_d, ks) = setup();
        let key = super::super::keyfile::generate().unwrap();
        let pk = PublicKey::from_signing(&key);
        ks.store_origin("rollcall/test", &key, &pass("passphrase-a")).unwrap();
        assert!(ks.has_origin(&pk));
        assert_eq!(ks.unlock_origin("rollcall/test", &pk, &pass("passphrase-a")).unwrap().to_bytes(), key.to_bytes());
        assert!(ks.unlock_origin("rollcall/test", &pk, &pass("nope-nope")).is_err());
    }
}
