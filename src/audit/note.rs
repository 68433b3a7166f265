//! Notes: free text attached to the ledger or to a request.

use serde::{Deserialize, Serialize};

/// Entry kind of a note.
pub(crate) const KIND: &str = "note";

/// The longest note accepted, in characters.
pub(crate) const MAX_NOTE_CHARS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub text: String,
    /// Entry id of the request the note is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("the note is empty; give the text to record")]
    Empty,
    #[error("the note has {0} characters; at most {MAX_NOTE_CHARS} are allowed (attach long text as evidence)")]
    TooLong(usize),
}

impl NoteBody {
    pub fn new(text: &str, on: Option<String>) -> Result<NoteBody, NoteError> {
        if text.trim().is_empty() {
            return Err(NoteError::Empty);
        }
        let n = text.chars().count();
        if n > MAX_NOTE_CHARS {
            return Err(NoteError::TooLong(n));
        }
        Ok(NoteBody { text: text.to_string(), on })
    }
}
