//! Model unit tests through an in-code world (no scenario text): a few transitions, and the
//! OQ-25 and OQ-27 admission orders as tables.

use super::draws::{AttemptDraws, DelayKind, Draws, HookDraws, IdKind, OpDraws};
use super::world::{InstanceSpec, LaunchConfigSpec, Sabotage, World, WorldSpec};
use super::{Fx, Timer};
use crate::api::request::{ApiCall, RollbackInstanceRefreshRequest};
use crate::api::{
    Action, ActivityStatus, ActivityType, ApiError, ApiOutput, BatchStatus, CreationType,
    EnabledStatus, ErrorCode, GroupStatus, InstanceStatus, LifeCycleState, RefreshMode,
};
use crate::time::{Epoch, SimTime};
use crate::timeline::{Msg, Sym};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const GROUP: &str = "asg-test0001";
const OLD_IMAGE: &str = "img-old00001";
const NEW_IMAGE: &str = "img-new00001";

/// Fixed draws: every step takes a second, health passes at once, no hook and no id collision;
/// reinstalls of the instances in `failing` fail on every attempt.
#[derive(Default)]
struct FixedDraws {
    failing: BTreeSet<Sym>,
}

impl Draws for FixedDraws {
    fn attempt(&mut self, _key: u64, instance: Sym, _attempt: u32) -> AttemptDraws {
        AttemptDraws {
            reinstall_ms: 1_000,
            reinstall_failure: self
                .failing
                .contains(&instance)
                .then_some(Msg::ReinstallFailed),
            health_pass_ms: Some(0),
        }
    }

    fn op(&mut self, _key: u64, _destroy: bool, _attempt: u32) -> OpDraws {
        OpDraws {
            duration_ms: 1_000,
            fails: false,
        }
    }

    fn hook(&mut self, _key: u64, _occurrence: u32) -> HookDraws {
        HookDraws::default()
    }

    fn delay_ms(&mut self, _kind: DelayKind, _key: u64) -> u64 {
        1_000
    }

    fn id_candidate(&mut self, kind: IdKind, n: u64) -> String {
        format!("{}{n:08}", kind.prefix())
    }
}

/// Builds a NORMAL, enabled group of `n` IN_SERVICE instances on OLD_IMAGE whose launch
/// configuration has NEW_IMAGE.
struct WorldBuilder {
    spec: WorldSpec,
}

impl WorldBuilder {
    fn new(n: usize) -> WorldBuilder {
        let instances = (1..=n)
            .map(|i| InstanceSpec {
                id: instance_id(i),
                state: LifeCycleState::InService,
                standby: false,
                protected: false,
                image_id: OLD_IMAGE.into(),
                instance_type: "S5.MEDIUM2".into(),
                creation: CreationType::AutoCreation,
                add_time_unix_s: 1_700_000_000 + i as u64,
                zone: 0,
            })
            .collect();
        WorldBuilder {
            spec: WorldSpec {
                group_id: GROUP.into(),
                group_status: GroupStatus::Normal,
                enabled: EnabledStatus::Enabled,
                min_size: 0,
                max_size: 100,
                desired_capacity: n as u32,
                forward_clb: false,
                role_authorized: true,
                launch_configuration: LaunchConfigSpec {
                    id: "asc-test0001".into(),
                    image_id: NEW_IMAGE.into(),
                    user_data: String::new(),
                    enhanced_service: String::new(),
                    host_name: String::new(),
                    login_settings: String::new(),
                    instance_type: "S5.MEDIUM2".into(),
                    name: "lc".into(),
                    stored: BTreeMap::new(),
                },
                instances,
                missing_images: Vec::new(),
                bad_images: Vec::new(),
                max_instances: 2_000,
                epoch: Epoch::from_unix_secs(1_700_000_000),
                hooks: Vec::new(),
                scaling_policies: Vec::new(),
                replace_unhealthy: false,
                surface: super::surface::Surface::defaults(GROUP),
                sabotage: Sabotage::None,
            },
        }
    }

