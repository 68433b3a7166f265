//! The forms and signing dialogs: opening one for an action (with exactly what will be signed), filling
//! its fields (a typed file path is checked and completed by the worker), the passphrase, the job it
//! signs, and what happens when the signing worker answers.

use super::super::msg::{Cmd, Done, EvidenceKind, Failed, Job, NewRequest, Retry};
use super::super::state::*;
use crate::identity::Passphrase;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

fn field(label: &'static str, required: bool) -> Field {
    Field { label, value: String::new(), choices: vec![], required }
}

fn choice(label: &'static str, choices: Vec<&'static str>) -> Field {
    Field { label, value: choices[0].to_string(), choices, required: true }
}

/// Whether signing is off on this ledger ([`AppState::signing_refused`]); if so, says why.
fn refused_to_sign(s: &mut AppState) -> bool {
    let Some(why) = s.signing_refused() else { return false };
    s.toast(why, true);
    true
}

/// Opens the signing dialog for `kind` on the request shown, if the signer may.
pub fn start_action(s: &mut AppState, kind: ActionKind) -> Vec<Cmd> {
    if s.read_only {
        s.toast("read-only: actions are hidden", true);
        return vec![];
    }
    if kind != ActionKind::Report && refused_to_sign(s) {
        return vec![];
    }
    let Some(d) = s.detail.as_ref().and_then(|d| d.data.as_ref()) else {
        s.toast("the request is still loading", true);
        return vec![];
    };
    let allowed = match kind {
        ActionKind::Approve => &d.can.approve,
        ActionKind::Reject => &d.can.reject,
        ActionKind::Emergency => &d.can.emergency,
        ActionKind::Execute => &d.can.execute,
        ActionKind::Close => &d.can.close,
        ActionKind::Note | ActionKind::Attach | ActionKind::Validate => &d.can.annotate,
        ActionKind::Review => &d.can.review,
        ActionKind::NewRequest | ActionKind::Report => &Ok(()),
    };
    if let Err(why) = allowed {
        // Said now, before a comment and a passphrase are typed for nothing.
        s.toast(format!("{}: {}", kind.title(), crate::text::safe(why)), true);
        return vec![];
    }
    let p = &d.sign;
    let mut preview = vec![format!("request   {}", p.request), format!("title     {}", d.title)];
    if matches!(kind, ActionKind::Approve | ActionKind::Reject | ActionKind::Emergency) {
        preview.push(format!("version   {}", p.version));
        preview.push(format!("revert    {}", p.revert));
        preview.push(format!("op digest {}", p.revert_digest));
        preview.push(format!(
            "evidence  {}",
            if p.evidence.is_empty() { "(none)".to_string() } else { p.evidence.join(", ") }
        ));
        preview.push(format!("policy    {}", p.policy));
        preview
            .push(format!("flags     {}", if p.flags.is_empty() { "(none)".to_string() } else { p.flags.join(", ") }));
        preview.push(format!(
            "risk      {} ({} of 100); {}",
            d.tier,
            d.score,
            crate::policy::evaluate::approvals_count(d.approvals.0 as u64, d.approvals.1.into())
        ));
    }
    if let (ActionKind::Review, Err(why)) = (kind, &d.can.post_hoc) {
        preview.push(format!("post-hoc  not offered: {}", crate::text::safe(why)));
    }
    let fields = match kind {
        ActionKind::Approve | ActionKind::Reject => vec![field("comment", true)],
        ActionKind::Emergency => vec![field("reason", true)],
        ActionKind::Note => vec![field("note", true)],
        ActionKind::Attach => {
            vec![field("file path", true), choice("kind", EvidenceKind::ALL.iter().map(|k| k.as_str()).collect())]
        }
        ActionKind::Execute => vec![choice("outcome", vec!["succeeded", "partial", "failed"])],
        ActionKind::Validate => vec![choice("result", vec!["pass", "fail"])],
        ActionKind::Review => {
            let kinds = if d.can.post_hoc.is_ok() { vec!["post-hoc", "post-incident"] } else { vec!["post-incident"] };
            vec![choice("kind", kinds), field("summary", true)]
        }
        ActionKind::Close => {
            vec![choice("resolution", vec!["made-permanent", "rolled-forward"]), field("comment", true)]
        }
        ActionKind::NewRequest => return start_new_request(s),
        ActionKind::Report => return start_report(s, "rollcall-report.md".into()),
    };
    let dialog = ActionDialog {
        kind,
        req: Some(d.id),
        title: format!("{} — {}", kind.title(), d.title),
        preview,
        fields,
        focus: 0,
        step: Step::Review,
        error: None,
        passphrase: Default::default(),
        scroll: 0,
        cursor_back: 0,
    };
    s.modals.push(Modal::Action(Box::new(dialog)));
    vec![]
}

