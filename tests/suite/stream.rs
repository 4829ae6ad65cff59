//! The streamed timeline (DESIGN.md §8, synthetic groups beyond 2,000 instances) is the same
//! bytes as the in-memory one, with the same metrics and outcome.

use refreshsim::run::{run_scenario, run_streamed};
use refreshsim::scenario::load_scenario;
use std::io::{self, Write};
use std::path::Path;

fn in_memory_csv(name: &str) -> (Vec<u8>, refreshsim::run::RunResult) {
    let scenario = load_scenario(Path::new(&format!("scenarios/{name}"))).unwrap();
    let run = run_scenario(&scenario, scenario.seed, true).unwrap();
    let mut bytes = Vec::new();
    run.timeline
        .as_ref()
        .unwrap()
        .write_csv(&run.meta, &mut bytes)
        .unwrap();
    (bytes, run)
}

#[test]
fn streamed_timeline_csv_is_byte_identical_to_the_in_memory_one() {
    for name in [
        "large-2000-probabilistic.toml",
        "surge-batch-size.toml",
        "replace-mode.toml",
        "auto-rollback.toml",
        "hooks-heartbeat-timeout.toml",
    ] {
        let (want, full) = in_memory_csv(name);
        let scenario = load_scenario(Path::new(&format!("scenarios/{name}"))).unwrap();
        let streamed = run_streamed(&scenario, scenario.seed, Vec::new(), None).unwrap();
        let (got, hash) = streamed.out.unwrap();
        assert!(
            got == want,
            "{name}: streamed CSV differs from the in-memory one"
        );
        assert_eq!(
            hash,
            full.timeline.as_ref().unwrap().content_hash(),
            "{name}"
        );
        assert_eq!(
            streamed.rows,
            full.timeline.as_ref().unwrap().records.len() as u64,
            "{name}"
        );
        assert_eq!(streamed.result.metrics, full.metrics, "{name}");
        let meta = serde_json::json!({"k": "v"});
        let mut want_describe = full.describe.clone();
        want_describe
            .as_object_mut()
            .unwrap()
            .insert("_refreshsim".into(), meta.clone());
        let mut want_describe = serde_json::to_vec_pretty(&want_describe).unwrap();
        want_describe.push(b'\n');
        let got_describe =
            refreshsim::run::final_describe_pretty(&streamed.result.world, scenario.seed, &meta);
        assert!(got_describe == want_describe, "{name}: describe differs");
        assert!(streamed.result.timeline.is_none());
    }
}

/// A writer that fails after `room` bytes, like a full disk.
struct FullDisk {
    room: usize,
}

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.room {
            return Err(io::Error::other("no space left on device"));
        }
        self.room -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_write_error_while_streaming_is_returned_not_swallowed() {
    let scenario = load_scenario(Path::new("scenarios/large-2000-probabilistic.toml")).unwrap();
    let streamed =
        run_streamed(&scenario, scenario.seed, FullDisk { room: 100_000 }, None).unwrap();
    let err = streamed.out.err().expect("the write error");
    assert!(err.to_string().contains("no space left"), "{err}");
}

#[test]
fn run_stream_writes_the_same_timeline_csv_as_run_and_says_what_it_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = "scenarios/surge-batch-size.toml";
    let kept = dir.path().join("kept");
    let streamed = dir.path().join("streamed");
    let ran = assert_cmd::Command::cargo_bin("refreshsim")
        .unwrap()
        .args(["run", scenario, "-q", "--out"])
        .arg(&kept)
        .output()
        .unwrap();
    assert!(ran.status.success());
    let out = assert_cmd::Command::cargo_bin("refreshsim")
        .unwrap()
        .args(["run", scenario, "--stream", "--out"])
        .arg(&streamed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invariants not checked"), "{stderr}");
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    assert!(read(&kept, "timeline.csv") == read(&streamed, "timeline.csv"));
    assert!(read(&kept, "describe.json") == read(&streamed, "describe.json"));
    // OQ-97: the calls were written as the run went, not kept; same bytes.
    assert!(read(&kept, "responses.jsonl") == read(&streamed, "responses.jsonl"));
    let hash = |d: &Path| {
        let v: serde_json::Value = serde_json::from_slice(&read(d, "summary.json")).unwrap();
        v["timeline_sha256"].clone()
    };
    assert!(hash(&kept).is_string());
    assert_eq!(hash(&kept), hash(&streamed));
    let mut names: Vec<String> = std::fs::read_dir(&streamed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "describe.json",
            "responses.jsonl",
            "summary.json",
            "timeline.csv"
        ]
    );
}

#[test]
fn run_stream_without_out_is_bad_input() {
    let out = assert_cmd::Command::cargo_bin("refreshsim")
        .unwrap()
        .args(["run", "scenarios/surge-one.toml", "--stream"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
}

#[test]
fn run_removes_temporaries_a_killed_run_left_and_nothing_else() {
    for stream in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".timeline.csv.4000000000.tmp");
        let stale_svg = dir.path().join(".timeline.svg.17.tmp");
        let foreign = dir.path().join(".notes.txt.17.tmp");
        let mine = dir.path().join("keep.txt");
        for path in [&stale, &stale_svg, &foreign, &mine] {
            std::fs::write(path, b"x").unwrap();
        }
        let mut args = vec!["run", "scenarios/surge-one.toml", "-q"];
        if stream {
            args.push("--stream");
        }
        let out = assert_cmd::Command::cargo_bin("refreshsim")
            .unwrap()
            .args(&args)
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!stale.exists() && !stale_svg.exists(), "stream={stream}");
        assert!(foreign.exists() && mine.exists(), "stream={stream}");
        let temps: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp") && n != ".notes.txt.17.tmp")
            .collect();
        assert!(temps.is_empty(), "stream={stream}: {temps:?}");
    }
}