    fn role_authorized(mut self, yes: bool) -> WorldBuilder {
        self.spec.role_authorized = yes;
        self
    }

    fn missing_image(mut self, image: &str) -> WorldBuilder {
        self.spec.missing_images.push(image.into());
        self
    }

    fn build(self) -> Harness {
        Harness {
            world: World::new(&self.spec).expect("a valid world"),
            draws: FixedDraws::default(),
            fx: Fx::default(),
            timers: BTreeMap::new(),
            seq: 0,
            requests: 0,
        }
    }
}

fn instance_id(i: usize) -> String {
    format!("ins-{i:08}")
}

/// A world and the engine's part around it: time, the timers the model asked for, request ids.
struct Harness {
    world: World,
    draws: FixedDraws,
    fx: Fx,
    timers: BTreeMap<(SimTime, u64), Timer>,
    seq: u64,
    requests: u32,
}

impl Harness {
    fn call(&mut self, action: Action, body: Value) -> Result<ApiOutput, ApiError> {
        self.requests += 1;
        let rid = self.world.names.intern(&format!("req-{}", self.requests));
        let result = self
            .world
            .submit(rid, action, &body, &mut self.draws, &mut self.fx);
        self.collect();
        result
    }

    fn collect(&mut self) {
        self.fx.events.clear();
        for (at, timer) in self.fx.timers.drain(..) {
            self.timers.insert((at, self.seq), timer);
            self.seq += 1;
        }
    }

    /// Delivers timers in time order until none is left (bounded).
    fn run(&mut self) {
        for _ in 0..10_000 {
            let Some(((at, _), timer)) = self.timers.pop_first() else {
                return;
            };
            self.fx.now = at;
            self.world.on_timer(timer, &mut self.draws, &mut self.fx);
            self.collect();
        }
        panic!("the world did not settle within 10,000 timers");
    }

    fn start(&mut self, batch_number: u64, fail_process: &str) -> Result<u32, ApiError> {
        let body = start_body(batch_number, fail_process);
        self.call(Action::StartInstanceRefresh, body)
            .map(|out| self.activity_of(&out))
    }

    fn activity_of(&self, out: &ApiOutput) -> u32 {
        let ApiOutput::RefreshActivityId(id) = out else {
            panic!("expected a RefreshActivityId, got {out:?}");
        };
        self.world.activity_by_name(id).expect("a created activity")
    }

    fn activity_request(&self, a: u32) -> Value {
        json!({
            "AutoScalingGroupId": GROUP,
            "RefreshActivityId": self.world.names.get(self.world.activities[a as usize].id),
        })
    }

    fn status(&self, a: u32) -> ActivityStatus {
        self.world.activities[a as usize].status
    }

    fn image_of(&self, i: usize) -> &str {
        let inst = &self.world.instances[i - 1];
        self.world.names.get(inst.image)
    }

    fn fail_reinstall_of(&mut self, i: usize) {
        let sym = self.world.names.lookup(&instance_id(i)).expect("instance");
        self.draws.failing.insert(sym);
    }
}

fn start_body(batch_number: u64, fail_process: &str) -> Value {
    json!({
        "AutoScalingGroupId": GROUP,
        "RefreshSettings": {
            "RollingUpdateSettings": {
                "BatchNumber": batch_number,
                "BatchPause": "AUTOMATIC",
                "FailProcess": fail_process,
            },
        },
    })
}

/// A table row's verdict: refused with `expected`, and no activity was created.
fn assert_refused<T: std::fmt::Debug>(
    row: &str,
    h: &Harness,
    activities_before: usize,
    got: Result<T, ApiError>,
    expected: ErrorCode,
) {
    assert_eq!(error_code(got), expected, "row {row:?}");
    let created = h.world.activities.len() - activities_before;
    assert_eq!(created, 0, "row {row:?} created an activity");
}

fn error_code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> ErrorCode {
    r.expect_err("an error").code
}

