//! The time operations are judged and stamped at: the system clock, or `ROLLCALL_NOW` (RFC 3339) when a
//! test or a what-if evaluation sets it. The CLI warns whenever the override is in effect.

use chrono::{DateTime, Utc};

/// Environment variable that fixes the clock.
pub(crate) const NOW_ENV: &str = "ROLLCALL_NOW";

use std::cell::Cell;

thread_local! {
    static AT: Cell<Option<DateTime<Utc>>> = const { Cell::new(None) };
}

/// The override, if set and valid.
pub(crate) fn overridden() -> Option<DateTime<Utc>> {
    std::env::var(NOW_ENV).ok().and_then(|s| crate::audit::record::parse_time(&s))
}

/// Now.
pub fn now() -> DateTime<Utc> {
    AT.with(|a| a.get()).or_else(overridden).unwrap_or_else(Utc::now)
}

/// The time an entry written now is stamped at: [`now`], or one millisecond after the latest time `ledger`
/// holds when [`now`] is not later (a peer's clock may run ahead within the skew; every writer stamps so,
/// `ledger::pos::stamp_after`). A command judges what it is about to sign at this time.
pub(crate) fn stamp_time(ledger: &crate::ledger::Ledger) -> Result<DateTime<Utc>, crate::ledger::LedgerError> {
    stamped_at(ledger, now())
}

/// Where an entry written at `at` is stamped ([`stamp_time`] at another clock reading).
fn stamped_at(ledger: &crate::ledger::Ledger, at: DateTime<Utc>) -> Result<DateTime<Utc>, crate::ledger::LedgerError> {
    let ms = crate::ledger::pos::stamp_after(at.timestamp_millis(), ledger.time_floor_ms()?);
    Ok(DateTime::from_timestamp_millis(ms).unwrap_or(at))
}

/// The time a decision made now is judged at (`gate`, `show`, the console): [`stamp_time`], where the run
/// a gate lets through is recorded and judged; but [`now`] when that is more than `skew_seconds` ahead of
/// it. An entry written now would then be refused (stamped past the clock plus the skew), so the clock was
/// moved to evaluate at another time (`ROLLCALL_NOW`: what was the gate last Saturday?) or runs far behind,
/// and the question is asked of the clock.
pub(crate) fn decision_now(
    ledger: &crate::ledger::Ledger,
    skew_seconds: i64,
) -> Result<DateTime<Utc>, crate::ledger::LedgerError> {
    judged_at(ledger, now(), skew_seconds)
}

/// [`decision_now`] for a decision asked at `at` (a caller that holds its clock reading): `at`, or where an
/// entry written at it would be stamped when that is within `skew_seconds` of it.
pub(crate) fn judged_at(
    ledger: &crate::ledger::Ledger,
    at: DateTime<Utc>,
    skew_seconds: i64,
) -> Result<DateTime<Utc>, crate::ledger::LedgerError> {
    let stamped = stamped_at(ledger, at)?;
    Ok(if stamped - at > chrono::Duration::seconds(skew_seconds) { at } else { stamped })
}

/// Why this machine cannot record an entry now, if it cannot: the ledger holds a time more than
/// `skew_seconds` past the clock (the clock stepped back, or a policy lowered the skew after entries stamped
/// ahead under the old one), so an append would be refused. Asked only of the real clock: with
/// `ROLLCALL_NOW` set a read evaluates at the time asked (a release build's `gate` refuses it).
pub(crate) fn cannot_record(
    ledger: &crate::ledger::Ledger,
    skew_seconds: i64,
) -> Result<Option<String>, crate::ledger::LedgerError> {
    if overridden().is_some() || AT.with(|a| a.get()).is_some() {
        return Ok(None);
    }
    let (now, floor) = (now(), ledger.time_floor_ms()?);
    Ok((floor - now.timestamp_millis() > skew_seconds.saturating_mul(1000)).then(|| {
        format!(
            "this machine cannot record a run now: the ledger holds a time ({}) more than the allowed skew \
             ({skew_seconds} s) past its clock ({}); set the clock right, then ask again",
            crate::ledger::pos::format_ms(floor),
            crate::ledger::statement::format_ts(now)
        )
    }))
}

/// The clock the upper time bound is measured from: the system clock in a release build, so that
/// `ROLLCALL_NOW` can never let it sign or accept entries stamped beyond the real time plus the allowed
/// skew; in a debug build (the test suite) the overridable [`now`], so tests can run in the future.
pub(crate) fn bound_now() -> DateTime<Utc> {
    if release() { Utc::now() } else { now() }
}

/// The time a signature made now is stamped with where no entry bound checks it (a witness's
/// cosignature): the clock [`at`] set (the demo building its history); otherwise the real time in a
/// release build, so that `ROLLCALL_NOW`, which may move the clock to evaluate, never dates what is
/// signed; the overridable [`now`] in a debug build.
pub(crate) fn signing_now() -> DateTime<Utc> {
    signing_time(AT.with(|a| a.get()), release(), now, Utc::now)
}

fn signing_time(
    pinned: Option<DateTime<Utc>>,
    release: bool,
    now: impl FnOnce() -> DateTime<Utc>,
    real: impl FnOnce() -> DateTime<Utc>,
) -> DateTime<Utc> {
    pinned.unwrap_or_else(|| if release { real() } else { now() })
}

/// The latest statement time (milliseconds) this machine may sign or accept: [`bound_now`] plus
/// `skew_seconds`.
pub(crate) fn latest_ms(skew_seconds: i64) -> i64 {
    bound_now().timestamp_millis().saturating_add(skew_seconds.saturating_mul(1000))
}

