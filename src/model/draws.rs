//! The sampled data the model needs, and the trait `sim` implements to supply it. The model
//! never owns randomness; tests can supply fixed draws.

use crate::timeline::{Msg, Sym};

/// Everything random about one refresh attempt of one instance, drawn at once when the attempt
/// starts, from streams keyed by (instance, purpose, attempt) (D7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttemptDraws {
    /// OQ-10 step 3 duration.
    pub reinstall_ms: u64,
    /// `Some(message)` when this attempt's reinstall fails.
    pub reinstall_failure: Option<Msg>,
    /// OQ-10 step 5: time after the reinstall until the CLB target is healthy; `None` = never.
    pub health_pass_ms: Option<u64>,
}

/// Sampled data of one instance operation (create or destroy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpDraws {
    pub duration_ms: u64,
    pub fails: bool,
}

/// What the user's automation does with a lifecycle hook action (§6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HookDraws {
    /// When it calls CompleteLifecycleAction, after the hook starts.
    pub response_ms: u64,
    /// Whether it answers ABANDON rather than CONTINUE.
    pub abandon: bool,
}

/// Fixed-purpose delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayKind {
    /// OQ-9 `init_delay`.
    InitDelay,
    /// OQ-13 `batch_gap` (AUTOMATIC).
    BatchGap,
}

/// Kinds of generated identifiers (OQ-35).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `asr-` + 8 characters.
    RefreshActivity,
    /// `asa-` + 8 characters.
    ScalingActivity,
    /// `ins-` + 8 characters.
    Instance,
    /// Lifecycle action tokens.
    LifecycleToken,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::RefreshActivity => "asr-",
            IdKind::ScalingActivity => "asa-",
            IdKind::Instance => "ins-",
            IdKind::LifecycleToken => "lat-",
        }
    }
}

/// The source of sampled data. Implemented by `sim` from seeded ChaCha streams.
pub trait Draws {
    /// Samples of attempt `attempt` (1-based) of refreshing instance `instance`, whose stable
    /// RNG key is `instance_key`.
    fn attempt(&mut self, instance_key: u64, instance: Sym, attempt: u32) -> AttemptDraws;

    /// Samples of creating (`destroy = false`) or destroying an instance.
    fn op(&mut self, instance_key: u64, destroy: bool, attempt: u32) -> OpDraws;

    /// Samples of the `occurrence`-th hook action on an instance.
    fn hook(&mut self, instance_key: u64, occurrence: u32) -> HookDraws;

    /// A delay; `key` distinguishes occurrences (activity and batch), so delays are CRN too.
    fn delay_ms(&mut self, kind: DelayKind, key: u64) -> u64;

    /// The `n`-th candidate identifier of a kind. The model retries with `n + 1` on collision.
    fn id_candidate(&mut self, kind: IdKind, n: u64) -> String;
}
