//! No page shows a raw translation key: the office officer walks every page reachable from the
//! dashboard (the change log on the dashboard and the audit page included), in German and in
//! English, and every key a page asked for must exist — `i18n::missing_keys()` records each one
//! that did not, instead of a log line nobody reads.

use crate::harness::*;
use axum::http::{Method, StatusCode};
use stadtmauer_store::audit::AuditFilter;
use stadtmauer_web::i18n::{missing_keys, Lang, Tr};
use stadtmauer_web::route_table;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Pages per route template: enough to see each page's variants, without visiting all 400 objects.
const PER_ROUTE: usize = 2;

/// The route template a path belongs to: the one whose literal segments match the most.
fn template_of(path: &str, templates: &[&'static str]) -> Option<&'static str> {
    let segs: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .filter_map(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            if ts.len() != segs.len() {
                return None;
            }
            let mut literal = 0;
            for (a, b) in ts.iter().zip(&segs) {
                if a.starts_with('{') {
                    continue;
                }
                if a != b {
                    return None;
                }
                literal += 1;
            }
            Some((literal, *t))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, t)| t)
}

/// The site-local links of a page (`href="/…"`), with `&amp;` decoded.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|l| l.starts_with('/') && !l.starts_with("//"))
        .map(|l| l.replace("&amp;", "&"))
        .collect()
}

/// Downloads and documents that are no HTML page, and links that would end the session.
fn skipped(path: &str) -> bool {
    path == "/logout"
        || path.starts_with("/assets/")
        || path.starts_with("/api/")
        || [".pdf", ".xlsx", ".csv", ".json", ".html"]
            .iter()
            .any(|ext| path.ends_with(ext))
}

/// Walks the pages the office officer reaches from the dashboard; returns the visited paths and
/// the route templates they covered.
async fn walk(client: &mut Client) -> (Vec<String>, BTreeSet<&'static str>) {
    let routes = route_table();
    let templates: Vec<&'static str> = routes
        .iter()
        .filter(|r| r.method == Method::GET && !r.api)
        .map(|r| r.path)
        .collect();
    let mut queue: VecDeque<String> = templates
        .iter()
        .filter(|t| !t.contains('{'))
        .map(|t| t.to_string())
        .collect();
    queue.push_front("/dashboard".into());
    let mut seen = BTreeSet::new();
    let mut per_template: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut visited = Vec::new();
    while let Some(url) = queue.pop_front() {
        let path = url.split(['?', '#']).next().unwrap_or("").to_string();
        if skipped(&path) || !seen.insert(url.clone()) {
            continue;
        }
        let Some(template) = template_of(&path, &templates) else {
            continue;
        };
        let count = per_template.entry(template).or_default();
        if *count >= PER_ROUTE {
            continue;
        }
        *count += 1;
        let resp = client.get(&url).await;
        assert!(
            !resp.status.is_server_error(),
            "GET {url} → {}: server error",
            resp.status
        );
        if resp.status == StatusCode::OK {
            queue.extend(links(&resp.body));
        }
        visited.push(url);
    }
    let covered = per_template.keys().copied().collect();
    (visited, covered)
}

#[tokio::test]
async fn every_page_of_the_office_is_translated_in_both_languages() {
    let app = spawn_app().await;
    // The whole demo, as `serve --demo` shows it: Informationsverbünde, security level, update
    // watch, council records and continuity, each with its entries in the change log.
    stadtmauer_demo::load_inventory(&app.store, |_| {})
        .await
        .unwrap();
    // Switching the language is itself a change of the officer's account (a user entry).
    let mut client = app.session_for(OFFICE).await;
    for lang in ["de", "en"] {
        client.get("/account").await;
        let r = client.post("/language", &[("lang", lang)]).await;
        assert!(
            r.status.is_redirection(),
            "POST /language {lang}: {}",
            r.status
        );
        let dash = client.get("/dashboard").await;
        assert_eq!(dash.status, StatusCode::OK);
        assert!(
            dash.body.contains(&format!("lang=\"{lang}\"")),
            "the dashboard is not in {lang}"
        );
        let (visited, covered) = walk(&mut client).await;
        for must in [
            "/dashboard",
            "/audit",
            "/organisations/{org_id}",
            "/inventory/{object_id}",
            "/organisations/{org_id}/security",
            "/verbuende/{verbund_id}",
        ] {
            assert!(
                covered.contains(must),
                "the walk in {lang} never reached {must}; visited {visited:#?}"
            );
        }
        // The walk saw a few pages of the change log; every entry the demo wrote must have its
        // labels too (action, entity, and each field that changed).
        let tr = Tr {
            lang: Lang::parse(lang).unwrap(),
        };
        let sys = app.system().await;
        let mut entries = Vec::new();
        loop {
            let page = app
                .store
                .audit_entries(
                    &sys,
                    &AuditFilter {
                        before_seq: entries
                            .last()
                            .map(|e: &stadtmauer_core::audit::Entry| e.seq),
                        limit: 1000,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            entries.extend(page);
        }
        assert!(entries.len() > 1000, "demo audit log: {}", entries.len());
        for e in &entries {
            tr.or(&format!("audit.action.{}", e.action), "");
            tr.or(&format!("audit.entity.{}", e.entity), "");
            let fields = |j: &Option<String>| -> serde_json::Map<String, serde_json::Value> {
                match j.as_deref().map(serde_json::from_str) {
                    Some(Ok(serde_json::Value::Object(m))) => m,
                    _ => Default::default(),
                }
            };
            let (before, after) = (fields(&e.before), fields(&e.after));
            for k in before.keys().chain(after.keys()) {
                if before.get(k) != after.get(k) {
                    tr.field(k);
                }
            }
        }
        let missing = missing_keys();
        assert!(
            missing.is_empty(),
            "keys missing from the catalogs after walking {} pages in {lang} (as lang:key; add them \
             to crates/web/i18n/{{de,en}}*.txt): {missing:#?}",
            visited.len()
        );
    }
}