/// The job a filled dialog asks for; none when a request-bound action has no request (never built so).
/// Choice fields hold only the values the form offers (see `choice`), so the fallback arms below are never
/// taken with user input.
fn job_of(d: &ActionDialog) -> Option<Job> {
    use crate::audit::bodies::{Outcome, Resolution};
    let v = |i: usize| d.fields.get(i).map(|f| f.value.trim().to_string()).unwrap_or_default();
    let req = d.req;
    Some(match d.kind {
        ActionKind::Approve => Job::Decide { req: req?, approve: true, comment: v(0) },
        ActionKind::Reject => Job::Decide { req: req?, approve: false, comment: v(0) },
        ActionKind::Emergency => Job::Emergency { req: req?, reason: v(0) },
        ActionKind::Note => Job::Note { req: req?, text: v(0) },
        ActionKind::Attach => Job::Evidence {
            req: req?,
            path: v(0),
            kind: EvidenceKind::ALL.into_iter().find(|k| k.as_str() == v(1)).unwrap_or(EvidenceKind::Other),
        },
        ActionKind::Execute => Job::Execute {
            req: req?,
            outcome: match v(0).as_str() {
                "succeeded" => Outcome::Succeeded,
                "partial" => Outcome::Partial,
                _ => Outcome::Failed,
            },
        },
        ActionKind::Validate => Job::Validate { req: req?, pass: v(0) == "pass" },
        ActionKind::Review => Job::Review { req: req?, post_hoc: v(0) == "post-hoc", summary: v(1) },
        ActionKind::Close => Job::Close {
            req: req?,
            resolution: match v(0).as_str() {
                "rolled-forward" => Resolution::RolledForward,
                "superseded" => Resolution::Superseded,
                _ => Resolution::MadePermanent,
            },
            comment: v(1),
        },
        ActionKind::Report => Job::Report { path: v(0) },
        ActionKind::NewRequest => Job::NewRequest(Box::new(new_request_of(d))),
    })
}

/// The new request a filled form describes (its fields found by label).
fn new_request_of(d: &ActionDialog) -> NewRequest {
    use crate::audit::record::{Category, Risk};
    let get = |label: &str| {
        d.fields.iter().find(|f| f.label == label).map(|f| f.value.trim().to_string()).filter(|v| !v.is_empty())
    };
    let text = |label: &str| get(label).unwrap_or_default();
    NewRequest {
        title: text("title"),
        change: get("change"),
        rationale: text("rationale"),
        impact: text("user impact"),
        component: get("component"),
        env: text("environment"),
        revert_command: get("revert command"),
        from: get("from"),
        to: get("to"),
        category: match get("category").as_deref() {
            Some("security-patch") => Category::SecurityPatch,
            Some("critical-bug") => Category::CriticalBug,
            Some("performance-regression") => Category::PerformanceRegression,
            Some("data-integrity") => Category::DataIntegrity,
            Some("compliance") => Category::Compliance,
            _ => Category::Other,
        },
        risk: get("risk").as_deref().and_then(Risk::parse).unwrap_or(Risk::Medium),
        git_commit: get("git commit"),
        emergency: get("emergency").as_deref() == Some(EMERGENCY_YES),
    }
}

/// The new-request form's choice that files the request and invokes the emergency path on it at once.
pub(crate) const EMERGENCY_YES: &str = "yes, invoke it now";

/// The labels of the new-request form, in order.
pub const NEW_REQUEST_FIELDS: [&str; 11] = [
    "title",
    "change",
    "rationale",
    "user impact",
    "component",
    "environment",
    "revert command",
    "from",
    "to",
    "category",
    "risk",
];

