//! Appends notes in a loop from one process, one transaction each, printing each new index as it lands.
//! The concurrency and crash tests run two of these at once and `kill -9` one mid-loop; it is also a
//! quick way to load a ledger.
//!
//! Usage: `append_loop LEDGER HOME KEY COUNT [TAG]` with the passphrase in `ROLLCALL_PASSPHRASE`.

use rollcall::identity::passphrase::Given;
use rollcall::identity::{Keystore, Passphrase};
use rollcall::ledger::Statement;
use rollcall::workflow::Context;
use std::io::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: append_loop LEDGER HOME KEY COUNT [TAG]");
        std::process::exit(2);
    }
    let count: u64 = args[4].parse()?;
    let tag = args.get(5).cloned().unwrap_or_else(|| "loop".into());
    let pass = Passphrase::new(std::env::var("ROLLCALL_PASSPHRASE")?);
    let ctx = Context {
        ledger_path: PathBuf::from(&args[1]),
        keystore: Keystore::at(&PathBuf::from(&args[2])),
        passphrases: Box::new(Given(pass)),
    };
    let mut session = ctx.session(Some(&args[3]))?;
    let mut out = std::io::stdout().lock();
    for i in 0..count {
        let body = serde_json::json!({"text": format!("{tag} {i}")});
        let stmt = Statement::new("note", &session.signer.public(), body, &[]);
        let r = session.append(stmt, &|_, _, _| Ok(()), &[])?;
        writeln!(out, "{}", r.index)?;
        out.flush()?;
    }
    Ok(())
}
