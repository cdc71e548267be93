//! Everything a user can send to the assessment: answers with evidence, measures, uploaded files
//! (name, declared type, first bytes) and dates. Validation must answer, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stadtmauer_assessment::answer::{AnswerInput, EvidenceInput};
use stadtmauer_assessment::date::parse_date;
use stadtmauer_assessment::evidence::{is_web_url, EvidencePolicy};
use stadtmauer_assessment::measure::MeasureInput;

fuzz_target!(|data: &[u8]| {
    let _ = EvidencePolicy::default().check("nachweis.pdf", "application/pdf", data, data.len() as u64);
    let text = String::from_utf8_lossy(data);
    let f: Vec<&str> = text.split('\u{0}').collect();
    let get = |i: usize| f.get(i).copied().unwrap_or("").to_string();
    let _ = EvidencePolicy::default().check(&get(0), &get(1), get(2).as_bytes(), get(2).len() as u64);
    let _ = parse_date(&get(0));
    let _ = is_web_url(&get(1));
    let today = parse_date("2026-11-27").unwrap_or(stadtmauer_assessment::Date::MIN);
    let _ = AnswerInput {
        requirement_id: get(0),
        object_id: Some(get(1)),
        status: get(2),
        reason: Some(get(3)),
        note: Some(get(4)),
        responsible: Some(get(5)),
        assessed_on: Some(get(6)),
        review_by: Some(get(7)),
        evidence: vec![EvidenceInput {
            kind: get(8),
            sha256: Some(get(9)),
            size: Some(get(10)),
            media_type: Some(get(11)),
            name: Some(get(12)),
            url: Some(get(13)),
            record: Some(get(14)),
            record_id: Some(get(15)),
            valid_until: Some(get(16)),
        }],
    }
    .validate(today);
    let _ = MeasureInput {
        title: get(0),
        description: Some(get(1)),
        requirement_id: Some(get(2)),
        objects: vec![get(3)],
        owner: Some(get(4)),
        deadline: Some(get(5)),
        priority: Some(get(6)),
        cost_eur: Some(get(7)),
        effort_person_days: Some(get(8)),
        status: Some(get(9)),
        towns: vec![get(10), get(11)],
    }
    .validate(None, |o| o.0 > 0);
});
