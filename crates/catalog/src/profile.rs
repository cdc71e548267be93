//! Profile resolution: an OSCAL profile's imports (catalogs or other profiles, named directly or
//! through `#uuid` back-matter resources), include-all / include-controls (with-ids, matching
//! patterns, with-child-controls) and exclude-controls, and set-parameters, resolved into the
//! requirement set the profile selects — a new [`Catalog`].
//!
//! Simplifications (documented, tested): the resolved catalog is flat (`merge` is ignored, the
//! first import that brings a control wins), ancestors of a selected child are not pulled in, and
//! `alters` is refused rather than silently ignored.

use crate::catalog::{Catalog, Practice};
use crate::oscal::{self, OscalError, ProfileDoc, SelectControl};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Longest chain of profiles importing profiles.
pub const MAX_IMPORT_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: back-matter resource {href:?} not found or has no rlink")]
    UnresolvedResource { path: String, href: String },
    #[error("{path}: import {href:?} is not available")]
    NotFound { path: String, href: String },
    #[error("{path}: profile imports form a cycle: {}", chain.join(" → "))]
    Cycle { path: String, chain: Vec<String> },
    #[error("{path}: profile imports nest deeper than {limit}")]
    TooDeep { path: String, limit: usize },
    #[error("{path}: control {id:?} does not exist in {source_name}")]
    UnknownControl {
        path: String,
        id: String,
        source_name: String,
    },
    #[error("{path}: {feature} is not supported")]
    Unsupported { path: String, feature: &'static str },
    #[error(transparent)]
    Oscal(#[from] OscalError),
}

/// What an import href points to.
#[derive(Debug, Clone)]
pub enum Source<'a> {
    Catalog(Cow<'a, Catalog>),
    Profile(Cow<'a, ProfileDoc>),
}

/// Finds the document behind an href (a relative file name after `#uuid` indirection).
pub trait Resolver {
    fn fetch(&self, href: &str) -> Option<Source<'_>>;
}

/// Resolves hrefs by their last path segment, so `../catalogs/Kernel/X.json` finds `X.json`.
#[derive(Debug, Default, Clone)]
pub struct MapResolver<'a> {
    docs: HashMap<String, Source<'a>>,
}

impl<'a> MapResolver<'a> {
    pub fn new() -> Self {
        MapResolver::default()
    }
    pub fn add_catalog(&mut self, name: &str, c: &'a Catalog) -> &mut Self {
        self.docs.insert(
            file_name(name).to_string(),
            Source::Catalog(Cow::Borrowed(c)),
        );
        self
    }
    pub fn add_profile(&mut self, name: &str, p: &'a ProfileDoc) -> &mut Self {
        self.docs.insert(
            file_name(name).to_string(),
            Source::Profile(Cow::Borrowed(p)),
        );
        self
    }
}

impl Resolver for MapResolver<'_> {
    fn fetch(&self, href: &str) -> Option<Source<'_>> {
        self.docs.get(file_name(href)).map(|s| match s {
            Source::Catalog(c) => Source::Catalog(Cow::Borrowed(c.as_ref())),
            Source::Profile(p) => Source::Profile(Cow::Borrowed(p.as_ref())),
        })
    }
}

pub fn file_name(href: &str) -> &str {
    let h = href.split(['?', '#']).next().unwrap_or(href);
    h.rsplit(['/', '\\']).next().unwrap_or(h)
}

/// The result of resolving a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The selected requirements, parameters set; uuid/title/version are the profile's.
    pub catalog: Catalog,
    /// `set-parameters` entries whose parameter is in none of the selected requirements.
    pub unused_parameters: Vec<String>,
}

/// Parses a profile document from JSON.
pub fn parse_profile(bytes: &[u8]) -> Result<ProfileDoc, OscalError> {
    match oscal::parse(bytes)? {
        oscal::Document::Profile(p) => Ok(p),
        other => Err(OscalError::WrongDocument {
            expected: "profile",
            found: other.kind(),
        }),
    }
}

/// Resolves `profile` (known under `name`, used for cycle detection) into its requirement set.
pub fn resolve(
    profile: &ProfileDoc,
    name: &str,
    resolver: &dyn Resolver,
) -> Result<Resolved, ProfileError> {
    let mut stack = vec![];
    let mut unused = vec![];
    let catalog = resolve_inner(profile, name, resolver, &mut stack, &mut unused)?;
    Ok(Resolved {
        catalog,
        unused_parameters: unused,
    })
}

