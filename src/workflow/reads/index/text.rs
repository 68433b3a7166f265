//! The search index: each entry's searchable text (FTS5), added as entries arrive or all at once.

use super::rows::{Reader, readers};
use super::schema::LogSize;
use crate::ledger::Ledger;
use crate::workflow::error::WorkflowError;
use rusqlite::params;

/// The searchable text of a statement body: its string values, minus ids, keys and digests.
pub(crate) fn searchable(body: &serde_json::Value) -> String {
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                let id_like = (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())) || s.starts_with("ed25519:");
                if !id_like && s.len() < 8000 {
                    out.push_str(s);
                    out.push(' ');
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    if k != "toml" && k != "argv" {
                        walk(x, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = String::new();
    walk(body, &mut out);
    out
}

pub(super) fn index_text(ledger: &Ledger, rows: &[crate::ledger::LogRow]) -> Result<(), WorkflowError> {
    for r in rows {
        insert_text(ledger, text_of(r))?;
    }
    Ok(())
}

/// An entry's row of the search index: (entry id, kind, text); `None` when it has no searchable text (an
/// unreadable entry has none: verify names it).
pub(super) type TextRow = Option<(String, String, String)>;

pub(super) fn text_of(r: &crate::ledger::LogRow) -> TextRow {
    let st = r.entry.statement().ok()?;
    let text = searchable(&st.body);
    (!text.trim().is_empty()).then(|| (r.entry.id.to_hex(), r.kind.clone(), text))
}

pub(super) fn insert_text(ledger: &Ledger, row: TextRow) -> Result<(), WorkflowError> {
    if let Some((id, kind, text)) = row {
        ledger
            .cache_conn()
            .prepare_cached("INSERT INTO search_fts (entry_id, kind, text) VALUES (?1, ?2, ?3)")?
            .execute(params![id, kind, text])?;
    }
    Ok(())
}

/// Indexes the text of every entry of every log up to `sizes` (each log's size when the rebuild began:
/// entries appended since are the catch-up's), in log order, calling `step` after each text stored. Beside
/// a writer in WAL mode, one thread per core (`ROLLCALL_VERIFY_THREADS`) reads a stretch of a log on a
/// connection of its own and parses its statements, and the caller only inserts the text; otherwise the
/// caller reads the logs and the threads parse.
pub(super) fn index_all_text(
    ledger: &Ledger,
    sizes: &[LogSize],
    step: &mut dyn FnMut() -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let stopped = |e: crate::ledger::pipeline::Stopped| WorkflowError::Usage(format!("the search index: {e}"));
    let threads = crate::ledger::pipeline::threads();
    let mut stretches = Vec::new();
    for (origin, size) in sizes {
        let size = *size;
        stretches.extend(
            (0..size).step_by(TEXT_STRETCH as usize).map(|from| (origin.clone(), from, TEXT_STRETCH.min(size - from))),
        );
    }
    let readers = readers(ledger, threads, stretches.len() * TEXT_STRETCH as usize);
    if !readers.is_empty() {
        let limits = crate::ledger::pipeline::Limits { batch: 1, batch_bytes: usize::MAX, in_flight: 2 * threads };
        let read = |_: &mut crate::ledger::statement::KeyCache,
                    r: &mut Reader,
                    (origin, from, count): (crate::ledger::Origin, u64, u64)|
         -> Result<Vec<TextRow>, WorkflowError> {
            Ok(r.ledger.log_page(&origin, from, count)?.iter().map(text_of).collect())
        };
        return crate::ledger::pipeline::run(limits, readers, read, |pipe| -> Result<(), WorkflowError> {
            let mut take = |rows: Result<Vec<TextRow>, WorkflowError>| -> Result<(), WorkflowError> {
                rows?.into_iter().try_for_each(|row| {
                    insert_text(ledger, row)?;
                    step()
                })
            };
            for stretch in stretches {
                if pipe.push(stretch, 0).map_err(stopped)? {
                    while let Some(rows) = pipe.ready().map_err(stopped)? {
                        take(rows)?;
                    }
                }
            }
            while let Some(rows) = pipe.wait().map_err(stopped)? {
                take(rows)?;
            }
            Ok(())
        });
    }
    let limits = crate::ledger::pipeline::Limits { batch: 512, batch_bytes: usize::MAX, in_flight: 2 * threads };
    let parse = |_: &mut crate::ledger::statement::KeyCache, _: &mut (), row: crate::ledger::LogRow| text_of(&row);
    crate::ledger::pipeline::run(limits, vec![(); threads.max(1)], parse, |pipe| -> Result<(), WorkflowError> {
        let mut take = |text: TextRow| -> Result<(), WorkflowError> {
            insert_text(ledger, text)?;
            step()
        };
        for (origin, size) in sizes {
            let mut from = 0;
            while from < *size {
                let page = ledger.log_page(origin, from, (*size - from).min(10_000))?;
                let Some(last) = page.last() else { break };
                from = last.index + 1;
                for row in page {
                    if pipe.push(row, 0).map_err(stopped)? {
                        while let Some(text) = pipe.ready().map_err(stopped)? {
                            take(text)?;
                        }
                    }
                }
            }
        }
        while let Some(text) = pipe.wait().map_err(stopped)? {
            take(text)?;
        }
        Ok(())
    })
}

/// Entries a reading thread indexes the text of at a time.
pub(super) const TEXT_STRETCH: u64 = 512;
