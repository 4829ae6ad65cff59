//! The grid of a sweep: the varied settings and their values (from `--vary` or the file's
//! `[sweep]` section), expanded into variants in a fixed order, the first key outermost.

use crate::scenario::file::VaryEntry;
use crate::scenario::overrides::Override;
use serde_json::Value;

/// Most values one key may take.
pub const MAX_VALUES_PER_KEY: usize = 1_000;
/// Most variants a grid may expand to.
pub const MAX_VARIANTS: usize = 2_000;
/// Most keys varied at once.
pub const MAX_KEYS: usize = 8;

/// One varied setting: its values, each already a checked `KEY=VALUE` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key_text: String,
    pub options: Vec<Override>,
}

impl Axis {
    /// `KEY=V1,V2,...` or `KEY=A..=B:STEP` (commas inside quotes, `{}` or `[]` do not split).
    pub fn parse(text: &str) -> Result<Axis, String> {
        let Some((key, values)) = text.split_once('=') else {
            return Err(format!(
                "expected KEY=V1,V2,... or KEY=A..=B:STEP, found `{text}`"
            ));
        };
        let key = key.trim();
        let values = values.trim();
        let texts: Vec<String> = match parse_range(values)? {
            Some(range) => range,
            None => split_top_level(values)
                .into_iter()
                .map(|v| v.trim().to_string())
                .collect(),
        };
        let options = texts
            .iter()
            .map(|v| {
                Override::parse(&format!("{key}={v}"))
                    .map_err(|m| format!("`{key}` value `{v}`: {m}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Axis::checked(key, options)
    }

    /// An entry of `[[sweep.vary]]`, with the field each value comes from. Errors carry the
    /// field they concern.
    pub fn from_entry(
        entry: &VaryEntry,
        field: &str,
    ) -> Result<(Axis, Vec<String>), (String, String)> {
        let key = entry.key.trim();
        let (options, fields) = match (&entry.values, &entry.range) {
            (Some(_), Some(_)) | (None, None) => {
                return Err((
                    field.to_string(),
                    "expected either `values` or `range`, not both or neither".to_string(),
                ));
            }
            (Some(values), None) => {
                let fields: Vec<String> = (0..values.len())
                    .map(|i| format!("{field}.values[{i}]"))
                    .collect();
                let options = values
                    .iter()
                    .zip(&fields)
                    .map(|(v, f)| Override::new(key, v.clone()).map_err(|m| (f.clone(), m)))
                    .collect::<Result<Vec<_>, _>>()?;
                (options, fields)
            }
            (None, Some(range)) => {
                let texts = parse_range(range)
                    .and_then(|r| {
                        r.ok_or_else(|| {
                            format!("expected a range like \"2..=20:2\", found {range:?}")
                        })
                    })
                    .map_err(|m| (format!("{field}.range"), m))?;
                let options = texts
                    .iter()
                    .map(|v| {
                        Override::parse(&format!("{key}={v}"))
                            .map_err(|m| (format!("{field}.range"), m))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                (options, vec![format!("{field}.range"); texts.len()])
            }
        };
        let axis = Axis::checked(key, options).map_err(|m| (field.to_string(), m))?;
        Ok((axis, fields))
    }

    fn checked(key: &str, options: Vec<Override>) -> Result<Axis, String> {
        if options.is_empty() {
            return Err(format!("`{key}` has no values"));
        }
        if options.len() > MAX_VALUES_PER_KEY {
            return Err(format!(
                "`{key}` has {} values; at most {MAX_VALUES_PER_KEY} are accepted",
                options.len()
            ));
        }
        for (i, o) in options.iter().enumerate() {
            if options[..i].iter().any(|p| p.value == o.value) {
                return Err(format!("`{key}` lists the value `{}` twice", o.value_text));
            }
        }
        Ok(Axis {
            key_text: key.to_string(),
            options,
        })
    }
}

/// One point of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub id: u32,
    /// One override per axis, in axis order.
    pub overrides: Vec<Override>,
}

impl Variant {
    /// `KEY=V, KEY=V` as written; `(as written)` for a sweep without axes.
    pub fn label(&self) -> String {
        if self.overrides.is_empty() {
            return "(the scenario as written)".to_string();
        }
        self.overrides
            .iter()
            .map(Override::text)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `SHORT=V, SHORT=V` (last key segments), for tables and charts; `--baseline` takes it.
    pub fn short_label(&self) -> String {
        if self.overrides.is_empty() {
            return self.label();
        }
        self.overrides
            .iter()
            .map(|o| format!("{}={}", o.key.short_name(), o.value_text))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The variants of `axes`: their cartesian product, the first axis outermost. No axes → one
/// variant, the scenario as written.
pub fn expand(axes: &[Axis]) -> Result<Vec<Variant>, String> {
    if axes.len() > MAX_KEYS {
        return Err(format!(
            "{} keys are varied; at most {MAX_KEYS} are accepted",
            axes.len()
        ));
    }
    for (i, a) in axes.iter().enumerate() {
        if axes[..i]
            .iter()
            .any(|b| b.options[0].key == a.options[0].key)
        {
            return Err(format!("`{}` is varied twice", a.key_text));
        }
    }
    let count = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.options.len()))
        .filter(|n| *n <= MAX_VARIANTS)
        .ok_or_else(|| {
            format!(
                "the grid has more than {MAX_VARIANTS} variants ({}); vary fewer values",
                axes.iter()
                    .map(|a| a.options.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" × ")
            )
        })?;
    Ok((0..count)
        .map(|id| {
            let mut rest = id;
            let mut overrides = vec![None; axes.len()];
            for (slot, axis) in axes.iter().enumerate().rev() {
                overrides[slot] = Some(axis.options[rest % axis.options.len()].clone());
                rest /= axis.options.len();
            }
            Variant {
                id: id as u32,
                overrides: overrides.into_iter().map(|o| o.expect("filled")).collect(),
            }
        })
        .collect())
}

/// Splits at commas that are not inside quotes, `{}` or `[]`.
pub fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut escaped, mut start) = (0i32, None::<char>, false, 0);
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            },
        }
    }
    parts.push(&text[start..]);
    parts
}

/// `A..=B` or `A..=B:STEP` (integers or decimals; STEP defaults to 1) as value texts, or
/// `None` when `text` is not a range.
pub fn parse_range(text: &str) -> Result<Option<Vec<String>>, String> {
    let text = text.trim();
    let Some(dots) = text.find("..") else {
        return Ok(None);
    };
    // Only plain numbers make a range; anything else (a quoted string) is a value.
    let looks_numeric = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | '=' | ':' | ' '))
    };
    if !looks_numeric(text) {
        return Ok(None);
    }
    let (from, rest) = (&text[..dots], &text[dots + 2..]);
    let Some(rest) = rest.strip_prefix('=') else {
        return Err(format!(
            "`{text}`: only inclusive ranges are accepted; write `{from}..={}`",
            rest.trim()
        ));
    };
    let (to, step) = match rest.split_once(':') {
        Some((to, step)) => (to, step),
        None => (rest, "1"),
    };
    let [from, to, step] = [from, to, step].map(str::trim);
    let places = [from, to, step]
        .iter()
        .map(|s| s.split_once('.').map_or(0, |(_, f)| f.len()))
        .max()
        .unwrap_or(0);
    if places > 9 {
        return Err(format!("`{text}`: at most 9 decimal places"));
    }
    let scaled = |s: &str| -> Result<i64, String> {
        to_scaled(s, places).map_err(|m| format!("`{text}`: {m}"))
    };
    let (a, b, d) = (scaled(from)?, scaled(to)?, scaled(step)?);
    if d <= 0 {
        return Err(format!("`{text}`: the step must be positive"));
    }
    if b < a {
        return Err(format!("`{text}`: the end is below the start"));
    }
    let count = (b - a) / d + 1;
    if count as usize > MAX_VALUES_PER_KEY {
        return Err(format!(
            "`{text}` has {count} values; at most {MAX_VALUES_PER_KEY} are accepted"
        ));
    }
    Ok(Some(
        (0..count).map(|i| from_scaled(a + i * d, places)).collect(),
    ))
}

