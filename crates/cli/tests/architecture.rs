//! The dependency rules of ARCHITECTURE.md ("Dependency rules" and each crate's invariant), checked
//! against `cargo metadata`: every normal (non-dev, non-build) dependency of every workspace member
//! must be allowed by the table below. A new crate, or a new edge between our crates, fails here
//! until the table (and ARCHITECTURE.md) say where it belongs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

/// The domain crates: they compute, and may be used by `store`, `web`, `demo` and `cli`.
const DOMAIN: &[&str] = &[
    "inventory",
    "catalog",
    "assessment",
    "lifecycle",
    "continuity",
    "report",
];

/// Crates of the outside world that speak SQL, HTTP or async. Domain crates, `core` and `pdf` are
/// plain computation and use none of them.
const IO_CRATES: &[&str] = &[
    "sqlx",
    "axum",
    "axum-extra",
    "tokio",
    "hyper",
    "hyper-util",
    "reqwest",
    "tower",
    "http",
];

/// Crates that speak HTTP: `store` knows nothing about HTTP.
const HTTP_CRATES: &[&str] = &[
    "axum",
    "axum-extra",
    "hyper",
    "hyper-util",
    "reqwest",
    "tower",
    "http",
];

/// One crate's rule: which of our crates it may depend on, which outside crates it must not use,
/// and the sentence of ARCHITECTURE.md that says so.
struct Rule {
    /// The folder under `crates/` (the package is `stadtmauer-<folder>`, except `cli`).
    krate: &'static str,
    allowed: Vec<&'static str>,
    forbidden_external: &'static [&'static str],
    rule: &'static str,
}

fn rules() -> Vec<Rule> {
    let domain_and = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["core"];
        v.extend_from_slice(DOMAIN);
        v.extend_from_slice(extra);
        v
    };
    let domain_rule = "Domain crates depend on `core` and, where they speak of inventory objects, \
                       on `inventory` — never on each other otherwise, never on `store` or `web`; \
                       no HTTP, no SQL, no async";
    let mut rules = vec![
        Rule {
            krate: "core",
            allowed: vec![],
            forbidden_external: IO_CRATES,
            rule: "`core` depends on no crate of ours; it knows nothing about HTTP, SQL, or async",
        },
        Rule {
            krate: "pdf",
            allowed: vec![],
            forbidden_external: IO_CRATES,
            rule: "`pdf` depends on no crate of ours and knows nothing of the domain",
        },
        Rule {
            krate: "memory",
            allowed: vec![],
            forbidden_external: IO_CRATES,
            rule: "`memory` gives freed memory back to the system and knows nothing of ours \
                   (two glibc calls)",
        },
        Rule {
            krate: "report",
            allowed: vec!["core", "pdf"],
            forbidden_external: IO_CRATES,
            rule: "`report` depends on `core` and `pdf`; no HTTP, no SQL",
        },
        Rule {
            krate: "assessment",
            allowed: vec!["core", "inventory"],
            forbidden_external: IO_CRATES,
            rule: "`assessment`: no HTTP, no SQL, and no dependency on `catalog` (requirements \
                   arrive as plain `RequirementRef`s); domain crates depend on `core` and \
                   `inventory` only",
        },
        Rule {
            krate: "store",
            allowed: domain_and(&[]),
            forbidden_external: HTTP_CRATES,
            rule: "`store` depends on `core` and the domain crates, and knows nothing about HTTP",
        },
        Rule {
            krate: "web",
            allowed: domain_and(&["store", "pdf", "memory"]),
            forbidden_external: &["sqlx"],
            rule: "`web` depends on `core`, the domain crates and `store` (the handbook PDF \
                   through `pdf`, freed memory through `memory`); no SQL; nothing depends on `cli`",
        },
        Rule {
            krate: "demo",
            allowed: domain_and(&["store"]),
            forbidden_external: &[],
            rule: "`demo` depends on `core`, the domain crates and `store`",
        },
        Rule {
            krate: "cli",
            allowed: domain_and(&["store", "web", "demo", "pdf", "memory"]),
            forbidden_external: &[],
            rule: "`cli` depends on all of them, except the benchmark; nothing depends on `cli`",
        },
        Rule {
            krate: "bench",
            allowed: domain_and(&["store", "demo", "pdf"]),
            forbidden_external: &[],
            rule: "`bench` drives the release binary and benchmarks the domain crates, `store`, \
                   `demo` and `pdf` in process; never `web` or `cli` (it measures them from outside)",
        },
    ];
    for d in ["inventory", "catalog", "lifecycle", "continuity"] {
        rules.push(Rule {
            krate: d,
            allowed: if d == "inventory" {
                vec!["core"]
            } else {
                vec!["core", "inventory"]
            },
            forbidden_external: IO_CRATES,
            rule: domain_rule,
        });
    }
    rules
}

