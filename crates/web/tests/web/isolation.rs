//! Tenant isolation over every route. Each attacker pair walks every route of the router:
//!
//! - a coordinator of another town of the same Verbund, of a town of another Verbund, another
//!   Verbund's office officer and the coordinator of a town without Verbund: the victim's ids in
//!   the path (403/404), and — on the attacker's own path — in the query string and in the form or
//!   JSON body (whatever the answer, nothing of the victim shown or changed);
//! - a reader, IT staff and an auditor of the victim town itself, on everything their role does not
//!   allow: 403 (never 422 from validating first), nothing changed, and for the reader no record
//!   that only full readers may see.
//!
//! After every request: no 5xx, no marker of the victim in body or headers; after every write: the
//! victim's rows ([`tenant_rows`]) unchanged and no audit entry about the victim. [`ROUTES`] says
//! how each route is attacked; `routes_are_all_known` fails for a route it does not list.

use crate::harness::*;
use axum::http::{Method, StatusCode};
use stadtmauer_core::org::ContactInput;
use stadtmauer_core::user::{MembershipData, Role, UserData};
use stadtmauer_core::{Access, OrgId, VerbundId};
use stadtmauer_store::audit::AuditFilter;
use stadtmauer_store::testkit::{column, tenant_rows};
use stadtmauer_web::route_table;
use std::collections::{BTreeSet, HashMap};

