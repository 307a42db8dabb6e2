//! Charts drawn on the server as inline SVG: a stacked bar, a heat map, a sparkline and a
//! progress bar. The geometry is pure functions (tested alone); the markup escapes every label
//! with [`crate::html::escape`].

use std::fmt::Write as _;

use crate::html::{escape, Fragment};

/// One part of a stacked bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// What it counts (shown as its tooltip).
    pub label: String,
    /// How many.
    pub value: u64,
    /// Fill colour (a CSS colour this crate chose).
    pub colour: &'static str,
}

/// Where each of `values` starts and how wide it is on a bar `width` wide: widths in
/// proportion to the values, laid end to end; all zero when the values sum to zero.
pub fn stacked_widths(values: &[u64], width: f64) -> Vec<(f64, f64)> {
    let total: u64 = values.iter().sum();
    let mut x = 0.0;
    values
        .iter()
        .map(|value| {
            let w = if total == 0 {
                0.0
            } else {
                width * (*value as f64) / (total as f64)
            };
            let at = (x, w);
            x += w;
            at
        })
        .collect()
}

/// One bar `width` x `height` of `segments` (a segment of zero is not drawn).
pub fn stacked_bar(segments: &[Segment], width: f64, height: f64) -> Fragment {
    let values: Vec<u64> = segments.iter().map(|s| s.value).collect();
    let mut out = open(width, height, "stacked bar");
    for (segment, (x, w)) in segments.iter().zip(stacked_widths(&values, width)) {
        if w <= 0.0 {
            continue;
        }
        let _ = write!(
            out,
            "<rect x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"{height:.2}\" fill=\"{}\">\
             <title>{}: {}</title></rect>",
            escape(segment.colour),
            escape(&segment.label),
            segment.value
        );
    }
    out.push_str("</svg>");
    Fragment::trusted(out)
}

/// One row of a heat map.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatRow {
    /// The row's label (a domain id).
    pub label: String,
    /// Where the label links to.
    pub href: String,
    /// Per column: the share shading the cell (0 to 1) and the text in it.
    pub cells: Vec<(f64, String)>,
}

/// Width of a heat map's label column, and of each cell; the height of a row.
pub const HEAT_LABEL_W: f64 = 160.0;
/// Width of a heat map cell.
pub const HEAT_CELL_W: f64 = 110.0;
/// Height of a heat map row (the header row too).
pub const HEAT_ROW_H: f64 = 24.0;

/// Top-left corner of the cell at `row`, `column` (row 0 is the first data row, below the
/// header).
pub fn heat_cell_origin(row: usize, column: usize) -> (f64, f64) {
    (
        HEAT_LABEL_W + column as f64 * HEAT_CELL_W,
        (row + 1) as f64 * HEAT_ROW_H,
    )
}

/// The opacity of a cell's fill for `share`: clamped to 0..1, and at least a trace above 0 so
/// a small share still shows.
pub fn heat_opacity(share: f64) -> f64 {
    if share.is_nan() || share <= 0.0 {
        0.0
    } else {
        share.clamp(0.08, 1.0)
    }
}

/// A heat map: a header of `columns`, a row per [`HeatRow`] whose label links to its page,
/// cells shaded in `colour` by their share.
pub fn heat_map(columns: &[&str], rows: &[HeatRow], colour: &'static str) -> Fragment {
    let width = HEAT_LABEL_W + columns.len() as f64 * HEAT_CELL_W;
    let height = (rows.len() + 1) as f64 * HEAT_ROW_H;
    let mut out = open(width, height, "heat map");
    for (column, name) in columns.iter().enumerate() {
        let (x, _) = heat_cell_origin(0, column);
        let _ = write!(
            out,
            "<text x=\"{:.2}\" y=\"{:.2}\" class=\"head\">{}</text>",
            x + 6.0,
            HEAT_ROW_H - 8.0,
            escape(name)
        );
    }
    for (r, row) in rows.iter().enumerate() {
        let (_, y) = heat_cell_origin(r, 0);
        let _ = write!(
            out,
            "<a href=\"{}\"><text x=\"4\" y=\"{:.2}\">{}</text></a>",
            escape(&row.href),
            y + HEAT_ROW_H - 8.0,
            escape(&row.label)
        );
        for (column, (share, text)) in row.cells.iter().enumerate() {
            let (x, y) = heat_cell_origin(r, column);
            let _ = write!(
                out,
                "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" \
                 fill=\"{c}\" fill-opacity=\"{o:.3}\" stroke=\"#ccc\"><title>{t}</title></rect>\
                 <text x=\"{tx:.2}\" y=\"{ty:.2}\">{t}</text>",
                w = HEAT_CELL_W,
                h = HEAT_ROW_H,
                c = escape(colour),
                o = heat_opacity(*share),
                t = escape(text),
                tx = x + 6.0,
                ty = y + HEAT_ROW_H - 8.0,
            );
        }
    }
    out.push_str("</svg>");
    Fragment::trusted(out)
}

