//! SVG charts of a sweep: per varied key, duration and capacity floor against the key's values
//! (one series per combination of the other keys), and the trade-off of duration against surge
//! cost over all variants with its Pareto frontier.
//!
//! Hand-written like the run chart (see `svg`): fixed iteration order (variants by id, axes in
//! plan order), every number printed through `P` or integer formatting, axis ticks found with
//! `+ - * /`, `floor` and `ceil` only (all exact or correctly rounded, D3), and presentation
//! attributes only, so the same report gives the same bytes on every machine.

use super::grid::Variant;
use super::stats::Spread;
use super::{Plan, Report};
use crate::report::svgkit::{
    BLACK, BLUE, Esc, GREEN, GREY, GRID, INK, MUTED, ORANGE, P, PURPLE, SKY, VERMILLION, YELLOW,
    emit, flow_legend, open_svg, text_width,
};

const WIDTH: f64 = 1000.0;
const PLOT_LEFT: f64 = 76.0;
const PLOT_RIGHT: f64 = WIDTH - 28.0;
const PLOT_H: f64 = 340.0;
const LINE_H: f64 = 16.0;
/// Room at the top of the plot for "never ended" marks, above the highest tick.
const MISSING_STRIP_H: f64 = 30.0;
/// More series than colours would repeat colours; more than eight is unreadable anyway.
const SERIES_MAX: usize = 8;
const SERIES_COLOURS: [&str; SERIES_MAX] =
    [BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, BLACK, YELLOW];
/// Rows of the trade-off key table; beyond it only frontier variants are listed.
const KEY_ROWS_MAX: usize = 40;
/// Longest category or settings label before it is cut with "…".
const LABEL_CHARS_MAX: usize = 28;
const SETTINGS_CHARS_MAX: usize = 70;
/// At most this many intervals between y (or x) ticks.
const TICK_INTERVALS_MAX: f64 = 6.0;
/// Inputs are clamped to this magnitude so tick indices fit in `i64` and loops stay short.
const VALUE_ABS_MAX: f64 = 1e12;

/// The sweep's charts as `(file name, SVG text)`: `duration-by-<key>.svg` for each varied key,
/// then `capacity-by-<key>.svg` for each, then `tradeoff.svg`. A sweep without varied keys
/// gives `tradeoff.svg` only.
pub fn sweep_charts(report: &Report<'_>) -> Vec<(String, String)> {
    let slugs = axis_slugs(report.plan);
    let mut charts = Vec::with_capacity(2 * slugs.len() + 1);
    for measure in [Measure::Duration, Measure::Capacity] {
        for (axis, slug) in slugs.iter().enumerate() {
            charts.push((
                format!("{}-by-{slug}.svg", measure.file_stem()),
                by_axis_svg(report, axis, measure),
            ));
        }
    }
    charts.push(("tradeoff.svg".to_string(), tradeoff_svg(report)));
    charts
}

// ---------------------------------------------------------------------------------------------
// Names

/// File-name slug of each axis: `short_name()` lower-cased, non-alphanumerics as `-`; repeats
/// get `-2`, `-3`, … so no two charts share a file.
fn axis_slugs(plan: &Plan) -> Vec<String> {
    let mut slugs: Vec<String> = Vec::with_capacity(plan.axes.len());
    for axis in 0..plan.axes.len() {
        let base = slug(&axis_short_name(plan, axis));
        let mut candidate = base.clone();
        let mut n = 2;
        while slugs.contains(&candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        slugs.push(candidate);
    }
    slugs
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "setting".to_string()
    } else {
        s
    }
}

fn axis_short_name(plan: &Plan, axis: usize) -> String {
    let a = &plan.axes[axis];
    a.options
        .first()
        .map_or_else(|| a.key_text.clone(), |o| o.key.short_name())
}

/// `short_label()`, or the whole-scenario label for a sweep without axes (whose short label
/// is empty).
fn variant_name(v: &Variant) -> String {
    match v.short_label() {
        s if s.is_empty() => v.label(),
        s => s,
    }
}

/// `text` cut to `max` characters with a trailing "…".
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `permille` as a percentage: `800` → `80 %`, `975` → `97.5 %`.
fn permille_text(permille: u32) -> String {
    match permille % 10 {
        0 => format!("{} %", permille / 10),
        tenth => format!("{}.{tenth} %", permille / 10),
    }
}

fn plural(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// One decimal, but a small nonzero cost is not shown as nothing.
fn hours_text(hours: f64) -> String {
    if hours > 0.0 && hours < 0.05 {
        "< 0.1".to_string()
    } else {
        P(hours).to_string()
    }
}

fn desc_line(plan: &Plan) -> String {
    format!(
        "refreshsim {}; scenario \"{}\"; sweep seed {}; {} runs per variant; scenario sha256 {}",
        plan.version, plan.scenario_name, plan.seed, plan.runs, plan.scenario_sha256
    )
}

// ---------------------------------------------------------------------------------------------
// Reading the report

use super::tradeoff::metric;

/// `v` if finite, clamped so one absurd value cannot push ticks beyond `i64`.
fn finite(v: f64) -> Option<f64> {
    v.is_finite()
        .then(|| v.clamp(-VALUE_ABS_MAX, VALUE_ABS_MAX))
}

/// What a per-axis chart plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Duration,
    Capacity,
}

/// One variant's mark, in chart units: a point, a whisker and an optional tick.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Glyph {
    centre: f64,
    low: f64,
    high: f64,
    tick: Option<f64>,
}

