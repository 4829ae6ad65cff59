//! A sink that writes the timeline CSV as the run goes, for groups too large to keep every
//! record in memory (DESIGN.md §8: a 1,000,000-instance synthetic group, timeline streamed to a
//! file, peak RSS ≤ 1 GiB). The bytes are exactly `Timeline::write_csv`'s.

use super::{MetricsSink, Names, Record, Row, RunMeta, Sink, hex};
use crate::time::Epoch;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Records are rendered in blocks of this many: large enough that the per-block overhead
/// vanishes, small enough that the buffer stays a few MiB.
const BLOCK_RECORDS: usize = 16_384;

/// Streams CSV rows to `out` and keeps the metrics; holds at most about one block of records.
pub struct CsvStreamSink<W: Write> {
    writer: csv::Writer<Hashing<W>>,
    epoch: Epoch,
    pending: Vec<Record>,
    pub metrics: MetricsSink,
    /// The first write error; later records are dropped and `finish` returns it.
    error: Option<io::Error>,
    rows: u64,
}

impl<W: Write> CsvStreamSink<W> {
    /// Writes the header and the `run` row at once.
    pub fn new(meta: &RunMeta, epoch: Epoch, mut out: W, metrics: MetricsSink) -> CsvStreamSink<W> {
        // The content hash covers the rows after the `run` row (`Timeline::content_hash`), so
        // the header and that row are written apart, unhashed.
        let mut head = csv::Writer::from_writer(Vec::new());
        let error = head
            .serialize(meta.to_row(epoch))
            .map_err(io::Error::other)
            .and_then(|()| {
                head.into_inner()
                    .map_err(|e| io::Error::other(e.to_string()))
            })
            .and_then(|bytes| out.write_all(&bytes))
            .err();
        let writer = csv::WriterBuilder::new()
            .has_headers(false)
            // Large writes: a gigabyte of timeline in 256 KiB pieces, not 8 KiB ones.
            .buffer_capacity(256 * 1024)
            .from_writer(Hashing {
                inner: out,
                hasher: Sha256::new(),
            });
        CsvStreamSink {
            writer,
            epoch,
            pending: Vec::with_capacity(BLOCK_RECORDS),
            metrics,
            error,
            rows: 0,
        }
    }

    /// Rows written so far (the `run` row excluded).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Records received but not yet written.
    pub fn rows_pending(&self) -> u64 {
        self.pending.len() as u64
    }

    fn write_pending(&mut self, names: &Names) {
        if self.error.is_none() {
            for record in &self.pending {
                if let Err(e) = write_row(&mut self.writer, &record.to_row(names, self.epoch)) {
                    self.error = Some(io::Error::other(e));
                    break;
                }
                self.rows += 1;
            }
        }
        self.pending.clear();
    }

    /// Writes what is left and flushes; returns the writer and the timeline's content hash
    /// (equal to `Timeline::content_hash`), or the first write error.
    pub fn finish(mut self, names: &Names) -> io::Result<(W, String)> {
        self.write_pending(names);
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.writer.flush()?;
        let hashing = self
            .writer
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        let hash = hex(&hashing.hasher.finalize());
        Ok((hashing.inner, hash))
    }
}

impl<W: Write> Sink for CsvStreamSink<W> {
    fn record(&mut self, record: Record) {
        self.metrics.observe(&record);
        self.pending.push(record);
    }

    fn step_done(&mut self, names: &Names) {
        if self.pending.len() >= BLOCK_RECORDS {
            self.write_pending(names);
        }
    }
}

/// One row, field by field: the bytes `serialize` writes for a `Row` (the column order of
/// `COLUMNS`, the same quoting), without serde's per-field dispatch: at a million instances
/// this is the hot loop.
fn write_row<W: Write>(writer: &mut csv::Writer<W>, row: &Row) -> csv::Result<()> {
    let mut numbers = itoa::Buffer::new();
    writer.write_field(numbers.format(row.time_ms))?;
    writer.write_field(&row.time)?;
    writer.write_field(numbers.format(row.seq))?;
    writer.write_field(&row.kind)?;
    writer.write_field(&row.activity_id)?;
    writer.write_field(numbers.format(row.batch))?;
    writer.write_field(&row.instance_id)?;
    writer.write_field(&row.from)?;
    writer.write_field(&row.to)?;
    writer.write_field(&row.detail)?;
    writer.write_record(None::<&[u8]>)
}

/// Passes bytes through, hashing them.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
