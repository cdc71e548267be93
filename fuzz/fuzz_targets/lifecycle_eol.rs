#![no_main]
//! endoflife.date product file parser, and cycle resolution on whatever parses.
use libfuzzer_sys::fuzz_target;
use stadtmauer_lifecycle::version::{Scheme, Version};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = stadtmauer_lifecycle::eol::parse_product("fuzz", text) {
        let v = Version::parse(Scheme::Dotted, "1.2.3").ok();
        let _ = p.resolve(Scheme::Dotted, Some("1-a"), v.as_ref());
        for c in &p.cycles {
            let _ = c.status(stadtmauer_lifecycle::feed::BUILTIN_EOL_DATE);
        }
    }
});