impl Measure {
    fn file_stem(self) -> &'static str {
        match self {
            Measure::Duration => "duration",
            Measure::Capacity => "capacity",
        }
    }

    fn metric(self) -> &'static str {
        match self {
            Measure::Duration => "duration_s",
            Measure::Capacity => "min_in_service_fraction",
        }
    }

    fn title(self, key: &str) -> String {
        match self {
            Measure::Duration => {
                format!("Refresh duration by {key} (p50 line, p10–p99 whiskers, tick at p90)")
            }
            Measure::Capacity => {
                format!("Capacity floor by {key} (p50 line, whiskers from the worst run to p50)")
            }
        }
    }

    fn about(self) -> &'static str {
        match self {
            Measure::Duration => {
                "minutes from creating the refresh to the end of its last activity, over the runs that ended"
            }
            Measure::Capacity => {
                "lowest in-service count during the refresh as % of the count before it"
            }
        }
    }

    fn y_title(self) -> &'static str {
        match self {
            Measure::Duration => "duration (min)",
            Measure::Capacity => "capacity floor (% of pre-refresh in service)",
        }
    }

    /// Said where a variant has no value at all.
    fn missing(self) -> &'static str {
        match self {
            Measure::Duration => "never ended",
            Measure::Capacity => "no value",
        }
    }

    fn glyph(self, s: &Spread) -> Option<Glyph> {
        let g = match self {
            Measure::Duration => Glyph {
                centre: finite(s.p50 / 60.0)?,
                low: finite(s.p10 / 60.0)?,
                high: finite(s.p99 / 60.0)?,
                tick: Some(finite(s.p90 / 60.0)?),
            },
            Measure::Capacity => Glyph {
                centre: finite(s.p50 * 100.0)?,
                low: finite(s.min * 100.0)?,
                high: finite(s.p50 * 100.0)?,
                tick: None,
            },
        };
        Some(g)
    }

    fn tip(self, name: &str, s: &Spread, runs: u32) -> String {
        match self {
            Measure::Duration => format!(
                "{name}: p50 {} min, p10 {}, p90 {}, p99 {} ({} of {runs} runs ended)",
                P(s.p50 / 60.0),
                P(s.p10 / 60.0),
                P(s.p90 / 60.0),
                P(s.p99 / 60.0),
                s.n
            ),
            Measure::Capacity => format!(
                "{name}: capacity floor p50 {} %, worst {} % ({} runs)",
                P(s.p50 * 100.0),
                P(s.min * 100.0),
                s.n
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scales

/// A linear axis over `[first, last] × step`, with 1/2/5 × 10^exp steps. Tick labels are made
/// from the integers `i × mantissa` and `exp`, so they are exact decimals.
#[derive(Debug, Clone, Copy, PartialEq)]
struct NiceScale {
    mantissa: i64,
    exp: i32,
    first: i64,
    last: i64,
}

/// `10^n` for `n` in `0..=18`, exactly.
fn pow10(n: u32) -> i64 {
    10i64.pow(n.min(18))
}

impl NiceScale {
    /// The coarsest-but-fine-enough scale covering `[lo, hi]` (reordered, and widened by one
    /// when empty, so the domain is never zero-width).
    fn covering(lo: f64, hi: f64) -> NiceScale {
        let lo = finite(lo).unwrap_or(0.0);
        let hi = finite(hi).unwrap_or(lo);
        let (lo, hi) = if hi > lo { (lo, hi) } else { (hi, lo + 1.0) };
        let candidates = (-6..=12).flat_map(|exp| [1, 2, 5].map(|mantissa| (mantissa, exp)));
        let mut scale = NiceScale::with_step(lo, hi, 1, -6);
        for (mantissa, exp) in candidates {
            scale = NiceScale::with_step(lo, hi, mantissa, exp);
            if (scale.last - scale.first) as f64 <= TICK_INTERVALS_MAX {
                break;
            }
        }
        // Values are clamped to 1e12, so the loop always stops at a step of 1e12 or earlier.
        scale
    }

    fn with_step(lo: f64, hi: f64, mantissa: i64, exp: i32) -> NiceScale {
        let probe = NiceScale {
            mantissa,
            exp,
            first: 0,
            last: 0,
        };
        let step = probe.value(1);
        NiceScale {
            first: (lo / step).floor() as i64,
            last: ((hi / step).ceil() as i64).max((lo / step).floor() as i64 + 1),
            ..probe
        }
    }

    /// Tick `i`'s value: one exact integer product and at most one correctly rounded division.
    fn value(&self, i: i64) -> f64 {
        let scaled = i.saturating_mul(self.mantissa);
        if self.exp >= 0 {
            scaled.saturating_mul(pow10(self.exp as u32)) as f64
        } else {
            scaled as f64 / pow10(self.exp.unsigned_abs()) as f64
        }
    }

    fn lo(&self) -> f64 {
        self.value(self.first)
    }

    fn hi(&self) -> f64 {
        self.value(self.last)
    }

    /// `value` as a fraction of the domain, clamped to it.
    fn fraction(&self, value: f64) -> f64 {
        ((value - self.lo()) / (self.hi() - self.lo())).clamp(0.0, 1.0)
    }

    fn ticks(&self) -> impl Iterator<Item = (f64, String)> + '_ {
        (self.first..=self.last).map(|i| (self.value(i), self.label(i)))
    }

    fn label(&self, i: i64) -> String {
        let scaled = i.saturating_mul(self.mantissa);
        if self.exp >= 0 {
            return scaled.saturating_mul(pow10(self.exp as u32)).to_string();
        }
        let places = self.exp.unsigned_abs();
        let unit = pow10(places).unsigned_abs();
        let sign = if scaled < 0 { "-" } else { "" };
        let m = scaled.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            m / unit,
            m % unit,
            width = places as usize
        )
    }
}

/// Where the plot sits and how values map onto it.
#[derive(Debug, Clone, Copy)]
struct Frame {
    left: f64,
    right: f64,
    /// Top of the area for values (below the strip for missing marks).
    top: f64,
    bottom: f64,
    y: NiceScale,
}

impl Frame {
    fn y(&self, value: f64) -> f64 {
        self.bottom - self.y.fraction(value) * (self.bottom - self.top)
    }

    fn strip_y(&self) -> f64 {
        self.top - MISSING_STRIP_H / 2.0
    }

    fn render_y_axis(&self, out: &mut String, title: &str) {
        out.push_str(&format!("<g stroke=\"{GRID}\" stroke-width=\"1\">\n"));
        for (value, _) in self.y.ticks() {
            let y = P(self.y(value));
            emit!(
                out,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>\n",
                P(self.left),
                P(self.right)
            );
        }
        out.push_str("</g>\n");
        out.push_str(&format!(
            "<g fill=\"{MUTED}\" font-size=\"10\" text-anchor=\"end\">\n"
        ));
        for (value, label) in self.y.ticks() {
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\">{label}</text>\n",
                P(self.left - 6.0),
                P(self.y(value) + 3.5)
            );
        }
        out.push_str("</g>\n");
        let mid = P((self.top + self.bottom) / 2.0);
        emit!(
            out,
            "<text x=\"16\" y=\"{mid}\" transform=\"rotate(-90 16 {mid})\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>\n",
            Esc(title)
        );
        emit!(
            out,
            "<line x1=\"{l}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"{MUTED}\"/>\n",
            l = P(self.left),
            r = P(self.right),
            b = P(self.bottom)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Page furniture: header, legend, footer

/// A legend entry: a colour and what it stands for.
#[derive(Debug, Clone, PartialEq)]
struct LegendEntry {
    colour: &'static str,
    shape: Shape,
    label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Dot,
    /// A series: points joined by a line.
    LineDot,
    Line,
    Dashed,
    /// A variant without a value, drawn above the plot.
    Cross,
    /// An open dot: a variant whose worst run is below the floor.
    Ring,
}

const SWATCH_W: f64 = 16.0;

impl LegendEntry {
    fn width(&self) -> f64 {
        SWATCH_W + 5.0 + text_width(&self.label, 11.0) + 16.0
    }
}

fn render_legend(out: &mut String, lines: &[Vec<LegendEntry>], top: f64) {
    for (i, line) in lines.iter().enumerate() {
        let mid = top + i as f64 * LINE_H + LINE_H / 2.0;
        let mut x = 16.0;
        for entry in line {
            render_swatch(out, entry, x, mid);
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\" fill=\"{INK}\">{}</text>\n",
                P(x + SWATCH_W + 5.0),
                P(mid + 4.0),
                Esc(&entry.label)
            );
            x += entry.width();
        }
    }
}

fn render_swatch(out: &mut String, entry: &LegendEntry, x: f64, mid: f64) {
    let (x1, x2, m, c) = (P(x), P(x + SWATCH_W), P(mid), entry.colour);
    match entry.shape {
        Shape::Dot => emit!(
            out,
            "<circle cx=\"{}\" cy=\"{m}\" r=\"4\" fill=\"{c}\"/>\n",
            P(x + SWATCH_W / 2.0)
        ),
        Shape::LineDot => emit!(
            out,
            "<line x1=\"{x1}\" y1=\"{m}\" x2=\"{x2}\" y2=\"{m}\" stroke=\"{c}\" stroke-width=\"1.5\"/>\n<circle cx=\"{}\" cy=\"{m}\" r=\"3.5\" fill=\"{c}\"/>\n",
            P(x + SWATCH_W / 2.0)
        ),
        Shape::Line => emit!(
            out,
            "<line x1=\"{x1}\" y1=\"{m}\" x2=\"{x2}\" y2=\"{m}\" stroke=\"{c}\" stroke-width=\"1.5\"/>\n"
        ),
        Shape::Dashed => emit!(
            out,
            "<line x1=\"{x1}\" y1=\"{m}\" x2=\"{x2}\" y2=\"{m}\" stroke=\"{c}\" stroke-dasharray=\"5 3\"/>\n"
        ),
        Shape::Cross => cross(out, x + SWATCH_W / 2.0, mid, c, &entry.label),
        Shape::Ring => emit!(
            out,
            "<circle cx=\"{}\" cy=\"{m}\" r=\"4\" fill=\"#FFFFFF\" stroke=\"{c}\" stroke-width=\"1.5\"/>\n",
            P(x + SWATCH_W / 2.0)
        ),
    }
}

/// Title, subtitle lines and legend; returns where the plot may start.
fn render_header(
    out: &mut String,
    title: &str,
    subtitles: &[String],
    legend: &[Vec<LegendEntry>],
) -> f64 {
    emit!(
        out,
        "<text x=\"16\" y=\"24\" font-size=\"15\" font-weight=\"bold\" fill=\"{INK}\">{}</text>\n",
        Esc(title)
    );
    for (i, line) in subtitles.iter().enumerate() {
        emit!(
            out,
            "<text x=\"16\" y=\"{}\" fill=\"{MUTED}\">{}</text>\n",
            P(44.0 + i as f64 * LINE_H),
            Esc(line)
        );
    }
    let legend_top = header_height(subtitles.len(), 0);
    render_legend(out, legend, legend_top);
    header_height(subtitles.len(), legend.len())
}

fn header_height(subtitle_lines: usize, legend_lines: usize) -> f64 {
    36.0 + subtitle_lines as f64 * LINE_H + 8.0 + legend_lines as f64 * LINE_H + 8.0
}

fn render_footer(out: &mut String, plan: &Plan, y: f64) {
    emit!(
        out,
        "<text x=\"16\" y=\"{}\" font-size=\"10\" fill=\"{MUTED}\">{}</text>\n",
        P(y),
        Esc(&desc_line(plan))
    );
}

/// A 7-pixel × at `(x, y)`.
fn cross(out: &mut String, x: f64, y: f64, colour: &str, tip: &str) {
    emit!(
        out,
        "<path d=\"M{},{}l7,7m0,-7l-7,7\" stroke=\"{colour}\" stroke-width=\"1.8\" fill=\"none\"><title>{}</title></path>\n",
        P(x - 3.5),
        P(y - 3.5),
        Esc(tip)
    );
}

// ---------------------------------------------------------------------------------------------
// Per-axis charts

/// The other axes fixed, the charted axis running through its values.
#[derive(Debug, Clone, PartialEq)]
struct Series {
    /// Other axes' `short=value`; empty when only one axis is varied.
    label: String,
    /// One variant per value of the charted axis, in axis order.
    variants: Vec<u32>,
}

/// Each combination of the other axes as a series, in variant order (first axis outermost).
fn series_for_axis(plan: &Plan, axis: usize) -> Vec<Series> {
    let values = plan.axes[axis].options.len();
    // `expand` puts the last axis innermost, so the charted axis advances by this many ids.
    let stride: usize = plan.axes[axis + 1..]
        .iter()
        .map(|a| a.options.len())
        .product();
    plan.variants
        .iter()
        .filter(|v| (v.id as usize / stride.max(1)).is_multiple_of(values.max(1)))
        .map(|base| Series {
            label: base
                .overrides
                .iter()
                .enumerate()
                .filter(|(a, _)| *a != axis)
                .map(|(_, o)| format!("{}={}", o.key.short_name(), o.value_text))
                .collect::<Vec<_>>()
                .join(" "),
            variants: (0..values)
                .map(|i| base.id + (i * stride) as u32)
                .filter(|id| (*id as usize) < plan.variants.len())
                .collect(),
        })
        .collect()
}

/// Everything a per-axis chart draws, worked out before any SVG is written.
struct AxisChart<'a> {
    report: &'a Report<'a>,
    axis: usize,
    measure: Measure,
    series: Vec<Series>,
    frame: Frame,
}

fn by_axis_svg(report: &Report<'_>, axis: usize, measure: Measure) -> String {
    let plan = report.plan;
    let mut series = series_for_axis(plan, axis);
    let omitted = series.len().saturating_sub(SERIES_MAX);
    series.truncate(SERIES_MAX);
    let key = axis_short_name(plan, axis);
    let title = measure.title(&key);
    let mut subtitles = vec![format!(
        "{}; {} runs per variant",
        measure.about(),
        plan.runs
    )];
    if omitted > 0 {
        subtitles.push(format!(
            "{} combinations of the other settings; the first {SERIES_MAX} are drawn, {omitted} left out",
            series.len() + omitted
        ));
    }
    if let Some(note) = whisker_note(report, &series, measure) {
        subtitles.push(note);
    }
    let legend = flow_legend(
        series_legend(&series, measure, plan),
        WIDTH - 32.0,
        LegendEntry::width,
    );
    let mut out = String::new();
    let plot_top = header_height(subtitles.len(), legend.len()) + MISSING_STRIP_H;
    let bottom = plot_top + PLOT_H;
    let chart = AxisChart {
        report,
        axis,
        measure,
        frame: Frame {
            left: PLOT_LEFT,
            right: PLOT_RIGHT,
            top: plot_top,
            bottom,
            y: y_scale(report, &series, measure),
        },
        series,
    };
    let height = bottom + 66.0;
    open_svg(&mut out, WIDTH, height, &title, &desc_line(plan));
    render_header(&mut out, &title, &subtitles, &legend);
    chart.render(&mut out);
    render_footer(&mut out, plan, height - 10.0);
    out.push_str("</svg>\n");
    out
}

/// Why some capacity whiskers do not show: a whisker runs from the worst run to p50, so it has
/// no length where they are equal (every run of the variant reached the same floor).
fn whisker_note(report: &Report<'_>, series: &[Series], measure: Measure) -> Option<String> {
    match measure {
        Measure::Duration => return None,
        Measure::Capacity => {}
    }
    let glyphs: Vec<Glyph> = series
        .iter()
        .flat_map(|s| &s.variants)
        .filter_map(|v| measure.glyph(metric(report, *v, measure.metric())?))
        .collect();
    // Equal as drawn: both ends print to the same tenth of a percent.
    let flat = glyphs
        .iter()
        .filter(|g| P(g.low).to_string() == P(g.high).to_string())
        .count();
    match flat {
        0 => None,
        n if n == glyphs.len() => Some(format!(
            "no whiskers show: in every variant the worst run's floor equals the p50 (its runs all reached the same lowest count; {} runs per variant)",
            report.plan.runs
        )),
        n => Some(format!(
            "no whisker on {n} of {} variants: there the worst run's floor equals the p50 (its runs all reached the same lowest count)",
            glyphs.len()
        )),
    }
}

fn series_legend(series: &[Series], measure: Measure, plan: &Plan) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = series
        .iter()
        .zip(SERIES_COLOURS)
        .filter(|(s, _)| !s.label.is_empty())
        .map(|(s, colour)| LegendEntry {
            colour,
            shape: Shape::LineDot,
            label: clip(&s.label, SETTINGS_CHARS_MAX),
        })
        .collect();
    match measure {
        Measure::Duration => {}
        Measure::Capacity => entries.push(LegendEntry {
            colour: VERMILLION,
            shape: Shape::Dashed,
            label: format!("sweep floor {}", permille_text(plan.floor_permille)),
        }),
    }
    entries
}