fn resolve_inner(
    profile: &ProfileDoc,
    name: &str,
    resolver: &dyn Resolver,
    stack: &mut Vec<String>,
    unused: &mut Vec<String>,
) -> Result<Catalog, ProfileError> {
    let key = file_name(name).to_string();
    if stack.contains(&key) {
        let mut chain = stack.clone();
        chain.push(key);
        return Err(ProfileError::Cycle {
            path: "profile.imports".into(),
            chain,
        });
    }
    if stack.len() >= MAX_IMPORT_DEPTH {
        return Err(ProfileError::TooDeep {
            path: "profile.imports".into(),
            limit: MAX_IMPORT_DEPTH,
        });
    }
    if let Some(m) = &profile.modify {
        if !m.alters.is_empty() {
            return Err(ProfileError::Unsupported {
                path: "profile.modify.alters".into(),
                feature: "alters",
            });
        }
    }
    stack.push(key);
    let mut reqs = Vec::new();
    let mut practices: Vec<Practice> = Vec::new();
    let mut seen = HashSet::new();
    for (i, imp) in profile.imports.iter().enumerate() {
        let path = format!("profile.imports[{i}].href");
        let href = if let Some(uuid) = imp.href.strip_prefix('#') {
            profile
                .back_matter
                .as_ref()
                .and_then(|bm| bm.resources.iter().find(|r| r.uuid == uuid))
                .and_then(|r| r.rlinks.first())
                .map(|l| l.href.clone())
                .ok_or_else(|| ProfileError::UnresolvedResource {
                    path: path.clone(),
                    href: imp.href.clone(),
                })?
        } else {
            imp.href.clone()
        };
        let source = resolver
            .fetch(&href)
            .ok_or_else(|| ProfileError::NotFound {
                path: path.clone(),
                href: href.clone(),
            })?;
        let cat: Cow<'_, Catalog> = match source {
            Source::Catalog(c) => c,
            Source::Profile(p) => Cow::Owned(
                resolve_inner(&p, &href, resolver, stack, unused).map_err(|e| match e {
                    // Report cycles at the import that closes them.
                    ProfileError::Cycle { chain, .. } => ProfileError::Cycle {
                        path: path.clone(),
                        chain,
                    },
                    other => other,
                })?,
            ),
        };
        let base = format!("profile.imports[{i}]");
        let included: HashSet<&str> =
            if imp.include_all.is_some() || imp.include_controls.is_empty() {
                cat.requirements.iter().map(|r| r.id.as_str()).collect()
            } else {
                select(
                    &cat,
                    &imp.include_controls,
                    &format!("{base}.include-controls"),
                )?
            };
        let excluded = select(
            &cat,
            &imp.exclude_controls,
            &format!("{base}.exclude-controls"),
        )?;
        for r in &cat.requirements {
            let id = r.id.as_str();
            if included.contains(id) && !excluded.contains(id) && seen.insert(r.id.clone()) {
                reqs.push(r.clone());
                if !practices.iter().any(|p| p.id == r.practice) {
                    if let Some(p) = cat.practices.iter().find(|p| p.id == r.practice) {
                        practices.push(p.clone());
                    }
                }
            }
        }
    }
    if let Some(m) = &profile.modify {
        for sp in &m.set_parameters {
            let mut found = false;
            for r in reqs.iter_mut() {
                for p in r.params.iter_mut().filter(|p| p.id == sp.param_id) {
                    p.values = sp.values.clone();
                    if sp.label.is_some() {
                        p.label = sp.label.clone();
                    }
                    found = true;
                }
            }
            if !found {
                unused.push(sp.param_id.clone());
            }
        }
    }
    stack.pop();
    Ok(Catalog::new(
        profile.uuid.clone(),
        profile.metadata.title.clone(),
        profile.metadata.version.clone(),
        profile.metadata.last_modified.clone(),
        profile.metadata.oscal_version.clone(),
        name.to_string(),
        practices,
        reqs,
    ))
}