/// `"1.25"` with 3 places → 1250, exactly.
fn to_scaled(text: &str, places: usize) -> Result<i64, String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !ok(whole) || !ok(frac) {
        return Err(format!("expected a number, found `{text}`"));
    }
    let padded = format!("{whole}{frac:0<places$}");
    let value: i64 = padded
        .parse()
        .map_err(|_| format!("`{text}` is too large"))?;
    Ok(if negative { -value } else { value })
}

fn from_scaled(value: i64, places: usize) -> String {
    if places == 0 {
        return value.to_string();
    }
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    let unit = 10u64.pow(places as u32);
    format!(
        "{sign}{}.{:0places$}",
        magnitude / unit,
        magnitude % unit,
        places = places
    )
}

/// Which variant `text` names: its number, or `KEY=VALUE, ...` matching exactly one variant.
pub fn find_variant(variants: &[Variant], text: &str) -> Result<u32, String> {
    let text = text.trim();
    if let Ok(id) = text.parse::<u32>() {
        return if (id as usize) < variants.len() {
            Ok(id)
        } else {
            Err(format!(
                "there is no variant {id}; the grid has {} (numbered from 0)",
                variants.len()
            ))
        };
    }
    let wanted = split_top_level(text)
        .into_iter()
        .map(|part| Override::parse(part.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let matches: Vec<u32> = variants
        .iter()
        .filter(|v| {
            wanted.iter().all(|w| {
                v.overrides
                    .iter()
                    .any(|o| o.key == w.key && o.value == w.value)
            })
        })
        .map(|v| v.id)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("no variant has {text}")),
        many => Err(format!(
            "{} variants have {text}; name every varied key or give the variant number",
            many.len()
        )),
    }
}

