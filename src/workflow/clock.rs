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

/// The clock the upper time bound is measured from: the system clock in a release build, so that
/// `ROLLCALL_NOW` can never let it sign or accept entries stamped beyond the real time plus the allowed
/// skew; in a debug build (the test suite) the overridable [`now`], so tests can run in the future.
pub(crate) fn bound_now() -> DateTime<Utc> {
    if cfg!(debug_assertions) { now() } else { Utc::now() }
}

/// The latest statement time (milliseconds) this machine may sign or accept: [`bound_now`] plus
/// `skew_seconds`.
pub(crate) fn latest_ms(skew_seconds: i64) -> i64 {
    bound_now().timestamp_millis().saturating_add(skew_seconds.saturating_mul(1000))
}

/// Runs `f` with this thread's clock set to `t` (the demo builds a history in the past with it).
pub fn at<T>(t: DateTime<Utc>, f: impl FnOnce() -> T) -> T {
    let before = AT.with(|a| a.replace(Some(t)));
    let out = f();
    AT.with(|a| a.set(before));
    out
}
