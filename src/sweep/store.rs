//! A sweep's output directory:
//!
//! - `plan.json`: what the sweep runs (resume and merge refuse a different plan);
//! - `chunks/v<variant>-r<block>.csv`: the rows of one finished chunk, each file written
//!   atomically (temporary name, then rename), so an interrupted sweep leaves only whole
//!   chunks behind;
//! - once every chunk is present: `runs.csv`, `summary.csv`, `summary.json` and the charts,
//!   rendered from the chunk files alone, so a sweep, a resumed sweep and merged shards write
//!   the same bytes.

use super::plan::{Chunk, Plan};
use super::row::{self, RunRow};
use super::stats::aggregate;
use super::summary::{summary_csv, summary_json};
use super::{Report, stats::VariantStats};
use crate::output::{Files, write_atomically, write_atomically_unsynced};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub const PLAN_FILE: &str = "plan.json";
pub const CHUNK_DIR: &str = "chunks";
/// Final outputs besides the charts.
pub const OUTPUT_FILES: &[&str] = &["runs.csv", "summary.csv", "summary.json"];

/// The bytes of a chunk file: the `runs.csv` header and the chunk's records.
pub fn render_chunk(plan: &Plan, rows: &[RunRow]) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(row::header(&plan.keys()))
        .expect("in memory");
    for r in rows {
        let variant = &plan.variants[r.variant as usize];
        out.write_record(row::record(r, variant, plan))
            .expect("in memory");
    }
    out.into_inner().expect("in memory")
}

pub fn write_chunk(dir: &Path, plan: &Plan, chunk: &Chunk, rows: &[RunRow]) -> std::io::Result<()> {
    // Unsynced: `read_chunk` verifies every row on resume and reruns a damaged chunk.
    let files = vec![(chunk.file_name(), render_chunk(plan, rows))];
    write_atomically_unsynced(&dir.join(CHUNK_DIR), &files).map(|_| ())
}

/// Reads a chunk file and checks every row is the one the plan says belongs there.
pub fn read_chunk(path: &Path, plan: &Plan, chunk: &Chunk) -> Result<Vec<RunRow>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_chunk(&bytes, plan, chunk).map_err(|m| format!("{}: {m}", path.display()))
}

fn parse_chunk(bytes: &[u8], plan: &Plan, chunk: &Chunk) -> Result<Vec<RunRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut records = reader.records();
    let header = records
        .next()
        .ok_or("empty file")?
        .map_err(|e| e.to_string())?;
    let expected_header = row::header(&plan.keys());
    if header.iter().ne(expected_header.iter().map(String::as_str)) {
        return Err("the header does not match the plan".to_string());
    }
    let keys = plan.axes.len();
    let metrics = 3 + keys..3 + keys + row::METRIC_COLUMNS.len();
    let mut rows = Vec::with_capacity(chunk.count as usize);
    for (i, record) in records.enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        let line = i + 2;
        let run = chunk.first + i as u32;
        if i as u32 >= chunk.count {
            return Err(format!(
                "line {line}: more rows than the chunk's {}",
                chunk.count
            ));
        }
        let fields: Vec<&str> = record.iter().collect();
        if fields.len() != expected_header.len() {
            return Err(format!(
                "line {line}: expected {} fields, found {}",
                expected_header.len(),
                fields.len()
            ));
        }
        let seed = plan.run_seed(run);
        let ids = [chunk.variant.to_string(), run.to_string(), seed.to_string()];
        if fields[..3]
            .iter()
            .copied()
            .ne(ids.iter().map(String::as_str))
        {
            return Err(format!(
                "line {line}: expected variant {}, run {run}, seed {seed}",
                chunk.variant
            ));
        }
        let r = RunRow::from_fields(chunk.variant, run, seed, &fields[metrics.clone()])
            .map_err(|m| format!("line {line}: {m}"))?;
        let variant = &plan.variants[chunk.variant as usize];
        let rendered = row::record(&r, variant, plan);
        if rendered
            .iter()
            .map(String::as_str)
            .ne(fields.iter().copied())
        {
            return Err(format!(
                "line {line}: the settings or replay columns do not match the plan"
            ));
        }
        rows.push(r);
    }
    if rows.len() as u32 != chunk.count {
        return Err(format!("{} rows, expected {}", rows.len(), chunk.count));
    }
    Ok(rows)
}

