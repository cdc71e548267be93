//! The one escaper for text put into HTML or XML/SVG that is written by hand (the offline
//! handbook, report HTML, charts, the dependency diagram); askama escapes the templates itself.

/// Escapes text for element content and quoted attribute values of HTML and XML alike: `&`, `<`,
/// `>`, `"` and `'` become references, and control characters that XML 1.0 forbids (all of
/// C0 but tab, line feed and carriage return) are dropped, so SVG stays well-formed for browsers
/// and for typst.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;
    use proptest::prelude::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            escape("<a href='x' title=\"y\">&</a>"),
            "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("Zeile\u{1}1\tund\n2"), "Zeile1\tund\n2");
        assert_eq!(escape("Größe ≤ 5"), "Größe ≤ 5");
    }

    proptest! {
        /// Nothing that could open markup or end an attribute survives.
        #[test]
        fn no_markup_survives(s in any::<String>()) {
            let e = escape(&s);
            prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''));
            prop_assert!(e.chars().all(|c| (c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r')));
        }
    }
}
