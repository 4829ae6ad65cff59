//! No scenario field is silently ignored (issue 10): every table of the file format, and every
//! kind of fault event, refuses each field that belongs to another table or kind, with the
//! file, line, column and field path; and fields that would have no effect where they are
//! written (an action's `activity`, a condition's `batch`, ...) are refused too.
//!
//! The field lists come from the raw types' own `Deserialize` impls (`table::fields_of`), so a
//! field added to any table is covered without editing this test.

use refreshsim::api::Action;
use refreshsim::scenario::file::*;
use refreshsim::scenario::table::fields_of;
use refreshsim::scenario::{ScenarioError, parse_scenario};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// A valid scenario holding every table of the format once and one fault event of each kind.
pub(crate) fn base() -> Value {
    let events: Vec<Value> = Fault::KINDS
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let mut event = json!({ "at": format!("{}s", 10 + i), "kind": kind });
            let fields = match *kind {
                "group_status" => json!({ "status": "NORMAL" }),
                "role" => json!({ "authorized": true }),
                "image" => json!({ "image": "img-x" }),
                "internal_error" | "create_blocked" | "destroy_blocked" => json!({}),
                "scaling_activity" => json!({ "duration": "10s" }),
                "alarm" => json!({ "policy": "asp-1" }),
                "scheduled_action" => json!({ "desired_capacity": 2 }),
                _ => json!({ "instance": "ins-a" }),
            };
            for (k, v) in fields.as_object().unwrap() {
                event[k] = v.clone();
            }
            event
        })
        .collect();
    json!({
        "scenario": {
            "name": "fields", "seed": 1,
            "limits": { "max_events": 100000 }
        },
        "group": {
            "id": "asg-1", "max_size": 5,
            "instances": [{ "id": "ins-a" }, { "id": "ins-b" }],
            "lifecycle_hooks": [{ "id": "ash-1", "transition": "INSTANCE_LAUNCHING" }],
            "scaling_policies": [{ "id": "asp-1", "adjustment": 1 }],
            "load_balancers": [{ "id": "lb-1", "listener_id": "lbl-1" }]
        },
        "launch_configuration": {
            "image_id": "img-new",
            "changes": [{ "at": "5s", "image_id": "img-newer" }]
        },
        "timing": {
            "reinstall": { "lognormal": { "median": "60s", "p95": "90s" } },
            "target_health": { "uniform": { "min": "1s", "max": "2s" } },
            "init_delay": { "normal": { "mean": "1s", "sd": "1s" } },
            "instances": { "ins-a": { "reinstall": "30s" } }
        },
        "faults": {
            "scripted": [{ "instance": "ins-b" }],
            "events": events
        },
        "actions": [
            { "id": "start", "at": "0s", "action": "StartInstanceRefresh",
              "request": { "RefreshSettings": {} } },
            { "when": { "activity_status": "SUCCESSFUL" }, "action": "DescribeRefreshActivities" }
        ],
        "expect": {
            "status": "SUCCESSFUL",
            "calls": [{ "action": "start", "code": "OK" }],
            "responses": [{ "action": "start", "pointer": "/Response", "equals": 1 }]
        },
        "sweep": { "vary": [{ "key": "group.max_size", "values": [5] }] }
    })
}

