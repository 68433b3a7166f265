//! The command-line grammar (clap derive).

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// rollcall — signed, tamper-evident records of why a deployed change was reverted, who decided and
/// who approved.
#[derive(Debug, Parser)]
#[command(name = "rollcall", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The ledger file (default: ledger.db in ROLLCALL_HOME or the platform data directory).
    #[arg(long, global = true, env = "ROLLCALL_LEDGER", value_name = "PATH")]
    pub ledger: Option<PathBuf>,

    /// Print one JSON document on stdout instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage the keys in your keystore.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Create a new ledger founded by an admin key.
    Init {
        /// Name of the key (in your keystore) of the founding admin.
        #[arg(long, value_name = "NAME")]
        admin: String,
        /// Name of this machine's log (default: rollcall/<host>-<random>).
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
        /// Policy to adopt (default: the built-in policy in assets/policy.toml).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
    /// Record a note in the ledger.
    Note {
        /// The text to record.
        text: String,
        /// Key that signs (default: ROLLCALL_KEY, or the only key in the keystore).
        #[arg(long = "as", value_name = "NAME")]
        signer: Option<String>,
    },
    /// List the raw entries of a log in log order.
    Log {
        /// Which origin's log (default: this ledger's own).
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
        /// First index to show.
        #[arg(long, default_value_t = 0, value_name = "INDEX")]
        from: u64,
        /// Most entries to show.
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },
    /// Verify every entry, signature, leaf, tree hash and checkpoint. Exit 0 intact, 1 on a failure.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a new Ed25519 key, encrypted with a passphrase (ROLLCALL_PASSPHRASE or a prompt).
    New {
        /// Name for the key (letters, digits, '.', '_', '-').
        name: String,
    },
    /// List the keys in the keystore.
    List,
}