/// Opens the new-request form. Started inside a git repository, it offers a commit to revert, which
/// fills the revert operation, the revisions and the components from git.
pub fn start_new_request(s: &mut AppState) -> Vec<Cmd> {
    if s.read_only {
        s.toast("read-only: actions are hidden", true);
        return vec![];
    }
    if refused_to_sign(s) {
        return vec![];
    }
    if let Err(why) = &s.may_file {
        // Refused before anything is typed, with who may.
        s.toast(format!("{}: {why}", s.user), true);
        return vec![];
    }
    let in_git = s.in_git;
    let mut fields: Vec<Field> = Vec::new();
    if in_git {
        fields.push(Field { label: "git commit", value: String::new(), choices: vec![], required: false });
    }
    for label in NEW_REQUEST_FIELDS {
        fields.push(match label {
            "category" => choice(
                "category",
                vec![
                    "critical-bug",
                    "performance-regression",
                    "security-patch",
                    "data-integrity",
                    "compliance",
                    "other",
                ],
            ),
            "risk" => choice("risk", vec!["medium", "low", "high", "critical"]),
            "revert command" | "from" | "to" | "component" | "change" => field(label, !in_git),
            other => field(other, true),
        });
    }
    let mut preview = vec![format!("filed by  {}", s.user)];
    match &s.emergency {
        // Filed and invoked with one passphrase: the rationale is the emergency's reason.
        Ok(()) => {
            fields.push(choice("emergency", vec!["no", EMERGENCY_YES]));
            preview.push(
                "emergency: \"yes\" files it and invokes the emergency path (the rationale is the reason)".into(),
            );
        }
        Err(why) => preview.push(format!("emergency {}", crate::text::safe(why))),
    }
    if in_git {
        preview.push("a commit (or A..B) of this git repository fills the revert, revisions and components".into());
    }
    let dialog = ActionDialog {
        kind: ActionKind::NewRequest,
        req: None,
        title: "New rollback request".into(),
        preview,
        fields,
        focus: 0,
        step: Step::Fill,
        error: None,
        passphrase: Default::default(),
        scroll: 0,
        cursor_back: 0,
    };
    s.modals.push(Modal::Action(Box::new(dialog)));
    vec![]
}

/// `f` on an observed rollback no request cleared, or `o` on an observation in the history: the
/// new-request form filled from the observation as `request new --from-observed` fills it (environment,
/// component, revisions, the tool's revert command, a title, and for a rollback a rationale naming it and
/// the emergency path chosen when the signer may invoke it — so the policy's post-hoc review becomes
/// due). One form: read it, complete what only a person knows, sign.
pub(super) fn start_from_observed(s: &mut AppState, a: &crate::tui::model::Alert) -> Vec<Cmd> {
    if let Some((id, why)) = &a.request {
        // A request exists; it was not approved when the rollback ran: its own page offers the emergency path.
        s.toast(
            format!("request {} did not clear it ({why}): E on it invokes the emergency path post hoc", id.short(8)),
            false,
        );
        return super::detail::open_detail(s, *id);
    }
    if refused_to_sign(s) {
        return vec![];
    }
    // Filled from the observation as recorded, as `request new --from-observed` is: the alert's own fields
    // are escaped and cut for display.
    let o = &a.recorded.observed;
    let p = match crate::workflow::reconcile::prefill_of(o) {
        Ok(p) => p,
        Err(why) => {
            s.toast(why, true);
            return vec![];
        }
    };
    start_new_request(s);
    let Some(Modal::Action(d)) =
        s.modals.last_mut().filter(|m| matches!(m, Modal::Action(d) if d.kind == ActionKind::NewRequest))
    else {
        return vec![];
    };
    let rationale = if p.post_hoc {
        format!(
            "Post-hoc record: {} shows revision {} of {} in {} rolled back from {} to {} at {}{}, with no request filed before it ran.",
            o.source,
            o.revision,
            o.component,
            o.env,
            p.from,
            p.to,
            o.at,
            o.by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default()
        )
    } else {
        String::new()
    };
    let impact = if p.post_hoc { "unknown: to be assessed in the post-hoc review".to_string() } else { String::new() };
    let values = [
        ("title", p.title.clone()),
        ("change", p.change.clone()),
        ("rationale", rationale),
        ("user impact", impact),
        ("component", o.component.clone()),
        ("environment", o.env.clone()),
        ("revert command", p.revert_command.clone().unwrap_or_default()),
        ("from", p.from.clone()),
        ("to", p.to.clone()),
    ];
    for (label, value) in values {
        if let Some(f) = d.fields.iter_mut().find(|f| f.label == label) {
            f.value = value;
        }
    }
    d.preview.insert(
        0,
        format!("observed  {} revision {} at {} (entry {})", a.source, a.revision, a.at, a.observation.short(12)),
    );
    if p.post_hoc {
        if let Some(f) = d.fields.iter_mut().find(|f| f.label == "category") {
            f.value = "other".into();
        }
        if let Some(f) = d.fields.iter_mut().find(|f| f.label == "emergency") {
            f.value = EMERGENCY_YES.to_string();
        }
        d.title = "Post-hoc request for an unrecorded rollback".into();
        // Everything is filled: Enter goes on to the passphrase (Tab and Shift-Tab reach the fields to edit).
        d.focus = d.fields.len().saturating_sub(1);
    } else {
        d.title = "Request to roll back an observed deployment".into();
        // Why and what it costs are the requester's to say.
        d.focus = d.fields.iter().position(|f| f.label == "rationale").unwrap_or(0);
    }
    if p.revert_command.is_none() {
        // No command the source is known to roll back with: the filer types it (the form refuses it empty).
        d.preview.insert(
            1,
            format!(
                "revert    {}: type the exact command{} in the revert command field",
                crate::workflow::reconcile::no_revert_command(&a.source, &a.env, &a.component, &p.to),
                if p.post_hoc { " that ran" } else { "" }
            ),
        );
        if p.post_hoc {
            d.focus = d.fields.iter().position(|f| f.label == "revert command").unwrap_or(d.focus);
        }
    }
    vec![]
}

