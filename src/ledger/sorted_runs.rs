//! A set of fixed-size records too large to hold: records are sorted in memory in runs of bounded size,
//! runs are spilled to an unnamed temporary file, and [`SortedRuns::merged`] reads every record back once,
//! in byte order, merging the runs. Memory stays bounded whatever the number of records, and nothing is
//! inserted into a B-tree one record at a time. `verify` keeps the references it must find in the refs
//! index and the requests its domain pass folded in these.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;
use std::io::{Read, Seek, SeekFrom, Write};

/// Records read back from a spilled run at a time.
const READ_RECORDS: usize = 1024;

/// Records of `N` bytes, as a set ordered by their bytes.
pub(crate) struct SortedRuns<const N: usize> {
    pending: Vec<[u8; N]>,
    /// Records held in memory before they are sorted and spilled.
    run_len: usize,
    file: Option<std::fs::File>,
    /// Spilled runs: first record's offset in the file, and how many records.
    runs: Vec<(u64, u64)>,
    failed: Option<std::io::Error>,
    /// Creates the file runs are spilled to (an unnamed temporary file; tests give one that fails).
    make_file: fn() -> std::io::Result<std::fs::File>,
}

impl<const N: usize> SortedRuns<N> {
    /// Holding at most about `budget_kib` of records in memory (the rest is in a temporary file, in the
    /// operating system's file cache).
    pub(crate) fn new(budget_kib: i64) -> Self {
        let run_len = (usize::try_from(budget_kib.max(64)).unwrap_or(64) * 1024 / N.max(1)).max(1);
        SortedRuns {
            pending: Vec::new(),
            run_len,
            file: None,
            runs: Vec::new(),
            failed: None,
            make_file: tempfile::tempfile,
        }
    }

    pub(crate) fn insert(&mut self, record: [u8; N]) {
        self.pending.push(record);
        if self.pending.len() >= self.run_len {
            if let Err(e) = self.spill() {
                self.failed.get_or_insert(e);
            }
            self.pending.clear();
        }
    }

    /// The same set, spilling to files `make_file` creates.
    #[cfg(test)]
    pub(crate) fn spilling_to(self, make_file: fn() -> std::io::Result<std::fs::File>) -> Self {
        SortedRuns { make_file, ..self }
    }

    /// Runs spilled to the file so far.
    #[cfg(test)]
    pub(crate) fn spilled(&self) -> usize {
        self.runs.len()
    }

    /// Sorts the records held and writes them to the temporary file as one run.
    fn spill(&mut self) -> std::io::Result<()> {
        if self.failed.is_some() {
            return Ok(());
        }
        self.pending.sort_unstable();
        self.pending.dedup();
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert((self.make_file)()?),
        };
        let start = file.seek(SeekFrom::End(0))?;
        file.write_all(self.pending.as_flattened())?;
        self.runs.push((start, self.pending.len() as u64));
        Ok(())
    }

    /// Every record once, in byte order, or why they cannot be read back (the temporary file could not
    /// be written or read).
    pub(crate) fn merged(mut self) -> std::io::Result<Merged<N>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.pending.sort_unstable();
        self.pending.dedup();
        let mut sources = vec![Source::Memory(std::mem::take(&mut self.pending).into_iter())];
        sources.extend(self.runs.iter().map(|&(at, left)| Source::Run { at, left, buf: Vec::new().into_iter() }));
        let mut merged = Merged { file: self.file, sources, heap: BinaryHeap::new(), last: None };
        for i in 0..merged.sources.len() {
            merged.advance(i)?;
        }
        Ok(merged)
    }
}

/// Where merged records come from: the last run, still in memory, or a run in the file.
enum Source<const N: usize> {
    Memory(std::vec::IntoIter<[u8; N]>),
    Run { at: u64, left: u64, buf: std::vec::IntoIter<[u8; N]> },
}

/// The runs merged in byte order, duplicates dropped.
pub(crate) struct Merged<const N: usize> {
    file: Option<std::fs::File>,
    sources: Vec<Source<N>>,
    /// The next record of each source that has one.
    heap: BinaryHeap<Reverse<([u8; N], usize)>>,
    last: Option<[u8; N]>,
}

impl<const N: usize> Merged<N> {
    /// Puts source `i`'s next record on the heap.
    fn advance(&mut self, i: usize) -> std::io::Result<()> {
        if let Some(p) = self.pull(i)? {
            self.heap.push(Reverse((p, i)));
        }
        Ok(())
    }

