//! Full-text search over a catalog in memory, in German: umlauts fold to their two-letter forms
//! (so "Massnahme", "Maßnahme", "maßnahme" meet), case is ignored, a light suffix stemmer joins
//! plural and inflected forms, prefixes match while typing, and substrings of four letters or more
//! find parts of compounds ("sicherung" finds "Datensicherung"). Every query term must match.
//! Filters narrow by practice, sec_level, effort level, tag, modal verb and target category.
//!
//! Hand-written instead of tantivy: 900 short documents fit in memory many times over and a scan
//! of the vocabulary per term stays far below the 10 ms budget, without an index directory.

use crate::catalog::{Catalog, ModalVerb, SecLevel};
use std::collections::HashMap;

/// Folds case and German special letters: `Größe` → `groesse`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' | 'ẞ' => out.push_str("ss"),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Folded words: runs of letters and digits.
pub fn tokens(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// A light German stemmer for folded words: strips one common inflection suffix (keeping at least
/// four letters) and drops the umlaut of the stem, so "passwoerter" and "passwort" meet.
pub fn stem(t: &str) -> String {
    let mut base = t;
    for suf in ["ungen", "ern", "en", "er", "es", "e", "n", "s"] {
        if let Some(b) = t.strip_suffix(suf) {
            if b.chars().count() >= 4 {
                base = b;
                break;
            }
        }
    }
    base.replace("ae", "a")
        .replace("oe", "o")
        .replace("ue", "u")
}

/// Narrowing a search; `None` means no restriction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub practice: Option<String>,
    pub sec_level: Option<SecLevel>,
    /// Only requirements with an effort level of at most this.
    pub max_effort: Option<u8>,
    /// Only requirements with exactly this effort level.
    pub effort: Option<u8>,
    pub tag: Option<String>,
    pub modal_verb: Option<ModalVerb>,
    pub target_category: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
}

#[derive(Debug, Clone)]
struct DocMeta {
    id: String,
    id_folded: String,
    practice: String,
    sec_level: Option<SecLevel>,
    effort: Option<u8>,
    tags: Vec<String>,
    modal: Option<ModalVerb>,
    categories: Vec<String>,
}

/// An index built once per catalog (≈ tens of milliseconds for the Kernel).
#[derive(Debug, Clone)]
pub struct SearchIndex {
    docs: Vec<DocMeta>,
    vocab: Vec<String>,
    stems: Vec<String>,
    /// Per vocabulary entry: (doc, weight).
    postings: Vec<Vec<(u32, f32)>>,
}

const W_ID: f32 = 8.0;
const W_TITLE: f32 = 4.0;
const W_TAG: f32 = 3.0;
const W_STATEMENT: f32 = 2.0;
const W_GUIDANCE: f32 = 1.0;

impl SearchIndex {
    pub fn build(c: &Catalog) -> SearchIndex {
        let mut term_ids: HashMap<String, usize> = HashMap::new();
        let mut vocab: Vec<String> = vec![];
        let mut postings: Vec<Vec<(u32, f32)>> = vec![];
        let mut docs = Vec::with_capacity(c.requirements.len());
        for (d, r) in c.requirements.iter().enumerate() {
            let d = d as u32;
            let mut weights: HashMap<usize, f32> = HashMap::new();
            let mut add = |text: &str, w: f32| {
                for t in tokens(text) {
                    let next = vocab.len();
                    let ti = *term_ids.entry(t.clone()).or_insert(next);
                    if ti == next {
                        vocab.push(t);
                        postings.push(vec![]);
                    }
                    let e = weights.entry(ti).or_insert(0.0);
                    // The best field counts fully, repeats add a little.
                    *e = if *e == 0.0 { w } else { e.max(w) + 0.1 };
                }
            };
            add(&r.id, W_ID);
            add(&r.title, W_TITLE);
            for t in r.tags.iter().chain(&r.target_categories) {
                add(t, W_TAG);
            }
            add(&r.statement_text(), W_STATEMENT);
            if let Some(g) = &r.guidance {
                add(g, W_GUIDANCE);
            }
            for (ti, w) in weights {
                if let Some(p) = postings.get_mut(ti) {
                    p.push((d, w));
                }
            }
            docs.push(DocMeta {
                id: r.id.clone(),
                id_folded: fold(&r.id),
                practice: r.practice.clone(),
                sec_level: r.sec_level,
                effort: r.effort_level,
                tags: r.tags.iter().map(|t| fold(t)).collect(),
                modal: r.modal_verb,
                categories: r.target_categories.iter().map(|t| fold(t)).collect(),
            });
        }
        let stems = vocab.iter().map(|t| stem(t)).collect();
        SearchIndex {
            docs,
            vocab,
            stems,
            postings,
        }
    }

