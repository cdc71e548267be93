//! Memory of the OSCAL reader, measured with a counting allocator (one per test binary, hence a
//! file of its own): a document over the limit is refused before parsing, and a document near the
//! limit costs a bounded multiple of its size (docs/input-limits.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use peakmem_alloc::{PeakMemAlloc, PeakMemAllocTrait, INSTRUMENTED_SYSTEM};
use serde_json::Value;
use stadtmauer_catalog::oscal::{parse, OscalError, MAX_BYTES};
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

const KERNEL: &[u8] = include_bytes!("../data/BSI-Stand-der-Technik-Kernel-catalog.json");

/// Appends `suffix` to every `id` (and `param-id`) so that copies of the catalog's groups stay
/// unique.
fn rename(v: &mut Value, suffix: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match (k.as_str(), &mut *x) {
                    ("id" | "param-id", Value::String(s)) => s.push_str(suffix),
                    _ => rename(x, suffix),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename(x, suffix)),
        _ => {}
    }
}

/// The BSI's Kernel catalog with its groups copied until the document is just under the limit.
fn near_the_limit() -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(KERNEL).unwrap();
    let groups = doc["catalog"]["groups"].as_array().unwrap().clone();
    let base = serde_json::to_vec(&doc).unwrap().len();
    let one = serde_json::to_vec(&groups).unwrap().len() + 64;
    let copies = (MAX_BYTES - base) / one;
    let all = doc["catalog"]["groups"].as_array_mut().unwrap();
    for k in 0..copies {
        let mut copy = Value::Array(groups.clone());
        rename(&mut copy, &format!("-k{k}"));
        if let Value::Array(c) = copy {
            all.extend(c);
        }
    }
    let bytes = serde_json::to_vec(&doc).unwrap();
    assert!(bytes.len() <= MAX_BYTES, "{} bytes", bytes.len());
    bytes
}

#[test]
fn a_document_over_32_mib_is_refused_before_parsing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut big = KERNEL.to_vec();
    big.resize(MAX_BYTES + 1, b' ');
    let (got, peak) = measured(|| parse(&big));
    assert!(
        matches!(got, Err(OscalError::TooLarge { size, limit }) if size == MAX_BYTES + 1 && limit == MAX_BYTES),
        "{:?}",
        got.err()
    );
    assert!(peak < 1 << 20, "refusing allocated {peak} bytes");
}

#[test]
fn a_catalog_near_the_limit_costs_a_bounded_multiple_of_its_size() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let doc = near_the_limit();
    assert!(doc.len() > MAX_BYTES * 3 / 4, "{} bytes", doc.len());
    let (got, peak) = measured(|| parse(&doc));
    let parsed = got.unwrap_or_else(|e| panic!("the enlarged catalog: {e}"));
    drop(parsed);
    let ratio = peak as f64 / doc.len() as f64;
    eprintln!(
        "OSCAL catalog of {} bytes: parse peak {} bytes ({ratio:.1} × the document)",
        doc.len(),
        peak
    );
    // The documented bound: 8 × the document, so at most 256 MiB for a document at the limit.
    assert!(ratio < 8.0, "parse peak {ratio:.1} × the document");
}
