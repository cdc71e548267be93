//! The second-factor code is typed by whoever holds a password: it must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (secret, code) = text.split_once('|').unwrap_or(("JBSWY3DPEHPK3PXP", &text));
    let _ = stadtmauer_core::credentials::totp::verify(secret, code, 1_800_000_000, Some(3));
    let _ = stadtmauer_core::credentials::verify_password(code, Some(secret));
});
