//! Progress of a sweep on stderr: a bar with rate and ETA when stderr is a terminal, a plain
//! line every few seconds otherwise (CI logs, `kubectl logs`), nothing with `--quiet`. Wall
//! time is read here only; it never reaches an output file.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Interval between plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(10);

pub struct Progress {
    mode: Mode,
    total: u64,
    done: AtomicU64,
    started: Instant,
    last_line: Mutex<Instant>,
}

enum Mode {
    Quiet,
    Bar(ProgressBar),
    Lines,
}

impl Progress {
    pub fn new(total_runs: u64, quiet: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total_runs), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} runs  {per_sec}  elapsed {elapsed}  ETA {eta}",
                )
                .expect("valid template"),
            );
            Mode::Bar(bar)
        } else {
            Mode::Lines
        };
        let now = Instant::now();
        Progress {
            mode,
            total: total_runs,
            done: AtomicU64::new(0),
            started: now,
            last_line: Mutex::new(now),
        }
    }

    /// Counts `runs` more finished runs.
    pub fn add(&self, runs: u64) {
        let done = self.done.fetch_add(runs, Ordering::Relaxed) + runs;
        match &self.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => bar.inc(runs),
            Mode::Lines => {
                let mut last = self.last_line.lock().expect("not poisoned");
                if last.elapsed() >= LINE_EVERY || done == self.total {
                    *last = Instant::now();
                    eprintln!("{}", self.line(done));
                }
            }
        }
    }

    fn line(&self, done: u64) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let eta = if rate > 0.0 {
            format!("{:.0}s", (self.total - done) as f64 / rate)
        } else {
            "?".to_string()
        };
        format!(
            "sweep: {done}/{} runs ({:.0}%), {rate:.0} runs/s, ETA {eta}",
            self.total,
            if self.total == 0 {
                100.0
            } else {
                done as f64 * 100.0 / self.total as f64
            }
        )
    }

    pub fn finish(&self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }

    /// Wall time since the sweep started (for the closing message only).
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