/// Every route with what it needs and which ids it takes besides the path:
/// `METHOD PATH NEED [q] [b] [id=KIND]`.
///
/// NEED: `pub` (no login), `any` (any user, own data), `r`/`R`/`t`/`w` (reports, read, technical
/// write, write on the organisation of the path or body), `vs`/`vm` (see / manage the Verbund),
/// `sm` (change shared data: office officers), `adm` (administrators), `del` (delete an
/// organisation: who manages its Verbund), `uv`/`um` (see / manage a user). `q`: ids in the
/// query string are tried; `b`: ids in the body are tried; `id=KIND`: what the `id` field means.
const ROUTES: &str = "
GET /healthz pub
GET /metrics pub
GET /assets/{file} pub
GET /login pub
POST /login pub
GET /login/totp pub
POST /login/totp pub
POST /logout pub
POST /language pub
GET /api/v1/openapi.json pub
GET / any
GET /dashboard any q
GET /verbuende any
POST /verbuende adm
GET /verbuende/{verbund_id} vs
POST /verbuende/{verbund_id} vm
GET /organisations any q
GET /organisations/new any q
POST /organisations vm b
GET /organisations/{org_id} r
GET /organisations/{org_id}/edit w
POST /organisations/{org_id} w
GET /organisations/{org_id}/delete del
POST /organisations/{org_id}/delete del
POST /organisations/{org_id}/contacts w
POST /organisations/{org_id}/contacts/{contact_id}/delete w
GET /users any q
GET /users/new any
POST /users w b
GET /users/{user_id} uv
POST /users/{user_id} um
POST /users/{user_id}/status um
POST /users/{user_id}/password um
POST /users/{user_id}/totp/reset um
POST /users/{user_id}/memberships um b
POST /users/{user_id}/memberships/{membership_id}/delete um
GET /audit any q
GET /account any
POST /account/password any
GET /account/totp any
POST /account/totp any
POST /account/totp/disable any
POST /account/tokens any
POST /account/tokens/{token_id}/revoke any
GET /organisations/{org_id}/inventory R q
GET /organisations/{org_id}/inventory/new t
POST /organisations/{org_id}/inventory t b
GET /inventory/{object_id} R
POST /inventory/{object_id} t b
GET /inventory/{object_id}/edit t
POST /inventory/{object_id}/override w
POST /inventory/{object_id}/override/delete w
POST /inventory/{object_id}/links t b
POST /inventory/{object_id}/links/{link_id}/delete t
GET /inventory/{object_id}/delete t
POST /inventory/{object_id}/delete t
GET /inventory/{object_id}/diagram.svg R
GET /verbuende/{verbund_id}/providers vs
GET /verbuende/{verbund_id}/providers.svg vs
GET /organisations/{org_id}/import t
POST /organisations/{org_id}/import t
POST /organisations/{org_id}/import/commit t
GET /organisations/{org_id}/export.csv R
GET /organisations/{org_id}/export.xlsx R
GET /organisations/{org_id}/export.json R
GET /api/v1/organisations/{org_id}/objects R q
POST /api/v1/organisations/{org_id}/objects t b
GET /api/v1/objects/{object_id} R
PATCH /api/v1/objects/{object_id} t b
DELETE /api/v1/objects/{object_id} t
GET /api/v1/objects/{object_id}/links R
POST /api/v1/objects/{object_id}/links t b
DELETE /api/v1/objects/{object_id}/links/{link_id} t
GET /catalog any q
GET /catalog/requirement any q
GET /catalog/imported any
POST /catalog/imported sm
GET /catalog/imported/view any q id=catalog
GET /organisations/{org_id}/security r q
POST /organisations/{org_id}/security/target w
POST /organisations/{org_id}/security/finish w
GET /organisations/{org_id}/security/requirement R q
POST /organisations/{org_id}/security/answer t b
POST /organisations/{org_id}/security/evidence t
GET /organisations/{org_id}/security/evidence R q
GET /organisations/{org_id}/security/questionnaire R q
POST /organisations/{org_id}/security/questionnaire t b
GET /organisations/{org_id}/security/measures R q
POST /organisations/{org_id}/security/measures/derive w
POST /organisations/{org_id}/security/measures/status t b
GET /organisations/{org_id}/security/transfer R
GET /organisations/{org_id}/security/coverage R q
GET /organisations/{org_id}/security/soa.csv R
GET /organisations/{org_id}/security/soa.xlsx R
GET /organisations/{org_id}/security/assessment-results.json R
POST /organisations/{org_id}/security/assessment-results t
GET /organisations/{org_id}/security/assessment.xlsx R
POST /organisations/{org_id}/security/assessment.xlsx t
GET /security any q
GET /verbuende/{verbund_id}/security vs q
POST /verbuende/{verbund_id}/security vm
POST /verbuende/{verbund_id}/security/requirements vm b id=ownreq
POST /verbuende/{verbund_id}/security/requirements/delete vm b id=ownreq
POST /verbuende/{verbund_id}/security/measures vm b
GET /api/v1/organisations/{org_id}/security r
GET /api/v1/organisations/{org_id}/security/answers R
POST /api/v1/organisations/{org_id}/security/answers t b
GET /api/v1/organisations/{org_id}/security/measures R
GET /api/v1/verbuende/{verbund_id}/security vs
GET /updates/feeds any
POST /updates/feeds adm
GET /updates/aliases any q
POST /updates/aliases sm b
POST /updates/aliases/remove sm b id=alias
GET /organisations/{org_id}/updates R q
POST /organisations/{org_id}/updates/plan t b
POST /organisations/{org_id}/updates/exception w b
GET /verbuende/{verbund_id}/updates vs
POST /verbuende/{verbund_id}/updates/notify vm
POST /inventory/{object_id}/software t b id=software
POST /inventory/{object_id}/software/remove t b id=software
GET /organisations/{org_id}/continuity R q
POST /organisations/{org_id}/continuity/checklist t
GET /organisations/{org_id}/continuity/bia R
GET /inventory/{object_id}/bia R
POST /inventory/{object_id}/bia w b
GET /organisations/{org_id}/continuity/backups R
GET /organisations/{org_id}/continuity/backups/edit R q id=backup
POST /organisations/{org_id}/continuity/backups t b id=backup
POST /organisations/{org_id}/continuity/backups/delete t b id=backup
GET /organisations/{org_id}/continuity/contacts R
POST /organisations/{org_id}/continuity/contacts/add w
POST /organisations/{org_id}/continuity/contacts/remove w
GET /organisations/{org_id}/continuity/handbook.html R
GET /organisations/{org_id}/continuity/handbook.pdf R
GET /verbuende/{verbund_id}/continuity vs
GET /organisations/{org_id}/continuity/exercises R
POST /organisations/{org_id}/continuity/exercises w
GET /organisations/{org_id}/continuity/exercises/result R q id=exercise
POST /organisations/{org_id}/continuity/exercises/result t b id=exercise
POST /organisations/{org_id}/continuity/exercises/measure w b id=bcm_measure
GET /organisations/{org_id}/council r
POST /organisations/{org_id}/council/profile w
POST /organisations/{org_id}/council/years w
POST /organisations/{org_id}/council/events w
POST /organisations/{org_id}/council/events/delete w b id=event
POST /organisations/{org_id}/council/findings w b
POST /organisations/{org_id}/council/findings/status w b id=finding
GET /organisations/{org_id}/council/report.pdf r
GET /organisations/{org_id}/council/report.html r q
GET /organisations/{org_id}/council/report.json r q
GET /verbuende/{verbund_id}/council vs
GET /verbuende/{verbund_id}/council/report.pdf vs
GET /verbuende/{verbund_id}/council/report.html vs
GET /verbuende/{verbund_id}/council/report.json vs
GET /api/v1/organisations/{org_id}/council/report r q
GET /api/v1/verbuende/{verbund_id}/council/report vs
GET /api/v1/me any
GET /api/v1/verbuende any
GET /api/v1/organisations any
POST /api/v1/organisations vm b
GET /api/v1/organisations/{org_id} r
PATCH /api/v1/organisations/{org_id} w
DELETE /api/v1/organisations/{org_id} del
GET /api/v1/organisations/{org_id}/contacts R
POST /api/v1/organisations/{org_id}/contacts w
DELETE /api/v1/organisations/{org_id}/contacts/{contact_id} w
GET /api/v1/users any
GET /api/v1/users/{user_id} uv
GET /api/v1/audit any q
";

