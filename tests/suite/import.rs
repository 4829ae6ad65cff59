//! `refreshsim import` (issue 12, OQ-84): Tencent's official example responses (edited into one
//! group, tests/fixtures/account/README.md) in the three forms users get them import into a
//! scenario that parses and runs, with the key fields carried over and every unmapped field
//! listed; bad inputs fail with the file and the JSON path.

use crate::common::TemplateEdit;
use refreshsim::fit::Input;
use refreshsim::import::{ImportError, ImportInputs, import};
use refreshsim::run::run_scenario;
use refreshsim::scenario::parse_scenario;

fn fixture(action: &str, form: &str) -> Input {
    let file = format!("tests/fixtures/account/{action}.{form}.json");
    let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    Input { file, text }
}

fn inputs(form: &str) -> ImportInputs {
    ImportInputs {
        groups: Some(fixture("DescribeAutoScalingGroups", form)),
        instances: vec![fixture("DescribeAutoScalingInstances", form)],
        launch_configuration: Some(fixture("DescribeLaunchConfigurations", form)),
        hooks: Some(fixture("DescribeLifecycleHooks", form)),
        ..ImportInputs::default()
    }
}

/// The scenario without its comments (which name the input files).
fn without_comments(toml: &str) -> String {
    toml.lines()
        .map(|l| l.split("   #").next().unwrap_or(""))
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn oq84_tencents_examples_import_in_every_form_and_run() {
    let envelope = import(&inputs("response")).unwrap();
    for form in ["tccli", "sdk"] {
        let other = import(&inputs(form)).unwrap();
        assert_eq!(
            without_comments(&other.toml),
            without_comments(&envelope.toml),
            "{form}"
        );
    }
    assert_eq!(envelope.group_id, "asg-pts6qcgp");
    assert_eq!((envelope.instances, envelope.hooks), (1, 1));
    let toml = &envelope.toml;
    for expected in [
        "id = \"asg-pts6qcgp\"",
        "status = \"NORMAL\"",
        "enabled = true",
        "max_size = 1",
        "desired_capacity = 1",
        "forward_clb = true",
        "replace_unhealthy = false",
        "id = \"ins-1fswxz1m\"",
        "state = \"IN_SERVICE\"",
        "protected = false",
        "add_time = \"2018-08-21T12:05:12Z\"",
        "image_id = \"img-eb30mz89\"   # created from asc-fa28v4in version 2",
        "id = \"ash-h1b2c3d4\"",
        "transition = \"INSTANCE_TERMINATING\"",
        "heartbeat_timeout = \"300s\"",
        "instance_type = \"S3.MEDIUM4\"",
    ] {
        assert!(toml.contains(expected), "{expected}\n{toml}");
    }
    // Fields with no place in a scenario are listed, never dropped silently.
    for field in [
        "VpcId",
        "ServiceSettings.ScalingMode",
        "SystemDisk",
        "Zone",
        "HealthCheckType",
    ] {
        assert!(
            envelope.unmapped.iter().any(|u| u.ends_with(field)),
            "{field}: {:?}",
            envelope.unmapped
        );
        assert!(toml.contains(field), "{field}");
    }
    // Uncomment the planned refresh: the scenario runs.
    let planned = toml
        .replace_once("# [[actions]]", "[[actions]]")
        .replace_once("\n# id", "\nid")
        .replace_once("\n# at", "\nat")
        .replace_once("\n# action", "\naction")
        .replace_once("\n# request", "\nrequest");
    let scenario =
        parse_scenario("imported.toml", &planned).unwrap_or_else(|e| panic!("{e}\n{planned}"));
    let run = run_scenario(&scenario, 1, true).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    assert_eq!(scenario.world.instances.len(), 1);
}

#[test]
fn oq84_bad_inputs_name_the_file_and_path() {
    let mut wrong_group = inputs("response");
    let text = wrong_group.instances[0]
        .text
        .replace_once("\"asg-pts6qcgp\"", "\"asg-other001\"");
    wrong_group.instances[0].text = text;
    let err = import(&wrong_group).unwrap_err().to_string();
    assert!(err.contains("Response.AutoScalingInstanceSet[0].AutoScalingGroupId: instance ins-1fswxz1m belongs to asg-other001"), "{err}");

    let mut overlap = inputs("response");
    overlap
        .instances
        .push(fixture("DescribeAutoScalingInstances", "tccli"));
    let err = import(&overlap).unwrap_err().to_string();
    assert!(err.contains("appears twice: the pages overlap"), "{err}");

    let mut swapped = inputs("response");
    swapped.launch_configuration = Some(fixture("DescribeAutoScalingGroups", "response"));
    let err = import(&swapped).unwrap_err().to_string();
    assert!(
        err.contains("expected a DescribeLaunchConfigurations response"),
        "{err}"
    );

    let mut error = inputs("response");
    error.hooks = Some(Input {
        file: "hooks.json".into(),
        text: r#"{"Response": {"Error": {"Code": "ResourceNotFound.AutoScalingGroupNotFound", "Message": "m"}, "RequestId": "r"}}"#.into(),
    });
    let err = import(&error).unwrap_err();
    assert!(matches!(err, ImportError::Account(_)), "{err}");
    assert!(
        err.to_string().starts_with("hooks.json: Response.Error:"),
        "{err}"
    );

    let mut missing_lc = inputs("response");
    let text = missing_lc
        .groups
        .as_ref()
        .unwrap()
        .text
        .replace_once("asc-fa28v4in", "asc-zzzzzzzz");
    missing_lc.groups.as_mut().unwrap().text = text;
    let err = import(&missing_lc).unwrap_err().to_string();
    assert!(
        err.contains("the group's launch configuration asc-zzzzzzzz"),
        "{err}"
    );
}

fn refreshsim(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_refreshsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the binary starts");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn import_command_writes_a_scenario_validate_accepts_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("group.toml");
    let f = |action: &str| {
        std::ffi::OsString::from(format!("tests/fixtures/account/{action}.tccli.json"))
    };
    let (group, instances, lc, hooks) = (
        f("DescribeAutoScalingGroups"),
        f("DescribeAutoScalingInstances"),
        f("DescribeLaunchConfigurations"),
        f("DescribeLifecycleHooks"),
    );
    let history =
        std::ffi::OsString::from("tests/fixtures/account/DescribeRefreshActivities.response.json");
    let os = std::ffi::OsStr::new;
    let (code, stdout, stderr) = refreshsim(&[
        os("import"),
        os("--group"),
        &group,
        os("--instances"),
        &instances,
        os("--launch-configuration"),
        &lc,
        os("--hooks"),
        &hooks,
        os("--history"),
        &history,
        os("--out"),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("imported group asg-pts6qcgp: 1 instances, 1 lifecycle hooks"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("[timing]") && text.contains("reinstall = "),
        "{text}"
    );
    let (code, _, stderr) = refreshsim(&[os("validate"), out.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    // The launch configuration file given as the group: exit 2, one line, nothing written.
    let bad = dir.path().join("bad.toml");
    let (code, _, stderr) = refreshsim(&[
        os("import"),
        os("--group"),
        &lc,
        os("--instances"),
        &instances,
        os("--launch-configuration"),
        &lc,
        os("--out"),
        bad.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("DescribeLaunchConfigurations.tccli.json: $: expected a DescribeAutoScalingGroups response"), "{stderr}");
    assert!(!bad.exists());
}