/// The ids a list of `include-controls`/`exclude-controls` selects in `cat`.
fn select<'c>(
    cat: &'c Catalog,
    selects: &[SelectControl],
    path: &str,
) -> Result<HashSet<&'c str>, ProfileError> {
    let mut out = HashSet::new();
    for (j, s) in selects.iter().enumerate() {
        let children = s.with_child_controls.as_deref() == Some("yes");
        let mut hits: Vec<&'c str> = Vec::new();
        for (k, id) in s.with_ids.iter().enumerate() {
            match cat.get(id) {
                Some(r) => hits.push(&r.id),
                None => {
                    return Err(ProfileError::UnknownControl {
                        path: format!("{path}[{j}].with-ids[{k}]"),
                        id: id.clone(),
                        source_name: cat.source.clone(),
                    })
                }
            }
        }
        for m in &s.matching {
            hits.extend(
                cat.requirements
                    .iter()
                    .filter(|r| glob(&m.pattern, &r.id))
                    .map(|r| r.id.as_str()),
            );
        }
        for id in hits {
            if children {
                out.extend(cat.descendants(id));
            } else {
                out.insert(id);
            }
        }
    }
    Ok(out)
}

/// OSCAL `matching` patterns: `*` any run of characters, `?` exactly one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn cat(name: &str, ids: &[(&str, Option<&str>)]) -> Catalog {
        // (id, parent) pairs; params "<id>-prm" on every control.
        let mut json = String::from(
            r#"{"catalog":{"uuid":"u","metadata":{"title":"T","version":"1","oscal-version":"1.1.2"},"groups":[{"id":"G","title":"G","controls":["#,
        );
        fn control(id: &str, ids: &[(&str, Option<&str>)]) -> String {
            let kids: Vec<String> = ids
                .iter()
                .filter(|(_, p)| *p == Some(id))
                .map(|(k, _)| control(k, ids))
                .collect();
            format!(
                r#"{{"id":"{id}","title":"{id}","params":[{{"id":"{id}-prm"}}],"controls":[{}]}}"#,
                kids.join(",")
            )
        }
        let tops: Vec<String> = ids
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(id, _)| control(id, ids))
            .collect();
        json.push_str(&tops.join(","));
        json.push_str("]}]}}");
        Catalog::from_json(json.as_bytes(), name).unwrap()
    }

    fn profile(name: &str, imports: &str, extra: &str) -> ProfileDoc {
        let json = format!(
            r#"{{"profile":{{"uuid":"{name}","metadata":{{"title":"{name}","version":"1","oscal-version":"1.1.2"}},"imports":{imports}{extra}}}}}"#
        );
        parse_profile(json.as_bytes()).unwrap()
    }

    fn ids(r: &Resolved) -> Vec<&str> {
        r.catalog
            .requirements
            .iter()
            .map(|r| r.id.as_str())
            .collect()
    }

    /// Catalog A: A.1 (children A.1.1, A.1.2), A.2, B.1.
    fn base() -> Catalog {
        cat(
            "a.json",
            &[
                ("A.1", None),
                ("A.1.1", Some("A.1")),
                ("A.1.2", Some("A.1")),
                ("A.2", None),
                ("B.1", None),
            ],
        )
    }

    fn check(imports: &str, extra: &str, expected: Result<&[&str], &str>) {
        let a = base();
        let b = cat("b.json", &[("X.1", None), ("A.2", None)]);
        let mut res = MapResolver::new();
        res.add_catalog("../cat/a.json", &a)
            .add_catalog("b.json", &b);
        let p = profile("p", imports, extra);
        match (resolve(&p, "p.json", &res), expected) {
            (Ok(r), Ok(want)) => assert_eq!(ids(&r), want, "{imports}"),
            (Err(e), Err(msg)) => assert_eq!(e.to_string(), msg, "{imports}"),
            (got, want) => panic!("{imports}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn hand_checked_selections() {
        let all: &[&str] = &["A.1", "A.1.1", "A.1.2", "A.2", "B.1"];
        check(r#"[{"href":"a.json","include-all":{}}]"#, "", Ok(all));
        // No include at all means everything.
        check(r#"[{"href":"a.json"}]"#, "", Ok(all));
        check(
            r#"[{"href":"a.json","include-controls":[{"with-ids":["A.1","B.1"]}]}]"#,
            "",
            Ok(&["A.1", "B.1"]),
        );
        check(
            r#"[{"href":"a.json","include-controls":[{"with-ids":["A.1"],"with-child-controls":"yes"}]}]"#,
            "",
            Ok(&["A.1", "A.1.1", "A.1.2"]),
        );
        // A child alone does not pull in its parent.
        check(
            r#"[{"href":"a.json","include-controls":[{"with-ids":["A.1.2"]}]}]"#,
            "",
            Ok(&["A.1.2"]),
        );
        check(
            r#"[{"href":"a.json","include-controls":[{"matching":[{"pattern":"A.*"}]}]}]"#,
            "",
            Ok(&["A.1", "A.1.1", "A.1.2", "A.2"]),
        );
        check(
            r#"[{"href":"a.json","include-controls":[{"matching":[{"pattern":"A.?"}]}]}]"#,
            "",
            Ok(&["A.1", "A.2"]),
        );
        check(
            r#"[{"href":"a.json","include-all":{},"exclude-controls":[{"with-ids":["A.1"],"with-child-controls":"yes"}]}]"#,
            "",
            Ok(&["A.2", "B.1"]),
        );
        check(
            r#"[{"href":"a.json","include-all":{},"exclude-controls":[{"with-ids":["A.1"]}]}]"#,
            "",
            Ok(&["A.1.1", "A.1.2", "A.2", "B.1"]),
        );
        // Two imports; A.2 from b.json is a duplicate and the first one wins.
        check(
            r#"[{"href":"a.json","include-controls":[{"with-ids":["A.2"]}]},{"href":"b.json","include-all":{}}]"#,
            "",
            Ok(&["A.2", "X.1"]),
        );
        // Back-matter indirection with a relative path.
        check(
            r##"[{"href":"#r1","include-controls":[{"with-ids":["B.1"]}]}]"##,
            r#","back-matter":{"resources":[{"uuid":"r1","rlinks":[{"href":"../../x/a.json"}]}]}"#,
            Ok(&["B.1"]),
        );
        check(
            r##"[{"href":"#nope"}]"##,
            "",
            Err(
                "profile.imports[0].href: back-matter resource \"#nope\" not found or has no rlink",
            ),
        );
        check(
            r#"[{"href":"c.json"}]"#,
            "",
            Err("profile.imports[0].href: import \"c.json\" is not available"),
        );
        check(
            r#"[{"href":"a.json","include-controls":[{"with-ids":["Z.9"]}]}]"#,
            "",
            Err("profile.imports[0].include-controls[0].with-ids[0]: control \"Z.9\" does not exist in a.json"),
        );
        check(
            r#"[{"href":"a.json"}]"#,
            r#","modify":{"alters":[{"control-id":"A.1"}]}"#,
            Err("profile.modify.alters: alters is not supported"),
        );
    }

    #[test]
    fn parameters_and_nested_profiles() {
        let a = base();
        let inner = profile(
            "inner",
            r#"[{"href":"a.json","include-controls":[{"with-ids":["A.1","A.2"]}]}]"#,
            r#","modify":{"set-parameters":[{"param-id":"A.1-prm","values":["innen"]}]}"#,
        );
        let outer = profile(
            "outer",
            r#"[{"href":"inner.json","exclude-controls":[{"with-ids":["A.2"]}]}]"#,
            r#","modify":{"set-parameters":[{"param-id":"A.2-prm","values":["weg"]}]}"#,
        );
        let mut res = MapResolver::new();
        res.add_catalog("a.json", &a)
            .add_profile("inner.json", &inner);
        let r = resolve(&outer, "outer.json", &res).unwrap();
        assert_eq!(ids(&r), ["A.1"]);
        assert_eq!(r.catalog.get("A.1").unwrap().params[0].values, ["innen"]);
        assert_eq!(r.unused_parameters, ["A.2-prm"]);
        assert_eq!(r.catalog.title, "outer");
    }

    #[test]
    fn cycles_are_found() {
        let p1 = profile("p1", r#"[{"href":"p2.json"}]"#, "");
        let p2 = profile("p2", r#"[{"href":"../p1.json"}]"#, "");
        let mut res = MapResolver::new();
        res.add_profile("p1.json", &p1).add_profile("p2.json", &p2);
        let e = resolve(&p1, "p1.json", &res).unwrap_err();
        assert_eq!(
            e.to_string(),
            "profile.imports[0].href: profile imports form a cycle: p1.json → p2.json → p1.json"
        );
        let selfish = profile("s", r#"[{"href":"s.json"}]"#, "");
        let mut res = MapResolver::new();
        res.add_profile("s.json", &selfish);
        assert!(matches!(
            resolve(&selfish, "s.json", &res),
            Err(ProfileError::Cycle { .. })
        ));
    }

    #[test]
    fn globs() {
        for (p, t, want) in [
            ("*", "", true),
            ("A.*", "A.1.2", true),
            ("A.?", "A.12", false),
            ("*.1", "B.1", true),
            ("A*B*C", "AxxBxxC", true),
            ("A*B*C", "AxxBxx", false),
            ("", "x", false),
        ] {
            assert_eq!(glob(p, t), want, "{p} {t}");
        }
    }
}
