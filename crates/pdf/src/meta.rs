//! The `#set document(..)` preamble that fills the PDF's metadata (title, author, keywords,
//! language), built from values that may contain anything.

/// Metadata written into the PDF's document information and XMP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentMeta {
    /// Document title (PDF `/Title`, shown in viewers' title bars).
    pub title: String,
    /// Authors (PDF `/Author`); usually the organisation.
    pub authors: Vec<String>,
    /// Keywords (PDF `/Keywords`).
    pub keywords: Vec<String>,
    /// Short description (PDF `/Subject`).
    pub description: Option<String>,
    /// ISO 639 language code of the text (PDF `/Lang`); also selects hyphenation and quotes.
    pub lang: String,
}

impl Default for DocumentMeta {
    fn default() -> Self {
        Self {
            title: String::new(),
            authors: Vec::new(),
            keywords: Vec::new(),
            description: None,
            lang: "de".to_owned(),
        }
    }
}

/// Typst code that sets the document metadata and the text language; put it at the top of the
/// main source, before any content.
///
/// ```
/// let meta = stadtmauer_pdf::DocumentMeta {
///     title: "Notfallhandbuch \"Musterau\"".into(),
///     authors: vec!["Gemeinde Musterau".into()],
///     ..Default::default()
/// };
/// let preamble = stadtmauer_pdf::document_meta(&meta);
/// assert!(preamble.starts_with("#set document(title: \"Notfallhandbuch \\\"Musterau\\\"\""));
/// ```
pub fn document_meta(meta: &DocumentMeta) -> String {
    let list = |items: &[String]| {
        // A trailing comma makes a one-element array, not a parenthesised string.
        let inner: String = items
            .iter()
            .map(|s| format!("{}, ", string_literal(s)))
            .collect();
        format!("({})", inner.trim_end())
    };
    let mut out = format!("#set document(title: {}", string_literal(&meta.title));
    out.push_str(&format!(", author: {}", list(&meta.authors)));
    out.push_str(&format!(", keywords: {}", list(&meta.keywords)));
    if let Some(description) = &meta.description {
        out.push_str(&format!(", description: {}", string_literal(description)));
    }
    out.push_str(")\n");
    out.push_str(&format!(
        "#set text(lang: {})\n",
        string_literal(&meta.lang)
    ));
    out
}

/// Quotes `text` as a typst string literal (`"..."`), for code positions such as
/// `#set document(title: ..)`.
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use typst::syntax::{ast, parse_code, SyntaxKind};

    fn check(input: &str, expected: &str) {
        assert_eq!(string_literal(input), expected, "string_literal({input:?})");
    }

    #[test]
    fn quotes_strings() {
        check("Musterau", "\"Musterau\"");
        check("a\"b\\c", "\"a\\\"b\\\\c\"");
        check("Zeile 1\nZeile 2\t€", "\"Zeile 1\\nZeile 2\\t€\"");
        check("\u{1}", "\"\\u{1}\"");
    }

    #[test]
    fn meta_preamble() {
        let meta = DocumentMeta {
            title: "Bericht".into(),
            authors: vec!["Gemeinde A".into()],
            keywords: vec!["IT-Grundschutz".into(), "Notfall".into()],
            description: Some("Jahresbericht".into()),
            lang: "de".into(),
        };
        assert_eq!(
            document_meta(&meta),
            "#set document(title: \"Bericht\", author: (\"Gemeinde A\",), \
             keywords: (\"IT-Grundschutz\", \"Notfall\",), description: \"Jahresbericht\")\n\
             #set text(lang: \"de\")\n"
        );
        let empty = document_meta(&DocumentMeta::default());
        assert!(empty.contains("author: ()"), "{empty}");
    }

    proptest! {
        #[test]
        fn literal_round_trips(s in any::<String>()) {
            let code = string_literal(&s);
            let tree = parse_code(&code);
            prop_assert!(tree.errors_and_warnings().0.is_empty(), "{code}");
            let children: Vec<_> = tree.children().collect();
            prop_assert_eq!(children.len(), 1);
            prop_assert_eq!(children[0].kind(), SyntaxKind::Str);
            let parsed = children[0].cast::<ast::Str>().unwrap().get();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }
    }
}
