//! The risk score (0–100) of a revert and its tier, from the category, the target environment, the
//! security flags and the blast radius, with every factor's contribution shown.

use super::flags::{Flag, Severity};
use crate::audit::record::{Category, RequestBody};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    pub name: String,
    pub points: u32,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub score: u32,
    /// low (< 25), medium (< 50), high (< 75), critical.
    pub tier: String,
    pub factors: Vec<Factor>,
}

/// The tier of a score.
pub(crate) fn tier_of(score: u32) -> &'static str {
    match score {
        0..25 => "low",
        25..50 => "medium",
        50..75 => "high",
        _ => "critical",
    }
}

/// Scores a revert.
pub(crate) fn score(record: &RequestBody, flags: &[Flag]) -> Risk {
    let mut factors = Vec::new();
    let (points, why) = match record.category {
        Category::SecurityPatch => (20, "reverting a security patch"),
        Category::DataIntegrity => (20, "data integrity"),
        Category::Compliance => (15, "compliance"),
        Category::CriticalBug => (10, "critical bug"),
        Category::PerformanceRegression => (5, "performance regression"),
        Category::Other => (5, "other"),
    };
    factors.push(Factor { name: "category".into(), points, detail: why.into() });
    let env = record.env.trim().to_ascii_lowercase();
    let (points, why) = if env.contains("prod") || env == "live" {
        (25, "production")
    } else if env.contains("stag") || env.contains("preprod") || env.contains("canary") {
        (10, "pre-production")
    } else {
        (5, "other environment")
    };
    factors.push(Factor { name: "environment".into(), points, detail: format!("{} ({why})", record.env) });
    let flag_points: u32 = flags
        .iter()
        .map(|f| match f.severity {
            Severity::Critical => 25,
            Severity::High => 15,
            Severity::Medium => 8,
            Severity::Low => 3,
        })
        .sum::<u32>()
        .min(40);
    if flag_points > 0 {
        factors.push(Factor {
            name: "security flags".into(),
            points: flag_points,
            detail: format!("{} flag(s), capped at 40", flags.len()),
        });
    }
    let radius = (record.components.len() + record.cascades.len()) as u32;
    let points = (radius * 2).min(15);
    factors.push(Factor {
        name: "blast radius".into(),
        points,
        detail: format!("{} component(s), {} cascading service(s)", record.components.len(), record.cascades.len()),
    });
    if !record.side_effects.destructive.is_empty() {
        factors.push(Factor {
            name: "destructive steps".into(),
            points: 10,
            detail: format!("{}", record.side_effects.destructive.len()),
        });
    } else if !record.side_effects.migrations.is_empty() {
        factors.push(Factor {
            name: "migrations".into(),
            points: 5,
            detail: format!("{}", record.side_effects.migrations.len()),
        });
    }
    let score = factors.iter().map(|f| f.points).sum::<u32>().min(100);
    Risk { score, tier: tier_of(score).into(), factors }
}