// ---- transitions ------------------------------------------------------------------------

#[test]
fn a_start_holds_the_group_and_runs_every_batch_to_successful() {
    let mut h = WorldBuilder::new(4).build();
    let a = h.start(2, "AUTO_PAUSE").expect("admitted");
    // OQ-9, OQ-17: INIT, the plan frozen, the group disabled until the end.
    assert_eq!(h.status(a), ActivityStatus::Init);
    assert_eq!(h.world.group.enabled, EnabledStatus::Disabled);
    let sizes: Vec<usize> = h.world.activities[a as usize]
        .batches
        .iter()
        .map(|b| b.items.len())
        .collect();
    assert_eq!(sizes, [2, 2]);
    h.run();
    assert_eq!(h.status(a), ActivityStatus::Successful);
    let act = &h.world.activities[a as usize];
    assert!(
        act.batches
            .iter()
            .all(|b| b.status == BatchStatus::Successful)
    );
    assert!(
        act.items
            .iter()
            .all(|i| i.status == InstanceStatus::Successful)
    );
    assert!((1..=4).all(|i| h.image_of(i) == NEW_IMAGE));
    assert_eq!(h.world.group.enabled, EnabledStatus::Enabled);
}

#[test]
fn a_failed_reinstall_under_auto_pause_pauses_and_keeps_the_other_batches_waiting() {
    let mut h = WorldBuilder::new(4).build();
    h.fail_reinstall_of(1);
    let a = h.start(2, "AUTO_PAUSE").expect("admitted");
    h.run();
    // OQ-13 step 1: the batch with a failed instance pauses the activity.
    assert_eq!(h.status(a), ActivityStatus::FailedPause);
    let act = &h.world.activities[a as usize];
    assert_eq!(act.batches[1].status, BatchStatus::Waiting);
    assert_eq!(h.image_of(1), OLD_IMAGE);
    assert_eq!(h.world.group.enabled, EnabledStatus::Disabled);
}

#[test]
fn a_cancel_in_init_ends_cancelled_with_nothing_reinstalled_and_restores_the_group() {
    let mut h = WorldBuilder::new(2).build();
    let a = h.start(1, "AUTO_PAUSE").expect("admitted");
    let body = h.activity_request(a);
    h.call(Action::CancelInstanceRefresh, body)
        .expect("cancel in INIT");
    h.run();
    assert_eq!(h.status(a), ActivityStatus::Cancelled);
    assert!((1..=2).all(|i| h.image_of(i) == OLD_IMAGE));
    assert_eq!(h.world.group.enabled, EnabledStatus::Enabled);
}

#[test]
fn a_rollback_of_a_paused_origin_cancels_it_and_restores_the_images() {
    let (mut h, origin) = paused_origin();
    assert_eq!(h.image_of(1), NEW_IMAGE);
    let out = h
        .call(
            Action::RollbackInstanceRefresh,
            rollback_body(&h, origin, 1),
        )
        .expect("a paused origin can be rolled back");
    let rollback = h.activity_of(&out);
    // OQ-26: the origin is cancelled at once; the rollback restores each pre-origin image.
    assert_eq!(h.status(origin), ActivityStatus::Cancelled);
    assert_eq!(
        h.world.activities[rollback as usize].activity_type,
        ActivityType::Rollback
    );
    h.draws.failing.clear();
    h.run();
    assert_eq!(h.status(rollback), ActivityStatus::Successful);
    assert!((1..=4).all(|i| h.image_of(i) == OLD_IMAGE));
}

// ---- OQ-25: rollback admission order ------------------------------------------------------

fn rollback_body(h: &Harness, origin: u32, batch_number: u64) -> Value {
    json!({
        "AutoScalingGroupId": GROUP,
        "OriginRefreshActivityId": h.world.names.get(h.world.activities[origin as usize].id),
        "RefreshSettings": { "RollingUpdateSettings": { "BatchNumber": batch_number } },
    })
}