/// Duration from zero; capacity over the values, the sweep floor and 90–100 % for context.
fn y_scale(report: &Report<'_>, series: &[Series], measure: Measure) -> NiceScale {
    let glyphs: Vec<Glyph> = series
        .iter()
        .flat_map(|s| &s.variants)
        .filter_map(|v| measure.glyph(metric(report, *v, measure.metric())?))
        .collect();
    let high = glyphs.iter().map(|g| g.high).fold(f64::MIN, f64::max);
    match measure {
        Measure::Duration => NiceScale::covering(0.0, high.max(0.0)),
        Measure::Capacity => {
            let floor = f64::from(report.plan.floor_permille) / 10.0;
            let low = glyphs.iter().map(|g| g.low).fold(floor.min(90.0), f64::min);
            NiceScale::covering(low, high.max(100.0))
        }
    }
}

impl AxisChart<'_> {
    fn values(&self) -> usize {
        self.report.plan.axes[self.axis].options.len().max(1)
    }

    fn band(&self) -> f64 {
        (self.frame.right - self.frame.left) / self.values() as f64
    }

    fn category_x(&self, i: usize) -> f64 {
        self.frame.left + (i as f64 + 0.5) * self.band()
    }

    /// Horizontal shift of series `j` so that whiskers of one category sit side by side.
    fn offset(&self, j: usize) -> f64 {
        let count = self.series.len().max(1) as f64;
        let spacing = (self.band() * 0.6 / count).min(10.0);
        (j as f64 - (count - 1.0) / 2.0) * spacing
    }

    fn render(&self, out: &mut String) {
        self.frame.render_y_axis(out, self.measure.y_title());
        self.render_x_axis(out);
        if self.measure == Measure::Capacity {
            self.render_floor(out);
        }
        self.render_missing_labels(out);
        for (j, series) in self.series.iter().enumerate() {
            self.render_series(out, j, series);
        }
    }

    fn render_x_axis(&self, out: &mut String) {
        let options = &self.report.plan.axes[self.axis].options;
        let labels: Vec<String> = options
            .iter()
            .map(|o| clip(&o.value_text, LABEL_CHARS_MAX))
            .collect();
        let widest = labels
            .iter()
            .map(|l| text_width(l, 10.0))
            .fold(0.0, f64::max);
        // Label every k-th value when all of them would overlap.
        let every = ((widest + 8.0) / self.band()).ceil().max(1.0) as usize;
        let b = self.frame.bottom;
        out.push_str(&format!(
            "<g fill=\"{MUTED}\" font-size=\"10\" text-anchor=\"middle\">\n"
        ));
        for (i, label) in labels.iter().enumerate() {
            let x = P(self.category_x(i));
            emit!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{MUTED}\"/>\n",
                P(b),
                P(b + 4.0)
            );
            if i % every == 0 {
                emit!(
                    out,
                    "<text x=\"{x}\" y=\"{}\">{}</text>\n",
                    P(b + 16.0),
                    Esc(label)
                );
            }
        }
        out.push_str("</g>\n");
        emit!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>\n",
            P((self.frame.left + self.frame.right) / 2.0),
            P(b + 36.0),
            Esc(&self.report.plan.axes[self.axis].key_text)
        );
    }

    fn render_floor(&self, out: &mut String) {
        let permille = self.report.plan.floor_permille;
        let y = P(self.frame.y(f64::from(permille) / 10.0));
        emit!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{VERMILLION}\" stroke-dasharray=\"5 3\"/>\n",
            P(self.frame.left),
            P(self.frame.right)
        );
        emit!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"10\" fill=\"{VERMILLION}\">sweep floor {}</text>\n",
            P(self.frame.right - 4.0),
            P(self.frame.y(f64::from(permille) / 10.0) - 4.0),
            permille_text(permille)
        );
    }

    /// Whether `variant` has no value to plot.
    fn is_missing(&self, variant: u32) -> bool {
        metric(self.report, variant, self.measure.metric())
            .and_then(|s| self.measure.glyph(s))
            .is_none()
    }

    /// One "never ended" (or "no value") label per category where any drawn series lacks a
    /// value; each such series also gets a × in its colour (drawn with the series).
    fn render_missing_labels(&self, out: &mut String) {
        for i in 0..self.values() {
            if self
                .series
                .iter()
                .any(|s| s.variants.get(i).is_some_and(|v| self.is_missing(*v)))
            {
                emit!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" font-style=\"italic\" fill=\"{MUTED}\">{}</text>\n",
                    P(self.category_x(i)),
                    P(self.frame.strip_y() - 6.0),
                    self.measure.missing()
                );
            }
        }
    }

    fn render_series(&self, out: &mut String, j: usize, series: &Series) {
        let colour = SERIES_COLOURS[j % SERIES_MAX];
        emit!(out, "<g stroke=\"{colour}\" fill=\"{colour}\">\n");
        let mut path = String::new();
        let mut pen_down = false;
        for (i, variant) in series.variants.iter().enumerate() {
            let x = self.category_x(i) + self.offset(j);
            let spread = metric(self.report, *variant, self.measure.metric());
            let name = variant_name(&self.report.plan.variants[*variant as usize]);
            match spread.and_then(|s| Some((s, self.measure.glyph(s)?))) {
                Some((s, glyph)) => {
                    let y = self.frame.y(glyph.centre);
                    emit!(
                        path,
                        "{}{},{}",
                        if pen_down { "L" } else { "M" },
                        P(x),
                        P(y)
                    );
                    pen_down = true;
                    let tip = self.measure.tip(&name, s, self.report.plan.runs);
                    self.render_glyph(out, x, glyph, &tip);
                }
                None => {
                    pen_down = false;
                    let tip = format!("{name}: {}", self.measure.missing());
                    cross(out, x, self.frame.strip_y() + 6.0, colour, &tip);
                }
            }
        }
        if !path.is_empty() {
            emit!(
                out,
                "<path d=\"{path}\" fill=\"none\" stroke-width=\"1.5\"/>\n"
            );
        }
        out.push_str("</g>\n");
    }

    fn render_glyph(&self, out: &mut String, x: f64, glyph: Glyph, tip: &str) {
        let f = &self.frame;
        emit!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke-width=\"1.2\"/>\n",
            P(f.y(glyph.low)),
            P(f.y(glyph.high)),
            x = P(x)
        );
        if let Some(tick) = glyph.tick {
            let y = P(f.y(tick));
            emit!(
                out,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke-width=\"1.2\"/>\n",
                P(x - 4.0),
                P(x + 4.0)
            );
        }
        emit!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" stroke=\"#FFFFFF\" stroke-width=\"0.8\"><title>{}</title></circle>\n",
            P(x),
            P(f.y(glyph.centre)),
            Esc(tip)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Trade-off chart

