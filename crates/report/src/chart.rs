//! Small vector charts (SVG) for the reports: horizontal bars with labels and values.

use crate::de_int;

use stadtmauer_core::markup::escape as esc;

/// A horizontal bar chart; values below zero count as zero.
pub fn bars(items: &[(&str, i64)]) -> String {
    let w = 520.0;
    let label_w = 150.0;
    let bar_h = 22.0;
    let gap = 10.0;
    let h = items.len() as f64 * (bar_h + gap) + gap;
    let max = items.iter().map(|x| x.1.max(0)).max().unwrap_or(0).max(1) as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\">"
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = gap + i as f64 * (bar_h + gap);
        let bw = ((*v).max(0) as f64 / max * (w - label_w - 90.0)).max(1.0);
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">{}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{bw:.1}\" height=\"{bar_h}\" fill=\"#1f5f8b\"/>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"12\" fill=\"#222\">{}</text>",
            label_w - 6.0,
            y + 15.0,
            esc(label),
            label_w + bw + 6.0,
            y + 15.0,
            de_int(*v)
        ));
    }
    s.push_str("</svg>");
    s
}
