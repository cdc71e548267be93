//! Making arbitrary text safe to splice into typst markup.
//!
//! Prefer handing user data over as `data.json` (see the crate docs); this is for the few places
//! where text has to become part of the markup itself.

/// Escapes `text` so that typst markup shows it literally.
///
/// Every ASCII punctuation character gets a backslash, which in typst markup always means "this
/// character, literally". That covers every markup construct (`#` code, `*`/`_` emphasis, `=`
/// headings, `-`/`+`/`1.` lists, `/` term lists and comments, `$` math, `` ` `` raw text, `<`
/// labels, `@` references, `[`/`]` content blocks, `\` itself, `http://` links, `--`/`...`
/// shorthands, smart quotes). Letters, digits and non-ASCII characters (umlauts, ß, €) stay as
/// they are. Line breaks are kept as newlines (one is a space, an empty line a paragraph break);
/// `\r\n` and lone `\r` become `\n`; other control characters are dropped, since no font draws
/// them.
///
/// The result is meant for markup only: inside a typst string literal use
/// [`string_literal`](crate::string_literal).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::escape;
    use proptest::prelude::*;
    use typst::syntax::{parse, SyntaxKind, SyntaxNode};

    fn check(input: &str, expected: &str) {
        assert_eq!(escape(input), expected, "escape({input:?})");
    }

    #[test]
    fn escapes_markup_and_keeps_text() {
        check("Müller & Söhne – 5 €", "Müller \\& Söhne – 5 €");
        check("#panic()", "\\#panic\\(\\)");
        check("= Titel", "\\= Titel");
        check("*fett* _kursiv_", "\\*fett\\* \\_kursiv\\_");
        check("1. Punkt", "1\\. Punkt");
        check("https://x.example", "https\\:\\/\\/x\\.example");
        check("a\\u{41}", "a\\\\u\\{41\\}");
        check("a\r\nb\rc\u{0}d\u{7f}", "a\nb\ncd");
        check("Straße", "Straße");
    }

    /// True if the node is something that shows text literally; anything else (code, emphasis,
    /// headings, lists, math, raw, labels, references, links, errors) means the escape leaked.
    fn only_literal_text(node: &SyntaxNode) -> bool {
        match node.kind() {
            SyntaxKind::Markup => node.children().all(only_literal_text),
            SyntaxKind::Text | SyntaxKind::Escape | SyntaxKind::Space | SyntaxKind::Parbreak => {
                true
            }
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn escaped_text_parses_as_plain_text(s in any::<String>()) {
            let escaped = escape(&s);
            let tree = parse(&escaped);
            prop_assert!(only_literal_text(&tree), "{s:?} → {escaped:?}: {tree:#?}");
        }

        #[test]
        fn escaped_markupish_text_parses_as_plain_text(
            s in "[ \\n#*_=+/\\-.:$`<>@\\[\\]\\\\'\"~a-z0-9äß€{}()]{0,40}"
        ) {
            let escaped = escape(&s);
            let tree = parse(&escaped);
            prop_assert!(only_literal_text(&tree), "{s:?} → {escaped:?}: {tree:#?}");
        }
    }
}