    fn passes(&self, d: &DocMeta, f: &Filter) -> bool {
        f.practice.as_ref().is_none_or(|p| &d.practice == p)
            && f.sec_level.is_none_or(|s| d.sec_level == Some(s))
            && f.max_effort
                .is_none_or(|m| d.effort.is_some_and(|e| e <= m))
            && f.effort.is_none_or(|m| d.effort == Some(m))
            && f.tag.as_ref().is_none_or(|t| d.tags.contains(&fold(t)))
            && f.modal_verb.is_none_or(|m| d.modal == Some(m))
            && f.target_category
                .as_ref()
                .is_none_or(|t| d.categories.contains(&fold(t)))
    }

    /// Ranked ids matching `query` and `filter`, best first, at most `limit`. An empty query
    /// lists every requirement the filter lets through, in catalog order.
    pub fn search(&self, query: &str, filter: &Filter, limit: usize) -> Vec<Hit> {
        let n = self.docs.len();
        let terms = tokens(query);
        let mut total = vec![0.0f32; n];
        let mut matched_all = vec![true; n];
        for q in &terms {
            let qs = stem(q);
            let mut best = vec![0.0f32; n];
            for (ti, v) in self.vocab.iter().enumerate() {
                let quality = if v == q {
                    1.0
                } else if self.stems.get(ti).is_some_and(|s| *s == qs) {
                    0.9
                } else if v.starts_with(q.as_str()) {
                    0.7
                } else if q.chars().count() >= 4 && v.contains(q.as_str()) {
                    0.5
                } else {
                    continue;
                };
                for &(d, w) in self.postings.get(ti).into_iter().flatten() {
                    if let Some(b) = best.get_mut(d as usize) {
                        *b = b.max(quality * w);
                    }
                }
            }
            for d in 0..n {
                if best[d] == 0.0 {
                    matched_all[d] = false;
                }
                total[d] += best[d];
            }
        }
        // A query that is (the start of) a requirement id finds it even as one "word".
        let id_query = fold(query.trim());
        let mut hits: Vec<(usize, f32)> = vec![];
        for (d, meta) in self.docs.iter().enumerate() {
            if !self.passes(meta, filter) {
                continue;
            }
            let id_bonus = if id_query.is_empty() {
                0.0
            } else if meta.id_folded == id_query {
                100.0
            } else if meta.id_folded.starts_with(&format!("{id_query}.")) {
                50.0
            } else {
                0.0
            };
            if terms.is_empty() || (matched_all[d] && total[d] > 0.0) || id_bonus > 0.0 {
                hits.push((d, total[d] + id_bonus));
            }
        }
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.into_iter()
            .take(limit)
            .filter_map(|(d, score)| {
                self.docs.get(d).map(|m| Hit {
                    id: m.id.clone(),
                    score,
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let json = r##"{"catalog":{"uuid":"u","metadata":{"title":"T","version":"1","oscal-version":"1.1.2"},"groups":[
          {"id":"NOT","title":"Notfall","controls":[
            {"id":"NOT.1.1","title":"Datensicherung","props":[{"name":"sec_level","value":"normal-SdT"},{"name":"effort_level","value":"2"}],
             "parts":[{"name":"statement","prose":"Die Institution MUSS regelmäßig Sicherungen der Daten erstellen.","props":[{"name":"modal_verb","value":"MUSS"}]}]},
            {"id":"NOT.1.2","title":"Wiederherstellung","props":[{"name":"sec_level","value":"erhöht"},{"name":"effort_level","value":"4"},{"name":"tags","value":"Hochverfügbarkeit"}],
             "parts":[{"name":"statement","prose":"Die Institution SOLLTE die Wiederherstellung üben.","props":[{"name":"modal_verb","value":"SOLLTE"}]},{"name":"guidance","prose":"Eine Datensicherung ist nur so gut wie ihre Wiederherstellung."}]}]},
          {"id":"BER","title":"Berechtigung","controls":[
            {"id":"BER.1.1","title":"Größe der Passwörter","props":[{"name":"sec_level","value":"normal-SdT"},{"name":"effort_level","value":"1"}],
             "parts":[{"name":"statement","prose":"Passwörter SOLLTEN lang sein.","props":[{"name":"modal_verb","value":"SOLLTE"},{"name":"target_object_categories","value":"Nutzende"}]}]}]}]}}"##;
        Catalog::from_json(json.as_bytes(), "t").unwrap()
    }

    fn check(query: &str, filter: Filter, expected: &[&str]) {
        let c = catalog();
        let idx = SearchIndex::build(&c);
        let got: Vec<String> = idx
            .search(query, &filter, 10)
            .into_iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(got, expected, "query {query:?} {filter:?}");
    }

    #[test]
    fn german_queries() {
        let none = Filter::default;
        check("Datensicherung", none(), &["NOT.1.1", "NOT.1.2"]); // title beats guidance
        check("datensich", none(), &["NOT.1.1", "NOT.1.2"]); // prefix while typing
        check("sicherung", none(), &["NOT.1.1", "NOT.1.2"]); // compound part
        check("Groesse", none(), &["BER.1.1"]);
        check("größe", none(), &["BER.1.1"]);
        check("GROßE", none(), &["BER.1.1"]);
        check("Passwort", none(), &["BER.1.1"]); // stem of Passwörter
        check("regelmaessig", none(), &["NOT.1.1"]);
        check("wiederherstellung üben", none(), &["NOT.1.2"]); // every term must match
        check("wiederherstellung quantencomputer", none(), &[]);
        check("NOT.1.2", none(), &["NOT.1.2"]);
        check("not.1", none(), &["NOT.1.1", "NOT.1.2"]);
        check("", none(), &["NOT.1.1", "NOT.1.2", "BER.1.1"]);
    }

    #[test]
    fn filters() {
        let f = |g: fn(&mut Filter)| {
            let mut x = Filter::default();
            g(&mut x);
            x
        };
        check("", f(|x| x.practice = Some("BER".into())), &["BER.1.1"]);
        check(
            "",
            f(|x| x.sec_level = Some(SecLevel::Erhoeht)),
            &["NOT.1.2"],
        );
        check("", f(|x| x.max_effort = Some(2)), &["NOT.1.1", "BER.1.1"]);
        check("", f(|x| x.effort = Some(4)), &["NOT.1.2"]);
        check(
            "",
            f(|x| x.tag = Some("hochverfuegbarkeit".into())),
            &["NOT.1.2"],
        );
        check(
            "",
            f(|x| x.modal_verb = Some(ModalVerb::Sollte)),
            &["NOT.1.2", "BER.1.1"],
        );
        check(
            "",
            f(|x| x.target_category = Some("Nutzende".into())),
            &["BER.1.1"],
        );
        check(
            "sicherung",
            f(|x| x.sec_level = Some(SecLevel::NormalSdt)),
            &["NOT.1.1"],
        );
    }

    #[test]
    fn folding_and_stemming() {
        assert_eq!(fold("Größe ÄÖÜ"), "groesse aeoeue");
        assert_eq!(
            tokens("ASST.1.1: Verfahren/Regelungen"),
            ["asst", "1", "1", "verfahren", "regelungen"]
        );
        assert_eq!(stem("regelungen"), "regel");
        assert_eq!(stem("passwoerter"), "passwort");
        assert_eq!(stem("daten"), "date");
        assert_eq!(stem("ab"), "ab");
    }
}