/// Every table of the format: where the base scenario holds one, and the fields it takes.
fn tables() -> Vec<(String, Vec<&'static str>)> {
    let trigger = fields_of::<TriggerEntry>();
    let with_trigger = |fields: &[&'static str]| -> Vec<&'static str> {
        fields.iter().chain(trigger).copied().collect()
    };
    let mut out: Vec<(String, Vec<&'static str>)> = vec![
        ("".into(), fields_of::<ScenarioFile>().to_vec()),
        ("scenario".into(), fields_of::<ScenarioSection>().to_vec()),
        (
            "scenario.limits".into(),
            fields_of::<LimitsSection>().to_vec(),
        ),
        ("group".into(), fields_of::<GroupSection>().to_vec()),
        (
            "group.instances[0]".into(),
            fields_of::<InstanceEntry>().to_vec(),
        ),
        (
            "group.lifecycle_hooks[0]".into(),
            fields_of::<HookEntry>().to_vec(),
        ),
        (
            "group.scaling_policies[0]".into(),
            fields_of::<PolicyEntry>().to_vec(),
        ),
        (
            "group.load_balancers[0]".into(),
            fields_of::<LoadBalancerEntry>().to_vec(),
        ),
        (
            "launch_configuration".into(),
            fields_of::<LaunchConfigurationSection>().to_vec(),
        ),
        (
            "launch_configuration.changes[0]".into(),
            with_trigger(fields_of::<LaunchConfigChange>()),
        ),
        ("timing".into(), fields_of::<TimingSection>().to_vec()),
        (
            "timing.reinstall".into(),
            fields_of::<DistributionEntry>().to_vec(),
        ),
        (
            "timing.reinstall.lognormal".into(),
            fields_of::<LognormalEntry>().to_vec(),
        ),
        (
            "timing.target_health.uniform".into(),
            fields_of::<UniformEntry>().to_vec(),
        ),
        (
            "timing.init_delay.normal".into(),
            fields_of::<NormalEntry>().to_vec(),
        ),
        (
            "timing.instances.ins-a".into(),
            fields_of::<InstanceTimingEntry>().to_vec(),
        ),
        ("faults".into(), fields_of::<FaultsSection>().to_vec()),
        (
            "faults.scripted[0]".into(),
            fields_of::<ScriptedFailureEntry>().to_vec(),
        ),
        ("actions[0]".into(), with_trigger(fields_of::<ActionCall>())),
        (
            "actions[1].when".into(),
            fields_of::<ConditionEntry>().to_vec(),
        ),
        ("expect".into(), fields_of::<ExpectSection>().to_vec()),
        (
            "expect.calls[0]".into(),
            fields_of::<ExpectCallEntry>().to_vec(),
        ),
        (
            "expect.responses[0]".into(),
            fields_of::<ExpectResponseEntry>().to_vec(),
        ),
        ("sweep".into(), fields_of::<SweepSection>().to_vec()),
        ("sweep.vary[0]".into(), fields_of::<VaryEntry>().to_vec()),
    ];
    for (i, kind) in Fault::KINDS.iter().enumerate() {
        let own = Fault::fields_of(kind).expect("a kind");
        let mut fields = with_trigger(own);
        fields.push("kind");
        out.push((format!("faults.events[{i}]"), fields));
    }
    out
}

/// The value at a field path such as `faults.events[3]` (keys may hold `-`).
pub(crate) fn at_path<'v>(root: &'v mut Value, path: &str) -> &'v mut Value {
    let mut here = root;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => (
                key,
                Some(rest.trim_end_matches(']').parse::<usize>().unwrap()),
            ),
            None => (part, None),
        };
        here = &mut here[key];
        if let Some(i) = index {
            here = &mut here[i];
        }
    }
    assert!(here.is_object(), "{path} is a table of the base scenario");
    here
}

pub(crate) fn parse_json(doc: &Value) -> Result<(), ScenarioError> {
    let text = serde_json::to_string_pretty(doc).unwrap();
    parse_scenario("fields.json", &text).map(|_| ())
}

pub(crate) fn parse_toml(doc: &Value) -> Result<(), ScenarioError> {
    let text = toml::to_string(doc).unwrap();
    parse_scenario("fields.toml", &text).map(|_| ())
}

#[test]
fn the_base_scenario_is_valid_in_both_formats_and_holds_every_fault_kind() {
    let doc = base();
    parse_json(&doc).unwrap_or_else(|e| panic!("{e}"));
    parse_toml(&doc).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        doc["faults"]["events"].as_array().unwrap().len(),
        Fault::KINDS.len()
    );
    for (path, _) in tables() {
        at_path(&mut base(), &path);
    }
}

