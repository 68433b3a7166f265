//! Verifies a ledger file and prints the time taken: `verify_file LEDGER`. For profiling `verify` on a
//! large ledger without the CLI's output.

use rollcall::identity::passphrase::Given;
use rollcall::identity::{Keystore, Passphrase};
use rollcall::workflow::Context;
use std::path::PathBuf;

fn main() {
    let path = PathBuf::from(std::env::args().nth(1).expect("usage: verify_file LEDGER"));
    let dir = std::env::temp_dir();
    let ctx = Context {
        ledger_path: path,
        keystore: Keystore::at(&dir),
        passphrases: Box::new(Given(Passphrase::new("unused-passphrase".into()))),
    };
    let t = std::time::Instant::now();
    let r = rollcall::workflow::verify::verify(&ctx).expect("verify");
    println!("intact={} entries={} in {:.3} s", r.intact(), r.origins[0].verified, t.elapsed().as_secs_f64());
}
