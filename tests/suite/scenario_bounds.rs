//! Bounds of the scenario file layer (issue 10 "Bounded, for real"): every string a scenario
//! keeps is limited to Tencent's documented length (OQ-70 where Tencent gives none) with a
//! located error beyond; an error quoting a huge value shows a readable cut and the size; a key
//! too deep for TOML is located and names the limit; a 1 MB image id meant for 2,000 instances is
//! refused before it is copied.

use super::scenario_fields::{at_path, base, parse_json, parse_toml};
use refreshsim::scenario::bounds::{
    MAX_DESCRIPTION_BYTES, MAX_ID_BYTES, MAX_MESSAGE_BYTES, MAX_NAME_BYTES,
    MAX_SCHEDULED_ACTION_NAME_BYTES, MAX_SETTINGS_JSON_BYTES, MAX_USER_DATA_BYTES, TOML_KEY_PARTS,
};
use refreshsim::scenario::file::Fault;
use refreshsim::scenario::parse_scenario;
use serde_json::{Value, json};

fn event_index(kind: &str) -> usize {
    Fault::KINDS.iter().position(|k| *k == kind).unwrap()
}

/// (table, field, bound) for every bounded string of the base scenario.
fn bounded() -> Vec<(String, &'static str, usize)> {
    let id = MAX_ID_BYTES;
    let mut out: Vec<(String, &'static str, usize)> = vec![
        ("scenario".into(), "name", MAX_NAME_BYTES),
        ("scenario".into(), "description", MAX_DESCRIPTION_BYTES),
        ("group".into(), "id", id),
        ("group".into(), "image_id", id),
        ("group".into(), "instance_type", id),
        ("group.instances[1]".into(), "id", id),
        ("group.instances[0]".into(), "image_id", id),
        ("group.instances[0]".into(), "instance_type", id),
        ("group.lifecycle_hooks[0]".into(), "id", id),
        ("group.scaling_policies[0]".into(), "id", id),
        ("launch_configuration".into(), "id", id),
        ("launch_configuration".into(), "image_id", id),
        (
            "launch_configuration".into(),
            "user_data",
            MAX_USER_DATA_BYTES,
        ),
        ("launch_configuration".into(), "instance_type", id),
        ("launch_configuration.changes[0]".into(), "image_id", id),
        (
            "launch_configuration.changes[0]".into(),
            "user_data",
            MAX_USER_DATA_BYTES,
        ),
        ("faults.scripted[0]".into(), "instance", id),
        ("faults.scripted[0]".into(), "message", MAX_MESSAGE_BYTES),
        ("actions[0]".into(), "id", id),
        ("actions[1].when".into(), "activity", id),
        ("expect.responses[0]".into(), "pointer", MAX_MESSAGE_BYTES),
    ];
    let events = [
        ("destroy", "instance", id),
        ("image", "image", id),
        ("alarm", "policy", id),
        ("scheduled_action", "name", MAX_SCHEDULED_ACTION_NAME_BYTES),
    ];
    for (kind, field, max) in events {
        out.push((format!("faults.events[{}]", event_index(kind)), field, max));
    }
    out
}

#[test]
fn every_kept_string_is_bounded_with_a_located_error_naming_the_bound_and_the_size() {
    for (table, field, max) in bounded() {
        let path = format!("{table}.{field}");
        // At the bound the length is accepted (a reference may still not resolve).
        let mut doc = base();
        at_path(&mut doc, &table)[field] = json!("x".repeat(max));
        if let Err(e) = parse_json(&doc) {
            assert!(
                !e.message.contains("of at most"),
                "{path} at its bound: {e}"
            );
        }
        // One byte more is refused, in both formats, where the field is written.
        at_path(&mut doc, &table)[field] = json!("x".repeat(max + 1));
        for result in [parse_json(&doc), parse_toml(&doc)] {
            let e = result.expect_err(&path);
            assert_eq!(e.field, path, "{e}");
            assert!(e.line.is_some() && e.column.is_some(), "{e}");
            let said = format!("of at most {max} bytes, found {} bytes", max + 1);
            assert!(e.message.contains(&said), "{path}: {e}");
            assert!(e.to_string().len() < 400, "{path}: {e}");
        }
    }
}

#[test]
fn launch_configuration_settings_and_image_lists_are_bounded_too() {
    let big = || json!({ "Password": "p".repeat(MAX_SETTINGS_JSON_BYTES) });
    for field in ["enhanced_service", "host_name_settings", "login_settings"] {
        let mut doc = base();
        doc["launch_configuration"][field] = big();
        let e = parse_json(&doc).expect_err(field);
        assert_eq!(e.field, format!("launch_configuration.{field}"), "{e}");
        assert!(e.message.contains("settings (as JSON)"), "{e}");
    }
    for list in ["missing_images", "bad_images"] {
        let mut doc = base();
        doc["faults"][list] = json!(["img-ok", "i".repeat(MAX_ID_BYTES + 1)]);
        let e = parse_json(&doc).expect_err(list);
        assert_eq!(e.field, format!("faults.{list}[1]"), "{e}");
        assert!(e.line.is_some(), "{e}");
    }
}