/// Buckets of the p50 capacity floor, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FloorBucket {
    AtLeast95,
    From90To95,
    From80To90,
    Below80,
    NoValue,
}

const FLOOR_BUCKETS: [FloorBucket; 5] = [
    FloorBucket::AtLeast95,
    FloorBucket::From90To95,
    FloorBucket::From80To90,
    FloorBucket::Below80,
    FloorBucket::NoValue,
];

impl FloorBucket {
    fn of(fraction: Option<f64>) -> FloorBucket {
        match fraction.and_then(finite) {
            None => FloorBucket::NoValue,
            Some(f) if f >= 0.95 => FloorBucket::AtLeast95,
            Some(f) if f >= 0.90 => FloorBucket::From90To95,
            Some(f) if f >= 0.80 => FloorBucket::From80To90,
            Some(_) => FloorBucket::Below80,
        }
    }

    fn colour(self) -> &'static str {
        match self {
            FloorBucket::AtLeast95 => GREEN,
            FloorBucket::From90To95 => BLUE,
            FloorBucket::From80To90 => ORANGE,
            FloorBucket::Below80 => VERMILLION,
            FloorBucket::NoValue => GREY,
        }
    }

    fn label(self) -> &'static str {
        match self {
            FloorBucket::AtLeast95 => "floor p50 ≥ 95 %",
            FloorBucket::From90To95 => "90–95 %",
            FloorBucket::From80To90 => "80–90 %",
            FloorBucket::Below80 => "< 80 %",
            FloorBucket::NoValue => "no floor value",
        }
    }
}

