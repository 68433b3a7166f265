//! The ledger as of now for deciding: the roster and every policy version derived from its governance
//! entries, the size of the own log and the position its next entry takes.

use crate::identity::Roster;
use crate::ledger::Ledger;
use crate::policy::evaluate::{Context, Policies, PolicyRules};
use crate::workflow::error::WorkflowError;

/// The roster and policies as of the end of the log.
pub struct Snapshot {
    pub roster: Roster,
    pub policies: Policies,
    pub size: u64,
    /// The position the next entry of the own log takes now.
    pub next: crate::ledger::Pos,
    /// The memory of bad artifacts read once, for walks over many requests ([`Snapshot::remember`]);
    /// without it each assessment asks the database.
    pub(crate) memory: Option<super::memory::Memory>,
    /// Whether the database's answers about bad artifacts are taken only from rows that pass their check
    /// (FORMAT.md §7.5; a row that fails stops the assessment): true except for the request index, a cache
    /// that decides nothing ([`Snapshot::unchecked`]). The memory read once is not checked: `verify` checks
    /// every row itself.
    pub(crate) check_rows: bool,
}

impl Snapshot {
    pub(crate) fn load(ledger: &Ledger) -> Result<Snapshot, WorkflowError> {
        let roster = Roster::from_ledger(ledger)?;
        Self::with_roster(ledger, roster)
    }

    pub(crate) fn with_roster(ledger: &Ledger, roster: Roster) -> Result<Snapshot, WorkflowError> {
        let policies = Policies::from_roster(&roster);
        // Where an entry written now goes: at the time it would be stamped.
        let at = crate::workflow::clock::decision_now(ledger, roster.max_clock_skew_seconds())?;
        let next = ledger.next_pos(&crate::ledger::statement::format_ts(at))?;
        Ok(Snapshot { roster, policies, size: ledger.size(ledger.own_origin())?, next, memory: None, check_rows: true })
    }

    /// For the request index: the database's answers about bad artifacts are read without checking the
    /// rows (as the index reads every request's rows).
    pub(crate) fn unchecked(mut self) -> Snapshot {
        self.check_rows = false;
        self
    }

    /// Reads the memory of bad artifacts once, for a walk over many requests that writes nothing meanwhile.
    pub(crate) fn remember(mut self, ledger: &Ledger) -> Result<Snapshot, WorkflowError> {
        self.memory = Some(super::memory::Memory::load(ledger, &self.roster)?);
        Ok(self)
    }

    /// The evaluation context with a request's security flags and computed tier.
    pub(crate) fn context<'a>(&'a self, flags: &'a [String], tier: Option<&'a str>) -> Context<'a> {
        Context { roster: &self.roster, policies: &self.policies, flags, flags_tier: tier }
    }

    pub(crate) fn rules<'a>(&'a self, flags: &'a [String], tier: Option<&'a str>) -> PolicyRules<'a> {
        PolicyRules { ctx: self.context(flags, tier) }
    }
}
