//! `rollcall report` on a ledger of about 1,000,000 entries (the `demo --scale` ledger the console
//! benchmark uses), against this machine's own limits measured in the same run:
//!
//! - the structural verdict in the report's header (every statement hash, leaf, chain link, tree hash and
//!   checkpoint signature) against raw SHA-256 of the same statement bytes read from the same file;
//! - the figures (read every request's facts from the index, compute, render Markdown, JSON and CSV)
//!   against a bare scan of the same index column.
//!
//! Target: the whole report in under 5 s. Run with `cargo bench --bench report`
//! (`ROLLCALL_BENCH_SCALE` sets the synthetic requests; default 660,000 ≈ 1 M entries).

#[path = "shared/demo_ledger.rs"]
mod demo_ledger;

use rollcall::ledger::Ledger;
use rollcall::report::render;
use rollcall::workflow::report;
use sha2::{Digest, Sha256};
use std::time::Instant;

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

fn main() {
    let dir = demo_ledger::million();
    let ledger = Ledger::open(&dir.join("ledger.db")).expect("open");
    let mut entries = 0;
    for o in ledger.origins().expect("origins") {
        entries += ledger.size(&o).expect("size");
    }
    // Warm: the index is brought up to date once (the demo leaves it current).
    rollcall::workflow::index::refresh(&ledger, rollcall::workflow::clock::now()).expect("refresh");
    println!("rollcall report benchmark on {entries} entries ({})", dir.display());

    // Limit 1: SHA-256 of every statement, read from the same file in log order.
    let raw = rusqlite::Connection::open_with_flags(dir.join("ledger.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open raw");
    let (raw_hash, bytes) = best(3, || {
        let mut n = 0usize;
        let mut stmt = raw
            .prepare(
                "SELECT e.statement FROM leaves l CROSS JOIN entries e ON e.id = l.entry_id ORDER BY l.origin, l.idx",
            )
            .expect("prepare");
        let mut rows = stmt.query([]).expect("query");
        while let Some(r) = rows.next().expect("row") {
            let s = r.get_ref(0).expect("col").as_blob().expect("blob");
            n += s.len();
            std::hint::black_box(Sha256::digest(s));
        }
        n
    });
    let (verdict, structural) = best(3, || report::structural_verdict(&ledger).expect("verdict"));
    assert!(structural.intact, "the benchmark ledger verifies");
    println!(
        "  structural verdict:        {verdict:>7.2} s   limit (SHA-256 of {:.0} MiB of statements from SQLite): {raw_hash:.2} s   ratio {:.0} %",
        bytes as f64 / 1048576.0,
        100.0 * raw_hash / verdict
    );

    // Limit 2: a bare scan of the facts column.
    let (raw_scan, facts_bytes) = best(3, || {
        let mut n = 0usize;
        let mut stmt = raw.prepare("SELECT facts FROM request_index").expect("prepare");
        let mut rows = stmt.query([]).expect("query");
        while let Some(r) = rows.next().expect("row") {
            n += r.get_ref(0).expect("col").as_str().expect("text").len();
        }
        n
    });
    let scope = report::Scope::default();
    // Each format end to end (index walk for the figures, the verdict beside it, then the walks the
    // format needs), written to a sink that only counts bytes.
    let run = |format: render::Format| {
        let mut sink = Count(0);
        let rep = report::write_report(&ledger, &scope, None, format, &mut sink).expect("report");
        (sink.0, rep.metrics.requests)
    };
    let (md_s, (md, requests)) = best(3, || run(render::Format::Markdown));
    let (json_s, (json, _)) = best(1, || run(render::Format::Json));
    let (csv_s, (csv, _)) = best(1, || run(render::Format::Csv));
    println!(
        "  {requests} requests; limit for reading their facts: a bare scan of {:.0} MiB of facts: {raw_scan:.2} s",
        facts_bytes as f64 / 1048576.0,
    );
    println!("  rollcall report (md), end to end: {md_s:>6.2} s   ({:.1} KiB; target < 5 s)", md as f64 / 1024.0);
    println!("  rollcall report --format json:    {json_s:>6.2} s   ({:.0} MiB)", json as f64 / 1048576.0);
    println!("  rollcall report --format csv:     {csv_s:>6.2} s   ({:.0} MiB)", csv as f64 / 1048576.0);
}

/// A sink that counts the bytes written to it.
struct Count(usize);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
