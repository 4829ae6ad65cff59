//! The world at an instant and the refresh state machine.
//!
//! Transitions are methods `fn on_x(&mut self, ..., fx: &mut Fx)`: they read the current time
//! from `fx.now`, take any randomness as sampled data from a `Draws` implementation supplied by
//! `sim`, and push records and follow-up timers into `fx`. Nothing here reads a clock, owns an
//! RNG, or knows the event queue.
//!
//! `api` admits API calls; `refresh` moves activities, batches and instances; `surge` runs the
//! MaxSurge phases; `rollback` creates rollback activities; `ops` runs instance operations and
//! lifecycle hooks; `group` handles the group around a refresh; `describe` renders Describe.

pub mod api;
pub mod describe;
pub mod draws;
pub mod group;
pub mod ops;
pub mod refresh;
pub mod rollback;
pub mod surface;
pub mod surge;
#[cfg(test)]
mod tests;
pub mod world;

pub use draws::{AttemptDraws, DelayKind, Draws, HookDraws, IdKind, OpDraws};
pub use group::WorldChange;
pub use world::*;

use crate::time::SimTime;
use crate::timeline::Event;

/// A follow-up the model asks the engine to deliver back at a later time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// OQ-9: the activity's init delay elapsed.
    InitDone { activity: u32 },
    /// OQ-13 step 3 (AUTOMATIC): start batch `batch` (0-based) after the batch gap.
    NextBatch { activity: u32, batch: u32 },
    /// The current step of refresh item `item` finished. Stale when `generation` no longer matches.
    ItemStep {
        activity: u32,
        item: u32,
        generation: u32,
    },
    /// A scripted, non-refresh scaling activity (fault) ends.
    ScalingActivityEnd { scaling_activity: u32 },
    /// An instance operation's work (create / destroy / detach) finished.
    OpDone { op: u32, generation: u32 },
    /// A hook's heartbeat timeout elapsed (§6.8): `DefaultResult` applies.
    HookTimeout {
        run: u32,
        hook: u32,
        generation: u32,
    },
    /// The user's automation completes a hook action (§6.8).
    HookAutoComplete {
        run: u32,
        hook: u32,
        generation: u32,
        abandon: bool,
    },
}

/// Output buffer of one transition: the time it happens at, the records it emits, the timers
/// it schedules. The engine reuses one `Fx` for the whole run (no per-event allocation).
#[derive(Debug, Default)]
pub struct Fx {
    pub now: SimTime,
    pub events: Vec<Event>,
    pub timers: Vec<(SimTime, Timer)>,
}

impl Fx {
    pub fn new(now: SimTime) -> Fx {
        Fx {
            now,
            events: Vec::new(),
            timers: Vec::new(),
        }
    }

    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn after(&mut self, delay_ms: u64, timer: Timer) {
        self.timers.push((self.now.plus_ms(delay_ms), timer));
    }
}