fn rollback_request(body: &Value) -> RollbackInstanceRefreshRequest {
    match ApiCall::parse(Action::RollbackInstanceRefresh, body).expect("well formed") {
        ApiCall::RollbackInstanceRefresh(req) => req,
        other => panic!("parsed as {other:?}"),
    }
}

/// A paused origin over four instances (the last one failed), the starting point of each row.
fn paused_origin() -> (Harness, u32) {
    let mut h = WorldBuilder::new(4).build();
    h.fail_reinstall_of(4);
    let origin = h.start(1, "AUTO_PAUSE").expect("admitted");
    h.run();
    assert_eq!(h.status(origin), ActivityStatus::FailedPause);
    (h, origin)
}

type Setup = fn(&mut Harness, u32, &mut Value);

fn other_group(_: &mut Harness, _: u32, body: &mut Value) {
    body["AutoScalingGroupId"] = json!("asg-other001");
}
fn unknown_origin(_: &mut Harness, _: u32, body: &mut Value) {
    body["OriginRefreshActivityId"] = json!("asr-unknown1");
}
fn origin_is_rollback(h: &mut Harness, a: u32, _: &mut Value) {
    h.world.activities[a as usize].activity_type = ActivityType::Rollback;
}
fn origin_is_replace(h: &mut Harness, a: u32, _: &mut Value) {
    h.world.activities[a as usize].mode = RefreshMode::RollingUpdateReplace;
}
fn origin_running(h: &mut Harness, a: u32, _: &mut Value) {
    h.world.activities[a as usize].status = ActivityStatus::Running;
}
fn origin_successful_not_latest(h: &mut Harness, a: u32, _: &mut Value) {
    h.world.activities[a as usize].status = ActivityStatus::Successful;
    let mut later = h.world.activities[a as usize].clone();
    later.created = SimTime(later.created.0 + 1);
    later.status = ActivityStatus::Cancelled;
    h.world.activities.push(later);
}
fn another_open_activity(h: &mut Harness, a: u32, _: &mut Value) {
    let mut other = h.world.activities[a as usize].clone();
    other.status = ActivityStatus::ManualPause;
    h.world.activities.push(other);
}
fn group_abnormal(h: &mut Harness, _: u32, _: &mut Value) {
    h.world.group.status = GroupStatus::CvmAbnormal;
}
fn max_surge(_: &mut Harness, _: u32, body: &mut Value) {
    body["RefreshSettings"]["RollingUpdateSettings"]["MaxSurge"] = json!(1);
}
fn replace_mode(_: &mut Harness, _: u32, body: &mut Value) {
    body["RefreshMode"] = json!("ROLLING_UPDATE_REPLACE");
}
fn nothing_to_roll_back(h: &mut Harness, a: u32, _: &mut Value) {
    for item in &mut h.world.activities[a as usize].items {
        item.status = InstanceStatus::Cancelled;
    }
}
fn batch_number_too_large(_: &mut Harness, _: u32, body: &mut Value) {
    body["RefreshSettings"]["RollingUpdateSettings"]["BatchNumber"] = json!(5);
}
fn old_image_missing(h: &mut Harness, _: u32, _: &mut Value) {
    let sym = h.world.names.intern(OLD_IMAGE);
    h.world.missing_images.insert(sym);
}

