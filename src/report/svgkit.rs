//! Shared pieces of the hand-written SVG charts (the run chart in `svg`, the sweep charts in
//! `sweep::charts`): a byte-stable coordinate formatter, XML escaping, the palette, a text-width
//! estimate and the document header.
//!
//! Every number that reaches a file goes through `P` (one decimal) or integer formatting, so
//! the bytes depend only on the arithmetic, never on float-to-shortest-string details (D3).

use std::fmt::{self, Display, Write};

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
pub const GREEN: &str = "#009E73";
pub const ORANGE: &str = "#E69F00";
pub const VERMILLION: &str = "#D55E00";
pub const SKY: &str = "#56B4E9";
pub const BLUE: &str = "#0072B2";
pub const PURPLE: &str = "#CC79A7";
pub const YELLOW: &str = "#F0E442";
pub const BLACK: &str = "#000000";
/// Not an Okabe–Ito colour: the neutral for cancelled / no-value marks.
pub const GREY: &str = "#999999";
pub const INK: &str = "#222222";
pub const MUTED: &str = "#666666";
pub const GRID: &str = "#E4E4E4";

/// Writes formatted text to a `String` (which cannot fail). Works on a `String` or a
/// `&mut String` without the caller importing `fmt::Write`.
macro_rules! emit {
    ($out:expr, $($arg:tt)*) => {
        {
            use ::std::fmt::Write as _;
            $out.write_fmt(format_args!($($arg)*))
                .expect("writing to a String never fails")
        }
    };
}
pub(crate) use emit;

/// A coordinate or length, always printed with one decimal so the output is byte-stable.
#[derive(Debug, Clone, Copy)]
pub struct P(pub f64);

impl Display for P {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// Text escaped for XML character data and attribute values. Characters XML 1.0 forbids
/// (most C0 controls) become U+FFFD so any scenario name still yields a well-formed file.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\t' | '\n' | '\r' => f.write_char(c)?,
                c if u32::from(c) < 0x20 => f.write_char('\u{FFFD}')?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Estimated advance of `text` in a generic sans-serif font, erring wide. Used only to size
/// label columns and space legends; the viewer's actual font is unknown.
pub fn text_width(text: &str, font_px: f64) -> f64 {
    let em: f64 =
        text.chars()
            .map(|c| match c {
                'i' | 'j' | 'l' | 'f' | 't' | 'r' | 'I' | '.' | ',' | ':' | ';' | '!' | '|'
                | ' ' => 0.34,
                'm' | 'w' | 'M' | 'W' => 0.9,
                'a'..='z' => 0.6,
                '0'..='9' => 0.64,
                'A'..='Z' => 0.74,
                _ => 0.64,
            })
            .sum();
    em * font_px
}

/// The `<svg>` element with its `<title>`, `<desc>` (who made it, D9) and a white background.
/// Fonts are the generic `sans-serif` family so the file needs nothing external.
pub fn open_svg(out: &mut String, width: f64, height: f64, title: &str, desc: &str) {
    emit!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">\n",
        w = P(width),
        h = P(height)
    );
    emit!(out, "<title>{}</title>\n", Esc(title));
    emit!(out, "<desc>{}</desc>\n", Esc(desc));
    emit!(
        out,
        "<rect width=\"{}\" height=\"{}\" fill=\"#FFFFFF\"/>\n",
        P(width),
        P(height)
    );
}

/// Greedy line breaking of legend entries into lines at most `width` wide.
pub fn flow_legend<T>(entries: Vec<T>, width: f64, entry_width: impl Fn(&T) -> f64) -> Vec<Vec<T>> {
    let mut lines: Vec<Vec<T>> = Vec::new();
    let mut used = 0.0;
    for entry in entries {
        let w = entry_width(&entry);
        match lines.last_mut() {
            Some(line) if used + w <= width => line.push(entry),
            Some(_) | None => {
                lines.push(vec![entry]);
                used = 0.0;
            }
        }
        used += w;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_one_decimal_and_text_is_escaped() {
        assert_eq!(P(1.25).to_string(), "1.2");
        assert_eq!(P(-0.04).to_string(), "-0.0");
        assert_eq!(
            Esc("a<b & \"c\"\u{1}").to_string(),
            "a&lt;b &amp; &quot;c&quot;\u{FFFD}"
        );
    }

    #[test]
    fn the_macro_writes_to_strings_and_references() {
        let mut s = String::new();
        emit!(s, "{}", 1);
        let r = &mut s;
        emit!(r, "{}", 2);
        assert_eq!(s, "12");
    }
}