#[test]
fn every_table_and_fault_kind_refuses_every_field_foreign_to_it_with_a_location() {
    let tables = tables();
    let universe: BTreeSet<&str> = tables.iter().flat_map(|(_, f)| f.iter().copied()).collect();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, allowed) in &tables {
        for foreign in universe.iter().filter(|f| !allowed.contains(f)) {
            let mut doc = base();
            at_path(&mut doc, path)[*foreign] = json!("x");
            let field = if path.is_empty() {
                foreign.to_string()
            } else {
                format!("{path}.{foreign}")
            };
            for (format, result) in [("json", parse_json(&doc)), ("toml", parse_toml(&doc))] {
                checked += 1;
                let ok = match &result {
                    Ok(()) => false,
                    Err(e) => {
                        e.field == field
                            && e.line.is_some()
                            && e.column.is_some()
                            && e.message.contains(&format!("`{foreign}`"))
                            && (e.message.contains("is not a field of")
                                || e.message.contains("unknown field"))
                    }
                };
                if !ok {
                    failures.push(format!("{format} {field}: {result:?}"));
                }
            }
        }
    }
    assert!(checked > 1_000, "only {checked} cases");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_foreign_fault_field_names_the_kind_and_its_fields_at_the_line_it_is_written() {
    let text = "[scenario]\nname = \"x\"\n[group]\nid = \"asg-1\"\nsize = 2\n\
                [launch_configuration]\nimage_id = \"img-2\"\n\
                [[faults.events]]\nat = \"1s\"\nkind = \"destroy\"\ninstance = \"#1\"\n\
                status = \"ABNORMAL\"\n";
    let e = parse_scenario("f.toml", text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "f.toml:12:1: faults.events[0].status: `status` is not a field of a `destroy` fault \
         event; its fields are `instance`, `kind`, `at`, `when`, `after`, `repeat`"
    );
    let json = r#"{"scenario": {"name": "x"}, "group": {"id": "asg-1", "size": 2},
"launch_configuration": {"image_id": "img-2"},
"faults": {"events": [{"at": "1s", "kind": "internal_error", "desired_capacity": 5}]}}"#;
    let e = parse_scenario("f.json", json).unwrap_err();
    assert_eq!((e.line, e.column), (Some(3), Some(62)), "{e}");
    assert_eq!(e.field, "faults.events[0].desired_capacity");
    assert!(
        e.message.contains("of an `internal_error` fault event"),
        "{e}"
    );
}

#[test]
fn a_key_written_twice_in_a_json_table_is_refused_where_it_is() {
    let json = r#"{"scenario": {"name": "x"}, "group": {"id": "asg-1", "size": 2},
"launch_configuration": {"image_id": "img-2"},
"actions": [{"at": "1s", "action": "DescribeAutoScalingGroups", "at": "2s"}]}"#;
    let e = parse_scenario("f.json", json).unwrap_err();
    assert_eq!(e.field, "actions[0].at");
    assert!(e.message.contains("written twice"), "{e}");
    assert_eq!(e.line, Some(3), "{e}");
}

#[test]
fn wrong_types_and_missing_fields_inside_a_fault_event_name_the_field() {
    let doc = |event: Value| {
        let mut d = base();
        d["faults"]["events"] = json!([event]);
        d
    };
    let cases = [
        (
            json!({"at": "1s", "kind": "destroy", "instance": 5}),
            "faults.events[0].instance",
            "expected a string",
        ),
        (
            json!({"at": 5, "kind": "destroy", "instance": "ins-a"}),
            "faults.events[0].at",
            "expected a string",
        ),
        (
            json!({"at": "1s", "kind": "destroyed", "instance": "ins-a"}),
            "faults.events[0].kind",
            "expected one of destroy | detach",
        ),
        (
            json!({"at": "1s", "kind": 3}),
            "faults.events[0].kind",
            "expected a string",
        ),
        (
            json!({"at": "1s"}),
            "faults.events[0]",
            "missing field `kind`",
        ),
        (
            json!({"at": "1s", "kind": "alarm"}),
            "faults.events[0]",
            "missing field `policy`, which an `alarm` fault event needs",
        ),
        (
            json!({"when": {"activity_status": 1}, "kind": "internal_error"}),
            "faults.events[0].when.activity_status",
            "expected a string",
        ),
        (
            json!({"when": ["RUNNING"], "kind": "internal_error"}),
            "faults.events[0].when",
            "expected a table of named fields",
        ),
    ];
    for (event, field, message) in cases {
        for result in [
            parse_json(&doc(event.clone())),
            parse_toml(&doc(event.clone())),
        ] {
            let e = result.expect_err(field);
            assert_eq!(e.field, field, "{e}");
            assert!(e.message.contains(message), "{e}");
            assert!(e.line.is_some(), "{e}");
        }
    }
}

