//! A suite's results as a chart: one SVG per result file, bars of ours /
//! baseline on a logarithmic scale around 1 (the baseline), so twice as
//! fast and twice as slow are bars of the same length on either side.
//! Rows without a ratio are listed under the bars with their figure.
//!
//! The chart is made from the rows alone (no clock, no randomness): the
//! same JSON always gives the same SVG, which is how the book step checks
//! that a committed chart is the drawing of the committed results.

use std::fmt::Write as _;

use super::Row;

/// The drawing's least width, in pixels; it is wider when a line of text
/// needs it.
const WIDTH: f64 = 720.0;
/// The width of a character of text, taken generously (12 px sans-serif).
const CHAR: f64 = 7.0;
/// Left and right margins.
const MARGIN: f64 = 12.0;
/// Height of a row with a bar: its name above, the bar below.
const ROW: f64 = 40.0;
/// Height of a line of text.
const LINE: f64 = 18.0;
/// The scale never shows less than a factor of this on each side of 1.
const MIN_SPAN: f64 = 2.0;
/// Ratios beyond a factor of this either side are drawn at the edge.
const MAX_SPAN: f64 = 1024.0;

/// The SVG of `suite`'s `rows`.
pub fn svg(suite: &str, rows: &[Row]) -> String {
    let drawn: Vec<(&Row, f64)> = rows
        .iter()
        .filter_map(|row| {
            let r = row.ratio?;
            (r.is_finite() && r > 0.0).then_some((row, r))
        })
        .collect();
    let listed: Vec<&Row> = rows
        .iter()
        .filter(|row| !drawn.iter().any(|(d, _)| std::ptr::eq(*d, *row)))
        .collect();
    // The scale: a power of two on each side of 1, enough for every bar.
    let mut span = MIN_SPAN;
    for (_, r) in &drawn {
        while span < MAX_SPAN && (*r > span || *r < 1.0 / span) {
            span *= 2.0;
        }
    }
    let label = |row: &Row| {
        format!(
            "{} — vs {}",
            row.name,
            row.baseline.as_deref().unwrap_or("baseline")
        )
    };
    let unlisted = |row: &Row| {
        format!(
            "{}: {} {} (no baseline)",
            row.name,
            figure(row.ours),
            row.unit
        )
    };
    let longest = drawn
        .iter()
        .map(|(row, _)| label(row).chars().count())
        .chain(listed.iter().map(|row| unlisted(row).chars().count()))
        .max()
        .unwrap_or(0);
    let width = WIDTH.max(2.0 * MARGIN + CHAR * longest as f64).round();
    let top = 2.0 * LINE + 8.0;
    let axis = top + ROW * drawn.len() as f64;
    let height = axis + 2.0 * LINE + LINE * listed.len() as f64 + 8.0;
    let left = MARGIN;
    let right = width - MARGIN - 60.0;
    let x = |ratio: f64| {
        let t = (ratio.clamp(1.0 / span, span).log2() + span.log2()) / (2.0 * span.log2());
        left + t * (right - left)
    };
    let one = x(1.0);

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<title>{}: ours / baseline, lower is better</title>"#,
        escape(suite)
    );
    let _ = writeln!(
        out,
        r#"<rect width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="{LINE}" font-weight="bold" font-size="14">{}</text>"#,
        escape(suite)
    );
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="{}" fill="dimgray">ours / baseline (logarithmic; left of the line is better)</text>"#,
        2.0 * LINE
    );
    for (i, (row, ratio)) in drawn.iter().enumerate() {
        let y = top + ROW * i as f64;
        let _ = writeln!(
            out,
            r#"<text x="{left}" y="{:.1}">{}</text>"#,
            y + 14.0,
            escape(&label(row))
        );
        let end = x(*ratio);
        let (from, to) = if end < one { (end, one) } else { (one, end) };
        let fill = if *ratio <= 1.0 { "#3a7d44" } else { "#c8553d" };
        // The baseline's line, across the bar.
        let _ = writeln!(
            out,
            r#"<line x1="{one:.1}" y1="{:.1}" x2="{one:.1}" y2="{:.1}" stroke="black"/>"#,
            y + 17.0,
            y + 37.0
        );
        let _ = writeln!(
            out,
            r#"<rect x="{from:.1}" y="{:.1}" width="{:.1}" height="14" fill="{fill}"/>"#,
            y + 20.0,
            (to - from).max(1.0)
        );
        // The figure at the bar's outer end, or right of the baseline's
        // line when a bar to the left leaves no room before the edge.
        let (at, anchor) = if end >= one {
            (end + 4.0, "start")
        } else if from - left >= 48.0 {
            (from - 4.0, "end")
        } else {
            (one + 4.0, "start")
        };
        let _ = writeln!(
            out,
            r#"<text x="{at:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            y + 32.0,
            escape(&format!("{}×", figure(*ratio)))
        );
    }
    // The scale: its ends and the baseline.
    for (ratio, anchor) in [(1.0 / span, "start"), (1.0, "middle"), (span, "end")] {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="dimgray">{}×</text>"#,
            x(ratio),
            axis + LINE,
            figure(ratio)
        );
    }
    for (i, row) in listed.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{left}" y="{:.1}" fill="dimgray">{}</text>"#,
            axis + 2.0 * LINE + LINE * i as f64 + 4.0,
            escape(&unlisted(row))
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A figure as people write it: three significant digits, no exponent for
/// the ratios and counts benchmarks give.
fn figure(value: f64) -> String {
    if !value.is_finite() {
        return "?".to_owned();
    }
    let abs = value.abs();
    if abs >= 100.0 || abs == 0.0 {
        format!("{value:.0}")
    } else if abs >= 10.0 {
        format!("{value:.1}")
    } else if abs >= 1.0 {
        format!("{value:.2}")
    } else {
        // Three significant digits below 1, at most six decimals.
        let decimals = (2.0 - abs.log10().floor()).clamp(2.0, 6.0) as usize;
        format!("{value:.decimals$}")
    }
}

