//! The report as Markdown (for review and snapshot tests), HTML, JSON and PDF.

use crate::model::Report;
use std::fmt::Write as _;

/// Plain Markdown: headings, paragraphs, figure lists, tables.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", r.title);
    let _ = writeln!(
        s,
        "{} · Stand {} · Version {}\n",
        r.edition_label, r.date, r.version
    );
    for p in &r.intro {
        let _ = writeln!(s, "{p}\n");
    }
    for (i, c) in r.chapters.iter().enumerate() {
        let _ = writeln!(s, "## {}. {}\n", i + 1, c.question);
        let _ = writeln!(s, "Antwort: {}\n", c.status.german());
        for p in &c.paragraphs {
            let _ = writeln!(s, "{p}\n");
        }
        for f in &c.figures {
            let _ = writeln!(s, "- {}: {}", f.label, f.value);
        }
        if !c.figures.is_empty() {
            s.push('\n');
        }
        if let Some(t) = &c.table {
            let _ = writeln!(s, "| {} |", t.head.join(" | "));
            let _ = writeln!(s, "|{}", "---|".repeat(t.head.len()));
            for row in &t.rows {
                let _ = writeln!(s, "| {} |", row.join(" | "));
            }
            s.push('\n');
        }
        if let Some(ch) = c
            .chart
            .as_ref()
            .and_then(|f| r.charts.iter().find(|x| &x.file == f))
        {
            let _ = writeln!(s, "[Grafik: {}]\n", ch.caption);
        }
    }
    s
}

use stadtmauer_core::markup::escape as esc;

/// A self-contained HTML document (no scripts, no inline styles; charts as inline SVG).
pub fn html(r: &Report) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n<p>{} · Stand {} · Version {}</p>\n",
        esc(&r.title),
        esc(&r.title),
        esc(&r.edition_label),
        esc(&r.date),
        esc(&r.version)
    );
    for p in &r.intro {
        let _ = writeln!(s, "<p>{}</p>", esc(p));
    }
    s.push_str("<nav aria-label=\"Inhalt\"><h2>Inhaltsverzeichnis</h2><ol>\n");
    for c in &r.chapters {
        let _ = writeln!(
            s,
            "<li><a href=\"#{}\">{}</a></li>",
            esc(&c.key),
            esc(&c.question)
        );
    }
    s.push_str("</ol></nav>\n");
    for (i, c) in r.chapters.iter().enumerate() {
        let _ = writeln!(
            s,
            "<section id=\"{}\">\n<h2>{}. {}</h2>",
            esc(&c.key),
            i + 1,
            esc(&c.question)
        );
        let _ = writeln!(
            s,
            "<p><strong>Antwort: {}</strong></p>",
            esc(c.status.german())
        );
        for p in &c.paragraphs {
            let _ = writeln!(s, "<p>{}</p>", esc(p));
        }
        if !c.figures.is_empty() {
            s.push_str("<dl>\n");
            for f in &c.figures {
                let _ = writeln!(s, "<dt>{}</dt><dd>{}</dd>", esc(&f.label), esc(&f.value));
            }
            s.push_str("</dl>\n");
        }
        if let Some(t) = &c.table {
            s.push_str("<table>\n<thead><tr>");
            for h in &t.head {
                let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
            }
            s.push_str("</tr></thead>\n<tbody>\n");
            for row in &t.rows {
                s.push_str("<tr>");
                for (j, cell) in row.iter().enumerate() {
                    if j == 0 {
                        let _ = write!(s, "<th scope=\"row\">{}</th>", esc(cell));
                    } else {
                        let _ = write!(s, "<td>{}</td>", esc(cell));
                    }
                }
                s.push_str("</tr>\n");
            }
            s.push_str("</tbody>\n</table>\n");
        }
        if let Some(ch) = c
            .chart
            .as_ref()
            .and_then(|f| r.charts.iter().find(|x| &x.file == f))
        {
            let _ = writeln!(
                s,
                "<figure>{}<figcaption>{}</figcaption></figure>",
                ch.svg,
                esc(&ch.caption)
            );
        }
        s.push_str("</section>\n");
    }
    s.push_str("</main>\n</body>\n</html>\n");
    s
}

/// The structured JSON for the council information system.
pub fn json(r: &Report) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or(serde_json::Value::Null)
}

const TEMPLATE: &str = include_str!("../templates/report.typ");

/// The PDF: title page data, table of contents, one chapter per question, charts as vector SVG.
/// Blocking (typst compiles in the calling thread).
pub fn pdf(r: &Report, today: time::Date) -> Result<Vec<u8>, stadtmauer_pdf::PdfError> {
    let data = serde_json::to_vec(r).unwrap_or_default();
    let mut inputs: Vec<(&str, Vec<u8>)> = vec![("data.json", data)];
    for c in &r.charts {
        inputs.push((c.file.as_str(), c.svg.clone().into_bytes()));
    }
    stadtmauer_pdf::render(TEMPLATE, &inputs, today)
}