/// Refuses (with why) to let a release build sign an entry stamped `ts_ms` now when it is stamped earlier than the
/// system clock less `skew_seconds` while `ROLLCALL_NOW` moves the clock. The clock may be moved to
/// evaluate at another time, never to backdate what is signed (an execution stamped inside a window that
/// has since closed, an approval before a revocation). A debug build (the test suite) and a clock set by
/// [`at`] (the demo building its history) sign at the time they are given.
pub(crate) fn refuse_backdating(ts_ms: i64, skew_seconds: i64) -> Result<(), super::error::WorkflowError> {
    match backdating_at(release_unpinned(), overridden().is_some(), ts_ms, Utc::now().timestamp_millis(), skew_seconds)
    {
        Some(why) => Err(super::error::WorkflowError::Refused(why)),
        None => Ok(()),
    }
}

/// A release build whose clock [`at`] has not set: where `ROLLCALL_NOW` may evaluate but not sign or gate.
fn release_unpinned() -> bool {
    release() && AT.with(|a| a.get()).is_none()
}

#[cfg(not(test))]
fn release() -> bool {
    !cfg!(debug_assertions)
}

#[cfg(test)]
thread_local! {
    static AS_RELEASE: Cell<bool> = const { Cell::new(false) };
}

#[cfg(test)]
fn release() -> bool {
    AS_RELEASE.with(|r| r.get())
}

/// Runs `f` with this thread's signing paths refusing as a release build's do (the unit tests' way to
/// see what `cargo run --release` would refuse). Only the clock's rules: key strength and the KDF still
/// follow the build. Unit tests keep the debug build's clock even under `cargo test --release`.
#[cfg(test)]
pub(crate) fn as_release<T>(f: impl FnOnce() -> T) -> T {
    let before = AS_RELEASE.with(|r| r.replace(true));
    let out = f();
    AS_RELEASE.with(|r| r.set(before));
    out
}

/// Why an entry stamped `ts_ms` is refused when the real time is `real_ms`, if it is; `moved`: whether
/// `ROLLCALL_NOW` is set (the one way a user sets a signing time, so the one named when it is).
fn backdating_at(release: bool, moved: bool, ts_ms: i64, real_ms: i64, skew_seconds: i64) -> Option<String> {
    let earliest = real_ms.saturating_sub(skew_seconds.saturating_mul(1000));
    (release && ts_ms < earliest).then(|| {
        let ts = crate::ledger::pos::format_ms(ts_ms);
        if moved {
            format!(
                "{NOW_ENV} sets the clock to {ts}, before this machine's clock; a release build signs at the real \
                 time only (unset {NOW_ENV}; `show` and the reports may still evaluate at another time)"
            )
        } else {
            format!(
                "an entry stamped {ts} is earlier than this machine's clock allows ({skew_seconds} s of skew); a \
                 release build signs at the real time only"
            )
        }
    })
}

/// Why a release build's `gate` does not answer now, if it does not: `ROLLCALL_NOW` moves the clock, and a
/// gate's "may run" is for the real time only (a what-if verdict whose exit 0 a CD tool would take for
/// now; `show` evaluates at another time).
pub(crate) fn gate_refused() -> Option<String> {
    gate_refused_at(release_unpinned(), overridden().is_some())
}

fn gate_refused_at(release: bool, moved: bool) -> Option<String> {
    (release && moved).then(|| {
        format!(
            "{NOW_ENV} is set; a release build's gate answers for the real time only (unset it; `show` evaluates at it)"
        )
    })
}

/// Runs `f` with this thread's clock set to `t` (the demo builds a history in the past with it).
pub fn at<T>(t: DateTime<Utc>, f: impl FnOnce() -> T) -> T {
    let before = AT.with(|a| a.replace(Some(t)));
    let out = f();
    AT.with(|a| a.set(before));
    out
}

#[cfg(test)]
mod tests {
    use super::{backdating_at, gate_refused_at};

    #[test]
    fn a_release_builds_gate_answers_for_the_real_time_only() {
        assert!(gate_refused_at(true, true).is_some_and(|w| w.contains("real time only")));
        assert_eq!((gate_refused_at(true, false), gate_refused_at(false, true)), (None, None));
    }

    /// A cosignature is dated by the demo's pinned clock, else by the real time in a release build
    /// (`ROLLCALL_NOW` moves only what is evaluated), else by the overridable clock (the tests').
    #[test]
    fn a_release_build_dates_cosignatures_at_the_real_time() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
        let (pinned, moved, real) = (t("2025-01-01T00:00:00Z"), t("2020-01-01T00:00:00Z"), t("2026-12-07T00:00:00Z"));
        assert_eq!(super::signing_time(None, true, || moved, || real), real);
        assert_eq!(super::signing_time(None, false, || moved, || real), moved);
        assert_eq!(super::signing_time(Some(pinned), true, || moved, || real), pinned);
    }

    /// A release build refuses to sign before its own clock less the skew; a debug build, or within the
    /// skew, signs.
    #[test]
    fn a_release_build_signs_at_the_real_time_only() {
        let real = 1_790_000_000_000;
        let why = backdating_at(true, true, real - 3_600_000, real, 300).expect("an hour back is refused");
        assert!(why.contains("ROLLCALL_NOW") && why.contains("real time only"), "{why}");
        // Not set by ROLLCALL_NOW (a caller's planned time): it is not blamed.
        let why = backdating_at(true, false, real - 3_600_000, real, 300).expect("refused all the same");
        assert!(!why.contains("ROLLCALL_NOW") && why.contains("real time only"), "{why}");
        assert_eq!(backdating_at(true, true, real - 299_000, real, 300), None);
        assert_eq!(backdating_at(true, true, real + 60_000, real, 300), None);
        assert_eq!(backdating_at(false, true, real - 3_600_000, real, 300), None);
    }
}
