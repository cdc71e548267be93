//! A backup file is outside input at restore time: the parser must refuse garbage without
//! panicking, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = stadtmauer_store::backup::parse_backup(data);
});