/// `:report [FILE]`: writes the Markdown governance report. A console that may sign records the read
/// (the policy's audit.record_reads) through the signing dialog; a read-only one, or one whose ledger a
/// verification found wrong (nothing is signed onto it), writes it directly.
pub fn start_report(s: &mut AppState, path: String) -> Vec<Cmd> {
    if s.read_only {
        s.toast(
            format!("writing the report to {} (read-only: the read is not recorded)…", crate::text::safe(&path)),
            false,
        );
        return vec![Cmd::Report { path }];
    }
    if s.signing_refused().is_some() {
        // Nothing is signed onto a ledger found wrong, not even the record of this read.
        s.toast(
            format!(
                "writing the report to {} (the ledger failed verification: the read is not recorded)…",
                crate::text::safe(&path)
            ),
            false,
        );
        return vec![Cmd::Report { path }];
    }
    let dialog = ActionDialog {
        kind: ActionKind::Report,
        req: None,
        title: "Write the governance report".into(),
        preview: vec![
            format!("reader    {}", s.user),
            "signs an audit.read entry (who read what) before the report is written".into(),
        ],
        fields: vec![Field { label: "file", value: path, choices: vec![], required: true }],
        focus: 0,
        step: Step::Fill,
        error: None,
        passphrase: Default::default(),
        scroll: 0,
        cursor_back: 0,
    };
    s.modals.push(Modal::Action(Box::new(dialog)));
    vec![]
}

/// Longest text a field takes, in characters.
const FIELD_MAX: usize = 4000;

/// Edits a one-line text field `value` with the cursor `back` characters from its end, as a shell's
/// line editor does: ←/→ (and Home/End, Ctrl-A/Ctrl-E) move, Backspace and Delete remove, Ctrl-U
/// deletes to the start, Ctrl-W the word before the cursor, printable characters insert. Whether `k`
/// was such a key.
pub(crate) fn edit(value: &mut String, back: &mut usize, k: &KeyEvent) -> bool {
    let ctrl = k.modifiers.contains(ratatui::crossterm::event::KeyModifiers::CONTROL);
    let mut chars: Vec<char> = value.chars().collect();
    *back = (*back).min(chars.len());
    let at = chars.len() - *back;
    match k.code {
        KeyCode::Left => *back = (*back + 1).min(chars.len()),
        KeyCode::Right => *back = back.saturating_sub(1),
        KeyCode::Home => *back = chars.len(),
        KeyCode::End => *back = 0,
        KeyCode::Char('a') if ctrl => *back = chars.len(),
        KeyCode::Char('e') if ctrl => *back = 0,
        KeyCode::Char('u') if ctrl => {
            chars.drain(..at);
        }
        KeyCode::Char('w') if ctrl => {
            let mut start = at;
            while start > 0 && chars[start - 1] == ' ' {
                start -= 1;
            }
            while start > 0 && chars[start - 1] != ' ' {
                start -= 1;
            }
            chars.drain(start..at);
        }
        KeyCode::Backspace if at > 0 => {
            chars.remove(at - 1);
        }
        KeyCode::Backspace => {}
        KeyCode::Delete if *back > 0 => {
            chars.remove(at);
            *back -= 1;
        }
        KeyCode::Delete => {}
        KeyCode::Char(c) if !ctrl && !c.is_control() && chars.len() < FIELD_MAX => chars.insert(at, c),
        _ => return false,
    }
    *value = chars.into_iter().collect();
    true
}