/// One variant on the trade-off chart.
#[derive(Debug, Clone, PartialEq)]
struct TradePoint {
    id: u32,
    /// Mean surge instance-hours; `None` only for a variant without runs.
    surge_h: Option<f64>,
    /// p50 and p90 duration in minutes; `None` when no run ended.
    duration_min: Option<(f64, f64)>,
    floor_fraction: Option<f64>,
    /// The worst run's capacity fraction.
    worst_fraction: Option<f64>,
    /// The worst run kept the sweep's floor (`tradeoff::keeps_floor`).
    meets_floor: bool,
}

impl TradePoint {
    fn read(report: &Report<'_>, id: u32) -> TradePoint {
        TradePoint {
            id,
            surge_h: metric(report, id, "surge_instance_s").and_then(|s| finite(s.mean / 3600.0)),
            duration_min: metric(report, id, "duration_s")
                .and_then(|s| Some((finite(s.p50 / 60.0)?, finite(s.p90 / 60.0)?))),
            floor_fraction: metric(report, id, "min_in_service_fraction").map(|s| s.p50),
            worst_fraction: metric(report, id, "min_in_service_fraction").map(|s| s.min),
            meets_floor: false,
        }
    }

    /// `(surge, p50 duration)` when both exist: the point can be plotted and compared.
    fn plotted(&self) -> Option<(f64, f64)> {
        Some((self.surge_h?, self.duration_min?.0))
    }
}

struct TradeChart<'a> {
    report: &'a Report<'a>,
    points: Vec<TradePoint>,
    frontier: Vec<u32>,
    /// Variants whose worst run keeps the sweep floor.
    eligible: usize,
    x: NiceScale,
    frame: Frame,
    label_points: bool,
}

fn tradeoff_svg(report: &Report<'_>) -> String {
    let plan = report.plan;
    let trade = super::tradeoff::tradeoff(report);
    let points: Vec<TradePoint> = plan
        .variants
        .iter()
        .map(|v| TradePoint {
            meets_floor: trade.meets_floor[v.id as usize],
            ..TradePoint::read(report, v.id)
        })
        .collect();
    let eligible = points.iter().filter(|p| p.meets_floor).count();
    let frontier = trade.frontier;
    let x_max = points.iter().filter_map(|p| p.surge_h).fold(0.0, f64::max);
    let y_max = points
        .iter()
        .filter_map(|p| p.duration_min.map(|d| d.1))
        .fold(0.0, f64::max);
    let title = "Duration against surge cost";
    let subtitles = vec![
        format!(
            "one point per variant at its p50 duration, whisker to p90; x = mean surge instance-hours; {} runs per variant",
            plan.runs
        ),
        frontier_subtitle(eligible, points.len(), plan.floor_permille),
    ];
    let never_ended = points
        .iter()
        .any(|p| p.surge_h.is_some() && p.duration_min.is_none());
    let legend = flow_legend(
        tradeoff_legend(never_ended),
        WIDTH - 32.0,
        LegendEntry::width,
    );
    let plot_top = header_height(subtitles.len(), legend.len()) + MISSING_STRIP_H;
    let bottom = plot_top + PLOT_H;
    let chart = TradeChart {
        report,
        label_points: points.len() <= KEY_ROWS_MAX,
        points,
        frontier,
        eligible,
        x: NiceScale::covering(0.0, x_max),
        frame: Frame {
            left: PLOT_LEFT,
            right: PLOT_RIGHT,
            top: plot_top,
            bottom,
            y: NiceScale::covering(0.0, y_max),
        },
    };
    let key_rows = chart.key_rows();
    let key_top = bottom + 58.0;
    let height = key_top + (key_rows.len() as f64 + 2.0) * 15.0 + 30.0;
    let mut out = String::new();
    open_svg(&mut out, WIDTH, height, title, &desc_line(plan));
    render_header(&mut out, title, &subtitles, &legend);
    chart.render(&mut out);
    chart.render_key(&mut out, &key_rows, key_top);
    render_footer(&mut out, plan, height - 10.0);
    out.push_str("</svg>\n");
    out
}

/// What the frontier line is, or why there is none.
fn frontier_subtitle(eligible: usize, variants: usize, floor_permille: u32) -> String {
    let floor = permille_text(floor_permille);
    match eligible {
        0 => format!(
            "no frontier: no variant's worst run keeps the sweep floor {floor} (open dots: below the floor)"
        ),
        n => format!(
            "line: Pareto frontier among the {} whose worst run keeps the sweep floor {floor} (of {variants}; open dots are below it)",
            plural(n, "variant")
        ),
    }
}

