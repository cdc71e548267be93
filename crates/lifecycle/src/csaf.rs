//! CSAF 2.0 advisories: the document model (the parts the update watch needs), a subset of the
//! mandatory tests of section 6.1, and the resolution of the product tree into rules
//! "product key K, versions S, status T, CVE C, CVSS x".
//!
//! Errors carry the JSON path (serde_path_to_error) and, for syntax errors, line and column.
//! Limits: [`MAX_SIZE`] bytes per document and [`MAX_DEPTH`] levels of branches.

use crate::identity::{normalize, AliasTable, ProductKey};
use crate::version::{Scheme, Version};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Documents larger than this are refused (the spec's largest examples are < 1 MB).
pub const MAX_SIZE: usize = 16 << 20;
/// Deeper product-tree branches are refused.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Csaf {
    pub document: DocumentMeta,
    #[serde(default)]
    pub product_tree: Option<ProductTree>,
    #[serde(default)]
    pub vulnerabilities: Vec<Vulnerability>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DocumentMeta {
    pub category: String,
    pub csaf_version: String,
    pub title: String,
    pub publisher: Publisher,
    pub tracking: Tracking,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Publisher {
    pub category: String,
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Tracking {
    pub id: String,
    pub current_release_date: String,
    pub initial_release_date: String,
    pub status: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProductTree {
    #[serde(default)]
    pub branches: Vec<Branch>,
    #[serde(default)]
    pub full_product_names: Vec<FullProductName>,
    #[serde(default)]
    pub relationships: Vec<Relationship>,
    #[serde(default)]
    pub product_groups: Vec<ProductGroup>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Branch {
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub branches: Vec<Branch>,
    #[serde(default)]
    pub product: Option<FullProductName>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FullProductName {
    pub name: String,
    pub product_id: String,
    #[serde(default)]
    pub product_identification_helper: Option<Helper>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Helper {
    #[serde(default)]
    pub cpe: Option<String>,
    #[serde(default)]
    pub purl: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Relationship {
    pub category: String,
    pub full_product_name: FullProductName,
    pub product_reference: String,
    pub relates_to_product_reference: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ProductGroup {
    pub group_id: String,
    pub product_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Vulnerability {
    #[serde(default)]
    pub cve: Option<String>,
    #[serde(default)]
    pub product_status: Option<ProductStatus>,
    #[serde(default)]
    pub scores: Vec<Score>,
    #[serde(default)]
    pub release_date: Option<String>,
    #[serde(default)]
    pub remediations: Vec<Remediation>,
    #[serde(default)]
    pub threats: Vec<Threat>,
    /// VEX justifications; product and group ids share the `Threat` shape.
    #[serde(default)]
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Flag {
    pub label: String,
    #[serde(default)]
    pub product_ids: Vec<String>,
    #[serde(default)]
    pub group_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProductStatus {
    #[serde(default)]
    pub first_affected: Vec<String>,
    #[serde(default)]
    pub first_fixed: Vec<String>,
    #[serde(default)]
    pub fixed: Vec<String>,
    #[serde(default)]
    pub known_affected: Vec<String>,
    #[serde(default)]
    pub known_not_affected: Vec<String>,
    #[serde(default)]
    pub last_affected: Vec<String>,
    #[serde(default)]
    pub recommended: Vec<String>,
    #[serde(default)]
    pub under_investigation: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Score {
    pub products: Vec<String>,
    #[serde(default)]
    pub cvss_v3: Option<CvssV3>,
    #[serde(default)]
    pub cvss_v2: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CvssV3 {
    pub version: String,
    pub vector_string: String,
    pub base_score: f64,
    pub base_severity: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Remediation {
    pub category: String,
    #[serde(default)]
    pub product_ids: Vec<String>,
    #[serde(default)]
    pub group_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Threat {
    pub category: String,
    #[serde(default)]
    pub product_ids: Vec<String>,
    #[serde(default)]
    pub group_ids: Vec<String>,
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsafError {
    #[error("CSAF document larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("CSAF: at JSON path {path}: {message} (line {line}, column {column})")]
    Json {
        path: String,
        message: String,
        line: usize,
        column: usize,
    },
    #[error("CSAF: /document/csaf_version is {0:?}, only \"2.0\" is supported")]
    Version(String),
    #[error("CSAF: product tree deeper than {max} levels at {path}")]
    TooDeep { path: String, max: usize },
    #[error("CSAF mandatory test {test} failed at {path}: {message}")]
    Mandatory {
        test: &'static str,
        path: String,
        message: String,
    },
}

/// Parse and check one CSAF 2.0 document.
pub fn parse(bytes: &[u8]) -> Result<Csaf, CsafError> {
    if bytes.len() > MAX_SIZE {
        return Err(CsafError::TooLarge { max: MAX_SIZE });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let doc: Csaf = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        CsafError::Json {
            path,
            line: inner.line(),
            column: inner.column(),
            message: inner.to_string(),
        }
    })?;
    if doc.document.csaf_version != "2.0" {
        return Err(CsafError::Version(doc.document.csaf_version.clone()));
    }
    if let Some(t) = &doc.product_tree {
        for (i, b) in t.branches.iter().enumerate() {
            depth(b, 1, &format!("/product_tree/branches/{i}"))?;
        }
    }
    check(&doc)?;
    Ok(doc)
}

fn depth(b: &Branch, d: usize, path: &str) -> Result<(), CsafError> {
    if d > MAX_DEPTH {
        return Err(CsafError::TooDeep {
            path: path.to_owned(),
            max: MAX_DEPTH,
        });
    }
    for (i, c) in b.branches.iter().enumerate() {
        depth(c, d + 1, &format!("{path}/branches/{i}"))?;
    }
    Ok(())
}

fn mandatory(test: &'static str, path: String, message: String) -> CsafError {
    CsafError::Mandatory {
        test,
        path,
        message,
    }
}

/// The mandatory tests implemented: 6.1.1 (product id used but not defined), 6.1.2 (defined
/// twice), 6.1.3 (circular relationship), 6.1.4 (group id used but not defined), 6.1.5 (group
/// defined twice), 6.1.6 (contradicting product status), 6.1.7 (several scores of one CVSS
/// version for one product). These are the ones whose violation would make matching wrong.
pub fn check(doc: &Csaf) -> Result<(), CsafError> {
    let tree = doc.product_tree.clone().unwrap_or_default();
    // 6.1.2 and collect definitions.
    let mut defined: HashMap<String, String> = HashMap::new();
    let mut defs: Vec<(String, String)> = Vec::new();
    fn walk(b: &Branch, path: String, out: &mut Vec<(String, String)>) {
        if let Some(p) = &b.product {
            out.push((p.product_id.clone(), format!("{path}/product/product_id")));
        }
        for (i, c) in b.branches.iter().enumerate() {
            walk(c, format!("{path}/branches/{i}"), out);
        }
    }
    for (i, b) in tree.branches.iter().enumerate() {
        walk(b, format!("/product_tree/branches/{i}"), &mut defs);
    }
    for (i, p) in tree.full_product_names.iter().enumerate() {
        defs.push((
            p.product_id.clone(),
            format!("/product_tree/full_product_names/{i}/product_id"),
        ));
    }
    for (i, r) in tree.relationships.iter().enumerate() {
        defs.push((
            r.full_product_name.product_id.clone(),
            format!("/product_tree/relationships/{i}/full_product_name/product_id"),
        ));
    }
    for (id, path) in defs {
        if let Some(first) = defined.insert(id.clone(), path.clone()) {
            return Err(mandatory(
                "6.1.2",
                path,
                format!("product id {id:?} already defined at {first}"),
            ));
        }
    }
    let known = |id: &str, path: String| -> Result<(), CsafError> {
        if defined.contains_key(id) {
            Ok(())
        } else {
            Err(mandatory(
                "6.1.1",
                path,
                format!("product id {id:?} is not defined in the product tree"),
            ))
        }
    };
    // 6.1.5, then 6.1.1 inside groups and relationships.
    let mut groups: HashSet<&str> = HashSet::new();
    for (i, g) in tree.product_groups.iter().enumerate() {
        if !groups.insert(&g.group_id) {
            return Err(mandatory(
                "6.1.5",
                format!("/product_tree/product_groups/{i}/group_id"),
                format!("group id {:?} defined twice", g.group_id),
            ));
        }
        for (j, p) in g.product_ids.iter().enumerate() {
            known(
                p,
                format!("/product_tree/product_groups/{i}/product_ids/{j}"),
            )?;
        }
    }
    for (i, r) in tree.relationships.iter().enumerate() {
        known(
            &r.product_reference,
            format!("/product_tree/relationships/{i}/product_reference"),
        )?;
        known(
            &r.relates_to_product_reference,
            format!("/product_tree/relationships/{i}/relates_to_product_reference"),
        )?;
    }
    // 6.1.3: a relationship's product must not reach itself through references.
    let edges: HashMap<&str, Vec<&str>> =
        tree.relationships.iter().fold(HashMap::new(), |mut m, r| {
            m.entry(r.full_product_name.product_id.as_str())
                .or_default()
                .extend([
                    r.product_reference.as_str(),
                    r.relates_to_product_reference.as_str(),
                ]);
            m
        });
    for (i, r) in tree.relationships.iter().enumerate() {
        let start = r.full_product_name.product_id.as_str();
        let mut stack: Vec<&str> = edges.get(start).cloned().unwrap_or_default();
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if n == start {
                return Err(mandatory(
                    "6.1.3",
                    format!("/product_tree/relationships/{i}"),
                    format!("product id {start:?} refers to itself"),
                ));
            }
            if seen.insert(n) {
                stack.extend(edges.get(n).into_iter().flatten());
            }
        }
    }
    let group_known = |id: &str, path: String| -> Result<(), CsafError> {
        if groups.contains(id) {
            Ok(())
        } else {
            Err(mandatory(
                "6.1.4",
                path,
                format!("group id {id:?} is not defined"),
            ))
        }
    };
    for (vi, v) in doc.vulnerabilities.iter().enumerate() {
        let base = format!("/vulnerabilities/{vi}");
        if let Some(ps) = &v.product_status {
            let mut class: HashMap<&str, (&str, String)> = HashMap::new();
            for (name, cls, list) in status_lists(ps) {
                for (j, p) in list.iter().enumerate() {
                    let path = format!("{base}/product_status/{name}/{j}");
                    known(p, path.clone())?;
                    // `recommended` is outside 6.1.6's four groups: it may accompany any status.
                    if cls == "recommended" {
                        continue;
                    }
                    if let Some((other, first)) = class.get(p.as_str()) {
                        if *other != cls {
                            return Err(mandatory(
                                "6.1.6",
                                path,
                                format!(
                                    "product id {p:?} is also in a contradicting status at {first}"
                                ),
                            ));
                        }
                    } else {
                        class.insert(p, (cls, path));
                    }
                }
            }
        }
        let mut scored: HashSet<(&str, &str)> = HashSet::new();
        for (si, s) in v.scores.iter().enumerate() {
            for (j, p) in s.products.iter().enumerate() {
                let path = format!("{base}/scores/{si}/products/{j}");
                known(p, path.clone())?;
                let versions = s
                    .cvss_v3
                    .iter()
                    .map(|c| c.version.as_str())
                    .chain(s.cvss_v2.iter().map(|_| "2.0"));
                for ver in versions {
                    if !scored.insert((p, ver)) {
                        return Err(mandatory(
                            "6.1.7",
                            path.clone(),
                            format!("product id {p:?} has two CVSS {ver} scores"),
                        ));
                    }
                }
            }
        }
        for (ri, r) in v.remediations.iter().enumerate() {
            for (j, p) in r.product_ids.iter().enumerate() {
                known(p, format!("{base}/remediations/{ri}/product_ids/{j}"))?;
            }
            for (j, g) in r.group_ids.iter().enumerate() {
                group_known(g, format!("{base}/remediations/{ri}/group_ids/{j}"))?;
            }
        }
        for (fi, f) in v.flags.iter().enumerate() {
            for (j, p) in f.product_ids.iter().enumerate() {
                known(p, format!("{base}/flags/{fi}/product_ids/{j}"))?;
            }
            for (j, g) in f.group_ids.iter().enumerate() {
                group_known(g, format!("{base}/flags/{fi}/group_ids/{j}"))?;
            }
        }
        for (ti, t) in v.threats.iter().enumerate() {
            for (j, p) in t.product_ids.iter().enumerate() {
                known(p, format!("{base}/threats/{ti}/product_ids/{j}"))?;
            }
            for (j, g) in t.group_ids.iter().enumerate() {
                group_known(g, format!("{base}/threats/{ti}/group_ids/{j}"))?;
            }
        }
    }
    Ok(())
}

/// (field name, contradiction class, list) per product status field (6.1.6's four groups).
fn status_lists(ps: &ProductStatus) -> [(&'static str, &'static str, &Vec<String>); 8] {
    [
        ("first_affected", "affected", &ps.first_affected),
        ("known_affected", "affected", &ps.known_affected),
        ("last_affected", "affected", &ps.last_affected),
        ("known_not_affected", "not_affected", &ps.known_not_affected),
        ("first_fixed", "fixed", &ps.first_fixed),
        ("fixed", "fixed", &ps.fixed),
        (
            "under_investigation",
            "under_investigation",
            &ps.under_investigation,
        ),
        ("recommended", "recommended", &ps.recommended),
    ]
}

/// A product status as the matcher uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    KnownAffected,
    FirstAffected,
    LastAffected,
    UnderInvestigation,
    Fixed,
    FirstFixed,
    KnownNotAffected,
}

impl Status {
    /// Fixed or not affected: the installation is safe from this CVE.
    pub fn is_safe(self) -> bool {
        matches!(
            self,
            Status::Fixed | Status::FirstFixed | Status::KnownNotAffected
        )
    }
}

/// The versions a product entry of an advisory stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSpec {
    /// No version given: every version of the product.
    Any,
    Exact(String),
    /// A range (`vers:` string or free text as in `product_version_range`).
    Range(String),
}

/// One resolved product entry of a product tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInfo {
    pub product_id: String,
    pub vendor: Option<String>,
    pub product_name: Option<String>,
    pub full_name: String,
    pub spec: VersionSpec,
    pub cpe: Option<String>,
    pub purl: Option<String>,
}

/// Walk the product tree: every product id with vendor, product name and version (spec) found on
/// its branch path; relationship products take the component's (`product_reference`) identity.
pub fn resolve_products(doc: &Csaf) -> HashMap<String, ProductInfo> {
    let mut out = HashMap::new();
    let Some(tree) = &doc.product_tree else {
        return out;
    };
    fn walk(
        b: &Branch,
        mut ctx: (Option<String>, Option<String>, VersionSpec),
        out: &mut HashMap<String, ProductInfo>,
    ) {
        match b.category.as_str() {
            "vendor" => ctx.0 = Some(b.name.clone()),
            "product_name" | "product_family" => ctx.1 = Some(b.name.clone()),
            "product_version" => ctx.2 = VersionSpec::Exact(b.name.clone()),
            "product_version_range" => ctx.2 = VersionSpec::Range(b.name.clone()),
            _ => {}
        }
        if let Some(p) = &b.product {
            let h = p.product_identification_helper.clone().unwrap_or_default();
            out.insert(
                p.product_id.clone(),
                ProductInfo {
                    product_id: p.product_id.clone(),
                    vendor: ctx.0.clone(),
                    product_name: ctx.1.clone(),
                    full_name: p.name.clone(),
                    spec: ctx.2.clone(),
                    cpe: h.cpe,
                    purl: h.purl,
                },
            );
        }
        for c in &b.branches {
            walk(c, ctx.clone(), out);
        }
    }
    for b in &tree.branches {
        walk(b, (None, None, VersionSpec::Any), &mut out);
    }
    for p in &tree.full_product_names {
        let h = p.product_identification_helper.clone().unwrap_or_default();
        out.insert(
            p.product_id.clone(),
            ProductInfo {
                product_id: p.product_id.clone(),
                vendor: None,
                product_name: None,
                full_name: p.name.clone(),
                spec: VersionSpec::Any,
                cpe: h.cpe,
                purl: h.purl,
            },
        );
    }
    for r in &tree.relationships {
        if let Some(base) = out.get(&r.product_reference).cloned() {
            let p = &r.full_product_name;
            out.insert(
                p.product_id.clone(),
                ProductInfo {
                    product_id: p.product_id.clone(),
                    full_name: p.name.clone(),
                    ..base
                },
            );
        }
    }
    out
}

/// CPE 2.3 (`cpe:2.3:a:vendor:product:version:…`) or 2.2 (`cpe:/a:vendor:product:version`) →
/// (vendor, product, version if not `*`/`-`).
pub fn split_cpe(cpe: &str) -> Option<(&str, &str, Option<&str>)> {
    let rest = cpe
        .strip_prefix("cpe:2.3:")
        .or_else(|| cpe.strip_prefix("cpe:/"))?;
    let mut it = rest.split(':');
    let _part = it.next()?;
    let vendor = it.next()?;
    let product = it.next()?;
    let version = it
        .next()
        .filter(|v| !v.is_empty() && *v != "*" && *v != "-");
    Some((vendor, product, version))
}

impl ProductInfo {
    /// The product key: by CPE, by purl, else by vendor and product name through the alias table.
    pub fn key(&self, aliases: &AliasTable) -> Option<ProductKey> {
        if let Some((v, p, _)) = self.cpe.as_deref().and_then(split_cpe) {
            if let Some(prod) = aliases.by_cpe(v, p) {
                return Some(prod.key.clone());
            }
        }
        if let Some(prod) = self.purl.as_deref().and_then(|p| aliases.by_purl(p)) {
            return Some(prod.key.clone());
        }
        let name = self.product_name.as_deref().unwrap_or(&self.full_name);
        normalize(self.vendor.as_deref(), name, None, aliases).key
    }

    /// The version spec, falling back to the CPE's or purl's version when the tree gives none.
    pub fn effective_spec(&self) -> VersionSpec {
        if self.spec != VersionSpec::Any {
            return self.spec.clone();
        }
        if let Some((_, _, Some(v))) = self.cpe.as_deref().and_then(split_cpe) {
            return VersionSpec::Exact(v.to_owned());
        }
        if let Some(v) = self
            .purl
            .as_deref()
            .and_then(|p| p.split_once('@'))
            .map(|(_, v)| v.split(['?', '#']).next().unwrap_or(v))
        {
            return VersionSpec::Exact(v.to_owned());
        }
        VersionSpec::Any
    }
}

/// A comparison in a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

/// A parsed version range: either "all versions" or `vers`-style constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    All,
    Constraints(Vec<(Cmp, Version)>),
}

/// Why a range was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("version range {0:?} is not understood")]
    Syntax(String),
    #[error("version range {range:?}: {source}")]
    Version {
        range: String,
        source: crate::version::VersionError,
    },
}

/// Parse `vers:<scheme>/<constraints>` (the scheme name is ignored: versions are read in the
/// product's scheme) or simple free text: `<= 4.2`, `>=1.0 <2.0`, `< 7.0.13, >= 7.0.0`, `all`.
pub fn parse_range(scheme: Scheme, s: &str) -> Result<Range, RangeError> {
    let err = || RangeError::Syntax(s.to_owned());
    let t = s.trim();
    let (body, sep): (&str, &[char]) = match t.strip_prefix("vers:") {
        Some(rest) => (rest.split_once('/').ok_or_else(err)?.1, &['|']),
        None => (t, &[',', ' ', '|']),
    };
    if body.trim() == "*"
        || body.trim().eq_ignore_ascii_case("all")
        || body.trim().eq_ignore_ascii_case("all versions")
    {
        return Ok(Range::All);
    }
    // Free text may put a blank between operator and version ("<= 4.2"): glue them first.
    let glued: String = {
        let mut g = String::with_capacity(body.len());
        let mut last_op = false;
        for c in body.chars() {
            if c == ' ' && last_op {
                continue;
            }
            last_op = matches!(c, '<' | '>' | '=' | '!');
            g.push(c);
        }
        g
    };
    let mut out = Vec::new();
    for tok in glued
        .split(sep)
        .map(str::trim)
        .filter(|x| !x.is_empty() && !x.eq_ignore_ascii_case("and"))
    {
        let (cmp, v) = [
            ("<=", Cmp::Le),
            (">=", Cmp::Ge),
            ("!=", Cmp::Ne),
            ("<", Cmp::Lt),
            (">", Cmp::Gt),
            ("=", Cmp::Eq),
        ]
        .iter()
        .find_map(|(p, c)| tok.strip_prefix(p).map(|v| (*c, v)))
        .unwrap_or((Cmp::Eq, tok));
        let v = Version::parse(scheme, v).map_err(|source| RangeError::Version {
            range: s.to_owned(),
            source,
        })?;
        out.push((cmp, v));
    }
    if out.is_empty() {
        return Err(err());
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(Range::Constraints(out))
}

impl Range {
    /// Membership as in the `vers` specification: equalities first, then the sorted range
    /// constraints read pairwise as intervals, open at the ends.
    pub fn contains(&self, v: &Version) -> bool {
        let cs = match self {
            Range::All => return true,
            Range::Constraints(cs) => cs,
        };
        for (c, x) in cs {
            if x == v {
                match c {
                    Cmp::Eq | Cmp::Le | Cmp::Ge => return true,
                    Cmp::Ne => return false,
                    _ => {}
                }
            }
        }
        // Range constraints (all but = and !=) in ascending order, read pairwise; no allocation,
        // since the matcher calls this millions of times.
        let mut prev: Option<&(Cmp, Version)> = None;
        let mut any_range = false;
        for cur in cs.iter().filter(|(c, _)| !matches!(c, Cmp::Eq | Cmp::Ne)) {
            match prev {
                None => {
                    if matches!(cur.0, Cmp::Lt | Cmp::Le) && v < &cur.1 {
                        return true;
                    }
                }
                Some(p) => {
                    if matches!(p.0, Cmp::Gt | Cmp::Ge)
                        && matches!(cur.0, Cmp::Lt | Cmp::Le)
                        && v > &p.1
                        && v < &cur.1
                    {
                        return true;
                    }
                }
            }
            any_range = true;
            prev = Some(cur);
        }
        match prev {
            Some((c, x)) => matches!(c, Cmp::Gt | Cmp::Ge) && v > x,
            // Only exclusions: everything else is in.
            None => !any_range && cs.iter().all(|(c, _)| *c == Cmp::Ne),
        }
    }
}

/// A matcher rule derived from one advisory: product key, versions, status, CVE, score.
#[derive(Debug, Clone)]
pub struct Rule {
    pub advisory: Arc<str>,
    pub cve: Option<Arc<str>>,
    pub key: ProductKey,
    pub versions: RuleVersions,
    pub status: Status,
    pub cvss: Option<f32>,
}

/// The versions a rule applies to, read in the product's scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleVersions {
    Any,
    Exact(Version),
    Range(Range),
}

impl RuleVersions {
    pub fn contains(&self, v: Option<&Version>) -> bool {
        match (self, v) {
            (RuleVersions::Any, _) => true,
            (_, None) => false,
            (RuleVersions::Exact(x), Some(v)) => x == v,
            (RuleVersions::Range(r), Some(v)) => r.contains(v),
        }
    }
}

/// Products of an advisory that could not be turned into rules, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    UnknownProduct { product_id: String },
    Version { product_id: String, message: String },
}

/// Turn a document into matcher rules for the products the identity table knows.
pub fn rules(doc: &Csaf, aliases: &AliasTable) -> (Vec<Rule>, Vec<Skipped>) {
    let products = resolve_products(doc);
    let advisory: Arc<str> = Arc::from(doc.document.tracking.id.as_str());
    let mut keyed: HashMap<&str, Option<(ProductKey, RuleVersions)>> = HashMap::new();
    let mut skipped = Vec::new();
    let mut out = Vec::new();
    for v in &doc.vulnerabilities {
        let Some(ps) = &v.product_status else {
            continue;
        };
        let cve: Option<Arc<str>> = v.cve.as_deref().map(Arc::from);
        let lists = [
            (Status::KnownAffected, &ps.known_affected),
            (Status::FirstAffected, &ps.first_affected),
            (Status::LastAffected, &ps.last_affected),
            (Status::UnderInvestigation, &ps.under_investigation),
            (Status::Fixed, &ps.fixed),
            (Status::FirstFixed, &ps.first_fixed),
            (Status::KnownNotAffected, &ps.known_not_affected),
        ];
        for (status, list) in lists {
            for pid in list {
                let entry = keyed.entry(pid.as_str()).or_insert_with(|| {
                    let info = products.get(pid.as_str())?;
                    let Some(key) = info.key(aliases) else {
                        skipped.push(Skipped::UnknownProduct {
                            product_id: pid.clone(),
                        });
                        return None;
                    };
                    let scheme = aliases.product(&key).map_or(Scheme::Unknown, |p| p.scheme);
                    let versions = match info.effective_spec() {
                        VersionSpec::Any => Ok(RuleVersions::Any),
                        VersionSpec::Exact(s) => Version::parse(scheme, &s)
                            .map(RuleVersions::Exact)
                            .map_err(|e| e.to_string()),
                        VersionSpec::Range(s) => parse_range(scheme, &s)
                            .map(RuleVersions::Range)
                            .map_err(|e| e.to_string()),
                    };
                    match versions {
                        Ok(vs) => Some((key, vs)),
                        Err(message) => {
                            skipped.push(Skipped::Version {
                                product_id: pid.clone(),
                                message,
                            });
                            None
                        }
                    }
                });
                let Some((key, versions)) = entry.clone() else {
                    continue;
                };
                let cvss = v
                    .scores
                    .iter()
                    .filter(|s| s.products.iter().any(|p| p == pid))
                    .filter_map(|s| s.cvss_v3.as_ref().map(|c| c.base_score as f32))
                    .fold(None, |m: Option<f32>, x| Some(m.map_or(x, |m| m.max(x))));
                out.push(Rule {
                    advisory: advisory.clone(),
                    cve: cve.clone(),
                    key,
                    versions,
                    status,
                    cvss,
                });
            }
        }
    }
    (out, skipped)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(Scheme::Dotted, s).unwrap()
    }

    #[test]
    fn ranges() {
        let check = |r: &str, ver: &str, want: bool| {
            let range = parse_range(Scheme::Dotted, r).unwrap();
            assert_eq!(range.contains(&v(ver)), want, "{ver} in {r}");
        };
        check("vers:generic/>=1.0|<2.0", "1.5", true);
        check("vers:generic/>=1.0|<2.0", "2.0", false);
        check("vers:generic/>=1.0|<2.0", "1.0", true);
        check("vers:generic/<1.0|>=2.0|<3.0", "0.9", true);
        check("vers:generic/<1.0|>=2.0|<3.0", "1.5", false);
        check("vers:generic/<1.0|>=2.0|<3.0", "2.5", true);
        check("vers:generic/!=1.5", "1.4", true);
        check("vers:generic/!=1.5", "1.5", false);
        check("vers:generic/1.2.3|1.2.5", "1.2.5", true);
        check("<= 4.2", "4.2", true);
        check("<= 4.2", "4.3", false);
        check(">=7.0.0, <7.0.13", "7.0.12", true);
        check(">=7.0.0 <7.0.13", "7.0.13", false);
        check("vers:generic/*", "99", true);
        assert!(parse_range(Scheme::Dotted, "prior to the fix").is_err());
        assert!(parse_range(Scheme::Dotted, "vers:").is_err());
    }

    #[test]
    fn cpe_split() {
        assert_eq!(
            split_cpe("cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"),
            Some(("fortinet", "fortios", Some("7.0.12")))
        );
        assert_eq!(
            split_cpe("cpe:/a:microsoft:exchange_server"),
            Some(("microsoft", "exchange_server", None))
        );
        assert_eq!(split_cpe("cpe:2.3:a:x:y:*"), Some(("x", "y", None)));
        assert_eq!(split_cpe("nope"), None);
    }
}
