#![no_main]
//! CSAF 2.0 parser and checks, and the product-tree resolution on whatever parses.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = stadtmauer_lifecycle::csaf::parse(data) {
        let _ = stadtmauer_lifecycle::csaf::resolve_products(&doc);
        if let Ok(aliases) = stadtmauer_lifecycle::identity::AliasTable::builtin() {
            let _ = stadtmauer_lifecycle::csaf::rules(&doc, &aliases);
        }
    }
});
