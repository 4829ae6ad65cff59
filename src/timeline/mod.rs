//! Timeline records, sinks that receive them, and the CSV/JSONL formats (DESIGN.md §7).
//! Knows nothing of the engine: a timeline produced elsewhere is read into the same types.

pub mod detail;
pub mod metrics;
pub mod names;
pub mod parse;
pub mod record;
pub mod stream;

pub use metrics::{Metrics, MetricsSink};
pub use names::{Names, Sym};
pub use record::{
    COLUMNS, Departure, Event, LifeCycleCause, Msg, Phase, Record, Row, RunEndReason, ScalingCause,
    StatusCause, fields_digest,
};
pub use stream::CsvStreamSink;

use crate::time::Epoch;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Receives every record of a run, in `(time, seq)` order.
pub trait Sink {
    fn record(&mut self, record: Record);

    /// Called after each batch of records handed over at one engine step, with the names the
    /// records refer to so far (names only grow), for sinks that render as they go.
    fn step_done(&mut self, _names: &Names) {}

    /// Whether the sink keeps every record in memory (then `limits.max_records` bounds it).
    fn keeps_records(&self) -> bool {
        false
    }

    /// The bytes the sink keeps that grow with the run (`limits.max_memory_bytes`, OQ-97).
    fn kept_bytes(&self) -> u64 {
        0
    }
}

/// What a kept record costs once the run is over and its timeline is rendered in memory (the
/// CSV and JSONL rows of `run --out`, the checker's pass): measured at 125 + 226 bytes of text
/// per row on a 200,000-row timeline, rounded up (OQ-97).
pub const RENDERED_RECORD_BYTES: u64 = 384;

/// Keeps every record in memory, and the metrics.
#[derive(Debug, Default)]
pub struct FullSink {
    pub records: Vec<Record>,
    pub metrics: MetricsSink,
}

impl FullSink {
    pub fn new(metrics: MetricsSink) -> FullSink {
        FullSink {
            records: Vec::new(),
            metrics,
        }
    }
}

impl Sink for FullSink {
    fn record(&mut self, record: Record) {
        self.metrics.observe(&record);
        self.records.push(record);
    }

    fn keeps_records(&self) -> bool {
        true
    }

    fn kept_bytes(&self) -> u64 {
        let record = std::mem::size_of::<Record>() as u64;
        self.records.capacity() as u64 * record + self.records.len() as u64 * RENDERED_RECORD_BYTES
    }
}

impl Sink for MetricsSink {
    fn record(&mut self, record: Record) {
        self.observe(&record);
    }
}

/// Who produced a timeline: written as the first row (`kind=run`) of every timeline file and
/// into every other output (D9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMeta {
    pub version: String,
    pub seed: u64,
    pub scenario_name: String,
    pub scenario_sha256: String,
}

impl RunMeta {
    pub fn to_row(&self, epoch: Epoch) -> Row {
        Row {
            time_ms: 0,
            time: epoch.render(crate::time::SimTime::ZERO),
            seq: 0,
            kind: "run".into(),
            activity_id: String::new(),
            batch: 0,
            instance_id: String::new(),
            from: String::new(),
            to: String::new(),
            detail: detail::DetailWriter::new()
                .put("tool", "refreshsim")
                .put("version", &self.version)
                .put("seed", self.seed)
                .put("scenario", &self.scenario_name)
                .put("scenario_sha256", &self.scenario_sha256)
                .finish(),
        }
    }
}

/// A finished run's records with the names they refer to.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub epoch: Epoch,
    pub names: Names,
    pub records: Vec<Record>,
}

impl Timeline {
    pub fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        self.records
            .iter()
            .map(|r| r.to_row(&self.names, self.epoch))
    }

    pub fn write_csv<W: Write>(&self, meta: &RunMeta, out: W) -> io::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer
            .serialize(meta.to_row(self.epoch))
            .map_err(io::Error::other)?;
        for row in self.rows() {
            writer.serialize(row).map_err(io::Error::other)?;
        }
        writer.flush()
    }

    pub fn write_jsonl<W: Write>(&self, meta: &RunMeta, mut out: W) -> io::Result<()> {
        serde_json::to_writer(&mut out, &meta.to_row(self.epoch))?;
        out.write_all(b"\n")?;
        for row in self.rows() {
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// SHA-256 of the CSV rows without the `run` row, so the golden hash of a scenario does not
    /// change with the tool version or the file it was read from (D10).
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(HashWriter(&mut hasher));
            for row in self.rows() {
                writer.serialize(row).expect("hashing never fails");
            }
            writer.flush().expect("hashing never fails");
        }
        hex(&hasher.finalize())
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