/// Fields the format accepts but that would do nothing where they are written.
#[test]
fn fields_with_no_effect_where_written_are_refused() {
    for action in Action::ALL {
        let mut doc = base();
        doc["actions"][1] = json!({"at": "1s", "action": action.as_str(), "activity": "start"});
        let result = parse_json(&doc);
        match action.activity_id_field() {
            Some(_) => assert!(
                !result
                    .as_ref()
                    .is_err_and(|e| e.field == "actions[1].activity"),
                "{action}: {result:?}"
            ),
            None => {
                let e = result.expect_err(action.as_str());
                assert_eq!(e.field, "actions[1].activity", "{e}");
                assert!(e.message.contains("has no effect on"), "{e}");
                assert!(e.line.is_some(), "{e}");
            }
        }
    }
    let cases = [
        (
            "actions",
            json!({"at": "1s", "action": "StopInstanceRefresh", "activity": "start", "fill": false}),
            "actions[1].activity",
            "no effect with `fill = false`",
        ),
        (
            "actions",
            json!({"when": {"activity_status": "RUNNING", "batch": 2}, "action": "DescribeRefreshActivities"}),
            "actions[1].when.batch",
            "goes with batch_status",
        ),
        (
            "actions",
            json!({"when": {"batch_status": "RUNNING", "instance": "ins-a"}, "action": "DescribeRefreshActivities"}),
            "actions[1].when.instance",
            "goes with instance_status",
        ),
        (
            "actions",
            json!({"when": {"action": "start", "activity": "start"}, "action": "DescribeRefreshActivities"}),
            "actions[1].when.activity",
            "no effect in a condition on `action`",
        ),
        (
            "actions",
            json!({"at": "1s", "after": "2s", "action": "DescribeRefreshActivities"}),
            "actions[1].after",
            "go with `when`",
        ),
        (
            "actions",
            json!({"at": "1s", "repeat": true, "action": "DescribeRefreshActivities"}),
            "actions[1].repeat",
            "go with `when`",
        ),
    ];
    for (_, entry, field, message) in cases {
        let mut doc = base();
        doc["actions"][1] = entry;
        for result in [parse_json(&doc), parse_toml(&doc)] {
            let e = result.expect_err(field);
            assert_eq!(e.field, field, "{e}");
            assert!(e.message.contains(message), "{e}");
            assert!(e.line.is_some(), "{e}");
        }
    }
    let mut doc = base();
    doc["expect"] = json!({"activity": "start", "calls": [{"action": "start", "code": "OK"}]});
    let e = parse_json(&doc).expect_err("expect.activity alone");
    assert_eq!(e.field, "expect.activity", "{e}");
    assert!(e.message.contains("has no effect without"), "{e}");
    // With an expectation it applies to, it is accepted.
    doc["expect"]["status"] = json!("SUCCESSFUL");
    parse_json(&doc).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_readme_lists_each_fault_kind_with_exactly_its_fields() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme
        .find("| `kind` | fields |")
        .expect("the fault-kind table");
    let mut listed = BTreeSet::new();
    for row in readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let ticked = |cell: &str| -> Vec<String> {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .filter(|t| !t.starts_with('#') && !t.chars().any(|c| c.is_uppercase()))
                .map(str::to_string)
                .collect()
        };
        let fields: BTreeSet<String> = ticked(cells[2]).into_iter().collect();
        for kind in ticked(cells[1]) {
            let own: BTreeSet<String> = Fault::fields_of(&kind)
                .unwrap_or_else(|| panic!("README lists unknown kind {kind}"))
                .iter()
                .map(|f| f.to_string())
                .collect();
            assert_eq!(own, fields, "README fields of `{kind}`");
            listed.insert(kind);
        }
    }
    let all: BTreeSet<String> = Fault::KINDS.iter().map(|k| k.to_string()).collect();
    assert_eq!(listed, all, "every kind is in the README table");
}
