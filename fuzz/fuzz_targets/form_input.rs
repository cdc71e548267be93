//! Every form and API field a user can type goes through these validators.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stadtmauer_core::org::{Ags, ContactInput, OrganisationInput};
use stadtmauer_core::user::{parse_date_end_of_day, MembershipInput, UserInput};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let f: Vec<&str> = text.split('\u{0}').collect();
    let get = |i: usize| f.get(i).copied().unwrap_or("").to_string();
    let _ = Ags::parse(&get(0));
    let _ = parse_date_end_of_day(&get(1));
    let _ = OrganisationInput {
        name: get(0),
        kind: get(1),
        ags: Some(get(2)),
        inhabitants: Some(get(3)),
        staff: Some(get(4)),
        workstations: Some(get(5)),
        email: Some(get(6)),
        phone: Some(get(7)),
        address: Some(get(8)),
        verbund_id: Some(get(9)),
    }
    .validate();
    let _ = ContactInput { function: get(0), name: get(1), email: Some(get(2)), phone: Some(get(3)) }.validate();
    let _ = UserInput { email: get(0), display_name: get(1) }.validate();
    let _ = MembershipInput { organisation_id: get(0), role: get(1), valid_until: Some(get(2)) }.validate(|_| Some(false), 0);
});
