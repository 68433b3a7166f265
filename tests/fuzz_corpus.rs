//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through its target on the stable
//! toolchain, so each input a fuzzer kept — and each crash it found, once added here — stays checked by
//! `cargo test`. The coverage-guided fuzzing itself runs with cargo-fuzz (see `fuzz/README.md`).

use std::path::Path;

#[test]
fn every_corpus_file_runs_through_its_target_without_panicking() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("corpus");
    let mut ran = 0;
    for (name, target) in rollcall::fuzz::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "target {name} has no seed corpus");
        for f in files {
            let data = std::fs::read(&f).expect("read corpus file");
            let started = std::time::Instant::now();
            target(&data);
            assert!(started.elapsed().as_secs() < 10, "{} took {:?}", f.display(), started.elapsed());
            ran += 1;
        }
    }
    assert!(ran >= rollcall::fuzz::TARGETS.len());
}