/// What the editor left goes into the focused field (a failure is said in the dialog).
pub(super) fn edited(s: &mut AppState, result: Result<String, String>) -> Vec<Cmd> {
    let Some(Modal::Action(d)) = s.modals.last_mut() else { return vec![] };
    if d.step != Step::Fill {
        return vec![];
    }
    match result {
        Ok(text) => {
            let f = &mut d.fields[d.focus];
            if f.choices.is_empty() {
                f.value = text;
                d.cursor_back = 0;
            }
        }
        Err(why) => d.error = Some(why),
    }
    vec![]
}

/// Pasted text into the focused field of the open dialog (one line: line breaks become spaces, control
/// characters are dropped), at its cursor. The passphrase takes a paste too, never shown.
pub(super) fn paste(s: &mut AppState, text: &str) -> Vec<Cmd> {
    let Some(Modal::Action(d)) = s.modals.last_mut() else { return vec![] };
    // Wiped when dropped: it may be a pasted passphrase. Allocated once at its full size (a string grown by
    // pushes leaves copies of its start in the blocks it outgrew, never wiped).
    let mut clean = zeroize::Zeroizing::new(String::with_capacity(text.len()));
    for c in text.chars().map(|c| if c == '\n' || c == '\r' || c == '\t' { ' ' } else { c }) {
        if !c.is_control() {
            clean.push(c);
        }
    }
    match d.step {
        Step::Fill => {
            let f = &mut d.fields[d.focus];
            if !f.choices.is_empty() {
                return vec![];
            }
            let mut chars: Vec<char> = f.value.chars().collect();
            d.cursor_back = d.cursor_back.min(chars.len());
            let at = chars.len() - d.cursor_back;
            let room = FIELD_MAX.saturating_sub(chars.len());
            chars.splice(at..at, clean.chars().take(room));
            f.value = chars.into_iter().collect();
        }
        Step::Passphrase => {
            if !d.passphrase.push_str(clean.trim_end()) {
                d.error = Some("that is longer than any passphrase rollcall takes".into());
            }
        }
        Step::Review | Step::Signing => {}
    }
    vec![]
}

/// The review's first line moved by `by`, within what will be signed (as many rows as it could wrap to
/// at the narrowest width the dialog is drawn at, so the view, which clamps it, can reach the end).
fn review_scroll(d: &ActionDialog, by: i32) -> u16 {
    let most: usize = d.preview.iter().map(|p| p.chars().count() / 16 + 1).sum();
    (i32::from(d.scroll) + by).clamp(0, most.min(usize::from(u16::MAX)) as i32) as u16
}

