//! `DrawSource`: the engine's implementation of the model's `Draws`, from seeded streams, the
//! scenario's timing distributions and its fault model.

use super::rng::{Purpose, Streams, bernoulli_ppm};
use super::sample::sample;
use crate::hash::{combine, stable_hash};
use crate::model::{AttemptDraws, DelayKind, Draws, HookDraws, IdKind, OpDraws};
use crate::scenario::{FailStep, Faults, InstanceTiming, Timing};
use crate::timeline::{Msg, Names, Sym};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A scripted failure, keyed for lookup by (instance key, step).
#[derive(Debug, Clone)]
struct Scripted {
    attempt: Option<u32>,
    message: Option<String>,
    msg: Msg,
}

/// The scenario's timing and fault tables, built once and shared by every run of a scenario.
#[derive(Debug, Clone)]
pub struct DrawTables {
    timing: Timing,
    reinstall_failure_ppm: u32,
    target_health_never_ppm: u32,
    create_failure_ppm: u32,
    destroy_failure_ppm: u32,
    hook_abandon_ppm: u32,
    scripted: BTreeMap<(u64, FailStep), Vec<Scripted>>,
    /// Per-instance timing overrides by instance key.
    overrides: BTreeMap<u64, InstanceTiming>,
}

#[derive(Debug, Clone)]
pub struct DrawSource {
    streams: Streams,
    tables: Arc<DrawTables>,
}

impl std::ops::Deref for DrawSource {
    type Target = DrawTables;
    fn deref(&self) -> &DrawTables {
        &self.tables
    }
}

impl DrawSource {
    pub fn new(seed: u64, timing: &Timing, faults: &Faults) -> DrawSource {
        DrawSource::with_tables(seed, Arc::new(DrawTables::new(timing, faults)))
    }

    pub fn with_tables(seed: u64, tables: Arc<DrawTables>) -> DrawSource {
        DrawSource {
            streams: Streams::new(seed),
            tables,
        }
    }
}

impl DrawTables {
    pub fn new(timing: &Timing, faults: &Faults) -> DrawTables {
        let mut scripted: BTreeMap<(u64, FailStep), Vec<Scripted>> = BTreeMap::new();
        for s in &faults.scripted {
            scripted
                .entry((stable_hash(s.instance_id.as_bytes()), s.step))
                .or_default()
                .push(Scripted {
                    attempt: s.attempt,
                    message: s.message.clone(),
                    msg: Msg::ReinstallFailed,
                });
        }
        DrawTables {
            timing: timing.clone(),
            reinstall_failure_ppm: faults.reinstall_failure_ppm,
            target_health_never_ppm: faults.target_health_never_ppm,
            create_failure_ppm: faults.create_failure_ppm,
            destroy_failure_ppm: faults.destroy_failure_ppm,
            hook_abandon_ppm: faults.hook_abandon_ppm,
            scripted,
            overrides: timing
                .instances
                .iter()
                .map(|(id, t)| (stable_hash(id.as_bytes()), t.clone()))
                .collect(),
        }
    }

    /// Interns any message texts the draws may return.
    pub fn intern_messages(&mut self, names: &mut Names) {
        for list in self.scripted.values_mut() {
            for s in list {
                s.msg = match &s.message {
                    Some(text) => Msg::Custom(names.intern(text)),
                    None => Msg::ReinstallFailed,
                };
            }
        }
    }

    fn scripted(&self, key: u64, step: FailStep, attempt: u32) -> Option<Msg> {
        self.scripted
            .get(&(key, step))?
            .iter()
            .find(|s| s.attempt.is_none_or(|a| a == attempt))
            .map(|s| s.msg)
    }
}

impl DrawSource {
    /// A v4-UUID-shaped request id (OQ-35), deterministic in (seed, n).
    pub fn request_id(&self, n: u64) -> String {
        let mut s = self.streams.stream(n, Purpose::RequestId, 0);
        let (hi, lo) = (s.next_u64(), s.next_u64());
        let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
        let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        )
    }
}

