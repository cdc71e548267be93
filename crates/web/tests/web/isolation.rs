//! Tenant isolation over every route: a user of town A, walking every route of the router with the
//! ids of town B (and of another Verbund) filled in, gets 403/404, sees none of B's data, and
//! changes nothing of B. Routes are taken from the router's own table, so new ones are walked too.

use crate::harness::*;
use axum::http::{Method, StatusCode};
use stadtmauer_core::audit::Entry;
use stadtmauer_core::org::ContactInput;
use stadtmauer_store::audit::AuditFilter;
use stadtmauer_web::route_table;
use std::collections::HashMap;

/// Strings that only appear in data of the victims.
const MARKERS: &[&str] = &[
    TOWN_B,
    "Kleinmurne",
    "jana.schubert",
    "03999014",
    "Beispielstein",
    "Feldmarkt",
    "henrik.baumann",
    "Geheimkontakt",
];

async fn all_audit(app: &TestApp) -> Vec<Entry> {
    let sys = app.system().await;
    app.store
        .audit_entries(
            &sys,
            &AuditFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

fn fill(path: &str, ids: &HashMap<&str, String>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let name = &rest[i + 1..j];
        let v = ids.get(name).unwrap_or_else(|| panic!("route {path}: add an id of the other town for parameter {{{name}}} to the isolation test"));
        out.push_str(v);
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_route_keeps_towns_apart() {
    let app = spawn_app().await;
    let sys = app.system().await;
    let town_b = app.org_id(TOWN_B).await;
    let other_town = app.org_id("Stadt Beispielstein").await;
    let other_verbund = app
        .store
        .verbuende(&sys)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.name == "Landkreis Beispielstein")
        .unwrap()
        .id;
    let contact = app
        .store
        .add_contact(
            &sys,
            town_b,
            &ContactInput {
                function: "Notfall".into(),
                name: "Geheimkontakt".into(),
                email: None,
                phone: Some("+49 5555 1".into()),
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let user_b = app.user_id(COORD_B).await;
    let membership_b = app.store.user(&sys, user_b).await.unwrap().memberships[0].id;
    let scope_b = app.scope_of(COORD_B).await;
    let (token_b, _) = app
        .store
        .create_token(&scope_b, "b-token", false, None)
        .await
        .unwrap();
    let token_a = app.token_for(COORD_A, false).await;
    // An object and a link of each victim's Informationsverbund.
    let mut inventory = HashMap::new();
    for victim in [town_b, other_town] {
        let obj = |kind: &str, name: &str| {
            stadtmauer_inventory::model::ObjectInput {
                kind: kind.into(),
                name: name.into(),
                need_a: (kind == "process").then(|| "hoch".into()),
                ..Default::default()
            }
            .validate()
            .unwrap()
        };
        let p = app
            .store
            .create_object(&sys, victim, &obj("process", "Geheimkontakt-Prozess"))
            .await
            .unwrap();
        let a = app
            .store
            .create_object(&sys, victim, &obj("application", "Geheimkontakt-Verfahren"))
            .await
            .unwrap();
        let l = app.store.add_link(&sys, p, a).await.unwrap();
        inventory.insert(victim, (a, l));
    }

    // Two victims: a town of the same Verbund, and one of another Verbund.
    for (victim, verbund) in [(town_b, other_verbund), (other_town, other_verbund)] {
        let ids: HashMap<&str, String> = [
            ("org_id", victim.to_string()),
            ("contact_id", contact.to_string()),
            ("user_id", user_b.to_string()),
            ("membership_id", membership_b.to_string()),
            ("verbund_id", verbund.to_string()),
            ("token_id", token_b.to_string()),
            ("file", "app.css".to_string()),
            ("object_id", inventory[&victim].0.to_string()),
            ("link_id", inventory[&victim].1.to_string()),
        ]
        .into_iter()
        .collect();
        let before_b = app
            .store
            .audit_entries(
                &sys,
                &AuditFilter {
                    organisation: Some(victim),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .len();
        let before_all = all_audit(&app).await.len();
        let victim_s = victim.to_string();
        let verbund_s = verbund.to_string();
        // A body that passes validation wherever possible, so that only the scope can refuse it.
        let form: Vec<(&str, &str)> = vec![
            ("name", "Übernommen"),
            ("kind", "gemeinde"),
            ("verbund_id", &verbund_s),
            ("organisation_id", &victim_s),
            ("function", "Angreifer"),
            ("email", "mallory@evil.example"),
            ("display_name", "Mallory"),
            ("role", "coordinator"),
            ("disabled", "1"),
            ("verbund_name", "Übernahme"),
            ("office_name", "Übernahme-Büro"),
            ("code", "123456"),
            // Not A's password: A's own password change would revoke `token_a` mid-walk (a
            // password change kills the user's API tokens) and leave the API routes untested.
            ("current_password", "nicht-das-passwort"),
            ("new_password", "ein-neues-langes-passwort"),
            ("lang", "de"),
        ];
        let org_json =
            serde_json::json!({"name": "Übernommen", "kind": "gemeinde", "verbund_id": verbund.0});
        let contact_json = serde_json::json!({"function": "Angreifer", "name": "Mallory"});
        let routes = route_table();
        assert!(
            routes.len() > 40,
            "route table looks incomplete: {}",
            routes.len()
        );
        for r in &routes {
            if r.path == "/logout" {
                continue; // ends the walker's own session, touches nothing else
            }
            let path = fill(r.path, &ids);
            let has_ids = r.path.contains('{') && !r.path.contains("{file}");
            let mut client = app.session_for(COORD_A).await;
            if r.api {
                client.bearer = Some(token_a.clone());
            }
            let resp = if r.api && r.method != Method::GET {
                let body = if r.path.contains("/contacts") {
                    &contact_json
                } else {
                    &org_json
                };
                client.json(r.method.clone(), &path, body).await
            } else if r.method == Method::GET {
                client.get(&path).await
            } else {
                client.post(&path, &form).await
            };
            let what = format!("{} {} (as {COORD_A}) → {}", r.method, path, resp.status);
            if has_ids && !r.public {
                assert!(
                    matches!(resp.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                    "{what}: expected 403 or 404"
                );
            } else {
                assert!(!resp.status.is_server_error(), "{what}: server error");
            }
            for m in MARKERS {
                assert!(
                    !resp.body.contains(m),
                    "{what}: body shows {m:?} of another town"
                );
                for (_, v) in resp.headers.iter() {
                    assert!(
                        !v.to_str().unwrap_or("").contains(m),
                        "{what}: header shows {m:?}"
                    );
                }
            }
        }
        let after_b = app
            .store
            .audit_entries(
                &sys,
                &AuditFilter {
                    organisation: Some(victim),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .len();
        assert_eq!(before_b, after_b, "the walk changed data of the other town");
        // Whatever the walk wrote (A's own town, A's own account) is A's; nothing else.
        let a = app.org_id(TOWN_A).await;
        let me = app.user_id(COORD_A).await;
        for e in all_audit(&app)
            .await
            .into_iter()
            .take(all_audit(&app).await.len() - before_all)
        {
            let own = e.organisation_id == Some(a)
                || (e.organisation_id.is_none()
                    && e.entity == "user"
                    && e.entity_id == me.to_string())
                || (e.organisation_id.is_none() && e.entity == "api_token");
            assert!(own, "the walk changed something outside town A: {e:?}");
        }
        // B's contact and coordinator are untouched.
        assert!(app
            .store
            .contacts(&sys, town_b)
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == contact));
        assert!(!app.store.user(&sys, user_b).await.unwrap().user.disabled);
    }
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