/// Defects the walk found but that are not fixed yet: `PAIR METHOD PATH STATUS`, `*` for every
/// pair. Tolerated and printed; a line whose defect no longer occurs fails the test. Empty: keep
/// it so.
const KNOWN_DEFECTS: &str = "
";

/// The lines of [`KNOWN_DEFECTS`] that occurred in this run: a line that no longer occurs fails
/// the test, so the list only ever shrinks.
static KNOWN_SEEN: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn known_defect(pair: &str, case: &RouteCase, status: StatusCode) -> bool {
    let hit = KNOWN_DEFECTS.lines().find(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        w.len() == 4
            && (w[0] == "*" || w[0] == pair)
            && w[1] == case.method.as_str()
            && w[2] == case.path
            && w[3] == status.as_str()
    });
    if let Some(l) = hit {
        KNOWN_SEEN.lock().unwrap().insert(l);
    }
    hit.is_some()
}

#[derive(Debug, Clone)]
struct RouteCase {
    method: Method,
    path: String,
    need: String,
    query: bool,
    body: bool,
    id_kind: Option<String>,
}

fn cases() -> Vec<RouteCase> {
    ROUTES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let method = Method::from_bytes(w.next().unwrap().as_bytes()).unwrap();
            let path = w.next().unwrap().to_string();
            let need = w
                .next()
                .unwrap_or_else(|| panic!("{l}: no need"))
                .to_string();
            let rest: Vec<&str> = w.collect();
            RouteCase {
                method,
                path,
                need,
                query: rest.contains(&"q"),
                body: rest.contains(&"b"),
                id_kind: rest
                    .iter()
                    .find_map(|x| x.strip_prefix("id="))
                    .map(String::from),
            }
        })
        .collect()
}

/// Slow pages (PDF rendering): walked once per pair, never with the ids moved elsewhere.
fn slow(path: &str) -> bool {
    path.ends_with(".pdf")
}

#[test]
fn routes_are_all_known() {
    let known: BTreeSet<(String, String)> = cases()
        .into_iter()
        .map(|c| (c.method.to_string(), c.path))
        .collect();
    let table: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<String> = table
        .difference(&known)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "the isolation test does not know how to attack these routes — add them to ROUTES in \
         crates/web/tests/web/isolation.rs: {missing:?}"
    );
    let gone: Vec<String> = known
        .difference(&table)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        gone.is_empty(),
        "ROUTES lists routes the router no longer has: {gone:?}"
    );
    assert_eq!(cases().len(), known.len(), "ROUTES lists a route twice");
}

type Ids = HashMap<String, String>;

fn fill(path: &str, ids: &Ids) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let name = &rest[i + 1..j];
        let v = ids.get(name).unwrap_or_else(|| {
            panic!("route {path}: the isolation test has no id for parameter {{{name}}}")
        });
        out.push_str(v);
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

async fn first(app: &TestApp, sql: String) -> String {
    column(&app.store, &sql)
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| "0".into())
}

