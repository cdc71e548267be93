//! Any bytes uploaded as an OSCAL document: parsing (limits, version, ids), building a catalog,
//! a mapping set, resolving a profile against itself-free resolvers, and reading assessment
//! results never panic; a readable assessment writes back and reads back unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stadtmauer_catalog::oscal::{parse, Document};
use stadtmauer_catalog::profile::{resolve, MapResolver};
use stadtmauer_catalog::search::{Filter, SearchIndex};
use stadtmauer_catalog::{mapping::MappingSet, results, Catalog};

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(Document::Catalog(doc)) => {
            let c = Catalog::from_doc(&doc, "fuzz.json");
            let idx = SearchIndex::build(&c);
            let _ = idx.search("sicherung", &Filter::default(), 10);
            for r in &c.requirements {
                let _ = r.statement_text();
            }
        }
        Ok(Document::Profile(p)) => {
            let _ = resolve(&p, "fuzz.json", &MapResolver::new());
        }
        Ok(Document::MappingCollection(m)) => {
            let _ = MappingSet::from_doc(&m);
        }
        Ok(Document::AssessmentResults(ar)) => {
            if let Ok(a) = results::from_oscal(&ar) {
                if let Ok(json) = results::write(&a) {
                    let back = results::read(json.as_bytes()).ok();
                    assert_eq!(back.as_ref(), Some(&a));
                }
            }
        }
        Err(_) => {}
    }
});
