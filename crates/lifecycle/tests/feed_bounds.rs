//! Every feed parser refuses a document over its size limit before it parses anything, so the
//! memory a feed costs is bounded by the limit, not by what arrives (docs/input-limits.md).
//! One counting allocator per test binary, hence this file of its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use peakmem_alloc::{PeakMemAlloc, PeakMemAllocTrait, INSTRUMENTED_SYSTEM};
use stadtmauer_lifecycle::{csaf, eol, kev};
use std::alloc::System;
use std::sync::Mutex;

#[global_allocator]
static ALLOC: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    ALLOC.reset_peak_memory();
    let out = f();
    (out, ALLOC.get_peak_memory())
}

/// A syntactically plausible document of `len` bytes: a JSON array of one long string.
fn json_of(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(b"{\"vulnerabilities\": [\"");
    v.resize(len - 3, b'x');
    v.extend_from_slice(b"\"]}");
    v
}

#[test]
fn a_kev_catalog_over_64_mib_is_refused_before_parsing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let big = json_of(kev::MAX_SIZE + 1);
    let (got, peak) = measured(|| kev::parse(&big));
    assert!(
        matches!(got, Err(kev::KevError::TooLarge { max }) if max == kev::MAX_SIZE),
        "{got:?}"
    );
    assert!(peak < 1 << 20, "refusing allocated {peak} bytes");
}

#[test]
fn a_csaf_advisory_over_16_mib_is_refused_before_parsing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let big = json_of(csaf::MAX_SIZE + 1);
    let (got, peak) = measured(|| csaf::parse(&big));
    assert!(
        matches!(got, Err(csaf::CsafError::TooLarge { max }) if max == csaf::MAX_SIZE),
        "{got:?}"
    );
    assert!(peak < 1 << 20, "refusing allocated {peak} bytes");
    // Just below the limit, a broken document is parsed and refused with memory bounded by
    // a small multiple of its size.
    let below = json_of(csaf::MAX_SIZE - 16);
    let (got, peak) = measured(|| csaf::parse(&below));
    assert!(got.is_err());
    assert!(peak < 4 * csaf::MAX_SIZE, "parsing allocated {peak} bytes");
}

#[test]
fn an_endoflife_file_over_1_mib_is_refused_before_parsing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut text = String::from("---\ntitle: Riesig\nreleases:\n");
    while text.len() <= eol::MAX_FILE {
        text.push_str("  - releaseCycle: \"1\"\n    eol: false\n");
    }
    text.push_str("---\n");
    let (got, peak) = measured(|| eol::parse_product("riesig", &text));
    assert!(
        matches!(&got, Err(eol::EolError::TooLarge { file, max }) if file == "riesig.md" && *max == eol::MAX_FILE),
        "{got:?}"
    );
    assert!(peak < 1 << 16, "refusing allocated {peak} bytes");
}