    /// Source `i`'s next record (reading the next block of a run when its buffer is empty).
    fn pull(&mut self, i: usize) -> std::io::Result<Option<[u8; N]>> {
        Ok(match &mut self.sources[i] {
            Source::Memory(it) => it.next(),
            Source::Run { at, left, buf } => {
                if buf.len() == 0 && *left > 0 {
                    let n = (*left).min(READ_RECORDS as u64) as usize;
                    let mut block = vec![[0u8; N]; n];
                    let file = self.file.as_mut().ok_or_else(|| std::io::Error::other("the run file is gone"))?;
                    file.seek(SeekFrom::Start(*at))?;
                    file.read_exact(block.as_flattened_mut())?;
                    *at += (n * N) as u64;
                    *left -= n as u64;
                    *buf = block.into_iter();
                }
                buf.next()
            }
        })
    }

    /// The next distinct record in byte order. The source of the smallest record refills its place at the
    /// top of the heap: one sift instead of a pop and a push (the merge is most of what `verify` does on
    /// one core after its last signature).
    pub(crate) fn next_record(&mut self) -> std::io::Result<Option<[u8; N]>> {
        loop {
            let Some(&Reverse((p, i))) = self.heap.peek() else { return Ok(None) };
            let next = self.pull(i)?;
            if let Some(mut top) = self.heap.peek_mut() {
                match next {
                    Some(n) => *top = Reverse((n, i)),
                    None => {
                        PeekMut::pop(top);
                    }
                }
            }
            if self.last != Some(p) {
                self.last = Some(p);
                return Ok(Some(p));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<const N: usize>(set: SortedRuns<N>) -> Vec<[u8; N]> {
        let mut m = set.merged().expect("merged");
        let mut out = Vec::new();
        while let Some(p) = m.next_record().expect("read") {
            out.push(p);
        }
        out
    }

    fn record(n: u32) -> [u8; 40] {
        let mut r = [0u8; 40];
        r[..4].copy_from_slice(&n.to_be_bytes());
        // Low bytes that differ too, so the order is not decided by the prefix alone.
        r[39] = (n % 251) as u8;
        r
    }

    #[test]
    fn records_come_back_sorted_and_once_across_spilled_runs() {
        // 64 KiB: runs of 1,638 records, so 15,000 inserts spill nine runs and keep the rest in memory.
        let mut set = SortedRuns::<40>::new(64);
        let mut want = std::collections::BTreeSet::new();
        for i in 0..15_000u32 {
            // A scattered order, with every tenth record inserted twice (in different runs).
            let r = record(i.wrapping_mul(2_654_435_761) % 5_000);
            set.insert(r);
            if i % 10 == 0 {
                set.insert(r);
            }
            want.insert(r);
        }
        assert!(set.spilled() >= 9, "{} runs spilled", set.spilled());
        assert_eq!(drain(set), want.into_iter().collect::<Vec<_>>());
    }

    proptest::proptest! {
        /// Whatever the order, the repeats and the number of runs, the merge gives each record once, in
        /// byte order.
        #[test]
        fn the_merge_is_the_sorted_set_of_what_was_inserted(
            keys in proptest::collection::vec(0u16..600, 0..2_000),
        ) {
            // 1 KiB: runs of 128 records.
            let mut set = SortedRuns::<8>::new(1);
            let mut want = std::collections::BTreeSet::new();
            for k in keys {
                let mut r = [0u8; 8];
                r[..2].copy_from_slice(&k.to_be_bytes());
                r[7] = (k % 7) as u8;
                set.insert(r);
                want.insert(r);
            }
            proptest::prop_assert_eq!(drain(set), want.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_empty_set_and_one_held_in_memory_merge_too() {
        assert!(drain(SortedRuns::<40>::new(1024)).is_empty());
        let mut set = SortedRuns::<40>::new(1024);
        set.insert(record(2));
        set.insert(record(1));
        set.insert(record(2));
        assert_eq!(set.spilled(), 0);
        assert_eq!(drain(set), vec![record(1), record(2)]);
    }

    #[test]
    fn a_run_file_that_cannot_be_made_written_or_read_fails_the_merge_not_the_inserts() {
        fn refused() -> std::io::Result<std::fs::File> {
            Err(std::io::Error::other("no space for the run file"))
        }
        fn write_only() -> std::io::Result<std::fs::File> {
            let dir = tempfile::tempdir()?;
            // The directory goes; the open file stays, and cannot be read back.
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(dir.path().join("runs"))
        }
        fn read_only() -> std::io::Result<std::fs::File> {
            let f = tempfile::NamedTempFile::new()?;
            std::fs::File::open(f.path())
        }
        for (make, what) in [(refused as fn() -> _, "no space"), (write_only, ""), (read_only, "")] {
            // 64 KiB: runs of 1,638 records; 5,000 inserts spill three.
            let mut set = SortedRuns::<40>::new(64).spilling_to(make);
            for i in 0..5_000u32 {
                set.insert(record(i));
            }
            let err = set.merged().err().expect("the merge must fail");
            assert!(err.to_string().contains(what), "{err}");
        }
    }
}