/// A key in a signing dialog: review → fields → passphrase → sign.
pub(super) fn action_key(s: &mut AppState, k: KeyEvent) -> Vec<Cmd> {
    let refused = s.signing_refused();
    let Some(top) = s.modals.last_mut() else { return vec![] };
    match top {
        Modal::Action(d) => {
            d.error = match d.step {
                Step::Signing => d.error.take(),
                _ => None,
            };
            match d.step {
                Step::Review => match k.code {
                    KeyCode::Esc => {
                        s.modals.pop();
                    }
                    KeyCode::Enter => d.step = if d.fields.is_empty() { Step::Passphrase } else { Step::Fill },
                    KeyCode::Down | KeyCode::Char('j') => d.scroll = review_scroll(d, 1),
                    KeyCode::Up | KeyCode::Char('k') => d.scroll = review_scroll(d, -1),
                    KeyCode::PageDown | KeyCode::Char(' ') => d.scroll = review_scroll(d, 10),
                    KeyCode::PageUp => d.scroll = review_scroll(d, -10),
                    KeyCode::Home => d.scroll = 0,
                    _ => {}
                },
                Step::Fill => {
                    let f = &mut d.fields[d.focus];
                    match k.code {
                        KeyCode::Esc => d.step = Step::Review,
                        KeyCode::Tab | KeyCode::Down => {
                            d.focus = (d.focus + 1) % d.fields.len();
                            d.cursor_back = 0;
                        }
                        KeyCode::BackTab | KeyCode::Up => {
                            d.focus = (d.focus + d.fields.len() - 1) % d.fields.len();
                            d.cursor_back = 0;
                        }
                        KeyCode::Left | KeyCode::Right if !f.choices.is_empty() => {
                            let i = f.choices.iter().position(|c| *c == f.value).unwrap_or(0);
                            let n = f.choices.len();
                            let j = if k.code == KeyCode::Right { (i + 1) % n } else { (i + n - 1) % n };
                            f.value = f.choices[j].to_string();
                        }
                        KeyCode::Char('\t') => {}
                        // Long text in $VISUAL / $EDITOR.
                        KeyCode::Char('o')
                            if f.choices.is_empty()
                                && k.modifiers.contains(ratatui::crossterm::event::KeyModifiers::CONTROL) =>
                        {
                            return vec![Cmd::Terminal(crate::tui::msg::TermOp::Edit(f.value.clone()))];
                        }
                        _ if f.choices.is_empty() && edit(&mut f.value, &mut d.cursor_back, &k) => {}
                        KeyCode::Char(' ') if !f.choices.is_empty() => {}
                        KeyCode::Enter => {
                            if f.label == "file path" && d.focus == 0 && !f.value.is_empty() {
                                // The worker looks at the disk; `path_checked` completes the path or moves on.
                                return vec![Cmd::CheckPath { input: f.value.clone() }];
                            }
                            next_field(d);
                        }
                        _ => {}
                    }
                }
                Step::Passphrase => match k.code {
                    KeyCode::Esc => {
                        d.passphrase.clear();
                        d.step = if d.fields.is_empty() { Step::Review } else { Step::Fill };
                    }
                    KeyCode::Backspace => {
                        d.passphrase.pop();
                    }
                    KeyCode::Char(c) if !c.is_control() => {
                        let full = !d.passphrase.push(c);
                        if full {
                            d.error = Some("that is longer than any passphrase rollcall takes".into());
                        }
                    }
                    KeyCode::Enter => {
                        if d.passphrase.is_empty() {
                            d.error = Some("type the passphrase of your key".into());
                            return vec![];
                        }
                        if refused.is_some() && d.kind == ActionKind::Report {
                            // The report is still written; the record of its read is not signed.
                            let path = d.fields.first().map(|f| f.value.clone()).unwrap_or_default();
                            d.passphrase.clear();
                            s.modals.pop();
                            return start_report(s, path);
                        }
                        if let Some(why) = refused {
                            // Verification finished while the dialog was open: nothing is signed.
                            d.passphrase.clear();
                            d.error = Some(why.into());
                            return vec![];
                        }
                        d.step = Step::Signing;
                        let passphrase = Passphrase::new(d.passphrase.take());
                        let Some(job) = job_of(d) else {
                            d.step = Step::Review;
                            d.error = Some("this action has no request to act on".into());
                            return vec![];
                        };
                        return vec![Cmd::Act { job, passphrase }];
                    }
                    _ => {}
                },
                Step::Signing => {}
            }
            vec![]
        }
        _ => vec![],
    }
}

/// Enter in a form: the next field, or the passphrase step once every required field is filled.
fn next_field(d: &mut ActionDialog) {
    if d.focus + 1 < d.fields.len() {
        d.focus += 1;
    } else if let Some(missing) = d.fields.iter().find(|f| f.required && f.value.trim().is_empty()) {
        d.error = Some(format!("{} is required", missing.label));
    } else {
        d.step = Step::Passphrase;
    }
}