/// The points of a sparkline of `values` in a `width` x `height` box: evenly spaced from left
/// to right, 0 at the bottom and the largest value at the top (all at the bottom when none is
/// above 0); one value is a point in the middle.
pub fn sparkline_points(values: &[f64], width: f64, height: f64) -> Vec<(f64, f64)> {
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let y = |v: f64| {
        if max <= 0.0 {
            height
        } else {
            height - height * v.max(0.0) / max
        }
    };
    match values {
        [] => Vec::new(),
        [only] => vec![(width / 2.0, y(*only))],
        _ => {
            let step = width / (values.len() - 1) as f64;
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64 * step, y(*v)))
                .collect()
        }
    }
}

/// A sparkline of `values`, with `label` as its tooltip.
pub fn sparkline(values: &[f64], label: &str, colour: &'static str) -> Fragment {
    let (width, height) = (240.0, 36.0);
    let mut out = open(width, height + 2.0, label);
    let points: Vec<String> = sparkline_points(values, width, height)
        .into_iter()
        .map(|(x, y)| format!("{x:.2},{:.2}", y + 1.0))
        .collect();
    let _ = write!(
        out,
        "<title>{}</title><polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" \
         points=\"{}\"/>",
        escape(label),
        escape(colour),
        points.join(" ")
    );
    if let [only] = points.as_slice() {
        let (x, y) = only.split_once(',').unwrap_or(("0", "0"));
        let _ = write!(
            out,
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"2\" fill=\"{}\"/>",
            escape(colour)
        );
    }
    out.push_str("</svg>");
    Fragment::trusted(out)
}

/// The filled width of a progress bar `width` wide at `percent` (clamped to 0..100).
pub fn progress_width(percent: f64, width: f64) -> f64 {
    if percent.is_nan() {
        return 0.0;
    }
    width * percent.clamp(0.0, 100.0) / 100.0
}

/// A progress bar at `percent`, labelled with it.
pub fn progress_bar(percent: f64) -> Fragment {
    let (width, height) = (300.0, 18.0);
    let mut out = open(width, height, "progress");
    let _ = write!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#e5e5e5\"/>\
         <rect x=\"0\" y=\"0\" width=\"{:.2}\" height=\"{height}\" fill=\"#7b3fb5\"/>\
         <text x=\"6\" y=\"13\">{:.1} %</text></svg>",
        progress_width(percent, width),
        if percent.is_nan() { 0.0 } else { percent }
    );
    Fragment::trusted(out)
}

fn open(width: f64, height: f64, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.2} {height:.2}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_widths_are_proportional_and_end_to_end() {
        let got = stacked_widths(&[1, 0, 3], 400.0);
        assert_eq!(got, vec![(0.0, 100.0), (100.0, 0.0), (100.0, 300.0)]);
        assert_eq!(stacked_widths(&[0, 0], 400.0), vec![(0.0, 0.0), (0.0, 0.0)]);
        let widths = stacked_widths(&[3, 3, 3], 100.0);
        let end = widths.last().map(|(x, w)| x + w).unwrap();
        assert!((end - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_stacked_bar_skips_empty_segments_and_escapes_labels() {
        let segment = |label: &str, value| Segment {
            label: label.to_owned(),
            value,
            colour: "#2e9d44",
        };
        let svg = stacked_bar(&[segment("<live>", 2), segment("gone", 0)], 100.0, 10.0);
        assert_eq!(svg.as_str().matches("<rect").count(), 1);
        assert!(svg.as_str().contains("&lt;live&gt;: 2"));
    }

    #[test]
    fn sparkline_points_span_the_box() {
        let points = sparkline_points(&[0.0, 5.0, 10.0], 100.0, 20.0);
        assert_eq!(points, vec![(0.0, 20.0), (50.0, 10.0), (100.0, 0.0)]);
        assert_eq!(sparkline_points(&[3.0], 100.0, 20.0), vec![(50.0, 0.0)]);
        assert_eq!(sparkline_points(&[0.0, 0.0], 100.0, 20.0)[1], (100.0, 20.0));
        assert!(sparkline_points(&[], 100.0, 20.0).is_empty());
    }

    #[test]
    fn heat_cells_and_progress_widths() {
        assert_eq!(heat_cell_origin(0, 0), (HEAT_LABEL_W, HEAT_ROW_H));
        assert_eq!(
            heat_cell_origin(2, 1),
            (HEAT_LABEL_W + HEAT_CELL_W, 3.0 * HEAT_ROW_H)
        );
        assert_eq!(heat_opacity(0.0), 0.0);
        assert_eq!(heat_opacity(0.01), 0.08);
        assert_eq!(heat_opacity(0.5), 0.5);
        assert_eq!(heat_opacity(3.0), 1.0);
        assert_eq!(progress_width(50.0, 300.0), 150.0);
        assert_eq!(progress_width(150.0, 300.0), 300.0);
        assert_eq!(progress_width(f64::NAN, 300.0), 0.0);
        let map = heat_map(
            &["drifted"],
            &[HeatRow {
                label: "edge-a1".to_owned(),
                href: "/domains/edge-a1".to_owned(),
                cells: vec![(0.25, "1 of 4".to_owned())],
            }],
            "#c62828",
        );
        assert!(map.as_str().contains("<a href=\"/domains/edge-a1\">"));
        assert!(map.as_str().contains("fill-opacity=\"0.250\""));
    }
}