#[test]
fn a_1mb_image_id_for_2000_instances_is_refused_before_it_is_copied() {
    let huge = "a".repeat(1 << 20);
    let text = format!(
        "[scenario]\nname = \"x\"\n[group]\nid = \"asg-1\"\nsize = 2000\nimage_id = \"{huge}\"\n\
         [launch_configuration]\nimage_id = \"img-2\"\n"
    );
    let e = parse_scenario("big.toml", &text).unwrap_err();
    assert_eq!((e.line, e.column), (Some(6), Some(1)), "{e}");
    assert_eq!(e.field, "group.image_id");
    assert!(e.message.contains("found 1048576 bytes"), "{e}");
    assert!(e.to_string().len() < 300, "{e}");
}

#[test]
fn errors_quoting_a_huge_value_cut_it_and_say_its_size() {
    let huge = "b".repeat(1 << 20);
    let cases = [
        // A type error (serde quotes the value), an enum value, an unknown key, a duration.
        (
            format!("[scenario]\nname = \"x\"\nseed = \"{huge}\"\n"),
            "scenario.seed",
        ),
        (
            format!(
                "[scenario]\nname = \"x\"\n[group]\nid = \"asg-1\"\nsize = 2\nstatus = \"{huge}\"\n\
                 [launch_configuration]\nimage_id = \"img-2\"\n"
            ),
            "group.status",
        ),
        (
            format!("[scenario]\nname = \"x\"\n{huge} = 1\n"),
            "scenario.",
        ),
        (
            format!(
                "[scenario]\nname = \"x\"\n[group]\nid = \"asg-1\"\nsize = 2\n\
                 [launch_configuration]\nimage_id = \"img-2\"\n[timing]\nreinstall = \"{huge}\"\n"
            ),
            "timing.reinstall",
        ),
    ];
    for (text, field) in cases {
        for (name, text) in [
            ("big.toml", text.clone()),
            ("big.json", toml_to_json(&text)),
        ] {
            let e = parse_scenario(name, &text).unwrap_err();
            let shown = e.to_string();
            assert!(shown.len() < 1_000, "{name} {field}: {} bytes", shown.len());
            assert!(shown.contains("1048576 bytes"), "{name} {field}: {shown}");
            assert!(e.field.starts_with(field), "{name}: {shown}");
            assert!(e.line.is_some(), "{name}: {shown}");
        }
    }
}

fn toml_to_json(text: &str) -> String {
    let value: Value = toml::from_str(text).unwrap();
    serde_json::to_string_pretty(&value).unwrap()
}

#[test]
fn a_key_too_deep_for_toml_is_located_and_names_the_limit() {
    let head = "[scenario]\nname = \"x\"\n[group]\nid = \"asg-1\"\nsize = 2\n\
                [launch_configuration]\nimage_id = \"img-2\"\n";
    let key = vec!["a"; 90].join(".");
    for (text, line, column) in [
        (format!("{head}[{key}]\nx = 1\n"), 8, 2),
        (format!("{head}enhanced_service = {{ {key} = 1 }}\n"), 8, 22),
    ] {
        let e = parse_scenario("deep.toml", &text).unwrap_err();
        assert_eq!((e.line, e.column), (Some(line), Some(column)), "{e}");
        let limit = format!(
            "a key of 90 dotted parts is deeper than TOML allows (at most {TOML_KEY_PARTS} parts)"
        );
        assert_eq!(e.message, limit, "{e}");
    }
    // Nesting too deep in JSON, and in TOML values, is located by the parsers themselves.
    let json = format!(
        "{{\"scenario\": {{\"name\": \"x\"}}, \"group\": {{\"id\": \"asg-1\", \"size\": 2}},\n\
         \"launch_configuration\": {{\"image_id\": \"i\", \"enhanced_service\": {}1{}}}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let e = parse_scenario("deep.json", &json).unwrap_err();
    assert!(
        e.line.is_some() && e.message.contains("recursion limit"),
        "{e}"
    );
    let e = parse_scenario(
        "deep.toml",
        &format!(
            "{head}[timing]\nreinstall = {}1{}\n",
            "[".repeat(200),
            "]".repeat(200)
        ),
    )
    .unwrap_err();
    assert!(
        e.line.is_some() && e.message.contains("max recursion depth"),
        "{e}"
    );
}

#[test]
fn an_error_about_the_whole_file_points_at_its_start() {
    let e = parse_scenario("f.toml", "[scenario]\nname = \"x\"\n").unwrap_err();
    assert_eq!((e.line, e.column), (Some(1), Some(1)), "{e}");
    assert!(e.message.contains("missing field `group`"), "{e}");
}

#[test]
fn a_field_error_in_json_nested_too_deep_further_on_is_located_without_overflow() {
    // Locating the error indexes the rest of the text: a million `[` after it must be stepped
    // through at a bounded depth, not recursed into until the stack overflows.
    let deep = format!(
        "{{\"actions\":[{{\"nope\":1}}],\"x\":{}",
        "[".repeat(1_000_000)
    );
    let e = parse_scenario("f.json", &deep).unwrap_err();
    assert_eq!(e.field, "actions[0].nope", "{e}");
    assert_eq!((e.line, e.column), (Some(1), Some(14)), "{e}");
}

#[test]
fn a_command_line_setting_quoting_a_huge_value_is_cut_with_its_size() {
    let long = "i".repeat(5000);
    for (setting, size) in [
        (format!("group.image_id={long}"), "5015 bytes"),
        (format!("{long}=1"), "5002 bytes"),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_refreshsim"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["validate", "scenarios/surge-one.toml", "--set", &setting])
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.len() < 1200, "{} bytes: {stderr}", stderr.len());
        assert!(stderr.contains(size), "{stderr}");
        assert!(
            stderr.contains("--set") || stderr.contains("with "),
            "{stderr}"
        );
    }
}