/// `text` as XML character data or an attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, ours: f64, ratio: Option<f64>) -> Row {
        Row {
            name: name.to_owned(),
            unit: "ns".to_owned(),
            ours,
            baseline: ratio.map(|_| "pipe <Linux>".to_owned()),
            baseline_value: ratio.map(|r| ours / r),
            ratio,
        }
    }

    #[test]
    fn bars_for_ratios_and_a_list_for_the_rest() {
        let rows = [
            row("null rpc", 800.0, Some(0.2)),
            row("open & read", 3000.0, Some(3.0)),
            row("image size", 20.0, None),
            row("broken", 1.0, Some(f64::NAN)),
        ];
        let svg = svg("ipc", &rows);
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(
            svg.matches("<rect ").count(),
            1 + 2,
            "background + two bars"
        );
        assert!(svg.contains("open &amp; read — vs pipe &lt;Linux&gt;"));
        assert!(svg.contains("0.200×"));
        assert!(svg.contains("3.00×"));
        assert!(svg.contains("image size: 20.0 ns (no baseline)"));
        assert!(svg.contains("broken: 1.00 ns (no baseline)"));
        // 0.2 and 3 need a scale of 8 on each side.
        assert!(svg.contains(">0.125×<") && svg.contains(">8.00×<"));
        // Same rows, same drawing.
        assert_eq!(svg, super::svg("ipc", &rows));
    }

    #[test]
    fn extreme_ratios_stay_in_the_drawing() {
        let rows = [
            row("tiny", 1.0, Some(1e-300)),
            row("huge", 1.0, Some(1e300)),
        ];
        let svg = svg("x", &rows);
        for part in svg.split(" x=\"").skip(1) {
            let value: f64 = part
                .split('"')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1.0);
            assert!((0.0..=WIDTH).contains(&value), "x = {value} outside");
        }
    }

    #[test]
    fn long_names_widen_the_drawing() {
        let name = "n".repeat(200);
        let svg = svg("x", &[row(&name, 1.0, Some(2.0))]);
        // 200 + 18 characters of text, 7 px each, and the margins.
        assert!(svg.contains(r#"width="1550""#), "{svg}");
    }

    #[test]
    fn empty_suite_is_a_drawing_too() {
        let svg = svg("none", &[]);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
    }

    #[test]
    fn figures() {
        assert_eq!(figure(0.19981), "0.200");
        assert_eq!(figure(1.9192), "1.92");
        assert_eq!(figure(12.34), "12.3");
        assert_eq!(figure(2303.0), "2303");
        assert_eq!(figure(0.0), "0");
        assert_eq!(figure(f64::INFINITY), "?");
        assert_eq!(escape("a\u{1}b"), "a b");
    }
}