impl Draws for DrawSource {
    /// Fixed word positions in the (instance, attempt) stream, so switching a fault or a timing
    /// model on or off never shifts any other draw (D7, D8):
    /// w0 reinstall failure, w1 health never passes, w2–w3 reinstall duration, w4–w5 health time.
    fn attempt(&mut self, instance_key: u64, _instance: Sym, attempt: u32) -> AttemptDraws {
        let mut s = self
            .streams
            .stream(instance_key, Purpose::Attempt, u64::from(attempt));
        let w: [u64; 6] = std::array::from_fn(|_| s.next_u64());
        let reinstall_failure = self
            .scripted(instance_key, FailStep::Reinstall, attempt)
            .or_else(|| {
                bernoulli_ppm(w[0], self.reinstall_failure_ppm).then_some(Msg::ReinstallFailed)
            });
        let health_never = self
            .scripted(instance_key, FailStep::TargetHealth, attempt)
            .is_some()
            || bernoulli_ppm(w[1], self.target_health_never_ppm);
        let own = self.overrides.get(&instance_key);
        let reinstall = own
            .and_then(|o| o.reinstall.as_ref())
            .unwrap_or(&self.timing.reinstall);
        let health = own
            .and_then(|o| o.target_health.as_ref())
            .unwrap_or(&self.timing.target_health);
        AttemptDraws {
            reinstall_ms: sample(reinstall, w[2], w[3]),
            reinstall_failure,
            health_pass_ms: (!health_never).then(|| sample(health, w[4], w[5])),
        }
    }

    /// w0 failure, w1–w2 duration, in the (instance, op, attempt) stream.
    fn op(&mut self, instance_key: u64, destroy: bool, attempt: u32) -> OpDraws {
        let mut s = self.streams.stream(
            instance_key,
            Purpose::Op,
            u64::from(attempt) * 2 + u64::from(destroy),
        );
        let w: [u64; 3] = std::array::from_fn(|_| s.next_u64());
        let (dist, ppm) = if destroy {
            (&self.timing.instance_destroy, self.destroy_failure_ppm)
        } else {
            (&self.timing.instance_create, self.create_failure_ppm)
        };
        OpDraws {
            duration_ms: sample(dist, w[1], w[2]),
            fails: bernoulli_ppm(w[0], ppm),
        }
    }

    /// w0 ABANDON, w1–w2 response time, in the (instance, hook, occurrence) stream.
    fn hook(&mut self, instance_key: u64, occurrence: u32) -> HookDraws {
        let mut s = self
            .streams
            .stream(instance_key, Purpose::Hook, u64::from(occurrence));
        let w: [u64; 3] = std::array::from_fn(|_| s.next_u64());
        HookDraws {
            response_ms: sample(&self.timing.hook_response, w[1], w[2]),
            abandon: bernoulli_ppm(w[0], self.hook_abandon_ppm),
        }
    }

    fn delay_ms(&mut self, kind: DelayKind, key: u64) -> u64 {
        let (dist, tag) = match kind {
            DelayKind::InitDelay => (&self.timing.init_delay, 1),
            DelayKind::BatchGap => (&self.timing.batch_gap, 2),
        };
        let mut s = self.streams.stream(combine(&[tag, key]), Purpose::Delay, 0);
        let (w1, w2) = (s.next_u64(), s.next_u64());
        sample(dist, w1, w2)
    }

    fn id_candidate(&mut self, kind: IdKind, n: u64) -> String {
        let mut s = self.streams.stream(kind as u64, Purpose::Id, n);
        let mut word = s.next_u64();
        let mut id = String::with_capacity(12);
        id.push_str(kind.prefix());
        for _ in 0..8 {
            let digit = (word % 36) as u8;
            word /= 36;
            id.push(if digit < 10 {
                (b'0' + digit) as char
            } else {
                (b'a' + digit - 10) as char
            });
        }
        id
    }
}

impl DrawSource {
    /// The request id of the end-of-run describe snapshot (not an API call of the run).
    pub fn final_request_id(seed: u64) -> String {
        let source = DrawSource::new(seed, &Timing::default(), &Faults::default());
        source.request_id(u64::MAX)
    }
}
