//! The one ordered parallel verification pipeline: jobs pushed in order are batched, checked on worker
//! threads (each with its own [`KeyCache`] and state), and handed back in the order they were pushed, with
//! a bounded number of batches in flight so memory does not grow with the input. `verify` (stored rows,
//! each checked whole with [`check_entry`]) and bundle import (the signatures of the leaves it has staged,
//! `statement::check_signature`) both run on it, under one thread-count policy ([`threads`],
//! `ROLLCALL_VERIFY_THREADS`).
//!
//! The caller keeps everything sequential (order, chain, tree, what to write): it pushes jobs, and after
//! each push that sent a batch takes the results that are [`Ordered::ready`], then at the end takes
//! every remaining one with [`Ordered::wait`].

use super::dsse::Domain;
use super::hash::{EntryId, Hash};
use super::statement::{CheckedHead, KeyCache, StatementError, check_statement_with, parse_head_shallow};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// Sets how many threads verification uses (to leave cores free, or to test the one-thread path).
pub(crate) const THREADS_ENV: &str = "ROLLCALL_VERIFY_THREADS";

/// Worker threads: `ROLLCALL_VERIFY_THREADS` when set (at least 1), else one per core.
pub(crate) fn threads() -> usize {
    std::env::var(THREADS_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// How jobs are batched, and how many batches may be out (sent and not yet taken back) at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Jobs in one batch, at most.
    pub batch: usize,
    /// Payload bytes (as the caller weighs its jobs) in one batch, at most: a batch is sent once it reaches
    /// this.
    pub batch_bytes: usize,
    /// Batches out at once: [`Ordered::ready`] waits for results beyond this, and the queue to the workers
    /// holds at most this many.
    pub in_flight: usize,
}

/// A worker thread stopped before returning every batch (it panicked); the pipeline cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a verifying thread stopped")]
pub struct Stopped;

/// The caller's end of a running pipeline: push jobs in order, take results in the same order.
pub(crate) struct Ordered<J, R> {
    limits: Limits,
    work: mpsc::SyncSender<(u64, Vec<J>)>,
    done: mpsc::Receiver<(u64, Vec<R>)>,
    batch: Vec<J>,
    batch_bytes: usize,
    /// Batches sent, and batches taken back (the next sequence number wanted).
    sent: u64,
    received: u64,
    /// Batches that came back ahead of their turn.
    pending: BTreeMap<u64, Vec<R>>,
    /// The batch being handed out.
    current: std::vec::IntoIter<R>,
}

impl<J, R> Ordered<J, R> {
    /// Queues `job` (weighing `bytes` against [`Limits::batch_bytes`]); sends the batch once it is full.
    /// Returns whether a batch was sent: the caller then takes what is [`Ordered::ready`].
    pub(crate) fn push(&mut self, job: J, bytes: usize) -> Result<bool, Stopped> {
        self.batch.push(job);
        self.batch_bytes = self.batch_bytes.saturating_add(bytes);
        if self.batch.len() >= self.limits.batch || self.batch_bytes >= self.limits.batch_bytes {
            self.send()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Sends the batch being filled, if it holds anything.
    pub(crate) fn flush(&mut self) -> Result<(), Stopped> {
        if !self.batch.is_empty() {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<(), Stopped> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.limits.batch.min(4096)));
        self.batch_bytes = 0;
        self.work.send((self.sent, batch)).map_err(|_| Stopped)?;
        self.sent += 1;
        Ok(())
    }

    /// The next result in order if it has come back (`None`: not yet, or nothing is out). Waits only while
    /// more than [`Limits::in_flight`] batches are out, which bounds what is held.
    pub(crate) fn ready(&mut self) -> Result<Option<R>, Stopped> {
        self.take(false)
    }

    /// The next result in order, waiting for it; `None` once every job pushed has come back (the batch
    /// being filled is sent first).
    pub(crate) fn wait(&mut self) -> Result<Option<R>, Stopped> {
        self.flush()?;
        self.take(true)
    }

    fn take(&mut self, wait: bool) -> Result<Option<R>, Stopped> {
        loop {
            if let Some(r) = self.current.next() {
                return Ok(Some(r));
            }
            if let Some(batch) = self.pending.remove(&self.received) {
                self.received += 1;
                self.current = batch.into_iter();
                continue;
            }
            if self.received == self.sent {
                return Ok(None);
            }
            let got = if wait || self.sent - self.received > self.limits.in_flight as u64 {
                self.done.recv().map_err(|_| Stopped)?
            } else {
                match self.done.try_recv() {
                    Ok(v) => v,
                    Err(mpsc::TryRecvError::Empty) => return Ok(None),
                    Err(mpsc::TryRecvError::Disconnected) => return Err(Stopped),
                }
            };
            self.pending.insert(got.0, got.1);
        }
    }
}

/// Runs `body` with a pipeline of one worker thread per element of `states` (at least one): each worker
/// owns its state and a [`KeyCache`], and turns each job into a result with `check`. The workers stop
/// when `body` returns (jobs still out are dropped); a worker's panic is raised again here.
pub(crate) fn run<J, R, S, T, F, B>(limits: Limits, states: Vec<S>, check: F, body: B) -> T
where
    J: Send,
    R: Send,
    S: Send,
    F: Fn(&mut KeyCache, &mut S, J) -> R + Sync,
    B: FnOnce(&mut Ordered<J, R>) -> T,
{
    assert!(!states.is_empty(), "a pipeline needs at least one worker");
    let limits = Limits { batch: limits.batch.max(1), batch_bytes: limits.batch_bytes.max(1), ..limits };
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Vec<J>)>(limits.in_flight.max(1));
    let (done_tx, done_rx) = mpsc::channel::<(u64, Vec<R>)>();
    let work_rx = Arc::new(Mutex::new(work_rx));
    let check = &check;
    std::thread::scope(|s| {
        for mut state in states {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            s.spawn(move || {
                let mut keys = KeyCache::default();
                loop {
                    let next = work_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, jobs))) = next else { break };
                    let checked: Vec<R> = jobs.into_iter().map(|j| check(&mut keys, &mut state, j)).collect();
                    if done_tx.send((seq, checked)).is_err() {
                        break;
                    }
                }
            });
        }
        // Only the workers hold the two channels' other ends: when every worker has stopped, sending and
        // receiving fail instead of waiting forever.
        drop(work_rx);
        drop(done_tx);
        let mut ordered = Ordered {
            limits,
            work: work_tx,
            done: done_rx,
            batch: Vec::new(),
            batch_bytes: 0,
            sent: 0,
            received: 0,
            pending: BTreeMap::new(),
            current: Vec::new().into_iter(),
        };
        // Dropping the pipeline closes the queue, which stops the workers before the scope joins them.
        body(&mut ordered)
    })
}

