//! Invariants of the refresh rules, checked from a timeline alone (or from a history of
//! `DescribeRefreshActivities` responses), so the same checks apply to a simulated run and to a
//! real refresh history. Depends only on `timeline` and `api` vocabulary, never on the engine.
//!
//! The catalogue (`Invariant::ALL`) is documented in INVARIANTS.md.

pub mod describe;
pub mod graph;
pub mod input;
pub mod replay;

use crate::time::SimTime;
use std::fmt;

pub use describe::{DescribeReport, check_describe_history};
pub use replay::check_timeline;

/// Declares the invariant catalogue: id, statement, source.
macro_rules! invariants {
    ($($variant:ident = ($id:literal, $statement:literal, $source:literal),)+) => {
        /// One invariant of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Invariant { $($variant,)+ }

        impl Invariant {
            pub const ALL: &'static [Invariant] = &[$(Invariant::$variant,)+];

            /// Stable id, e.g. `INV-ACTIVITY-GRAPH`.
            pub fn id(self) -> &'static str {
                match self { $(Invariant::$variant => $id,)+ }
            }

            /// One-line statement.
            pub fn statement(self) -> &'static str {
                match self { $(Invariant::$variant => $statement,)+ }
            }

            /// The spec section or OQ it comes from.
            pub fn source(self) -> &'static str {
                match self { $(Invariant::$variant => $source,)+ }
            }

            pub fn parse(id: &str) -> Option<Invariant> {
                match id { $($id => Some(Invariant::$variant),)+ _ => None }
            }
        }
    };
}

invariants! {
    TimeOrder = ("INV-TIME-ORDER", "Time never decreases and seq strictly increases.", "DESIGN D2"),
    ActivityGraph = ("INV-ACTIVITY-GRAPH", "Activity statuses change only along the §10 graph, from the status they had.", "spec §10, §4.1"),
    BatchGraph = ("INV-BATCH-GRAPH", "Batch statuses change only along the §10 graph (RETRY puts a finished batch back to RUNNING).", "spec §10, §4.3, OQ-12"),
    InstanceGraph = ("INV-INSTANCE-GRAPH", "Refresh-instance statuses change only along the §10 graph (FAILED → WAITING only by RETRY).", "spec §10, §4.4"),
    TerminalStaysTerminal = ("INV-TERMINAL", "SUCCESSFUL, CANCELLED and FAILED activities, SUCCESSFUL/CANCELLED batches and SUCCESSFUL/CANCELLED/NOT_FOUND instances never change again.", "spec §10"),
    TerminalSettled = ("INV-TERMINAL-SETTLED", "A terminal activity has no WAITING, INIT or RUNNING batch or instance, and none of its batches or instances changes status after its EndTime (except, per OQ-26, a rolled-back origin's in-flight instances finishing).", "spec §10, OQ-24, OQ-26"),
    BatchPlan = ("INV-BATCH-PLAN", "At Start every IN_SERVICE, non-standby instance (for a rollback: OQ-25 rule 7's set R) is frozen into exactly one batch, and batch sizes differ by at most one, larger first.", "OQ-1, OQ-2, OQ-3, OQ-25"),
    BatchesSequential = ("INV-BATCH-SEQUENCE", "Batches run one after another: batch k starts only when every earlier batch has finished, and never two at once.", "spec §3.2, OQ-13"),
    OneActiveActivity = ("INV-ONE-ACTIVE", "At most one non-terminal refresh activity per group (a rollback may wait in INIT for its origin's in-flight instances).", "spec §3.3, OQ-9, OQ-26"),
    GroupDisabled = ("INV-GROUP-DISABLED", "The group is DISABLED whenever a refresh activity is non-terminal, pauses included.", "spec §1.1 rule 2, §1.3 rule 1, OQ-17"),
    GroupRestored = ("INV-GROUP-RESTORED", "When the last refresh activity ends, the group's enabled state is what it was before (or DISABLED after a DisableAutoScalingGroup during the refresh).", "OQ-17"),
    ScalingExclusive = ("INV-SCALING-EXCLUSIVE", "No two scaling activities run at once, except desired-capacity scale-outs (at most two together); one refresh activity's own scaling activities count as one.", "spec §6.2, OQ-18, OQ-65, OQ-66"),
    NoAutomaticScaling = ("INV-NO-AUTO-SCALING", "No policy-driven scaling activity (desired-capacity matching, alarm, scheduled action, unhealthy replacement) starts while a refresh is non-terminal.", "spec §3.3, §6.1, OQ-31, OQ-32"),
    FailedBatchPauses = ("INV-FAILED-BATCH-PAUSES", "Under AUTO_PAUSE, a batch that ends with a failed instance makes the activity's next status FAILED_PAUSE, and the next batch never starts (nor a failed instance retries) without a ResumeInstanceRefresh.", "spec §1.1 rule 3, §3.5, OQ-13, OQ-21"),
    NotFoundNeverBlocks = ("INV-NOT-FOUND-NON-BLOCKING", "A batch never stays INIT or RUNNING with no instance in flight, and a run that ends idle leaves no activity INIT or RUNNING: vanished (NOT_FOUND) or skipped instances never block it.", "spec §1.1 rule 4, OQ-3, OQ-12"),
    SuccessfulMeansDone = ("INV-SUCCESS-COMPLETE", "A SUCCESSFUL activity has every instance SUCCESSFUL, NOT_FOUND, CANCELLED (skipped, OQ-3) or FAILED-and-skipped by CONTINUE, and every batch finished.", "OQ-12, OQ-22, OQ-23"),
    SurgeBounded = ("INV-SURGE-BOUNDED", "Each activity's live surge instances never exceed its own MaxSurge (a rollback's is 0), and every surge instance is created by an activity's scale-out.", "spec §2.2, OQ-6, OQ-7, OQ-26"),
    SurgeGone = ("INV-SURGE-GONE", "No surge instance of an activity is alive when it becomes SUCCESSFUL, nor when a run ends idle after the activity ended.", "spec §2.2, §3.9, OQ-7, OQ-24"),
    CapacityFloor = ("INV-CAPACITY-FLOOR", "While a refresh is non-terminal: in-service instances ≥ E − F − S − X + U (E frozen instances; F of them in flight in RESET mode; S of them FAILED and out of service; X of them NOT_FOUND, gone (RESET) or taken out of service from outside; U surge instances in service; a REPLACE instance counts in service while it or its replacement is).", "OQ-10, OQ-11, OQ-7"),
    ReinstallFields = ("INV-REINSTALL-FIELDS", "A reinstall applies the launch-configuration version current when the instance's reinstall started (its image, UserData, EnhancedService, HostName and LoginSettings; a rollback its non-image fields) and keeps the instance type; a REPLACE replacement is created from the current launch configuration.", "spec §1.1 rule 1, §3.4, OQ-11, OQ-16, OQ-26"),
    RollbackRestoresImage = ("INV-ROLLBACK-IMAGE", "A rollback reinstalls each instance with the image it had before its origin first reinstalled it.", "spec §1.6 rule 4, OQ-26"),
    DescribeAgrees = ("INV-DESCRIBE-AGREES", "Every DescribeRefreshActivities response agrees with the timeline at that instant: statuses, batch order, instances, times.", "spec §1.2, §2.3–§2.5, OQ-15, OQ-29"),
    DocumentedErrors = ("INV-DOCUMENTED-ERRORS", "Every error an API call returns is a code documented for that action (spec §5) or a common API 3.0 code.", "spec §5, S-COMMON-ERR"),
    SnapshotConsistent = ("INV-SNAPSHOT", "Each Describe snapshot is self-consistent: batches numbered n…1 in descending order, sizes per OQ-1, statuses consistent with times and with each other.", "spec §1.2, OQ-1, OQ-12, OQ-15, OQ-29"),
}