/// A `baseline` given in a `[sweep]` section: a number or a `KEY=VALUE, ...` string.
pub fn baseline_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_at_top_level_commas_only() {
        assert_eq!(split_top_level("1,2, 3"), vec!["1", "2", " 3"]);
        assert_eq!(
            split_top_level("{ a = 1, b = 2 },\"x,y\",[1,2]"),
            vec!["{ a = 1, b = 2 }", "\"x,y\"", "[1,2]"]
        );
    }

    #[test]
    fn ranges_are_inclusive_with_exact_decimal_steps() {
        assert_eq!(
            parse_range("2..=10:2").unwrap().unwrap(),
            vec!["2", "4", "6", "8", "10"]
        );
        assert_eq!(parse_range("5..=7").unwrap().unwrap(), vec!["5", "6", "7"]);
        assert_eq!(
            parse_range("1..=8:3").unwrap().unwrap(),
            vec!["1", "4", "7"]
        );
        assert_eq!(
            parse_range("0.01..=0.05:0.01").unwrap().unwrap(),
            vec!["0.01", "0.02", "0.03", "0.04", "0.05"]
        );
        assert_eq!(parse_range("AUTO_PAUSE").unwrap(), None);
        assert_eq!(parse_range("\"a..b\"").unwrap(), None);
        assert!(parse_range("2..20").unwrap_err().contains("2..=20"));
        assert!(parse_range("5..=1").unwrap_err().contains("below"));
        assert!(parse_range("1..=5:0").unwrap_err().contains("positive"));
        assert!(parse_range("1..=5000").unwrap_err().contains("at most"));
        assert!(parse_range("1..=x").is_ok_and(|r| r.is_none()));
    }

    #[test]
    fn axes_parse_lists_ranges_and_refuse_bad_keys_and_duplicates() {
        let a = Axis::parse("RollingUpdateSettings.BatchNumber=5..=20:5").unwrap();
        let texts: Vec<_> = a.options.iter().map(|o| o.value_text.as_str()).collect();
        assert_eq!(texts, ["5", "10", "15", "20"]);
        let a = Axis::parse("FailProcess=AUTO_PAUSE,AUTO_CANCEL").unwrap();
        assert_eq!(a.options.len(), 2);
        assert!(
            Axis::parse("BatchNumbr=1,2")
                .unwrap_err()
                .contains("unknown setting")
        );
        assert!(
            Axis::parse("BatchNumber=1,1")
                .unwrap_err()
                .contains("twice")
        );
        assert!(Axis::parse("BatchNumber").unwrap_err().contains("KEY=V1"));
        assert!(
            Axis::parse("MaxSurge=0,batch/0")
                .unwrap_err()
                .contains("batch/K")
        );
    }

    #[test]
    fn the_grid_is_a_product_with_the_first_key_outermost() {
        let axes = [
            Axis::parse("BatchNumber=5,10").unwrap(),
            Axis::parse("MaxSurge=0,1,2").unwrap(),
        ];
        let variants = expand(&axes).unwrap();
        let labels: Vec<String> = variants.iter().map(Variant::label).collect();
        assert_eq!(
            labels,
            [
                "BatchNumber=5, MaxSurge=0",
                "BatchNumber=5, MaxSurge=1",
                "BatchNumber=5, MaxSurge=2",
                "BatchNumber=10, MaxSurge=0",
                "BatchNumber=10, MaxSurge=1",
                "BatchNumber=10, MaxSurge=2",
            ]
        );
        assert_eq!(expand(&[]).unwrap().len(), 1);
        let twice = [
            Axis::parse("BatchNumber=5").unwrap(),
            Axis::parse("RollingUpdateSettings.BatchNumber=6").unwrap(),
        ];
        assert!(expand(&twice).unwrap_err().contains("twice"));
        let big = [
            Axis::parse("BatchNumber=1..=100").unwrap(),
            Axis::parse("MaxSurge=0..=100").unwrap(),
        ];
        assert!(expand(&big).unwrap_err().contains("100 × 101"));
    }

    #[test]
    fn baselines_are_found_by_number_or_settings() {
        let axes = [
            Axis::parse("BatchNumber=5,10").unwrap(),
            Axis::parse("MaxSurge=0,1").unwrap(),
        ];
        let variants = expand(&axes).unwrap();
        assert_eq!(find_variant(&variants, "3").unwrap(), 3);
        assert!(find_variant(&variants, "4").is_err());
        assert_eq!(
            find_variant(&variants, "BatchNumber=10, MaxSurge=0").unwrap(),
            2
        );
        assert!(
            find_variant(&variants, "BatchNumber=10")
                .unwrap_err()
                .contains("2 variants")
        );
        assert!(
            find_variant(&variants, "BatchNumber=7")
                .unwrap_err()
                .contains("no variant")
        );
    }
}
