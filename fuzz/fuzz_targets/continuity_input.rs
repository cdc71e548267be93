//! BIA and backup forms are outside input: whatever bytes arrive, validation answers with a
//! value or field errors, never a panic — and an accepted BIA keeps RTO ≤ MTA.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stadtmauer_continuity::backup::{BackupInput, CopyInput, RestoreTestInput};
use stadtmauer_continuity::bia::{BiaContext, BiaInput, DeadlineInput};
use stadtmauer_core::ObjectId;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let f: Vec<String> = text.split('\u{1f}').map(str::to_string).chain(std::iter::repeat(String::new())).take(12).collect();
    let _ = stadtmauer_continuity::Span::parse(&f[0]);
    let bia = BiaInput {
        mta: f[0].clone(),
        rto: f[1].clone(),
        rpo: Some(f[2].clone()),
        criticality: f[3].clone(),
        deadlines: vec![DeadlineInput { description: f[4].clone(), kind: f[5].clone(), value: f[6].clone(), lead: Some(f[7].clone()) }],
        ..Default::default()
    };
    for has_backup in [true, false] {
        if let Ok(b) = bia.validate(BiaContext { process: ObjectId(1), has_backup }) {
            assert!(b.rto <= b.mta);
        }
    }
    let backup = BackupInput {
        systems: vec![ObjectId(1)],
        name: f[8].clone(),
        interval: f[9].clone(),
        copies: vec![CopyInput { medium: f[10].clone(), location: f[11].clone(), ..Default::default() }],
        restore_tests: vec![RestoreTestInput { date: f[0].clone(), duration: f[1].clone(), result: f[2].clone(), errors: Some(f[3].clone()), notes: None }],
        ..Default::default()
    };
    if let Some(today) = stadtmauer_continuity::bia::parse_date("2026-11-28") {
        let _ = backup.validate(today);
    }
});
