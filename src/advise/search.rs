//! The search: which settings get how many runs (OQ-86, OQ-87).
//!
//! Every run of every setting uses the sweep's seed of its run index (common random numbers:
//! run i of every setting shares a seed), so two settings are compared on the same draws, and a
//! result is a pure function of (setting, run): the order in which rayon finishes work never
//! reaches an output.
//!
//! The smart strategy: within a chain (the same settings but `MaxSurge`) only the smallest
//! `MaxSurge` that keeps the capacity floor can be recommended (OQ-86), found by bisection on a
//! few runs; the chain heads then race in stages of doubling runs up to `--runs`, dropping a
//! setting once its failures alone make it infeasible at `--runs` (exact: no later run can save
//! it) and parking a head that another beats on every shared seed (OQ-87). The full-grid
//! strategy runs every setting `--runs` times: the reference the tests compare with.

use super::AdviseError;
use super::constraint::{Constraints, Kind, Rule};
use super::space::Space;
use crate::run::{run_digest, run_digest_until, with_overrides};
use crate::scenario::Scenario;
use crate::sim::Prepared;
use crate::sweep::plan::run_seed;
use crate::sweep::row::RunRow;
use crate::time::SimTime;
use crate::timeline::Metrics;
use rayon::prelude::*;

/// Runs every head shares before dominance may park one (stochastic scenarios).
pub const DOMINANCE_MIN_RUNS: u32 = 8;

/// What one run says about one setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The constraint the run had already broken when it was stopped; then only that verdict
    /// is known (the other fields are the values at the cut).
    pub cut: Option<Kind>,
    pub duration_ms: Option<u64>,
    pub floor: Option<u32>,
    /// In-service count before the refresh (what a `PCT` minimum is a share of).
    pub before: Option<u32>,
    pub surge_ms: u64,
    pub failed_pause: bool,
    /// Verdict per `Kind::index`. For a cut run, only `cut`'s is known (false); the others
    /// read true.
    pub pass: [bool; 4],
}

impl Outcome {
    fn from_digest(digest: &crate::run::RunDigest, c: &Constraints) -> Outcome {
        let row = RunRow::from_digest(0, 0, 0, digest);
        let completes = row.successful() && row.duration_ms.is_some() && row.limit.is_empty();
        let floor_ok = match (row.min_in_service, row.in_service_before) {
            (Some(min), Some(before)) => min >= c.min_in_service.required(before),
            _ => false,
        };
        let deadline_ok = match c.deadline_ms {
            None => true,
            Some(d) => row.duration_ms.is_some_and(|ms| ms <= d),
        };
        let cost_ok = c
            .max_surge_instance_ms
            .is_none_or(|cap| row.surge_instance_ms <= cap);
        Outcome {
            cut: None,
            duration_ms: row.duration_ms,
            floor: row.min_in_service,
            before: row.in_service_before,
            surge_ms: row.surge_instance_ms,
            failed_pause: row.failed_pauses > 0,
            pass: [completes, floor_ok, deadline_ok, cost_ok],
        }
    }

    fn cut_at(kind: Kind, m: &Metrics) -> Outcome {
        let mut pass = [true; 4];
        pass[kind.index()] = false;
        Outcome {
            cut: Some(kind),
            duration_ms: None,
            floor: m.min_in_service,
            before: m.in_service_before,
            surge_ms: m.surge_instance_ms,
            failed_pause: m.failed_pauses > 0,
            pass,
        }
    }

    /// Known to break `kind`.
    pub fn fails(&self, kind: Kind) -> bool {
        !self.pass[kind.index()]
    }
}

/// Which constraint a run in progress has certainly broken (OQ-87: a floor never rises back
/// above a minimum once below it, a running refresh past the deadline ends late or never, and
/// surge instance-time only grows).
fn broken(c: &Constraints, m: &Metrics, now: SimTime) -> Option<Kind> {
    if let (Some(min), Some(before)) = (m.min_in_service, m.in_service_before)
        && min < c.min_in_service.required(before)
    {
        return Some(Kind::MinInService);
    }
    if let (Some(deadline), Some(created)) = (c.deadline_ms, m.first_refresh_created_ms)
        && m.last_refresh_ended_ms.is_none()
        && now.as_ms().saturating_sub(created) > deadline
    {
        return Some(Kind::Deadline);
    }
    if let Some(cap) = c.max_surge_instance_ms
        && m.surge_instance_ms > cap
    {
        return Some(Kind::MaxSurgeCost);
    }
    None
}

/// Why a chain can offer nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Death {
    /// Tencent would refuse its Start (code: message).
    Refused(String),
    /// The constraint, and the setting whose runs ruled the chain out.
    Infeasible(Kind, u32),
}