/// A broken invariant: which, when, about what, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub invariant: Invariant,
    /// Simulated time of the record where it shows (0 for Describe polls: see `poll`).
    pub time: SimTime,
    /// For a Describe history: which poll (1-based) and, when the input says, its time.
    pub poll: Option<Poll>,
    /// The activity, batch or instance concerned (`asr-…`, `asr-… batch 2`, `ins-…`), or "".
    pub entity: String,
    pub detail: String,
}

/// One poll of a Describe history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// 1-based position in the history.
    pub number: usize,
    /// When it was taken, as the input gives it (e.g. responses.jsonl's `time`).
    pub time: Option<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.poll {
            Some(Poll { number, time: None }) => {
                write!(f, "[{}] at poll #{number}", self.invariant.id())?
            }
            Some(Poll {
                number,
                time: Some(t),
            }) => write!(f, "[{}] at poll #{number} ({t})", self.invariant.id())?,
            None => write!(f, "[{}] at {} ms", self.invariant.id(), self.time.as_ms())?,
        }
        if !self.entity.is_empty() {
            write!(f, " {}", self.entity)?;
        }
        write!(f, ": {}", self.detail)
    }
}

/// At most this many violations are reported per run (the first ones); a broken engine would
/// otherwise flood the summary.
pub const MAX_VIOLATIONS: usize = 1000;

/// The invariants a timeline check evaluates: all but INV-SNAPSHOT, which is about Describe
/// histories.
pub fn timeline_invariants() -> impl Iterator<Item = Invariant> {
    Invariant::ALL
        .iter()
        .copied()
        .filter(|i| *i != Invariant::SnapshotConsistent)
}
