//! Which requirements a town must meet: its target layers (the Verbund's target, the town's own
//! on top), imported catalogs or profiles among them, the Verbund's own requirements, and the
//! erhöht requirements its protection needs apply to its objects. Pure: the store loads the
//! pieces, pages and the API show the result.

use crate::applicability::{concern, concerns, level_applies, Concern};
use crate::catalog::{Catalog, Requirement};
use crate::{SecLevel, Shipped};
use serde::Serialize;
use stadtmauer_inventory::model::{Level, Object};
use std::collections::HashSet;

/// A target level: which requirements a town must meet. The shipped ones are ordered from least
/// to most strict; an imported catalog or profile (by its stored id) stands beside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// The shipped "Kommunale Basis" profile (normal-SdT, effort 0–3): the default.
    KommunaleBasis,
    /// Every normal-SdT requirement of the Kernel.
    KernelSdt,
    /// The BSI's Grundschutz++ profile.
    Grundschutz,
    /// An imported catalog or profile (its requirements, by `sec_catalog.id`).
    Imported(i64),
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl Target {
    /// The shipped targets.
    pub const ALL: [Target; 3] = [
        Target::KommunaleBasis,
        Target::KernelSdt,
        Target::Grundschutz,
    ];
    /// How the target is stored and sent in forms: `kommunale_basis` … or `catalog:<id>`.
    pub fn code(self) -> String {
        match self {
            Target::KommunaleBasis => "kommunale_basis".into(),
            Target::KernelSdt => "kernel_sdt".into(),
            Target::Grundschutz => "grundschutz".into(),
            Target::Imported(id) => format!("catalog:{id}"),
        }
    }
    pub fn parse(s: &str) -> Option<Target> {
        let s = s.trim();
        if let Some(id) = s.strip_prefix("catalog:") {
            return id.parse().ok().filter(|i| *i > 0).map(Target::Imported);
        }
        Target::ALL.into_iter().find(|t| t.code() == s)
    }
    /// The i18n key of a shipped target's name; an imported one is named by its title.
    pub fn label_key(self) -> &'static str {
        match self {
            Target::KommunaleBasis => "sec.target.kommunale_basis",
            Target::KernelSdt => "sec.target.kernel_sdt",
            Target::Grundschutz => "sec.target.grundschutz",
            Target::Imported(_) => "sec.target.imported",
        }
    }
    pub fn is_shipped(self) -> bool {
        !matches!(self, Target::Imported(_))
    }
}

/// A town's targets: the Verbund's (or the default) and its own, if it chose one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TownTarget {
    pub verbund: Target,
    pub own: Option<Target>,
}

impl TownTarget {
    /// The target the town names as its own: its choice, else the Verbund's. What it must meet
    /// is [`TownTarget::layers`].
    pub fn effective(&self) -> Target {
        match self.own {
            Some(o) if !o.is_shipped() || !self.verbund.is_shipped() || o > self.verbund => o,
            _ => self.verbund,
        }
    }
    /// The targets whose requirements the town must meet: always the Verbund's, and the town's
    /// own on top (never instead: a town cannot fall below the Verbund's level). A shipped own
    /// target that includes the Verbund's replaces it.
    pub fn layers(&self) -> Vec<Target> {
        match self.own {
            Some(o) if o != self.verbund => vec![self.verbund, o],
            _ => vec![self.verbund],
        }
    }
}

/// The shipped catalogs the targets are built from.
#[derive(Clone, Copy)]
pub struct ShippedTargets<'a> {
    pub shipped: &'a Shipped,
    /// The Kommunale Basis profile resolved against the Kernel.
    pub basis: &'a Catalog,
    /// The BSI's Grundschutz++ profile resolved.
    pub gspp: &'a Catalog,
}

/// An imported catalog or profile among a town's target layers.
pub struct ImportedLayer {
    pub id: i64,
    /// "title version".
    pub name: String,
    pub catalog: Catalog,
}

/// What a town's target consists of beyond the shipped catalogs.
pub struct TargetSet {
    /// The town's targets as stored.
    pub target: TownTarget,
    /// The Verbund's target, then the town's own on top (see [`TownTarget::layers`]).
    pub layers: Vec<Target>,
    /// Every imported layer the town may see.
    pub imported: Vec<ImportedLayer>,
    /// The Verbund's own requirements, as requirements.
    pub own: Vec<Requirement>,
}

/// A requirement a town must meet, with the objects it concerns (empty: the town as a whole).
pub struct TownReq<'a> {
    pub req: &'a Requirement,
    pub objects: Vec<(stadtmauer_core::ObjectId, String)>,
}