fn tradeoff_legend(never_ended: bool) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = FLOOR_BUCKETS
        .iter()
        .map(|b| LegendEntry {
            colour: b.colour(),
            shape: Shape::Dot,
            label: b.label().to_string(),
        })
        .collect();
    entries.push(LegendEntry {
        colour: INK,
        shape: Shape::Line,
        label: "Pareto frontier (variants that keep the floor)".to_string(),
    });
    entries.push(LegendEntry {
        colour: MUTED,
        shape: Shape::Ring,
        label: "worst run below the sweep floor".to_string(),
    });
    if never_ended {
        entries.push(LegendEntry {
            colour: MUTED,
            shape: Shape::Cross,
            label: "never ended (drawn above the plot at its surge cost)".to_string(),
        });
    }
    entries
}

impl TradeChart<'_> {
    fn x(&self, surge_h: f64) -> f64 {
        self.frame.left + self.x.fraction(surge_h) * (self.frame.right - self.frame.left)
    }

    fn on_frontier(&self, id: u32) -> bool {
        self.frontier.contains(&id)
    }

    fn render(&self, out: &mut String) {
        self.frame.render_y_axis(out, "p50 duration (min)");
        self.render_x_axis(out);
        self.render_frontier(out);
        for p in &self.points {
            self.render_point(out, p);
        }
        self.render_point_labels(out);
    }

    /// Where `p` is drawn: its dot, or its × above the plot; `None` without runs.
    fn position(&self, p: &TradePoint) -> Option<(f64, f64)> {
        let x = self.x(p.surge_h?);
        Some(match p.duration_min {
            Some((p50, _)) => (x, self.frame.y(p50)),
            None => (x, self.frame.strip_y() + 6.0),
        })
    }

    /// Variant numbers beside their points. Variants drawn at the same spot (equal results,
    /// e.g. a setting that made no difference) share one label, so numbers never overprint.
    fn render_point_labels(&self, out: &mut String) {
        let mut spots: Vec<((i64, i64), u32)> = self
            .points
            .iter()
            .filter(|p| self.label_points || self.on_frontier(p.id))
            .filter_map(|p| {
                let (x, y) = self.position(p)?;
                Some((((x * 10.0).round() as i64, (y * 10.0).round() as i64), p.id))
            })
            .collect();
        spots.sort();
        for group in spots.chunk_by(|a, b| a.0 == b.0) {
            let ((x, y), _) = group[0];
            let ids: Vec<String> = group.iter().take(3).map(|g| g.1.to_string()).collect();
            let more = match group.len() {
                0..=3 => String::new(),
                n => format!(" +{}", n - 3),
            };
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{INK}\">{}{more}</text>\n",
                P(x as f64 / 10.0 + 5.0),
                P(y as f64 / 10.0 - 5.0),
                ids.join(", ")
            );
        }
    }

    fn render_x_axis(&self, out: &mut String) {
        let b = self.frame.bottom;
        out.push_str(&format!(
            "<g fill=\"{MUTED}\" font-size=\"10\" text-anchor=\"middle\">\n"
        ));
        for (value, label) in self.x.ticks() {
            let x = P(self.x(value));
            emit!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{GRID}\"/>\n",
                P(self.frame.top),
                P(b + 4.0)
            );
            emit!(
                out,
                "<text x=\"{x}\" y=\"{}\">{label}</text>\n",
                P(b + 16.0)
            );
        }
        out.push_str("</g>\n");
        emit!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">mean surge instance-hours per refresh</text>\n",
            P((self.frame.left + self.frame.right) / 2.0),
            P(b + 36.0)
        );
    }

    fn render_frontier(&self, out: &mut String) {
        let mut d = String::new();
        for id in &self.frontier {
            let Some((x, y)) = self.points[*id as usize].plotted() else {
                continue;
            };
            let command = if d.is_empty() { "M" } else { "L" };
            emit!(d, "{command}{},{}", P(self.x(x)), P(self.frame.y(y)));
        }
        if !d.is_empty() {
            emit!(
                out,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\" stroke-opacity=\"0.7\"/>\n"
            );
        }
    }

    fn render_point(&self, out: &mut String, p: &TradePoint) {
        let colour = FloorBucket::of(p.floor_fraction).colour();
        let name = variant_name(&self.report.plan.variants[p.id as usize]);
        let (Some(surge), Some((x, y))) = (p.surge_h, self.position(p)) else {
            return;
        };
        match p.duration_min {
            Some((p50, p90)) => {
                let tip = format!(
                    "{}: {name}; surge {} instance-h, duration p50 {} min, p90 {} min",
                    p.id,
                    P(surge),
                    P(p50),
                    P(p90)
                );
                let tip = if p.meets_floor {
                    tip
                } else {
                    format!("{tip}; worst run below the sweep floor")
                };
                self.render_dot(out, x, (p50, p90), colour, p.meets_floor, &tip);
            }
            None => cross(out, x, y, colour, &format!("{}: {name}; never ended", p.id)),
        }
    }

    /// A filled dot for a variant that keeps the floor, an open ring for one that does not.
    fn render_dot(
        &self,
        out: &mut String,
        x: f64,
        (p50, p90): (f64, f64),
        colour: &str,
        meets_floor: bool,
        tip: &str,
    ) {
        emit!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"1.2\"/>\n",
            P(self.frame.y(p50)),
            P(self.frame.y(p90)),
            x = P(x)
        );
        let (fill, stroke, width) = if meets_floor {
            (colour, "#FFFFFF", "0.8")
        } else {
            ("#FFFFFF", colour, "1.5")
        };
        emit!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{width}\"><title>{}</title></circle>\n",
            P(x),
            P(self.frame.y(p50)),
            Esc(tip)
        );
    }

    /// Variants listed under the plot: all of them when few, else the frontier's.
    fn key_rows(&self) -> Vec<&TradePoint> {
        let rows: Vec<&TradePoint> = if self.label_points {
            self.points.iter().collect()
        } else {
            self.points
                .iter()
                .filter(|p| self.on_frontier(p.id))
                .collect()
        };
        rows.into_iter().take(KEY_ROWS_MAX).collect()
    }

    fn render_key(&self, out: &mut String, rows: &[&TradePoint], top: f64) {
        let heading = if self.label_points {
            format!(
                "{} (◆ on the frontier; {} keep the floor)",
                plural(self.points.len(), "variant"),
                self.eligible
            )
        } else {
            format!(
                "{}; only those on the frontier (◆) are numbered and listed, at most {KEY_ROWS_MAX}; summary.csv has all",
                plural(self.points.len(), "variant")
            )
        };
        emit!(
            out,
            "<text x=\"16\" y=\"{}\" font-weight=\"bold\" fill=\"{INK}\">{}</text>\n",
            P(top),
            Esc(&heading)
        );
        let columns = [
            (16.0, "start", "#"),
            (52.0, "start", "settings"),
            (620.0, "end", "surge h"),
            (700.0, "end", "p50 min"),
            (780.0, "end", "p90 min"),
            (860.0, "end", "floor p50"),
            (950.0, "end", "worst run"),
        ];
        out.push_str(&format!("<g fill=\"{INK}\" font-size=\"10\">\n"));
        for (x, anchor, name) in columns {
            emit!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{MUTED}\">{name}</text>\n",
                P(x),
                P(top + 16.0)
            );
        }
        for (i, p) in rows.iter().enumerate() {
            let y = P(top + 31.0 + i as f64 * 15.0);
            let cells = self.key_cells(p);
            for ((x, anchor, _), cell) in columns.iter().zip(cells) {
                emit!(
                    out,
                    "<text x=\"{}\" y=\"{y}\" text-anchor=\"{anchor}\">{}</text>\n",
                    P(*x),
                    Esc(&cell)
                );
            }
        }
        out.push_str("</g>\n");
    }

    fn key_cells(&self, p: &TradePoint) -> [String; 7] {
        let mark = if self.on_frontier(p.id) { " ◆" } else { "" };
        let name = variant_name(&self.report.plan.variants[p.id as usize]);
        [
            format!("{}{mark}", p.id),
            clip(&name, SETTINGS_CHARS_MAX),
            p.surge_h.map_or("–".to_string(), hours_text),
            p.duration_min
                .map_or("never ended".to_string(), |d| P(d.0).to_string()),
            p.duration_min
                .map_or("–".to_string(), |d| P(d.1).to_string()),
            p.floor_fraction
                .and_then(finite)
                .map_or("–".to_string(), |f| format!("{} %", P(f * 100.0))),
            p.worst_fraction
                .and_then(finite)
                .map_or("–".to_string(), |f| {
                    let below = if p.meets_floor { "" } else { " ✗" };
                    format!("{} %{below}", P(f * 100.0))
                }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::{Axis, expand};
    use crate::sweep::stats::{METRICS, MetricSummary, VariantStats, spread};

    fn plan(axes: &[&str]) -> Plan {
        let axes: Vec<Axis> = axes.iter().map(|a| Axis::parse(a).unwrap()).collect();
        Plan {
            scenario_path: "scenarios/x.toml".into(),
            scenario_name: "x <&> y".into(),
            scenario_sha256: "abc123".into(),
            version: "9.8.7".into(),
            variants: expand(&axes).unwrap(),
            axes,
            runs: 4,
            seed: 42,
            floor_permille: 800,
            scenario_floor_permille: 800,
            baseline: 0,
        }
    }

    /// Stats with the three charted metrics from the given values (seconds, fractions,
    /// seconds); every other metric has no value.
    fn stats(duration_s: &[f64], fraction: &[f64], surge_s: &[f64]) -> VariantStats {
        VariantStats {
            metrics: METRICS
                .iter()
                .map(|def| MetricSummary {
                    def: def.name,
                    spread: match def.name {
                        "duration_s" => spread(duration_s),
                        "min_in_service_fraction" => spread(fraction),
                        "surge_instance_s" => spread(surge_s),
                        _ => None,
                    },
                    vs_baseline: None,
                })
                .collect(),
            probabilities: Vec::new(),
            statuses: Vec::new(),
            api_codes: Vec::new(),
        }
    }

    /// Variant v: durations around (10 + v) minutes, floors 0.9 down to 0.7, surge v hours.
    fn typical(plan: &Plan) -> Vec<VariantStats> {
        plan.variants
            .iter()
            .map(|v| {
                let base = 600.0 + 60.0 * f64::from(v.id);
                stats(
                    &[base, base + 30.0, base + 90.0, base + 300.0],
                    &[0.9, 0.85, 0.8 - 0.05 * f64::from(v.id), 0.9],
                    &[3600.0 * f64::from(v.id); 4],
                )
            })
            .collect()
    }

    fn charts(plan: &Plan, stats: &[VariantStats]) -> Vec<(String, String)> {
        sweep_charts(&Report { plan, stats })
    }

    /// Starts and ends as an SVG document, every element closes in order, and no number
    /// came out as NaN or infinity.
    fn assert_well_formed(name: &str, svg: &str) {
        assert!(svg.starts_with("<svg "), "{name}");
        assert!(svg.ends_with("</svg>\n"), "{name}");
        let mut open: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = start + rest[start..].find('>').expect("tag closes");
            let tag = &rest[start + 1..end];
            if let Some(closing) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(closing), "{name}: mismatched </{closing}>");
            } else if !tag.ends_with('/') {
                open.push(tag.split_whitespace().next().expect("tag name"));
            }
            rest = &rest[end + 1..];
        }
        assert!(open.is_empty(), "{name}: unclosed {open:?}");
        for bad in ["NaN", "inf", "Inf"] {
            assert!(!svg.contains(bad), "{name} contains {bad}");
        }
    }

    #[test]
    fn two_axes_give_duration_then_capacity_charts_then_the_tradeoff() {
        let p = plan(&["BatchNumber=5,10", "MaxSurge=0,1"]);
        let out = charts(&p, &typical(&p));
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "duration-by-batchnumber.svg",
                "duration-by-maxsurge.svg",
                "capacity-by-batchnumber.svg",
                "capacity-by-maxsurge.svg",
                "tradeoff.svg",
            ]
        );
        for (name, svg) in &out {
            assert_well_formed(name, svg);
            assert!(svg.contains("width=\"1000.0\""), "{name}");
            assert!(
                svg.contains(
                    "<desc>refreshsim 9.8.7; scenario &quot;x &lt;&amp;&gt; y&quot;; sweep seed 42; 4 runs per variant; scenario sha256 abc123</desc>"
                ),
                "{name}"
            );
        }
        let duration = &out[0].1;
        assert!(
            duration.contains(
                "Refresh duration by BatchNumber (p50 line, p10–p99 whiskers, tick at p90)"
            )
        );
        // One series per MaxSurge value, named in the legend.
        assert!(duration.contains(">MaxSurge=0</text>") && duration.contains(">MaxSurge=1</text>"));
        assert!(out[2].1.contains("sweep floor 80 %"));
        assert!(out[4].1.contains("Duration against surge cost"));
        assert!(out[4].1.contains("BatchNumber=10, MaxSurge=1"));
    }

    #[test]
    fn charts_are_the_same_bytes_every_time() {
        let p = plan(&["BatchNumber=5,10", "MaxSurge=0,1"]);
        let s = typical(&p);
        assert_eq!(charts(&p, &s), charts(&p, &s));
    }

    #[test]
    fn variants_that_never_ended_are_shown_not_dropped() {
        let p = plan(&["BatchNumber=5,10", "MaxSurge=0,1"]);
        let mut s = typical(&p);
        s[3] = stats(&[], &[0.5], &[7200.0]);
        let out = charts(&p, &s);
        for (name, svg) in &out {
            assert_well_formed(name, svg);
        }
        assert!(out[0].1.contains(">never ended</text>"));
        assert!(
            out[0]
                .1
                .contains("<title>BatchNumber=10, MaxSurge=1: never ended</title>")
        );
        assert!(
            out[4]
                .1
                .contains("3: BatchNumber=10, MaxSurge=1; never ended")
        );
        // The capacity chart still has a value for it.
        assert!(!out[2].1.contains("no value</text>"));
    }

    #[test]
    fn degenerate_data_never_prints_nan_or_infinity() {
        let one = plan(&[]);
        let cases: Vec<(Plan, Vec<VariantStats>)> = vec![
            (one.clone(), vec![stats(&[60.0; 3], &[1.0; 3], &[0.0; 3])]),
            (one.clone(), vec![stats(&[], &[], &[])]),
            (one.clone(), vec![stats(&[0.0], &[0.0], &[0.0])]),
            (one, Vec::new()),
            (
                plan(&["BatchNumber=5,10"]),
                vec![stats(&[5.0; 2], &[1.0; 2], &[0.0; 2]); 2],
            ),
            (plan(&["BatchNumber=5,10"]), vec![stats(&[], &[], &[]); 2]),
        ];
        for (p, s) in &cases {
            let out = charts(p, s);
            let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
            if p.axes.is_empty() {
                assert_eq!(names, ["tradeoff.svg"]);
            }
            for (name, svg) in &out {
                assert_well_formed(name, svg);
            }
        }
    }

    #[test]
    fn more_than_eight_series_are_cut_and_said_so() {
        let p = plan(&["BatchNumber=1..=10", "MaxSurge=0,1"]);
        let out = charts(&p, &typical(&p));
        let by_maxsurge = &out[1].1;
        assert!(
            by_maxsurge.contains(
                "10 combinations of the other settings; the first 8 are drawn, 2 left out"
            )
        );
        assert_eq!(by_maxsurge.matches("<path d=").count(), 8);
        assert!(!out[0].1.contains("left out"));
    }

    #[test]
    fn slugs_are_lower_case_dashed_and_unique() {
        assert_eq!(slug("BatchNumber"), "batchnumber");
        assert_eq!(slug("reinstall_failure_rate"), "reinstall-failure-rate");
        let p = plan(&[
            "group.instances[0].standby=true,false",
            "group.instances[1].standby=true,false",
            "faults.reinstall_failure_rate=0,0.1",
        ]);
        assert_eq!(
            axis_slugs(&p),
            ["standby", "standby-2", "reinstall-failure-rate"]
        );
        let names: Vec<String> = charts(&p, &typical(&p)).into_iter().map(|c| c.0).collect();
        assert_eq!(names[1], "duration-by-standby-2.svg");
    }

    /// The frontier is computed among the variants whose worst run keeps the floor: a variant
    /// both cheapest and fastest but below the floor is drawn open, not on the line.
    #[test]
    fn the_tradeoff_frontier_keeps_the_sweep_floor() {
        let p = plan(&["MaxSurge=0,1,2"]);
        let s = vec![
            stats(&[600.0; 4], &[0.7, 0.9, 0.9, 0.9], &[0.0; 4]),
            stats(&[900.0; 4], &[0.85; 4], &[3600.0; 4]),
            stats(&[1200.0; 4], &[0.95; 4], &[0.0; 4]),
        ];
        let report = Report {
            plan: &p,
            stats: &s,
        };
        let trade = super::super::tradeoff::tradeoff(&report);
        assert_eq!(trade.meets_floor, [false, true, true]);
        // Unconstrained, variant 0 would dominate both; among those that keep 80 %, 2 is the
        // cheapest and 1 the fastest.
        assert_eq!(trade.frontier, [2, 1]);
        let svg = &charts(&p, &s)[2].1;
        assert!(svg.contains(
            "Pareto frontier among the 2 variants whose worst run keeps the sweep floor 80 % (of 3"
        ));
        assert!(svg.contains("worst run below the sweep floor</title>"));
        assert!(
            svg.contains(">70.0 % ✗</text>"),
            "the key marks the variant below the floor"
        );
        // No variant keeps a 99 % floor: no frontier, and the chart says why.
        let strict = Plan {
            floor_permille: 990,
            ..p.clone()
        };
        let svg = &charts(&strict, &s)[2].1;
        assert!(
            svg.contains("no frontier: no variant&apos;s worst run keeps the sweep floor 99 %")
        );
        assert!(!svg.contains("stroke-opacity=\"0.7\""), "no frontier line");
    }

    #[test]
    fn capacity_charts_say_why_a_whisker_is_missing() {
        let p = plan(&["MaxSurge=0,1"]);
        let spread_floor = vec![
            stats(&[600.0; 4], &[0.9, 0.8, 0.9, 0.9], &[0.0; 4]),
            stats(&[600.0; 4], &[0.9; 4], &[0.0; 4]),
        ];
        let out = charts(&p, &spread_floor);
        let capacity = &out[1].1;
        assert!(capacity.contains(
            "no whisker on 1 of 2 variants: there the worst run&apos;s floor equals the p50"
        ));
        let flat = vec![stats(&[600.0; 4], &[0.9; 4], &[0.0; 4]); 2];
        let capacity = &charts(&p, &flat)[1].1;
        assert!(capacity.contains(
            "no whiskers show: in every variant the worst run&apos;s floor equals the p50"
        ));
        // Duration charts have no such note, and whiskered capacity charts neither.
        assert!(!charts(&p, &flat)[0].1.contains("no whisker"));
        let whiskered = vec![stats(&[600.0; 4], &[0.9, 0.8, 0.9, 0.9], &[0.0; 4]); 2];
        assert!(!charts(&p, &whiskered)[1].1.contains("no whisker"));
    }

    #[test]
    fn nice_scales_use_round_steps_and_exact_labels() {
        let s = NiceScale::covering(0.0, 37.0);
        let labels: Vec<String> = s.ticks().map(|t| t.1).collect();
        assert_eq!(labels, ["0", "10", "20", "30", "40"]);
        let s = NiceScale::covering(0.0, 0.0);
        let labels: Vec<String> = s.ticks().map(|t| t.1).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let s = NiceScale::covering(72.5, 100.0);
        assert_eq!((s.lo(), s.hi()), (70.0, 100.0));
        let s = NiceScale::covering(0.0, 0.013);
        assert_eq!(s.ticks().last().unwrap().1, "0.015");
        let s = NiceScale::covering(f64::NAN, f64::INFINITY);
        assert!(s.hi() > s.lo());
        assert_eq!(s.fraction(s.hi()), 1.0);
    }

    #[test]
    fn floor_buckets_and_percentages() {
        assert_eq!(FloorBucket::of(Some(0.95)), FloorBucket::AtLeast95);
        assert_eq!(FloorBucket::of(Some(19.0 / 20.0)), FloorBucket::AtLeast95);
        assert_eq!(FloorBucket::of(Some(0.9)), FloorBucket::From90To95);
        assert_eq!(FloorBucket::of(Some(0.79)), FloorBucket::Below80);
        assert_eq!(FloorBucket::of(None), FloorBucket::NoValue);
        assert_eq!(permille_text(800), "80 %");
        assert_eq!(permille_text(975), "97.5 %");
    }
}