/// Plants a record that only full readers of `org` may see, named with `marker`: an application
/// linked from a process, with software on it, and a contact. Returns the ids of `org`.
async fn plant(app: &TestApp, org: OrgId, marker: &str) -> Ids {
    let sys = app.system().await;
    let obj = |kind: &str, name: String| {
        stadtmauer_inventory::model::ObjectInput {
            kind: kind.into(),
            name,
            need_a: (kind == "process").then(|| "hoch".into()),
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    let p = app
        .store
        .create_object(&sys, org, &obj("process", format!("{marker}-Prozess")))
        .await
        .unwrap();
    let a = app
        .store
        .create_object(
            &sys,
            org,
            &obj("application", format!("{marker}-Verfahren")),
        )
        .await
        .unwrap();
    let l = app.store.add_link(&sys, p, a).await.unwrap();
    let contact = app
        .store
        .add_contact(
            &sys,
            org,
            &ContactInput {
                function: "Notfall".into(),
                name: format!("{marker}-Kontakt"),
                email: None,
                phone: Some("+49 5555 1".into()),
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let o = org.0;
    let verbund = first(
        app,
        format!("SELECT verbund_id FROM organisation WHERE id = {o} AND verbund_id IS NOT NULL"),
    )
    .await;
    let user = first(
        app,
        format!("SELECT user_id FROM membership WHERE organisation_id = {o} ORDER BY id"),
    )
    .await;
    let mut ids: Ids = HashMap::new();
    let mut put = |k: &str, v: String| {
        ids.insert(k.to_string(), v);
    };
    put("org_id", o.to_string());
    put("verbund_id", verbund.clone());
    put("object_id", a.to_string());
    put("process", p.to_string());
    put("link_id", l.to_string());
    put("contact_id", contact.to_string());
    put("user_id", user.clone());
    put("file", "app.css".into());
    let (t, mo) = (
        first(
            app,
            format!("SELECT id FROM api_token WHERE user_id = {user}"),
        )
        .await,
        first(
            app,
            format!("SELECT id FROM membership WHERE organisation_id = {o} AND user_id = {user}"),
        )
        .await,
    );
    put("token_id", t);
    put("membership_id", mo);
    for (k, sql) in [
        (
            "event",
            format!("SELECT id FROM cnc_event WHERE organisation_id = {o}"),
        ),
        (
            "finding",
            format!("SELECT id FROM cnc_finding WHERE organisation_id = {o}"),
        ),
        (
            "measure",
            format!("SELECT id FROM sec_measure WHERE organisation_id = {o}"),
        ),
        (
            "exercise",
            format!("SELECT id FROM bcm_exercise WHERE organisation_id = {o}"),
        ),
        (
            "bcm_measure",
            format!("SELECT id FROM bcm_measure WHERE organisation_id = {o}"),
        ),
        (
            "backup",
            format!("SELECT id FROM bcm_backup WHERE organisation_id = {o}"),
        ),
        (
            "updfinding",
            format!("SELECT id FROM upd_finding WHERE organisation_id = {o}"),
        ),
        (
            "sha",
            format!("SELECT sha256 FROM sec_evidence_file WHERE organisation_id = {o}"),
        ),
        (
            "software",
            format!(
                "SELECT s.id FROM inv_software s JOIN inv_object x ON x.id = s.object_id \
                 WHERE x.organisation_id = {o}"
            ),
        ),
        (
            "ownreq",
            format!("SELECT id FROM sec_own_requirement WHERE verbund_id = {verbund}"),
        ),
        (
            "alias",
            format!("SELECT id FROM upd_alias WHERE verbund_id = {verbund}"),
        ),
        (
            "catalog",
            format!("SELECT id FROM sec_catalog WHERE verbund_id = {verbund}"),
        ),
    ] {
        let v = first(app, sql).await;
        put(k, v);
    }
    ids
}

/// Strings that appear only in data of the victim organisation.
async fn markers_of(app: &TestApp, org: OrgId, planted: &str) -> Vec<String> {
    let o = org.0;
    let mut m = vec![planted.to_string()];
    m.extend(
        column(
            &app.store,
            &format!("SELECT name FROM organisation WHERE id = {o}"),
        )
        .await,
    );
    m.extend(
        column(
            &app.store,
            &format!("SELECT ags FROM organisation WHERE id = {o} AND ags IS NOT NULL"),
        )
        .await,
    );
    // Accounts that hold a role only here.
    m.extend(
        column(
            &app.store,
            &format!(
                "SELECT u.email FROM app_user u WHERE u.id IN (SELECT user_id FROM membership \
                 WHERE organisation_id = {o}) AND u.id NOT IN (SELECT user_id FROM membership \
                 WHERE organisation_id <> {o})"
            ),
        )
        .await
        .into_iter()
        .map(|e| e.split('@').next().unwrap().to_string()),
    );
    m
}

struct Pair {
    name: &'static str,
    attacker: String,
    /// For an attacker of the victim town itself: their level there.
    level: Option<Access>,
    /// Verbünde the attacker is a member of (their pages are the attacker's to see).
    member_of: Vec<String>,
    own: Ids,
    victims: Vec<Ids>,
    victim_orgs: Vec<i64>,
    victim_verbuende: Vec<i64>,
    markers: Vec<String>,
}

/// The form body of an attack: valid wherever possible, so that only the scope can refuse it,
/// with every id field pointing at the victim.
fn form_for(case: &RouteCase, v: &Ids) -> Vec<(String, String)> {
    let g = |k: &str| v.get(k).cloned().unwrap_or_default();
    let mut f: Vec<(&str, String)> = vec![
        ("name", "Übernommen".into()),
        ("kind", "gemeinde".into()),
        ("function", "Angreifer".into()),
        ("email", "mallory@evil.example".into()),
        ("display_name", "Mallory".into()),
        ("role", "coordinator".into()),
        ("disabled", "1".into()),
        ("verbund_name", "Übernahme".into()),
        ("office_name", "Übernahme-Büro".into()),
        ("code", "123456".into()),
        // Not the attacker's password: a password change would revoke their API token mid-walk.
        ("current_password", "nicht-das-passwort".into()),
        ("new_password", "ein-neues-langes-passwort".into()),
        ("lang", "de".into()),
        ("title", "Übernommen".into()),
        ("status", "done".into()),
        ("target", "basis".into()),
        ("reason", "Übernahme".into()),
        ("product", "nginx".into()),
        ("version", "1.0".into()),
        ("pattern", "übernahme".into()),
        ("key", "nginx".into()),
        ("section", "0".into()),
        ("index", "0".into()),
        ("organisation_id", g("org_id")),
        ("organisation", g("org_id")),
        ("org", g("org_id")),
        ("verbund_id", g("verbund_id")),
        ("verbund", g("verbund_id")),
        ("object_id", g("object_id")),
        ("to", g("object_id")),
        ("towns", g("org_id")),
        ("systems", g("object_id")),
        ("process", g("process")),
        ("measure_id", g("measure")),
        ("finding", g("updfinding")),
        ("event_id", g("event")),
        ("contact_id", g("contact_id")),
        ("user_id", g("user_id")),
        ("sha", g("sha")),
    ];
    // One `owner` field: a finding's owner, or (on the alias and catalog forms) the Verbund.
    if g("verbund_id").is_empty() {
        f.push(("owner", "Mallory".into()));
    } else {
        f.push(("owner", format!("verbund:{}", g("verbund_id"))));
    }
    if let Some(k) = &case.id_kind {
        f.push(("id", g(k)));
    } else {
        f.push(("id", g("object_id")));
    }
    f.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn query_for(case: &RouteCase, v: &Ids) -> String {
    let g = |k: &str| v.get(k).cloned().unwrap_or_default();
    let id = case
        .id_kind
        .as_ref()
        .map(|k| g(k))
        .unwrap_or_else(|| g("object_id"));
    format!(
        "?id={id}&org={o}&organisation={o}&verbund={vb}&object_id={obj}&sha={sha}\
         &finding={f}&edition=confidential&q=1",
        o = g("org_id"),
        vb = g("verbund_id"),
        obj = g("object_id"),
        sha = g("sha"),
        f = g("updfinding"),
    )
}

fn json_for(case: &RouteCase, v: &Ids) -> serde_json::Value {
    let n = |k: &str| {
        v.get(k)
            .and_then(|x| x.parse::<i64>().ok())
            .unwrap_or_default()
    };
    if case.path.contains("/contacts") {
        return serde_json::json!({"function": "Angreifer", "name": "Mallory"});
    }
    let mut j = serde_json::json!({"name": "Übernommen", "kind": "gemeinde", "verbund_id": n("verbund_id")});
    if case.body {
        j["to"] = n("object_id").into();
        j["object_id"] = n("object_id").into();
        j["organisation_id"] = n("org_id").into();
    }
    j
}

/// What one request ended with: its description, for messages.
struct Outcome {
    what: String,
    status: StatusCode,
}

struct Walk<'a> {
    app: &'a TestApp,
    pair: &'a Pair,
    client: Client,
    token: String,
    known: Vec<String>,
    requests: usize,
    failures: Vec<String>,
}

impl Walk<'_> {
    async fn send(
        &mut self,
        case: &RouteCase,
        path: &str,
        form: &[(String, String)],
        json: &serde_json::Value,
    ) -> Outcome {
        let api = path.starts_with("/api/");
        if !self.client.cookies.contains_key("sm_session") {
            self.client = self.app.session_for(&self.pair.attacker).await;
        }
        let client = &mut self.client;
        client.bearer = api.then(|| self.token.clone());
        let write = case.method != Method::GET;
        // Rows are compared once per walk (`walk`); the audit log after every write.
        let seq = if write {
            self.app.store.audit_seq().await.unwrap()
        } else {
            0
        };
        let resp = if api && write {
            client.json(case.method.clone(), path, json).await
        } else if !write {
            client.get(path).await
        } else {
            let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            client.post(path, &f).await
        };
        self.requests += 1;
        let what = format!(
            "[{}] {} {} (as {}) → {}",
            self.pair.name, case.method, path, self.pair.attacker, resp.status
        );
        if resp.status.is_server_error() {
            self.failures.push(format!("{what}: server error"));
        }
        for m in &self.pair.markers {
            let in_headers = resp
                .headers
                .iter()
                .any(|(_, v)| v.to_str().unwrap_or("").contains(m.as_str()));
            if resp.body.contains(m.as_str()) || in_headers {
                self.failures
                    .push(format!("{what}: shows {m:?} of the victim"));
            }
        }
        if write {
            let new = (self.app.store.audit_seq().await.unwrap() - seq).max(0) as usize;
            if new > 0 {
                let sys = self.app.system().await;
                let entries = self
                    .app
                    .store
                    .audit_entries(
                        &sys,
                        &AuditFilter {
                            limit: new as i64,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                for e in entries {
                    let about_victim = e
                        .organisation_id
                        .is_some_and(|o| self.pair.victim_orgs.contains(&o.0))
                        || (self.pair.level.is_some());
                    if about_victim {
                        self.failures.push(format!(
                            "{what}: audit entry about the victim: {} {} {}",
                            e.action, e.entity, e.entity_id
                        ));
                    }
                }
            }
        }
        Outcome {
            what,
            status: resp.status,
        }
    }

    fn expect(&mut self, case: &RouteCase, o: &Outcome, allowed: &[StatusCode]) {
        if known_defect(self.pair.name, case, o.status) {
            self.known.push(o.what.clone());
        } else if !allowed.contains(&o.status) {
            self.failures
                .push(format!("{}: expected one of {allowed:?}", o.what));
        }
    }
}

const DENIED: &[StatusCode] = &[StatusCode::FORBIDDEN, StatusCode::NOT_FOUND];
const FORBIDDEN: &[StatusCode] = &[StatusCode::FORBIDDEN];

fn level_of(need: &str) -> Option<Access> {
    match need {
        "r" => Some(Access::Reports),
        "R" => Some(Access::Read),
        "t" => Some(Access::WriteTechnical),
        "w" => Some(Access::Write),
        _ => None,
    }
}

/// Walks every route as the pair's attacker; returns the number of requests sent.
async fn walk(app: &TestApp, pair: &Pair, pdf_done: &mut bool) -> (usize, Vec<String>) {
    let token = app.token_for(&pair.attacker, false).await;
    let mut w = Walk {
        app,
        pair,
        client: app.session_for(&pair.attacker).await,
        token,
        known: Vec::new(),
        requests: 0,
        failures: Vec::new(),
    };
    let before = tenant_rows(&app.store, &pair.victim_orgs, &pair.victim_verbuende).await;
    for case in cases() {
        if case.need == "pub" {
            continue; // no tenant data behind them; hardening.rs walks them
        }
        let write = case.method != Method::GET;
        let has_ids = case.path.contains('{');
        if slow(&case.path) && *pdf_done && pair.level != Some(Access::Reports) {
            continue; // one cross-tenant walk of the PDF routes (and the reader's) is enough
        }
        match pair.level {
            // Same town, lower role: only what the role does not allow (and the reader's reads).
            Some(level) => {
                let v = &pair.victims[0];
                let path = fill(&case.path, v);
                let form = form_for(&case, v);
                let json = json_for(&case, v);
                let expected: Option<&[StatusCode]> = match case.need.as_str() {
                    n if level_of(n).is_some() => {
                        if level < level_of(n).unwrap() {
                            // An organisation seen without the right: 403. Objects are looked up
                            // among those the role may read, so theirs may answer 404.
                            if case.path.contains("{object_id}") {
                                Some(DENIED)
                            } else {
                                Some(FORBIDDEN)
                            }
                        } else if write || level > Access::Reports || slow(&case.path) && *pdf_done
                        {
                            continue; // within the role's rights
                        } else {
                            None
                        }
                    }
                    "vm" | "sm" | "adm" | "del" | "um" => Some(DENIED),
                    "uv" if level == Access::Reports => Some(DENIED),
                    _ if write || level > Access::Reports || case.path.starts_with("/account") => {
                        continue; // the role's own data
                    }
                    _ => None,
                };
                let o = w.send(&case, &path, &form, &json).await;
                if let Some(e) = expected {
                    w.expect(&case, &o, e);
                }
            }
            None => {
                for v in &pair.victims {
                    // 1. The victim's ids in the path (and everywhere else).
                    let path = fill(&case.path, v);
                    let o = w
                        .send(&case, &path, &form_for(&case, v), &json_for(&case, v))
                        .await;
                    let own_verbund = pair
                        .member_of
                        .iter()
                        .any(|m| Some(m) == v.get("verbund_id"));
                    let only_verbund = case.path.contains("{verbund_id}");
                    if has_ids {
                        match case.need.as_str() {
                            "vs" if own_verbund && only_verbund => {}
                            "vm" if own_verbund && only_verbund => w.expect(&case, &o, FORBIDDEN),
                            _ => w.expect(&case, &o, DENIED),
                        }
                    }
                    if !has_ids || slow(&case.path) {
                        continue;
                    }
                    // 2. The attacker's own path, the victim's ids in the query string.
                    let own_path = fill(&case.path, &pair.own);
                    if case.query || (case.method == Method::GET && !has_ids) {
                        let p = format!("{own_path}{}", query_for(&case, v));
                        let f = form_for(&case, &pair.own);
                        w.send(&case, &p, &f, &json_for(&case, &pair.own)).await;
                    }
                    // 3. The attacker's own path, the victim's ids in the body.
                    if case.body {
                        w.send(&case, &own_path, &form_for(&case, v), &json_for(&case, v))
                            .await;
                    }
                }
                if !has_ids && case.query {
                    for v in &pair.victims {
                        let p = format!("{}{}", case.path, query_for(&case, v));
                        w.send(&case, &p, &form_for(&case, v), &json_for(&case, v))
                            .await;
                    }
                }
            }
        }
    }
    if pair.level.is_none() {
        *pdf_done = true;
    }
    let after = tenant_rows(&app.store, &pair.victim_orgs, &pair.victim_verbuende).await;
    for (t, b) in &before {
        if after.get(t) != Some(b) {
            w.failures
                .push(format!("[{}] the walk changed the victim's {t}", pair.name));
        }
    }
    for k in &w.known {
        eprintln!("known defect: {k}");
    }
    (w.requests, w.failures)
}

async fn add_user(app: &TestApp, email: &str, org: OrgId, role: Role) {
    let sys = app.system().await;
    app.store
        .create_user(
            &sys,
            &UserData {
                email: email.into(),
                display_name: email.split('@').next().unwrap().into(),
            },
            "x",
            &MembershipData {
                organisation_id: org,
                role,
                valid_until: (role == Role::Auditor).then(|| stadtmauer_core::now() + 30 * 86_400),
            },
        )
        .await
        .unwrap();
}

async fn verbund_named(app: &TestApp, name: &str) -> VerbundId {
    let sys = app.system().await;
    app.store
        .verbuende(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.name == name)
        .unwrap()
        .id
}

#[tokio::test]
async fn every_route_keeps_tenants_and_roles_apart() {
    let started = std::time::Instant::now();
    let app = spawn_app().await;
    stadtmauer_demo::load_inventory(&app.store, |_| {})
        .await
        .unwrap();
    let musterau = verbund_named(&app, "Landkreis Musterau").await;
    let falkenhorst = app.org_id(TOWN_A).await;
    let kleinmurne = app.org_id(TOWN_B).await;
    let office = app.org_id("Informationssicherheitsbüro Musterau").await;
    let beispielstein = app.org_id("Stadt Beispielstein").await;
    let beispielstein_office = app
        .org_id("Informationssicherheitsbüro Beispielstein")
        .await;
    let solitz = app.org_id("Stadt Solitz").await;
    const HENRIK: &str = "henrik.baumann@isb-beispielstein.example";
    const FENJA: &str = "fenja.ohlsen@solitz.example";
    const READER: &str = "leser.falkenhorst@falkenhorst.example";
    const IT: &str = "it.falkenhorst@falkenhorst.example";
    const AUDITOR: &str = "pruefer.falkenhorst@falkenhorst.example";
    add_user(&app, READER, falkenhorst, Role::Reader).await;
    add_user(&app, IT, falkenhorst, Role::ItStaff).await;
    add_user(&app, AUDITOR, falkenhorst, Role::Auditor).await;
    // Every victim user has a token to revoke.
    for email in [
        COORD_B,
        "greta.lindqvist@beispielstein.example",
        OFFICE,
        COORD_A,
    ] {
        let _ = app.token_for(email, false).await;
    }

    let mut ids: HashMap<OrgId, Ids> = HashMap::new();
    let mut markers: HashMap<OrgId, Vec<String>> = HashMap::new();
    for org in [
        falkenhorst,
        kleinmurne,
        office,
        beispielstein,
        beispielstein_office,
        solitz,
    ] {
        let planted = format!("Geheimnis{}x", org.0);
        ids.insert(org, plant(&app, org, &planted).await);
        markers.insert(org, markers_of(&app, org, &planted).await);
    }
    let falk_user = first(
        &app,
        format!("SELECT id FROM app_user WHERE email = '{READER}'"),
    )
    .await;
    let own = |org: OrgId, user: Option<&str>| {
        let mut i = ids[&org].clone();
        if let Some(u) = user {
            i.insert("user_id".into(), u.to_string());
        }
        i
    };
    let cross = |name: &'static str,
                 attacker: &str,
                 own: Ids,
                 member_of: Vec<String>,
                 victims: &[OrgId],
                 verbuende: Vec<i64>,
                 extra_markers: &[&str]| {
        let mut m: Vec<String> = victims.iter().flat_map(|v| markers[v].clone()).collect();
        m.extend(extra_markers.iter().map(|s| s.to_string()));
        Pair {
            name,
            attacker: attacker.into(),
            level: None,
            member_of,
            own,
            victims: victims.iter().map(|v| ids[v].clone()).collect(),
            victim_orgs: victims.iter().map(|v| v.0).collect(),
            victim_verbuende: verbuende,
            markers: m,
        }
    };
    let same_town = |name: &'static str, attacker: &str, level: Access| Pair {
        name,
        attacker: attacker.into(),
        level: Some(level),
        member_of: vec![musterau.to_string()],
        own: ids[&falkenhorst].clone(),
        victims: vec![{
            // The town's coordinator is the user they try to manage.
            let mut i = ids[&falkenhorst].clone();
            i.insert("user_id".into(), ids[&falkenhorst]["user_id"].clone());
            i
        }],
        victim_orgs: vec![falkenhorst.0],
        victim_verbuende: vec![musterau.0],
        // Full records (inventory, contacts) are beyond a reader; nothing to hide from the others.
        markers: if level == Access::Reports {
            vec![format!("Geheimnis{}x", falkenhorst.0)]
        } else {
            vec![]
        },
    };
    let beispielstein_v = verbund_named(&app, "Landkreis Beispielstein").await;
    let pairs = vec![
        cross(
            "same-verbund-town",
            COORD_A,
            own(falkenhorst, Some(&falk_user)),
            vec![musterau.to_string()],
            &[kleinmurne],
            vec![musterau.0],
            &[],
        ),
        cross(
            "other-verbund-town",
            COORD_A,
            own(falkenhorst, Some(&falk_user)),
            vec![musterau.to_string()],
            &[beispielstein],
            vec![beispielstein_v.0],
            &["Beispielstein", "Feldmarkt"],
        ),
        cross(
            "other-verbund-office",
            HENRIK,
            own(beispielstein_office, None),
            vec![beispielstein_v.to_string()],
            &[kleinmurne, office],
            vec![musterau.0],
            &["Musterau"],
        ),
        cross(
            "town-without-verbund",
            FENJA,
            own(solitz, None),
            vec![],
            &[kleinmurne, office, beispielstein],
            vec![musterau.0, beispielstein_v.0],
            &["Musterau", "Beispielstein"],
        ),
        same_town("reader", READER, Access::Reports),
        same_town("it-staff", IT, Access::WriteTechnical),
        same_town("auditor", AUDITOR, Access::Read),
    ];
    let mut total = 0;
    let mut failures = Vec::new();
    let mut pdf_done = false;
    for pair in &pairs {
        let (n, f) = walk(&app, pair, &mut pdf_done).await;
        total += n;
        failures.extend(f);
    }
    eprintln!(
        "isolation: {} pairs, {total} attacks, {:?}",
        pairs.len(),
        started.elapsed()
    );
    let seen = KNOWN_SEEN.lock().unwrap().clone();
    for l in KNOWN_DEFECTS.lines().filter(|l| !l.trim().is_empty()) {
        if !seen.contains(l) {
            failures.push(format!(
                "known defect no longer occurs, remove it from KNOWN_DEFECTS: {l}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn office_sees_its_verbund_and_nothing_of_another() {
    let app = spawn_app().await;
    let mut c = app.session_for(OFFICE).await;
    let dash = c.get("/dashboard").await;
    assert_eq!(dash.status, StatusCode::OK);
    for town in ["Stadt Musterau", "Kreisverwaltung Musterau", TOWN_A, TOWN_B] {
        assert!(dash.body.contains(town), "office misses {town}");
    }
    for other in ["Beispielstein", "Feldmarkt", "Solitz"] {
        assert!(!dash.body.contains(other), "office sees {other}");
    }
    let mut a = app.session_for(COORD_A).await;
    let dash = a.get("/dashboard").await;
    assert!(dash.body.contains(TOWN_A));
    assert!(!dash.body.contains("Stadt Musterau"));
    assert!(!dash.body.contains(TOWN_B));
}
