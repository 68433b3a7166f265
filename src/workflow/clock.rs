//! The time operations are judged and stamped at: the system clock, or `ROLLCALL_NOW` (RFC 3339) when a
//! test or a what-if evaluation sets it. The CLI warns whenever the override is in effect.

use chrono::{DateTime, Utc};

/// Environment variable that fixes the clock.
pub const NOW_ENV: &str = "ROLLCALL_NOW";

/// The override, if set and valid.
pub fn overridden() -> Option<DateTime<Utc>> {
    std::env::var(NOW_ENV).ok().and_then(|s| crate::audit::record::parse_time(&s))
}

/// Now.
pub fn now() -> DateTime<Utc> {
    overridden().unwrap_or_else(Utc::now)
}