/// How much work the search did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Runs made to their end.
    pub runs: u64,
    /// Runs stopped once they had broken a constraint.
    pub runs_cut: u64,
    /// Settings that got at least one run.
    pub evaluated: u64,
    /// Events processed by all runs.
    pub events: u64,
}

/// Everything a search learnt.
pub struct Evidence<'a> {
    pub base: &'a Scenario,
    pub space: &'a Space,
    pub constraints: &'a Constraints,
    pub rule: Rule,
    pub seed: u64,
    /// Runs per setting, in run order.
    pub outcomes: Vec<Vec<Outcome>>,
    pub deaths: Vec<Option<Death>>,
    /// Settings that finished the search with `rule.runs` runs, in setting order.
    pub finalists: Vec<u32>,
    pub counts: Counts,
}

impl<'a> Evidence<'a> {
    pub fn new(
        base: &'a Scenario,
        space: &'a Space,
        constraints: &'a Constraints,
        rule: Rule,
        seed: u64,
    ) -> Evidence<'a> {
        Evidence {
            base,
            space,
            constraints,
            rule,
            seed,
            outcomes: vec![Vec::new(); space.settings.len()],
            deaths: vec![None; space.chains.len()],
            finalists: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// Known failures of `kind` among the runs of `id`.
    pub fn failures(&self, id: u32, kind: Kind) -> u32 {
        self.outcomes[id as usize]
            .iter()
            .filter(|o| o.fails(kind))
            .count() as u32
    }

    fn infeasible_on(&self, id: u32, kind: Kind) -> bool {
        let allowed = self.rule.max_failures().expect("checked by Rule::new");
        self.failures(id, kind) > allowed
    }

    /// The first constraint whose failures alone rule `id` out at `rule.runs` runs.
    pub fn ruled_out(&self, id: u32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| self.infeasible_on(id, *k))
    }

    /// Runs each `(setting, up_to)` to `up_to` runs (cut or not), in parallel; results land
    /// in setting order whatever finishes first.
    pub fn extend(&mut self, tasks: &[(u32, u32)], cut: bool) -> Result<(), AdviseError> {
        let todo: Vec<(u32, u32, u32)> = tasks
            .iter()
            .filter_map(|&(id, to)| {
                let from = self.outcomes[id as usize].len() as u32;
                (from < to).then_some((id, from, to))
            })
            .collect();
        let results = self.run_many(&todo, cut)?;
        for ((id, _, _), (outcomes, events)) in todo.iter().zip(results) {
            self.count(&outcomes, events, self.outcomes[*id as usize].is_empty());
            self.outcomes[*id as usize].extend(outcomes);
        }
        Ok(())
    }

    /// Replaces every cut or missing run of `ids` up to `rule.runs` by a full run, so the
    /// reported numbers of these settings come from whole runs only.
    pub fn complete(&mut self, ids: &[u32]) -> Result<(), AdviseError> {
        let n = self.rule.runs;
        let targets: Vec<(u32, u32)> = ids.iter().map(|id| (*id, n)).collect();
        self.complete_to(&targets)
    }

    /// `complete` for the first `n` runs of each `(id, n)` only.
    pub fn complete_to(&mut self, targets: &[(u32, u32)]) -> Result<(), AdviseError> {
        let mut todo = Vec::new();
        for &(id, n) in targets {
            let have = &self.outcomes[id as usize];
            for run in 0..n {
                if have.get(run as usize).is_none_or(|o| o.cut.is_some()) {
                    todo.push((id, run, run + 1));
                }
            }
        }
        let results = self.run_many(&todo, false)?;
        for ((id, run, _), (outcomes, events)) in todo.iter().zip(results) {
            let first = self.outcomes[*id as usize].is_empty();
            self.count(&outcomes, events, first);
            let list = &mut self.outcomes[*id as usize];
            let o = outcomes[0];
            match list.get_mut(*run as usize) {
                Some(slot) => *slot = o,
                None => list.push(o),
            }
        }
        Ok(())
    }

    fn count(&mut self, outcomes: &[Outcome], events: u64, first: bool) {
        for o in outcomes {
            match o.cut {
                Some(_) => self.counts.runs_cut += 1,
                None => self.counts.runs += 1,
            }
        }
        self.counts.events += events;
        if first && !outcomes.is_empty() {
            self.counts.evaluated += 1;
        }
    }

