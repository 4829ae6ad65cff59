//! Inputs the fuzz suite (fuzz/, README "Fuzzing") found, kept as regression tests on the real
//! binary: each must end with a clear error, never hang, loop or panic.

use std::time::Duration;

/// `{"actions":[{"nope":1}],"x":[}`: locating the error (`nope` is not a field of an action)
/// indexed the malformed JSON, and a `}` inside `[` looped forever (scenario::locate).
#[test]
fn a_brace_inside_an_array_of_a_bad_json_scenario_is_a_clear_error() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz/locate-json-hang.json"
    );
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_refreshsim"))
        .args(["validate", path])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("the binary starts");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
