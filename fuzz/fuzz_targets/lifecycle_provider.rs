#![no_main]
//! CSAF provider discovery: provider-metadata.json, ROLIE feeds, index.txt, changes.csv, origins,
//! and a whole walk where every URL answers with the fuzz input (metadata, feed and advisory at once).
use libfuzzer_sys::fuzz_target;
use stadtmauer_lifecycle::provider::{self, Fetch, FetchError, Limits};

struct Echo<'a>(&'a [u8]);
impl Fetch for Echo<'_> {
    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        if url.ends_with(".asc") || url.ends_with(".sha256") || url.ends_with(".sha512") {
            return Err(FetchError::NotFound {
                url: url.to_owned(),
            });
        }
        Ok(self.0.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = provider::parse_metadata("https://p.test/m.json", data);
    let _ = provider::parse_rolie_feed("https://p.test/f.json", data);
    let text = String::from_utf8_lossy(data);
    let _ = provider::parse_index("https://p.test/index.txt", &text);
    let _ = provider::parse_changes("https://p.test/changes.csv", &text);
    let _ = provider::origin(&text);
    let limits = Limits {
        max_documents: 16,
        max_document_bytes: 1 << 16,
        max_listing_bytes: 1 << 16,
    };
    let _ = provider::walk(
        &Echo(data),
        "https://p.test/.well-known/csaf/provider-metadata.json",
        &limits,
    );
});