    /// Runs `from..to` of each setting: settings in parallel, and the runs of one setting in
    /// parallel too (a setting's scenario is prepared once per task).
    fn run_many(
        &self,
        todo: &[(u32, u32, u32)],
        cut: bool,
    ) -> Result<Vec<(Vec<Outcome>, u64)>, AdviseError> {
        todo.par_iter()
            .map(|&(id, from, to)| {
                let setting = &self.space.settings[id as usize];
                let scenario = with_overrides(self.base, &setting.overrides)
                    .map_err(|e| AdviseError::Scenario(e.to_string()))?;
                let prepared = Prepared::new(&scenario).map_err(|e| AdviseError::Run {
                    setting: setting.label(),
                    seed: self.seed,
                    message: e.to_string(),
                })?;
                let floor = self.base.floor_permille;
                let runs: Vec<(Outcome, u64)> = (from..to)
                    .into_par_iter()
                    .map(|run| {
                        let seed = run_seed(self.seed, run);
                        let fail = |e: crate::sim::RunError| AdviseError::Run {
                            setting: setting.label(),
                            seed,
                            message: e.to_string(),
                        };
                        if !cut {
                            let d = run_digest(&prepared, seed, floor).map_err(fail)?;
                            return Ok((Outcome::from_digest(&d, self.constraints), d.events));
                        }
                        let mut why = None;
                        let mut at_cut = None;
                        let mut stop = |m: &Metrics, now: SimTime| {
                            why = broken(self.constraints, m, now);
                            if why.is_some() {
                                at_cut = Some((m.clone(), m.records));
                            }
                            why.is_some()
                        };
                        match run_digest_until(&prepared, seed, floor, &mut stop).map_err(fail)? {
                            Some(d) => Ok((Outcome::from_digest(&d, self.constraints), d.events)),
                            None => {
                                let (m, records) = at_cut.expect("set when stopped");
                                let kind = why.expect("set when stopped");
                                Ok((Outcome::cut_at(kind, &m), records))
                            }
                        }
                    })
                    .collect::<Result<_, AdviseError>>()?;
                let events = runs.iter().map(|(_, e)| e).sum();
                Ok((runs.into_iter().map(|(o, _)| o).collect(), events))
            })
            .collect()
    }

    /// Marks chains whose Start Tencent would refuse (one dry run per chain, with its first
    /// member: refusals within OQ-6's bounds do not depend on `MaxSurge`).
    pub fn check_chains(&mut self) -> Result<(), AdviseError> {
        let verdicts: Vec<Option<String>> = self
            .space
            .chains
            .par_iter()
            .map(|members| {
                let setting = &self.space.settings[members[0] as usize];
                refusal(self.base, &setting.overrides)
            })
            .collect::<Result<_, _>>()?;
        for (chain, verdict) in verdicts.into_iter().enumerate() {
            if let Some(message) = verdict {
                self.deaths[chain] = Some(Death::Refused(message));
            }
        }
        if self
            .deaths
            .iter()
            .all(|d| matches!(d, Some(Death::Refused(_))))
        {
            let example = match &self.deaths[0] {
                Some(Death::Refused(m)) => m.clone(),
                _ => String::new(),
            };
            return Err(AdviseError::Scenario(format!(
                "{}: StartInstanceRefresh would be refused for every setting of the search space, e.g. {}: {example}",
                self.base.source_name,
                self.space.settings[self.space.chains[0][0] as usize].label()
            )));
        }
        Ok(())
    }

    fn alive(&self, chain: usize) -> bool {
        self.deaths[chain].is_none()
    }
}

/// The code and message Tencent would refuse the Start of these overrides with.
pub fn refusal(
    base: &Scenario,
    overrides: &[crate::scenario::overrides::Override],
) -> Result<Option<String>, AdviseError> {
    let scenario =
        with_overrides(base, overrides).map_err(|e| AdviseError::Scenario(e.to_string()))?;
    let dry = crate::run::dry_run_first_start(&scenario)
        .map_err(|e| AdviseError::Scenario(format!("{}: {e}", base.source_name)))?;
    Ok(match dry.map(|d| d.result) {
        None => Some("the scenario has no StartInstanceRefresh".to_string()),
        Some(Ok(_)) => None,
        Some(Err(e)) => Some(format!("{}: {}", e.code, e.message)),
    })
}

/// Every setting, `rule.runs` whole runs each.
pub fn full_grid(ev: &mut Evidence<'_>) -> Result<(), AdviseError> {
    ev.check_chains()?;
    let n = ev.rule.runs;
    let ids: Vec<(u32, u32)> = ev
        .space
        .chains
        .iter()
        .enumerate()
        .filter(|(c, _)| ev.alive(*c))
        .flat_map(|(_, members)| members.iter().map(move |id| (*id, n)))
        .collect();
    ev.extend(&ids, false)?;
    ev.finalists = ids.iter().map(|(id, _)| *id).collect();
    Ok(())
}