impl TargetSet {
    pub fn new(target: TownTarget, imported: Vec<ImportedLayer>, own: Vec<Requirement>) -> Self {
        TargetSet {
            layers: target.layers(),
            target,
            imported,
            own,
        }
    }

    /// A requirement the town may answer: from a shipped catalog, an imported target, or the
    /// Verbund's own requirements.
    pub fn find<'a>(&'a self, s: ShippedTargets<'a>, id: &str) -> Option<&'a Requirement> {
        let id = id.trim();
        [&s.shipped.kernel, &s.shipped.methodik, &s.shipped.risiko]
            .into_iter()
            .find_map(|c| c.get(id))
            .or_else(|| self.imported.iter().find_map(|l| l.catalog.get(id)))
            .or_else(|| self.own.iter().find(|r| r.id == id))
    }

    /// The title and version of an imported layer.
    pub fn imported_name(&self, id: i64) -> Option<&str> {
        self.imported
            .iter()
            .find(|l| l.id == id)
            .map(|l| l.name.as_str())
    }

    /// The title of a practice (Praktik) of a shipped or imported catalog.
    pub fn practice_title(&self, s: ShippedTargets<'_>, id: &str) -> String {
        [&s.shipped.kernel, &s.shipped.methodik, &s.shipped.risiko]
            .into_iter()
            .chain(self.imported.iter().map(|l| &l.catalog))
            .flat_map(|c| c.practices.iter())
            .find(|p| p.id == id)
            .map(|p| p.title.clone())
            .unwrap_or_default()
    }

    /// The town's requirements: those of every target layer and the Verbund's own, plus the
    /// erhöht ones of the Kernel where an object with Schutzbedarf hoch or sehr hoch needs them.
    /// A requirement about object kinds the town does not have is left out; one about the
    /// organisation always applies. Sorted by id, each once.
    pub fn town_requirements<'a>(
        &'a self,
        s: ShippedTargets<'a>,
        objects: &[Object],
    ) -> Vec<TownReq<'a>> {
        let kernel = &s.shipped.kernel;
        let mut base: Vec<&Requirement> = Vec::new();
        for t in &self.layers {
            match t {
                Target::KommunaleBasis => base.extend(s.basis.requirements.iter()),
                Target::KernelSdt => base.extend(
                    kernel
                        .requirements
                        .iter()
                        .filter(|r| r.sec_level != Some(SecLevel::Erhoeht)),
                ),
                Target::Grundschutz => base.extend(s.gspp.requirements.iter()),
                Target::Imported(id) => {
                    if let Some(l) = self.imported.iter().find(|l| l.id == *id) {
                        base.extend(l.catalog.requirements.iter());
                    }
                }
            }
        }
        base.extend(self.own.iter());
        let highest = objects
            .iter()
            .map(|o| o.effective.max())
            .max()
            .unwrap_or(Level::Normal);
        let mut seen: HashSet<&str> = HashSet::new();
        let mut out = Vec::new();
        let erhoeht = kernel
            .requirements
            .iter()
            .filter(|r| r.sec_level == Some(SecLevel::Erhoeht));
        for r in base.into_iter().chain(erhoeht) {
            if !seen.insert(r.id.as_str()) {
                continue;
            }
            match concern(r) {
                Concern::Organisation => {
                    if r.sec_level == Some(SecLevel::Erhoeht) && highest < Level::Hoch {
                        continue;
                    }
                    out.push(TownReq {
                        req: r,
                        objects: vec![],
                    });
                }
                Concern::Objects(_) => {
                    let objs: Vec<_> = objects
                        .iter()
                        .filter(|o| {
                            concerns(r, o.data.kind, o.data.system_type.as_deref())
                                && level_applies(r.sec_level, &o.effective)
                        })
                        .map(|o| (o.id, o.data.name.clone()))
                        .collect();
                    if !objs.is_empty() {
                        out.push(TownReq {
                            req: r,
                            objects: objs,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.req.id.cmp(&b.req.id));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_town_cannot_fall_below_its_verbunds_target() {
        let t = TownTarget {
            verbund: Target::KernelSdt,
            own: Some(Target::KommunaleBasis),
        };
        assert_eq!(t.effective(), Target::KernelSdt);
        assert_eq!(t.layers(), vec![Target::KernelSdt, Target::KommunaleBasis]);
        let t = TownTarget {
            verbund: Target::KommunaleBasis,
            own: Some(Target::Imported(7)),
        };
        assert_eq!(
            t.layers(),
            vec![Target::KommunaleBasis, Target::Imported(7)]
        );
        assert_eq!(Target::parse("catalog:7"), Some(Target::Imported(7)));
        assert_eq!(Target::parse("catalog:0"), None);
        assert_eq!(Target::parse(" grundschutz "), Some(Target::Grundschutz));
    }
}
