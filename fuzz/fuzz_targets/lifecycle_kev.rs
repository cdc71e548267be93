#![no_main]
//! CISA KEV catalog parser.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = stadtmauer_lifecycle::kev::parse(data);
});