/// Each row sets up two (or more) problems; the one of the earliest OQ-25 step is reported.
#[test]
fn oq25_rollback_admission_reports_the_earliest_step() {
    use ErrorCode::*;
    let conflict = ResourceUnavailableRefreshActivityStatusConflictWithOperation;
    let rows: &[(&str, &[Setup], ErrorCode)] = &[
        (
            "1 group before origin",
            &[unknown_origin, other_group],
            ResourceNotFoundAutoScalingGroupIdNotFound,
        ),
        (
            "1 unknown origin before its type",
            &[origin_is_rollback, unknown_origin],
            InvalidParameterValue,
        ),
        (
            "2 rollback type before mode",
            &[origin_is_replace, origin_is_rollback],
            ResourceUnavailableRollbackTypeActivityCanNotRollbackAgain,
        ),
        (
            "3 REPLACE before status",
            &[origin_successful_not_latest, origin_is_replace],
            conflict,
        ),
        (
            "4 status conflict before group",
            &[group_abnormal, origin_running],
            conflict,
        ),
        (
            "4 not latest before group",
            &[group_abnormal, origin_successful_not_latest],
            ResourceUnavailableRefreshActivityCanNotRollback,
        ),
        (
            "5 other activity before abnormal",
            &[group_abnormal, another_open_activity],
            ResourceUnavailableAutoScalingGroupInRefreshActivity,
        ),
        (
            "5 abnormal before MaxSurge",
            &[max_surge, group_abnormal],
            ResourceUnavailableAutoScalingGroupAbnormalStatus,
        ),
        (
            "6 MaxSurge before R",
            &[nothing_to_roll_back, max_surge],
            InvalidParameterValue,
        ),
        (
            "6 mode before R",
            &[nothing_to_roll_back, replace_mode],
            InvalidParameterValue,
        ),
        (
            "7 R empty before image",
            &[old_image_missing, nothing_to_roll_back],
            ResourceUnavailableNoInstanceCanRollback,
        ),
        (
            "7 BatchNumber before image",
            &[old_image_missing, batch_number_too_large],
            InvalidParameterValueBatchNumberTooLarge,
        ),
        (
            "8 image",
            &[old_image_missing],
            ResourceUnavailableInquiryPriceResetInstanceFailed,
        ),
    ];
    for (name, setups, expected) in rows {
        let (mut h, origin) = paused_origin();
        let mut body = rollback_body(&h, origin, 1);
        for setup in *setups {
            setup(&mut h, origin, &mut body);
        }
        let before = h.world.activities.len();
        let got = h.world.admit_rollback(&rollback_request(&body));
        assert_refused(name, &h, before, got, *expected);
    }
}

#[test]
fn oq25_an_admitted_rollback_covers_r_in_batch_order_with_the_pre_origin_images() {
    let (h, origin) = paused_origin();
    let plan = h
        .world
        .admit_rollback(&rollback_request(&rollback_body(&h, origin, 2)))
        .expect("admitted");
    assert_eq!(plan.origin, origin);
    assert_eq!(plan.settings.batch_number, 2);
    let old = h.world.names.lookup(OLD_IMAGE);
    let members: Vec<(String, Option<Sym>)> = plan
        .members
        .iter()
        .map(|(i, img)| {
            let id = h.world.instances[*i as usize].id;
            (h.world.names.get(id).to_string(), *img)
        })
        .collect();
    let expected: Vec<(String, Option<Sym>)> = (1..=4).map(|i| (instance_id(i), old)).collect();
    assert_eq!(members, expected);
}

// ---- OQ-27: Start admission order ---------------------------------------------------------

type StartSetup = fn(&mut Harness, &mut Value);

