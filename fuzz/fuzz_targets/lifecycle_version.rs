#![no_main]
//! Version parsing in every scheme, ranges, order consistency and name normalisation.
use libfuzzer_sys::fuzz_target;
use stadtmauer_lifecycle::version::{Scheme, Version};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\n').unwrap_or((text, "1.0"));
    for s in [
        Scheme::Dotted,
        Scheme::WindowsBuild,
        Scheme::Vendor,
        Scheme::Unknown,
    ] {
        if let (Ok(x), Ok(y)) = (Version::parse(s, a), Version::parse(s, b)) {
            assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        }
        if let (Ok(r), Ok(y)) = (
            stadtmauer_lifecycle::csaf::parse_range(s, a),
            Version::parse(s, b),
        ) {
            let _ = r.contains(&y);
        }
    }
    // The built-in alias table is parsed once (it takes milliseconds; per input it starved the run).
    static TABLE: std::sync::OnceLock<Option<stadtmauer_lifecycle::identity::AliasTable>> =
        std::sync::OnceLock::new();
    if let Some(t) =
        TABLE.get_or_init(|| stadtmauer_lifecycle::identity::AliasTable::builtin().ok())
    {
        let _ = stadtmauer_lifecycle::identity::normalize(None, a, Some(b), t);
    }
});
