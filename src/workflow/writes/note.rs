//! `note`: free text recorded in the ledger by an enrolled key.

use crate::audit::note::{KIND, NoteBody};
use crate::ledger::Statement;
use crate::workflow::context::{Context, Receipt};
use crate::workflow::error::WorkflowError;

/// Records `text` signed by `signer` (`on` is the entry id of a request it is about).
pub(crate) fn note(
    ctx: &Context,
    signer: Option<&str>,
    text: &str,
    on: Option<String>,
) -> Result<Receipt, WorkflowError> {
    let body = NoteBody::new(text, on)?;
    let mut session = ctx.session(signer)?;
    let body = serde_json::to_value(&body)?;
    let statement = Statement::new_at(KIND, &session.signer.public(), body, &[], crate::workflow::clock::now());
    super::append(&mut session, statement, &|_, _, _| Ok(()))
}