fn exhaust_rate_limit(h: &mut Harness, _: &mut Value) {
    for _ in 0..super::world::RATE_LIMIT_PER_SECOND {
        h.world
            .rate
            .admit(Action::StartInstanceRefresh, h.fx.now)
            .expect("under the limit");
    }
}
fn no_role(h: &mut Harness, _: &mut Value) {
    h.world.role_authorized = false;
}
fn no_batch_number(_: &mut Harness, body: &mut Value) {
    body["RefreshSettings"]["RollingUpdateSettings"]
        .as_object_mut()
        .expect("object")
        .remove("BatchNumber");
}
fn bad_fail_process(_: &mut Harness, body: &mut Value) {
    body["RefreshSettings"]["RollingUpdateSettings"]["FailProcess"] = json!("AUTO_RETRY");
}
fn start_other_group(_: &mut Harness, body: &mut Value) {
    body["AutoScalingGroupId"] = json!("asg-other001");
}
fn start_group_abnormal(h: &mut Harness, _: &mut Value) {
    h.world.group.status = GroupStatus::CvmAbnormal;
}
fn open_activity(h: &mut Harness, _: &mut Value) {
    let a = h
        .start(1, "AUTO_PAUSE")
        .expect("the first start is admitted");
    assert_eq!(h.status(a), ActivityStatus::Init);
}
fn no_instance_in_service(h: &mut Harness, _: &mut Value) {
    for inst in &mut h.world.instances {
        inst.standby = true;
    }
}
fn start_batch_number_too_large(_: &mut Harness, body: &mut Value) {
    body["RefreshSettings"]["RollingUpdateSettings"]["BatchNumber"] = json!(5);
}
fn start_max_surge_too_large(_: &mut Harness, body: &mut Value) {
    // 4 instances in 2 batches: at most 2 surge instances (OQ-6).
    body["RefreshSettings"]["RollingUpdateSettings"]["MaxSurge"] = json!(3);
}
fn lc_image_missing(h: &mut Harness, _: &mut Value) {
    let sym = h.world.names.intern(NEW_IMAGE);
    h.world.missing_images.insert(sym);
}

#[test]
fn oq27_start_admission_reports_the_earliest_check() {
    use ErrorCode::*;
    let rows: &[(&str, &[StartSetup], ErrorCode)] = &[
        (
            "1 rate limit before role",
            &[no_role, exhaust_rate_limit],
            RequestLimitExceeded,
        ),
        (
            "2 role before fields",
            &[no_batch_number, no_role],
            UnauthorizedOperationAutoScalingRoleUnauthorized,
        ),
        (
            "3 missing field before values",
            &[bad_fail_process, no_batch_number],
            MissingParameter,
        ),
        (
            "4 values before the group",
            &[start_other_group, bad_fail_process],
            InvalidParameterValue,
        ),
        (
            "5 group before its status",
            &[start_group_abnormal, start_other_group],
            ResourceNotFoundAutoScalingGroupIdNotFound,
        ),
        (
            "6 status before an open activity",
            &[open_activity, start_group_abnormal],
            ResourceUnavailableAutoScalingGroupAbnormalStatus,
        ),
        (
            "7 open activity before N",
            &[open_activity, no_instance_in_service],
            ResourceUnavailableAutoScalingGroupInRefreshActivity,
        ),
        (
            "9 N before BatchNumber",
            &[start_batch_number_too_large, no_instance_in_service],
            ResourceUnavailableNoInstanceCanRefresh,
        ),
        (
            "10 BatchNumber before MaxSurge",
            &[start_max_surge_too_large, start_batch_number_too_large],
            InvalidParameterValueBatchNumberTooLarge,
        ),
        (
            "11 MaxSurge before the image",
            &[lc_image_missing, start_max_surge_too_large],
            InvalidParameterValueMaxSurgeTooLarge,
        ),
        (
            "12 image",
            &[lc_image_missing],
            ResourceUnavailableInquiryPriceResetInstanceFailed,
        ),
    ];
    for (name, setups, expected) in rows {
        let mut h = WorldBuilder::new(4).build();
        let mut body = start_body(2, "AUTO_PAUSE");
        for setup in *setups {
            setup(&mut h, &mut body);
        }
        let before = h.world.activities.len();
        let got = h.call(Action::StartInstanceRefresh, body);
        assert_refused(name, &h, before, got, *expected);
    }
}

#[test]
fn oq27_a_start_with_every_check_passing_is_admitted() {
    let mut h = WorldBuilder::new(4).missing_image(OLD_IMAGE).build();
    let a = h.start(2, "AUTO_PAUSE").expect("admitted");
    assert_eq!(h.status(a), ActivityStatus::Init);
    let mut h = WorldBuilder::new(1).role_authorized(false).build();
    assert_eq!(
        error_code(h.start(1, "AUTO_PAUSE")),
        ErrorCode::UnauthorizedOperationAutoScalingRoleUnauthorized
    );
}
