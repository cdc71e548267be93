//! Requirements as this crate sees them: an id, its practice, its security level, its effort and,
//! for recurring checks, the interval. The catalog crate fills these from the OSCAL catalog.

use serde::{Deserialize, Serialize};

/// The security level a requirement belongs to (Grundschutz++ prop `sec_level`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SecLevel {
    /// `normal-SdT`: the state of the art every institution should reach.
    NormalSdT,
    /// `erhöht`: additionally for elevated protection requirements.
    Erhoeht,
}

impl SecLevel {
    pub const ALL: [SecLevel; 2] = [SecLevel::NormalSdT, SecLevel::Erhoeht];
    pub fn as_str(self) -> &'static str {
        match self {
            SecLevel::NormalSdT => "normal_sdt",
            SecLevel::Erhoeht => "erhoeht",
        }
    }
    /// Accepts our own spelling and the catalog's (`normal-SdT`, `erhöht`).
    pub fn parse(s: &str) -> Option<SecLevel> {
        match s.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
            "normal_sdt" | "normal" | "sdt" => Some(SecLevel::NormalSdT),
            "erhoeht" | "erhöht" | "elevated" => Some(SecLevel::Erhoeht),
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            SecLevel::NormalSdT => "asm.sec_level.normal_sdt",
            SecLevel::Erhoeht => "asm.sec_level.erhoeht",
        }
    }
    /// Does a town aiming at `self` have to meet a requirement of level `req`? The levels nest:
    /// the elevated target includes every normal-SdT requirement.
    pub fn includes(self, req: SecLevel) -> bool {
        req <= self
    }
}

/// One requirement, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequirementRef {
    /// The catalog id, e.g. `GC.1.1`.
    pub id: String,
    /// The practice (Praktik) id, e.g. `GC`.
    pub practice: String,
    pub sec_level: SecLevel,
    /// 0–5; 0 means "mandatory whatever it costs", 1 a quick win, 5 a large project.
    pub effort_level: u8,
    /// For checks that must be repeated: the interval in days after which an answer is stale.
    pub recurring: Option<u32>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn levels_nest_and_parse() {
        assert!(SecLevel::Erhoeht.includes(SecLevel::NormalSdT));
        assert!(!SecLevel::NormalSdT.includes(SecLevel::Erhoeht));
        assert_eq!(SecLevel::parse("normal-SdT"), Some(SecLevel::NormalSdT));
        assert_eq!(SecLevel::parse("erhöht"), Some(SecLevel::Erhoeht));
        assert_eq!(SecLevel::parse("hoch"), None);
    }
}