/// Per-chain search state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChainState {
    /// Members below this index are ruled out on the floor.
    lo: usize,
    /// A member known not to be ruled out on the floor, once galloping found one.
    hi: Option<usize>,
    /// Galloping step: the next probe is `lo + step - 1`.
    step: usize,
    /// Index of the member the chain offers now.
    head: Option<usize>,
}

impl ChainState {
    fn from(lo: usize) -> ChainState {
        ChainState {
            lo,
            hi: None,
            step: 1,
            head: None,
        }
    }
}

/// The smart strategy (see the module comment).
pub fn smart(ev: &mut Evidence<'_>) -> Result<(), AdviseError> {
    ev.check_chains()?;
    let n = ev.rule.runs;
    let allowed = ev.rule.max_failures().expect("checked by Rule::new");
    // The fewest runs that can rule a setting out: one more than the failures allowed.
    let probe = (allowed + 1).min(n);
    let mut stages = vec![probe];
    while *stages.last().expect("non-empty") < n {
        let next = (stages.last().expect("non-empty") * 2).min(n);
        stages.push(next);
    }
    let mut chains = vec![ChainState::from(0); ev.space.chains.len()];
    let mut parked = vec![false; ev.space.settings.len()];
    let guard = ev.space.settings.len() * 4 + 64;
    for &k in &stages {
        let mut rounds = 0;
        loop {
            rounds += 1;
            if rounds > guard {
                return Err(AdviseError::Internal(
                    "the search did not settle (please report this scenario)".to_string(),
                ));
            }
            bisect(ev, &mut chains, probe)?;
            let heads = heads(ev, &chains);
            let tasks: Vec<(u32, u32)> = heads
                .iter()
                .filter(|id| !parked[**id as usize])
                .map(|id| (*id, k))
                .collect();
            ev.extend(&tasks, true)?;
            let mut moved = false;
            for (c, state) in chains.iter_mut().enumerate() {
                let Some(h) = state.head else { continue };
                let id = ev.space.chains[c][h];
                if ev.infeasible_on(id, Kind::MinInService) {
                    // OQ-86: more surge is the only way up the floor; search above.
                    *state = ChainState::from(h + 1);
                    if state.lo == ev.space.chains[c].len() {
                        ev.deaths[c] = Some(Death::Infeasible(Kind::MinInService, id));
                    }
                    moved = true;
                } else if let Some(kind) = ev.ruled_out(id) {
                    // More surge only makes these worse (OQ-86): the chain is done.
                    ev.deaths[c] = Some(Death::Infeasible(kind, id));
                    state.head = None;
                    moved = true;
                }
            }
            if moved {
                continue;
            }
            if !ev.rule.exact && k >= DOMINANCE_MIN_RUNS {
                let now = dominated(ev, &heads);
                parked.iter_mut().for_each(|p| *p = false);
                for id in now {
                    parked[id as usize] = true;
                }
            }
            let waiting = heads
                .iter()
                .any(|id| !parked[*id as usize] && (ev.outcomes[*id as usize].len() as u32) < k);
            if !waiting {
                break;
            }
        }
    }
    ev.finalists = heads(ev, &chains)
        .into_iter()
        .filter(|id| !parked[*id as usize])
        .collect();
    Ok(())
}

fn heads(ev: &Evidence<'_>, chains: &[ChainState]) -> Vec<u32> {
    chains
        .iter()
        .enumerate()
        .filter(|(c, _)| ev.alive(*c))
        .filter_map(|(c, s)| s.head.map(|h| ev.space.chains[c][h]))
        .collect()
}

