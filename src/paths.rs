//! Where rollcall keeps its files: `ROLLCALL_HOME` when set (keys in `keys/`, the default ledger as
//! `ledger.db`), otherwise the platform's config directory for keys and data directory for the ledger.

use std::path::PathBuf;

/// Environment variable that moves every rollcall file under one directory.
pub const HOME_ENV: &str = "ROLLCALL_HOME";

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
pub fn keys_dir() -> Result<PathBuf, NoHome> {
    match home_override() {
        Some(h) => Ok(h.join("keys")),
        None => Ok(project_dirs()?.config_dir().join("keys")),
    }
}

/// The directory holding encrypted origin (per-ledger log) keys.
pub fn origin_keys_dir() -> Result<PathBuf, NoHome> {
    match home_override() {
        Some(h) => Ok(h.join("origins")),
        None => Ok(project_dirs()?.config_dir().join("origins")),
    }
}

/// The ledger used when neither `--ledger` nor `ROLLCALL_LEDGER` names one.
pub fn default_ledger() -> Result<PathBuf, NoHome> {
    match home_override() {
        Some(h) => Ok(h.join("ledger.db")),
        None => Ok(project_dirs()?.data_dir().join("ledger.db")),
    }
}

/// The directory holding configuration (`keymap.toml`, `theme.toml`).
pub fn config_dir() -> Result<PathBuf, NoHome> {
    match home_override() {
        Some(h) => Ok(h),
        None => Ok(project_dirs()?.config_dir().to_path_buf()),
    }
}