/// Prepares `dir` for `plan`: with `resume`, keeps the chunks of the same plan (dropping
/// unreadable ones); otherwise clears a previous sweep's chunks and outputs. Returns the
/// numbers of the chunks already done.
pub fn prepare(dir: &Path, plan: &Plan, resume: bool) -> Result<BTreeSet<u32>, String> {
    std::fs::create_dir_all(dir.join(CHUNK_DIR))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let plan_path = dir.join(PLAN_FILE);
    let previous = read_plan_value(&plan_path)?;
    let same = previous.as_ref() == Some(&plan.to_json());
    let mut done = BTreeSet::new();
    if resume && previous.is_some() && !same {
        return Err(format!(
            "{} holds a different sweep (its plan.json differs: scenario, grid, runs, seed, floor, baseline or version); choose another --out, or run without --resume to start over",
            dir.display()
        ));
    }
    if resume && same {
        for chunk in plan.chunks() {
            let path = dir.join(CHUNK_DIR).join(chunk.file_name());
            if path.exists() {
                match read_chunk(&path, plan, &chunk) {
                    Ok(_) => {
                        done.insert(chunk.number);
                    }
                    Err(m) => {
                        eprintln!("warning: {m}; running that chunk again");
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
        }
    } else {
        clear(dir)?;
    }
    remove_temporaries(&dir.join(CHUNK_DIR));
    remove_output_temporaries(dir);
    let mut bytes = serde_json::to_vec_pretty(&plan.to_json()).expect("serialisable");
    bytes.push(b'\n');
    write_atomically(dir, &vec![(PLAN_FILE.to_string(), bytes)])
        .map_err(|e| format!("cannot write {}: {e}", plan_path.display()))?;
    Ok(done)
}

fn read_plan_value(path: &Path) -> Result<Option<serde_json::Value>, String> {
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: not a sweep plan: {e}", path.display())),
    }
}

/// Removes what a previous sweep wrote here (only names a sweep writes).
fn clear(dir: &Path) -> Result<(), String> {
    let chunk_dir = dir.join(CHUNK_DIR);
    for entry in std::fs::read_dir(&chunk_dir)
        .map_err(|e| format!("cannot list {}: {e}", chunk_dir.display()))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_chunk_name(&name) {
            std::fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    for entry in std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if OUTPUT_FILES.contains(&name.as_str()) || is_chart_name(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn is_chunk_name(name: &str) -> bool {
    name.starts_with('v') && name.ends_with(".csv") && name.contains("-r")
}

fn is_chart_name(name: &str) -> bool {
    name.ends_with(".svg")
        && (name == "tradeoff.svg"
            || name.starts_with("duration-by-")
            || name.starts_with("capacity-by-"))
}

/// Temporary files of writes that were interrupted.
fn remove_temporaries(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Temporary files an interrupted final write left in the output directory itself
/// (`.runs.csv.<pid>.tmp`, `.tradeoff.svg.<pid>.tmp`, ...): only the names of files a sweep
/// writes, so nothing else in the directory is touched.
pub fn remove_output_temporaries(dir: &Path) {
    crate::output::remove_stale_temporaries(dir, |written| {
        written == PLAN_FILE || OUTPUT_FILES.contains(&written) || is_chart_name(written)
    });
}

/// Rows of every chunk, by variant, read from the first of `dirs` that holds each chunk
/// (copies in several directories must be identical). Errors list missing chunks.
pub fn collect(dirs: &[PathBuf], plan: &Plan) -> Result<Vec<Vec<RunRow>>, String> {
    let mut by_variant: Vec<Vec<RunRow>> = vec![Vec::new(); plan.variants.len()];
    let mut missing = Vec::new();
    for chunk in plan.chunks() {
        let mut found: Option<(PathBuf, Vec<u8>)> = None;
        for dir in dirs {
            let path = dir.join(CHUNK_DIR).join(chunk.file_name());
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            };
            match &found {
                None => found = Some((path, bytes)),
                Some((first, first_bytes)) if *first_bytes != bytes => {
                    return Err(format!(
                        "{} and {} differ: the shards did not run the same sweep",
                        first.display(),
                        path.display()
                    ));
                }
                Some(_) => {}
            }
        }
        match found {
            None => missing.push(chunk),
            Some((path, bytes)) => {
                let rows = parse_chunk(&bytes, plan, &chunk)
                    .map_err(|m| format!("{}: {m}", path.display()))?;
                by_variant[chunk.variant as usize].extend(rows);
            }
        }
    }
    if !missing.is_empty() {
        let total = plan.chunks().len();
        let shown: Vec<String> = missing.iter().take(5).map(Chunk::file_name).collect();
        return Err(format!(
            "{} of {total} chunks are missing ({}{}); run the missing shards, or the sweep with --resume",
            missing.len(),
            shown.join(", "),
            if missing.len() > 5 { ", …" } else { "" }
        ));
    }
    Ok(by_variant)
}

/// The final outputs, from the rows of every run.
pub fn final_files(plan: &Plan, rows: &[Vec<RunRow>]) -> (Files, Vec<VariantStats>) {
    let stats = aggregate(rows, plan.baseline as usize);
    let report = Report {
        plan,
        stats: &stats,
    };
    let mut runs = csv::Writer::from_writer(Vec::new());
    runs.write_record(row::header(&plan.keys()))
        .expect("in memory");
    for r in rows.iter().flatten() {
        let variant = &plan.variants[r.variant as usize];
        runs.write_record(row::record(r, variant, plan))
            .expect("in memory");
    }
    let mut json = serde_json::to_vec_pretty(&summary_json(&report)).expect("serialisable");
    json.push(b'\n');
    let mut files: Files = vec![
        (
            "runs.csv".to_string(),
            runs.into_inner().expect("in memory"),
        ),
        ("summary.csv".to_string(), summary_csv(&report)),
        ("summary.json".to_string(), json),
    ];
    let charts = super::charts::sweep_charts(&report);
    let tradeoff = super::tradeoff::tradeoff(&report).to_json();
    let html = crate::report::html::sweep_html(&summary_json(&report), &tradeoff, &charts);
    for (name, svg) in charts {
        files.push((name, svg.into_bytes()));
    }
    files.push(("report.html".to_string(), html.into_bytes()));
    (files, stats)
}

/// Reads and checks the plans of shard directories: all must be the same sweep.
pub fn read_shard_plans(dirs: &[PathBuf]) -> Result<Plan, String> {
    let mut first: Option<(PathBuf, serde_json::Value)> = None;
    for dir in dirs {
        let path = dir.join(PLAN_FILE);
        let value = read_plan_value(&path)?.ok_or_else(|| {
            format!(
                "{}: no {PLAN_FILE}; is it a sweep output directory?",
                dir.display()
            )
        })?;
        match &first {
            None => first = Some((dir.clone(), value)),
            Some((first_dir, first_value)) if *first_value != value => {
                return Err(format!(
                    "{} and {} hold different sweeps (their plan.json differ)",
                    first_dir.display(),
                    dir.display()
                ));
            }
            Some(_) => {}
        }
    }
    let (dir, value) = first.ok_or("no shard directories given")?;
    Plan::from_json(&value).map_err(|m| format!("{}: {m}", dir.join(PLAN_FILE).display()))
}