/// Finds, for every live chain without a head, its smallest member not ruled out on the floor
/// after `probe` runs: galloping up from the bottom (1, 2, 4, ... members up), then bisecting,
/// all chains in lock-step (each step's probes run in parallel). Most chains keep the floor
/// with little or no surge, so their first probe settles them.
fn bisect(ev: &mut Evidence<'_>, chains: &mut [ChainState], probe: u32) -> Result<(), AdviseError> {
    loop {
        let mut probes: Vec<(usize, usize)> = Vec::new();
        for (c, state) in chains.iter_mut().enumerate() {
            if !ev.alive(c) || state.head.is_some() {
                continue;
            }
            let len = ev.space.chains[c].len();
            match state.hi {
                Some(hi) if state.lo >= hi => state.head = Some(hi),
                Some(hi) => probes.push((c, state.lo + (hi - state.lo) / 2)),
                None => probes.push((c, (state.lo + state.step - 1).min(len - 1))),
            }
        }
        if probes.is_empty() {
            return Ok(());
        }
        let tasks: Vec<(u32, u32)> = probes
            .iter()
            .map(|&(c, i)| (ev.space.chains[c][i], probe))
            .collect();
        ev.extend(&tasks, true)?;
        for &(c, i) in &probes {
            let id = ev.space.chains[c][i];
            let out = ev.infeasible_on(id, Kind::MinInService);
            let len = ev.space.chains[c].len();
            let state = &mut chains[c];
            match (out, state.hi) {
                (false, _) => state.hi = Some(i),
                (true, Some(_)) => state.lo = i + 1,
                (true, None) => {
                    state.lo = i + 1;
                    state.step *= 2;
                    if state.lo >= len {
                        // Even the most surge allowed cannot keep the floor.
                        ev.deaths[c] = Some(Death::Infeasible(Kind::MinInService, id));
                    }
                }
            }
        }
    }
}

/// Heads that another head beats on every shared seed (OQ-87): no later duration, no higher
/// surge cost, no lower floor, and every constraint it meets met too; at least
/// `DOMINANCE_MIN_RUNS` shared runs, none of them cut.
fn dominated(ev: &Evidence<'_>, heads: &[u32]) -> Vec<u32> {
    let list: Vec<u32> = heads
        .iter()
        .copied()
        .filter(|id| ev.outcomes[*id as usize].len() as u32 >= DOMINANCE_MIN_RUNS)
        .collect();
    let verdicts: Vec<bool> = list
        .par_iter()
        .map(|b| {
            list.iter().any(|a| {
                a != b
                    && dominates(
                        &ev.outcomes[*a as usize],
                        &ev.outcomes[*b as usize],
                        *a < *b,
                    )
            })
        })
        .collect();
    list.into_iter()
        .zip(verdicts)
        .filter_map(|(id, d)| d.then_some(id))
        .collect()
}

/// `a` beats `b` on every shared run; a full tie goes to the earlier setting.
pub fn dominates(a: &[Outcome], b: &[Outcome], a_first: bool) -> bool {
    let shared = a.len().min(b.len());
    let mut strict = false;
    for (x, y) in a[..shared].iter().zip(&b[..shared]) {
        if x.cut.is_some() || y.cut.is_some() {
            return false;
        }
        let (dx, dy) = (
            x.duration_ms.unwrap_or(u64::MAX),
            y.duration_ms.unwrap_or(u64::MAX),
        );
        let (fx, fy) = (x.floor.unwrap_or(0), y.floor.unwrap_or(0));
        if dx > dy || x.surge_ms > y.surge_ms || fx < fy {
            return false;
        }
        if (0..4).any(|k| y.pass[k] && !x.pass[k]) {
            return false;
        }
        strict |= dx < dy
            || x.surge_ms < y.surge_ms
            || fx > fy
            || (0..4).any(|k| x.pass[k] && !y.pass[k]);
    }
    shared > 0 && (strict || a_first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(d: u64, floor: u32, surge: u64) -> Outcome {
        Outcome {
            cut: None,
            duration_ms: Some(d),
            floor: Some(floor),
            before: Some(100),
            surge_ms: surge,
            failed_pause: false,
            pass: [true; 4],
        }
    }

    #[test]
    fn oq87_dominance_needs_every_shared_seed() {
        let a = [o(10, 90, 0), o(12, 90, 0)];
        let b = [o(11, 90, 0), o(12, 90, 0)];
        assert!(dominates(&a, &b, false));
        assert!(!dominates(&b, &a, true));
        // Better on one seed, worse on another: no verdict.
        let c = [o(9, 90, 0), o(13, 90, 0)];
        assert!(!dominates(&a, &c, true) && !dominates(&c, &a, true));
        // A higher floor or lower cost keeps a slower setting.
        let d = [o(11, 95, 0), o(13, 95, 0)];
        assert!(!dominates(&a, &d, true));
        let e = [o(11, 90, 5), o(13, 90, 5)];
        assert!(dominates(&a, &e, false));
        // Identical runs: the earlier setting wins, and only it.
        assert!(dominates(&a, &a, true) && !dominates(&a, &a, false));
        // A constraint the other meets and this one does not.
        let mut f = a;
        f[1].pass[Kind::Deadline.index()] = false;
        assert!(!dominates(&f, &b, true));
        // Cut runs say too little.
        let mut g = a;
        g[0].cut = Some(Kind::MinInService);
        assert!(!dominates(&g, &b, true));
    }
}