/// The worker's answer about a path typed in a form's first field: a partial path is completed (as far as
/// the names in its directory agree); a file, or a path that does not complete further, moves on as Enter
/// does. An answer about text that has since changed is dropped.
pub(super) fn path_checked(s: &mut AppState, input: &str, is_file: bool, completion: Option<String>) -> Vec<Cmd> {
    let Some(Modal::Action(d)) = s.modals.last_mut() else { return vec![] };
    if d.step != Step::Fill || d.focus != 0 || d.fields.first().is_none_or(|f| f.value != input) {
        return vec![];
    }
    match completion {
        Some(c) if !is_file && c != input => d.fields[0].value = c,
        _ => next_field(d),
    }
    vec![]
}

pub(super) fn acted(s: &mut AppState, result: Result<Done, Failed>) -> Vec<Cmd> {
    match result {
        Ok(done) => {
            let filed = matches!(s.modals.last(), Some(Modal::Action(d)) if d.kind == ActionKind::NewRequest);
            if matches!(s.modals.last(), Some(Modal::Action(_))) {
                s.modals.pop();
            }
            let mut cmds = Vec::new();
            match done {
                Done::Signed(id, warnings) => {
                    s.toast(format!("signed and recorded entry {}", id.short(16)), false);
                    for w in warnings {
                        s.toast(w, true);
                    }
                    // A request just filed is opened, to attach evidence or read it back.
                    if filed {
                        cmds.extend(super::detail::open_detail(s, id));
                    }
                }
                Done::Said(text) => s.toast(text, false),
            }
            cmds.extend(super::refresh_all(s));
            cmds
        }
        Err(e) => {
            if let Some(Modal::Action(d)) = s.modals.last_mut() {
                d.passphrase.clear();
                d.step = match e.retry {
                    Retry::Passphrase => Step::Passphrase,
                    Retry::Review => Step::Review,
                };
                d.error = Some(e.message);
            } else {
                s.toast(e.message, true);
            }
            vec![]
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::tui::msg::Msg;
    use crate::tui::update::update;
    use ratatui::crossterm::event::KeyModifiers;

    fn typed(keys: &[KeyEvent]) -> (String, usize) {
        let (mut v, mut back) = (String::new(), 0);
        for k in keys {
            assert!(edit(&mut v, &mut back, k), "{k:?} is an editing key");
        }
        (v, back)
    }

    fn ch(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn code(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn text_fields_edit_like_a_shell_line() {
        let word = |w: &str| w.chars().map(ch).collect::<Vec<_>>();
        // Insert in the middle after moving left.
        let mut keys = word("helo");
        keys.push(code(KeyCode::Left));
        keys.push(ch('l'));
        assert_eq!(typed(&keys), ("hello".into(), 1));
        // Ctrl-W deletes the word before the cursor, Ctrl-U everything before it.
        let mut keys = word("roll back api");
        keys.push(ctrl('w'));
        assert_eq!(typed(&keys).0, "roll back ");
        keys.push(code(KeyCode::Left));
        keys.push(code(KeyCode::Left));
        keys.push(ctrl('u'));
        assert_eq!(typed(&keys), ("k ".into(), 2));
        // Home, Delete, End, Backspace; the cursor never leaves the text.
        let mut keys = word("abc");
        keys.extend([code(KeyCode::Home), code(KeyCode::Delete), code(KeyCode::Left), code(KeyCode::End)]);
        keys.push(code(KeyCode::Backspace));
        assert_eq!(typed(&keys), ("b".into(), 0));
        let (mut v, mut back) = ("é界".to_string(), 9);
        assert!(edit(&mut v, &mut back, &code(KeyCode::Backspace)));
        assert_eq!((v.as_str(), back), ("é界", 2), "Backspace at the start removes nothing");
        assert!(!edit(&mut v, &mut back, &code(KeyCode::Enter)), "Enter is the form's");
    }

    #[test]
    fn a_paste_goes_into_the_field_at_its_cursor_on_one_line() {
        let mut s = attach_dialog("evidence.xml");
        if let Some(Modal::Action(d)) = s.modals.last_mut() {
            d.cursor_back = 4;
        }
        paste(&mut s, "-new\nline\x1b");
        let Some(Modal::Action(d)) = s.modals.last() else { panic!("the dialog") };
        assert_eq!(d.fields[0].value, "evidence-new line.xml");
    }

    /// A passphrase pasted into the signing step lands in the field (line ends dropped); one longer than any
    /// rollcall takes is cut and said, as typing it is.
    #[test]
    fn a_pasted_passphrase_fills_the_field_and_an_overlong_one_is_said() {
        let mut s = attach_dialog("evidence.xml");
        if let Some(Modal::Action(d)) = s.modals.last_mut() {
            d.step = Step::Passphrase;
        }
        paste(&mut s, "correct horse battery\n");
        assert_eq!((dialog(&s).passphrase.chars(), dialog(&s).error.is_none()), (21, true));
        paste(&mut s, &"x".repeat(crate::tui::state::PASSPHRASE_ROOM));
        let d = dialog(&s);
        assert_eq!(d.passphrase.chars(), crate::tui::state::PASSPHRASE_ROOM);
        assert!(d.error.as_deref().is_some_and(|e| e.contains("longer than any passphrase")), "{:?}", d.error);
    }

    pub(in crate::tui::update) fn attach_dialog(value: &str) -> AppState {
        let mut s = crate::tui::update::tests::state();
        let fields = vec![
            Field { label: "file path", value: value.into(), choices: vec![], required: true },
            Field { label: "kind", value: "test".into(), choices: vec!["test", "scan"], required: true },
        ];
        s.modals.push(Modal::Action(Box::new(ActionDialog {
            kind: ActionKind::Attach,
            req: Some(crate::ledger::Hash([1; 32])),
            title: "Attach".into(),
            preview: vec![],
            fields,
            focus: 0,
            step: Step::Fill,
            error: None,
            passphrase: Default::default(),
            scroll: 0,
            cursor_back: 0,
        })));
        s
    }

    pub(in crate::tui::update) fn dialog(s: &AppState) -> &ActionDialog {
        match s.modals.last() {
            Some(Modal::Action(d)) => d,
            _ => panic!("no dialog"),
        }
    }

    fn enter(s: &mut AppState) -> Vec<Cmd> {
        update(s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)))
    }

    /// Enter on a typed path asks the worker (update reads no disk); its answer completes the path, or
    /// moves on once it names a file; an answer about text that changed since is dropped.
    #[test]
    fn a_typed_path_is_checked_by_the_worker_then_completed_or_accepted() {
        let mut s = attach_dialog("src/li");
        let cmds = enter(&mut s);
        assert!(matches!(cmds.as_slice(), [Cmd::CheckPath { input }] if input == "src/li"), "{cmds:?}");
        let answer = |input: &str, is_file, completion: Option<&str>| Msg::PathChecked {
            input: input.into(),
            is_file,
            completion: completion.map(str::to_string),
        };
        update(&mut s, answer("src/li", false, Some("src/lib.rs")));
        assert_eq!((dialog(&s).fields[0].value.as_str(), dialog(&s).focus), ("src/lib.rs", 0));
        // A late answer about the old text changes nothing.
        update(&mut s, answer("src/li", false, Some("src/lint/")));
        assert_eq!(dialog(&s).fields[0].value, "src/lib.rs");
        enter(&mut s);
        update(&mut s, answer("src/lib.rs", true, None));
        assert_eq!(dialog(&s).focus, 1, "a file moves on to the next field");
        // A path that completes no further also moves on (the job then names what is wrong).
        let mut s = attach_dialog("nowhere/x");
        enter(&mut s);
        update(&mut s, answer("nowhere/x", false, None));
        assert_eq!(dialog(&s).focus, 1);
    }

    /// A failed action goes back to the step that can fix it, chosen by the kind of error, not its words.
    #[test]
    fn a_failed_action_returns_to_the_step_that_can_fix_it() {
        for (retry, step) in [(Retry::Passphrase, Step::Passphrase), (Retry::Review, Step::Review)] {
            let mut s = attach_dialog("x");
            if let Some(Modal::Action(d)) = s.modals.last_mut() {
                d.step = Step::Signing;
            }
            update(&mut s, Msg::Acted(Err(Failed { message: "passphrase? no: refused".into(), retry })));
            assert_eq!((dialog(&s).step, dialog(&s).error.as_deref()), (step, Some("passphrase? no: refused")));
        }
        let e = crate::workflow::WorkflowError::Identity(crate::identity::IdentityError::WrongPassphrase("bob".into()));
        assert_eq!(Failed::of(&e).retry, Retry::Passphrase);
        let e = crate::workflow::WorkflowError::Refused("the passphrase policy says no".into());
        assert_eq!(Failed::of(&e).retry, Retry::Review, "the words do not decide");
    }
}
