//! `fit.svg`: for each batch size seen (up to six, the most observed), the observed batch
//! durations as an empirical CDF (dots) against the CDF of the maximum of k draws from the
//! chosen family (a line): where they part, the fit misses the history.

use super::FitReport;
use super::dist::Obs;
use super::observe::Step;
use std::fmt::Write;

const WIDTH: f64 = 760.0;
const PANEL_HEIGHT: f64 = 150.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const MAX_PANELS: usize = 6;
const LINE_POINTS: usize = 120;

/// The chart, or `None` when no batch duration was fitted.
pub fn chart(report: &FitReport) -> Option<String> {
    let (step, fit, obs) = report
        .steps
        .iter()
        .find(|(s, f, _)| matches!(s, Step::Reinstall | Step::Replace) && f.is_some())?;
    let fit = fit.as_ref()?;
    let dist = fit.chosen_dist();
    // Batch sizes by number of batches, most first (ties: smaller k first).
    let mut sizes: Vec<(u32, u32)> = Vec::new();
    for o in obs {
        match sizes.iter_mut().find(|(k, _)| *k == o.k) {
            Some((_, n)) => *n += o.count,
            None => sizes.push((o.k, o.count)),
        }
    }
    sizes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    sizes.truncate(MAX_PANELS);
    sizes.sort_by_key(|(k, _)| *k);
    let lo = obs.iter().map(|o| o.d).min()? as f64 - 1.0;
    let hi = obs.iter().map(|o| o.d).max()? as f64 + 1.0;
    let x_of = |d: f64| LEFT + (d - lo) / (hi - lo).max(1.0) * (WIDTH - LEFT - RIGHT);
    let height = 40.0 + PANEL_HEIGHT * sizes.len() as f64 + 30.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="20" font-size="13">{}: observed batch durations (dots) vs the fitted {} maximum of k (line)</text>"#,
        step.name(),
        fit.chosen.name()
    );
    for (panel, (k, count)) in sizes.iter().enumerate() {
        let top = 40.0 + PANEL_HEIGHT * panel as f64;
        let bottom = top + PANEL_HEIGHT - 30.0;
        let y_of = |p: f64| bottom - p * (bottom - top);
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{top}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
            WIDTH - LEFT - RIGHT,
            bottom - top
        );
        let _ = writeln!(
            svg,
            r#"<text x="4" y="{}">k = {k}</text><text x="4" y="{}">{count} batches</text>"#,
            top + 14.0,
            top + 28.0
        );
        let mut line = String::new();
        for i in 0..=LINE_POINTS {
            let x = lo + (hi - lo) * i as f64 / LINE_POINTS as f64;
            let p = libm::pow(dist.cdf(x), f64::from(*k));
            let _ = write!(line, "{:.1},{:.1} ", x_of(x), y_of(p));
        }
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>"##,
            line.trim_end()
        );
        let of_k: Vec<&Obs> = obs.iter().filter(|o| o.k == *k).collect();
        let total: u32 = of_k.iter().map(|o| o.count).sum();
        let mut seen = 0u32;
        for o in of_k {
            seen += o.count;
            let p = f64::from(seen) / f64::from(total.max(1));
            let _ = writeln!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#d62728"/>"##,
                x_of(o.d as f64),
                y_of(p)
            );
        }
    }
    let axis = 40.0 + PANEL_HEIGHT * sizes.len() as f64;
    for i in 0..=4 {
        let d = lo + (hi - lo) * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{axis:.1}" text-anchor="middle">{d:.0} s</text>"#,
            x_of(d)
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}