/// Edges the rules forbid but the code has, each reported rather than silently allowed. The test
/// fails when one of them is gone, so that this list only ever shrinks.
const KNOWN_BREACHES: &[(&str, &str)] = &[];

fn folder_of(package: &str) -> Option<&str> {
    match package {
        "stadtmauer" => Some("cli"),
        p => p.strip_prefix("stadtmauer-"),
    }
}

/// Normal dependencies of each workspace member, by crate folder: (ours, outside).
type Deps = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

fn workspace_dependencies() -> Deps {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let members: BTreeSet<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut deps = Deps::new();
    for p in packages {
        let name = p["name"].as_str().unwrap();
        let folder = folder_of(name)
            .unwrap_or_else(|| panic!("workspace member {name} is not named stadtmauer-<folder>"));
        let entry = deps.entry(folder.to_string()).or_default();
        for d in p["dependencies"].as_array().unwrap() {
            // `kind` is null for normal dependencies, "dev" or "build" otherwise.
            if !d["kind"].is_null() {
                continue;
            }
            let dep = d["name"].as_str().unwrap();
            if members.contains(dep) {
                entry.0.insert(folder_of(dep).unwrap_or(dep).to_string());
            } else {
                entry.1.insert(dep.to_string());
            }
        }
    }
    deps
}

#[test]
fn dependencies_follow_the_architecture_rules() {
    let deps = workspace_dependencies();
    assert!(
        deps.len() >= 14 && deps.contains_key("core") && deps.contains_key("web"),
        "cargo metadata listed too few workspace members: {:?}",
        deps.keys().collect::<Vec<_>>()
    );
    let rules = rules();
    let mut problems = Vec::new();
    let mut breaches_seen = BTreeSet::new();
    for (krate, (ours, outside)) in &deps {
        let Some(rule) = rules.iter().find(|r| r.krate == krate.as_str()) else {
            problems.push(format!(
                "crates/{krate} has no dependency rule: add it to the table in \
                 crates/cli/tests/architecture.rs and to ARCHITECTURE.md's \"Dependency rules\""
            ));
            continue;
        };
        for dep in ours {
            if rule.allowed.contains(&dep.as_str()) {
                continue;
            }
            if KNOWN_BREACHES.contains(&(krate.as_str(), dep.as_str())) {
                breaches_seen.insert((krate.clone(), dep.clone()));
                continue;
            }
            problems.push(format!(
                "crates/{krate} depends on our crate `{dep}`, which the rule forbids: {}",
                rule.rule
            ));
        }
        for dep in outside {
            if rule.forbidden_external.contains(&dep.as_str()) {
                problems.push(format!(
                    "crates/{krate} depends on `{dep}`, which the rule forbids: {}",
                    rule.rule
                ));
            }
        }
    }
    for (krate, dep) in KNOWN_BREACHES {
        if !breaches_seen.contains(&(krate.to_string(), dep.to_string())) {
            problems.push(format!(
                "crates/{krate} no longer depends on `{dep}`: remove it from KNOWN_BREACHES in \
                 crates/cli/tests/architecture.rs"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "dependency rules of ARCHITECTURE.md broken:\n  {}",
        problems.join("\n  ")
    );
}

/// The table itself keeps the rules' shape: nothing may depend on `cli`, nothing on itself, and
/// `assessment` never on `catalog`.
#[test]
fn the_rule_table_keeps_its_invariants() {
    let rules = rules();
    for r in &rules {
        assert!(
            !r.allowed.contains(&"cli"),
            "{} may not depend on cli",
            r.krate
        );
        assert!(!r.allowed.contains(&r.krate), "{} lists itself", r.krate);
        assert!(
            !r.allowed.contains(&"bench"),
            "{} may not depend on bench",
            r.krate
        );
    }
    let get = |k: &str| rules.iter().find(|r| r.krate == k).unwrap();
    assert!(get("core").allowed.is_empty());
    assert!(!get("assessment").allowed.contains(&"catalog"));
    for d in DOMAIN.iter().chain(["core", "pdf"].iter()) {
        let r = get(d);
        for forbidden in ["store", "web", "demo"] {
            assert!(
                !r.allowed.contains(&forbidden),
                "{d} may not use {forbidden}"
            );
        }
        for io in ["sqlx", "axum", "tokio", "hyper", "reqwest"] {
            assert!(r.forbidden_external.contains(&io), "{d} must refuse {io}");
        }
    }
}
