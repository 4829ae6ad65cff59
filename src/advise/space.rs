//! The settings `advise` chooses among: `BatchNumber` 1…(eligible instances) and `MaxSurge`
//! 0…(largest batch) by default, `BatchPause`, `FailProcess`, `RefreshMode` and target health
//! fixed at the scenario's values unless `--allow` opens them (keys as in `sweep --vary`, parsed
//! by `sweep::grid::Axis`). Settings are grouped in *chains*: the same settings but `MaxSurge`,
//! in increasing `MaxSurge` (OQ-86).

use super::AdviseError;
use crate::run::{dry_run_first_start, with_overrides};
use crate::scenario::Scenario;
use crate::scenario::overrides::{Override, SettingKey, SettingValue};
use crate::sweep::grid::{Axis, Variant, expand};
use serde_json::Value;

/// Most settings one search may hold.
pub const MAX_SETTINGS: usize = 250_000;

/// One candidate: the overrides that make it (`BatchNumber`, `MaxSurge`, then the opened keys).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub id: u32,
    pub chain: u32,
    pub batch_number: u32,
    pub max_surge: u32,
    pub overrides: Vec<Override>,
}

impl Setting {
    /// `BatchNumber=10, MaxSurge=0, ...` as `--set` takes them.
    pub fn label(&self) -> String {
        self.overrides
            .iter()
            .map(Override::text)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The overrides as a sweep variant (for `sweep::row::replay_command`).
    pub fn variant(&self) -> Variant {
        Variant {
            id: self.id,
            overrides: self.overrides.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Space {
    pub settings: Vec<Setting>,
    /// Setting ids of each chain, `MaxSurge` increasing.
    pub chains: Vec<Vec<u32>>,
    /// Instances the first Start would refresh (the bound of `BatchNumber`, OQ-3/OQ-4).
    pub eligible: u32,
    /// In-service instances of the group before the refresh (surge excluded).
    pub in_service: u32,
}

/// `--allow` keys, by their last segment.
const BATCH_NUMBER: &str = "BatchNumber";
const MAX_SURGE: &str = "MaxSurge";

/// Builds the space from the base scenario and the `--allow` texts. Every error is found here,
/// before anything runs.
pub fn build(base: &Scenario, allow: &[String]) -> Result<Space, AdviseError> {
    let mut batch_numbers: Option<Vec<u32>> = None;
    let mut surges: Option<Vec<Override>> = None;
    let mut extras: Vec<Axis> = Vec::new();
    for text in allow {
        let bad = |message: String| AdviseError::Allow {
            text: text.clone(),
            message,
        };
        let axis = Axis::parse(text).map_err(bad)?;
        let key = &axis.options[0].key;
        let SettingKey::Request(path) = key else {
            return Err(bad(format!(
                "`{}` is not a refresh setting; advise chooses only the settings of StartInstanceRefresh (RefreshMode, BatchNumber, BatchPause, MaxSurge, FailProcess, CheckInstanceTargetHealth, CheckInstanceTargetHealthTimeout)",
                axis.key_text
            )));
        };
        let name = *path.last().expect("non-empty path");
        let repeated = match name {
            BATCH_NUMBER => batch_numbers.is_some(),
            MAX_SURGE => surges.is_some(),
            _ => extras.iter().any(|a| a.options[0].key == *key),
        };
        if repeated {
            return Err(bad(format!("`{}` is allowed twice", axis.key_text)));
        }
        match name {
            BATCH_NUMBER => batch_numbers = Some(integers(&axis).map_err(bad)?),
            MAX_SURGE => surges = Some(axis.options),
            _ => extras.push(axis),
        }
    }
    let eligible = eligible_instances(base)?;
    let batch_numbers = match batch_numbers {
        Some(list) => {
            if let Some(b) = list.iter().find(|b| **b == 0 || **b > eligible) {
                return Err(AdviseError::Allow {
                    text: format!("BatchNumber={b}"),
                    message: format!(
                        "BatchNumber must be between 1 and the {eligible} instances the refresh would cover"
                    ),
                });
            }
            list
        }
        None => (1..=eligible).collect(),
    };
    let extra_variants = expand(&extras).map_err(|message| AdviseError::Allow {
        text: allow.join(" "),
        message,
    })?;
    let mut space = Space {
        settings: Vec::new(),
        chains: Vec::new(),
        eligible,
        in_service: in_service(base),
    };
    for extra in &extra_variants {
        for &b in &batch_numbers {
            let largest = eligible.div_ceil(b);
            let levels = surge_levels(surges.as_deref(), largest);
            if space.settings.len() + levels.len() > MAX_SETTINGS {
                return Err(AdviseError::Allow {
                    text: allow.join(" "),
                    message: format!(
                        "the search space has more than {MAX_SETTINGS} settings; narrow it with --allow BatchNumber=... or --allow MaxSurge=..."
                    ),
                });
            }
            let chain = space.chains.len() as u32;
            let mut members = Vec::with_capacity(levels.len());
            for s in levels {
                let id = space.settings.len() as u32;
                let mut overrides = vec![
                    integer_override(BATCH_NUMBER, b),
                    integer_override(MAX_SURGE, s),
                ];
                overrides.extend(extra.overrides.iter().cloned());
                space.settings.push(Setting {
                    id,
                    chain,
                    batch_number: b,
                    max_surge: s,
                    overrides,
                });
                members.push(id);
            }
            if !members.is_empty() {
                space.chains.push(members);
            }
        }
    }
    if space.settings.is_empty() {
        return Err(AdviseError::Allow {
            text: allow.join(" "),
            message: "no setting is left to choose from (every allowed MaxSurge is above the largest batch of every allowed BatchNumber)".to_string(),
        });
    }
    Ok(space)
}

/// The `MaxSurge` values of a chain whose largest batch is `largest` (OQ-6: at most it).
fn surge_levels(allowed: Option<&[Override]>, largest: u32) -> Vec<u32> {
    let Some(options) = allowed else {
        return (0..=largest).collect();
    };
    let mut levels: Vec<u32> = options
        .iter()
        .filter_map(|o| match &o.value {
            SettingValue::Json(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()),
            SettingValue::BatchFraction { divisor } => Some(largest / divisor),
        })
        .filter(|s| *s <= largest)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    levels
}

fn integers(axis: &Axis) -> Result<Vec<u32>, String> {
    axis.options
        .iter()
        .map(|o| match &o.value {
            SettingValue::Json(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("expected whole numbers, found `{}`", o.value_text)),
            SettingValue::BatchFraction { .. } => {
                Err(format!("expected whole numbers, found `{}`", o.value_text))
            }
        })
        .collect()
}

fn integer_override(key: &str, value: u32) -> Override {
    Override::new(key, Value::from(value)).expect("a known refresh setting")
}

/// Instances the first Start covers: its plan with one batch and no surge.
fn eligible_instances(base: &Scenario) -> Result<u32, AdviseError> {
    let probe = with_overrides(
        base,
        &[
            integer_override(BATCH_NUMBER, 1),
            integer_override(MAX_SURGE, 0),
        ],
    )
    .map_err(|e| AdviseError::Scenario(e.to_string()))?;
    let dry = dry_run_first_start(&probe)
        .map_err(|e| AdviseError::Scenario(format!("{}: {e}", base.source_name)))?
        .ok_or_else(|| {
            AdviseError::Scenario(format!(
                "{}: the scenario has no StartInstanceRefresh action; advise plans a refresh",
                base.source_name
            ))
        })?;
    match dry.result {
        Ok(plan) => Ok(plan.batches.iter().map(|b| b.len() as u32).sum()),
        Err(e) => Err(AdviseError::Scenario(format!(
            "{}: {}: StartInstanceRefresh would be refused whatever the batches: {}: {}",
            base.source_name, dry.origin, e.code, e.message
        ))),
    }
}

fn in_service(base: &Scenario) -> u32 {
    base.world
        .instances
        .iter()
        .filter(|i| i.state == crate::api::LifeCycleState::InService)
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(size: u32) -> Scenario {
        let text = format!(
            "[scenario]\nname = \"t\"\n[group]\nid = \"asg-t0000001\"\nsize = {size}\nimage_id = \"img-1\"\n[launch_configuration]\nimage_id = \"img-2\"\n[[actions]]\nat = \"0s\"\naction = \"StartInstanceRefresh\"\nrequest = {{ RefreshSettings = {{ RollingUpdateSettings = {{ BatchNumber = 1 }} }} }}\n"
        );
        crate::scenario::parse_scenario("t.toml", &text).unwrap()
    }

    #[test]
    fn oq86_the_default_space_is_every_batch_number_and_surge_level() {
        let space = build(&scenario(5), &[]).unwrap();
        assert_eq!((space.eligible, space.in_service), (5, 5));
        // BatchNumber 1..=5, MaxSurge 0..=⌈5/b⌉: 6 + 4 + 3 + 3 + 2.
        assert_eq!(space.settings.len(), 18);
        assert_eq!(space.chains.len(), 5);
        let chain: Vec<u32> = space.chains[1]
            .iter()
            .map(|id| space.settings[*id as usize].max_surge)
            .collect();
        assert_eq!(chain, [0, 1, 2, 3]);
        assert_eq!(space.settings[6].label(), "BatchNumber=2, MaxSurge=0");
    }

    #[test]
    fn allowed_values_narrow_or_open_the_space() {
        let allow = [
            "BatchNumber=2,5".to_string(),
            "MaxSurge=0,batch".to_string(),
            "FailProcess=AUTO_PAUSE,AUTO_CANCEL".to_string(),
        ];
        let space = build(&scenario(10), &allow).unwrap();
        let labels: Vec<String> = space.settings.iter().map(Setting::label).collect();
        assert_eq!(labels.len(), 8);
        assert_eq!(
            labels[0],
            "BatchNumber=2, MaxSurge=0, FailProcess=AUTO_PAUSE"
        );
        assert_eq!(
            labels[1],
            "BatchNumber=2, MaxSurge=5, FailProcess=AUTO_PAUSE"
        );
        assert_eq!(
            labels[3],
            "BatchNumber=5, MaxSurge=2, FailProcess=AUTO_PAUSE"
        );
        assert_eq!(
            labels[4],
            "BatchNumber=2, MaxSurge=0, FailProcess=AUTO_CANCEL"
        );
        assert_eq!(space.chains.len(), 4);
    }

    #[test]
    fn bad_allows_are_typed_errors() {
        let s = scenario(10);
        for (allow, needle) in [
            ("BatchNumbr=1,2", "unknown setting"),
            ("group.size=5,6", "not a refresh setting"),
            ("BatchNumber=0,3", "between 1 and the 10"),
            ("BatchNumber=11", "between 1 and the 10"),
            ("BatchNumber=two", "whole numbers"),
            ("MaxSurge=99", "no setting is left"),
        ] {
            let err = build(&s, &[allow.to_string()]).unwrap_err();
            assert!(matches!(err, AdviseError::Allow { .. }), "{allow}");
            assert!(err.to_string().contains(needle), "{allow}: {err}");
        }
        let twice = [
            "BatchPause=AUTOMATIC".to_string(),
            "BatchPause=FIRST_BATCH_PAUSE".to_string(),
        ];
        assert!(build(&s, &twice).unwrap_err().to_string().contains("twice"));
    }
}