/// What every verifier checks of one signed statement: its entry id (SHA-256 of the bytes) and its head,
/// with the actor's DSSE signature under the ledger's payload type (`verify_strict`) when `signature` is
/// true, else its head only (version, kind, actor key, time, refs; the body is skipped, within the size
/// limits).
pub(crate) fn check_entry(
    bytes: &[u8],
    signature: &[u8],
    keys: &mut KeyCache,
    domain: &Domain,
    check_signature: bool,
) -> (EntryId, Result<CheckedHead, StatementError>) {
    let head = if check_signature {
        check_statement_with(bytes, signature, keys, domain)
    } else {
        parse_head_shallow(bytes, keys)
    };
    (Hash::of(&[bytes]), head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn limits(batch: usize, in_flight: usize) -> Limits {
        Limits { batch, batch_bytes: usize::MAX, in_flight }
    }

    #[test]
    fn results_come_back_in_order_whatever_the_workers_take() {
        for threads in [1, 2, 5] {
            let states: Vec<u64> = (0..threads).map(|t| t as u64).collect();
            let out = run(
                limits(7, 3),
                states,
                |_, _, j: u64| {
                    // Later jobs are faster, so batches finish out of order.
                    std::thread::sleep(std::time::Duration::from_micros(200 - j % 200));
                    j * 2
                },
                |p| {
                    let mut got = Vec::new();
                    for j in 0..500u64 {
                        if p.push(j, 0).unwrap() {
                            while let Some(r) = p.ready().unwrap() {
                                got.push(r);
                            }
                        }
                    }
                    while let Some(r) = p.wait().unwrap() {
                        got.push(r);
                    }
                    got
                },
            );
            assert_eq!(out, (0..500u64).map(|j| j * 2).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    #[test]
    fn batches_out_at_once_stay_bounded() {
        // Once the caller has taken what is ready, the jobs checked ahead of it fill at most the bound.
        let checked = AtomicUsize::new(0);
        let (batch, in_flight) = (4, 3);
        run(
            limits(batch, in_flight),
            vec![(), (), ()],
            |_, _, j: usize| {
                checked.fetch_add(1, Ordering::SeqCst);
                j
            },
            |p| {
                let mut taken = 0;
                for j in 0..400 {
                    if p.push(j, 0).unwrap() {
                        while let Some(r) = p.ready().unwrap() {
                            assert_eq!(r, taken);
                            taken += 1;
                        }
                        let ahead = checked.load(Ordering::SeqCst) - taken;
                        assert!(ahead <= in_flight * batch, "{ahead} jobs checked ahead of the caller");
                    }
                }
                while p.wait().unwrap().is_some() {}
            },
        );
    }

    #[test]
    fn byte_weight_closes_a_batch_early() {
        let sizes = std::sync::Mutex::new(Vec::new());
        run(
            Limits { batch: 100, batch_bytes: 10, in_flight: 2 },
            vec![()],
            |_, _, j: usize| j,
            |p| {
                let mut sent = 0;
                for j in 0..20 {
                    if p.push(j, 4).unwrap() {
                        sent += 1;
                    }
                }
                // 4 + 4 + 4 >= 10: every third job sends.
                assert_eq!(sent, 6);
                let mut n = 0;
                while p.wait().unwrap().is_some() {
                    n += 1;
                }
                sizes.lock().unwrap().push(n);
            },
        );
        assert_eq!(*sizes.lock().unwrap(), vec![20]);
    }

    #[test]
    fn each_worker_keeps_its_own_state() {
        let seen = run(
            limits(1, 8),
            vec![0usize; 3],
            |_, count, _: ()| {
                *count += 1;
                *count
            },
            |p| {
                for _ in 0..30 {
                    p.push((), 0).unwrap();
                }
                let mut v = Vec::new();
                while let Some(r) = p.wait().unwrap() {
                    v.push(r);
                }
                v
            },
        );
        // Per-worker counters: no result can exceed the jobs, and their sum over workers covers all jobs.
        assert_eq!(seen.len(), 30);
        assert!(seen.iter().all(|c| (1..=30).contains(c)));
    }

    #[test]
    fn stopping_early_does_not_hang() {
        let r = run(
            limits(2, 2),
            vec![(), ()],
            |_, _, j: u32| j,
            |p| {
                for j in 0..50 {
                    p.push(j, 0).unwrap();
                }
                // Leave with most of the work still out.
                p.ready().unwrap()
            },
        );
        assert!(r.is_none() || r == Some(0));
    }

    #[test]
    fn a_panicking_worker_is_reported_not_waited_for() {
        let r = std::panic::catch_unwind(|| {
            run(
                limits(1, 2),
                vec![()],
                |_, _, j: u32| {
                    assert!(j != 3, "boom");
                    j
                },
                |p| {
                    for j in 0..6 {
                        p.push(j, 0).ok();
                    }
                    let mut last = Ok(None);
                    for _ in 0..6 {
                        last = p.wait();
                        if last.is_err() {
                            break;
                        }
                    }
                    last
                },
            )
        });
        // The scope raises the worker's panic again once the caller has seen the pipeline stop.
        assert!(r.is_err());
    }

    #[test]
    fn check_entry_hashes_and_checks_the_signature_only_when_asked() {
        let bytes = br#"{"v":2}"#;
        let mut keys = KeyCache::default();
        let dom = Domain::of(&Hash([7; 32]));
        let (id, head) = check_entry(bytes, &[0; 64], &mut keys, &dom, true);
        assert_eq!(id, Hash::of(&[bytes]));
        assert!(head.is_err());
        let (_, shape) = check_entry(bytes, &[0; 64], &mut keys, &dom, false);
        assert!(shape.is_err());
    }

    #[test]
    fn thread_policy_is_at_least_one() {
        assert!(threads() >= 1);
    }
}
