//! Continuity demo data for every member town: a BIA for its main processes (with a legal
//! deadline and a manual procedure), backups (some good, some bad), checklist answers and the
//! emergency handbook's contacts. Fictional names and numbers only, marked as such.

use stadtmauer_core::org::Organisation;
use stadtmauer_core::DomainError;
use stadtmauer_inventory::model::ObjectKind;
use stadtmauer_store::continuity::stadtmauer_continuity::backup::{
    BackupInput, CopyInput, RestoreTestInput,
};
use stadtmauer_store::continuity::stadtmauer_continuity::bia::{
    BiaInput, DeadlineInput, StepInput,
};
use stadtmauer_store::continuity::stadtmauer_continuity::readiness::{Answer, Checklist};
use stadtmauer_store::continuity::{ContactForm, Contacts};
use stadtmauer_store::Store;

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn answer(i: usize, k: usize) -> Answer {
    match (i + k) % 4 {
        0 => Answer::Yes,
        1 => Answer::Partial,
        2 => Answer::No,
        _ => Answer::Unknown,
    }
}

/// Loads the continuity records of every member (not the office); returns how many records.
pub async fn load(store: &Store, members: &[Organisation]) -> Result<usize, DomainError> {
    let sys = store.system_scope("Demo").await?;
    let today = time::OffsetDateTime::now_utc().date();
    let mut n = 0;
    for (i, town) in members.iter().filter(|o| !o.is_office).enumerate() {
        let objects = store.objects(&sys, town.id, None, false).await?;
        let servers: Vec<_> = objects
            .iter()
            .filter(|o| {
                o.data.kind == ObjectKind::System
                    && matches!(o.data.system_type.as_deref(), None | Some("server"))
            })
            .collect();
        // Backups: every second one is good (3-2-1-1-0, tested recently, outside the domain),
        // the others show the usual gaps.
        for (k, pair) in servers.chunks(2).enumerate() {
            let good = (i + k) % 2 == 0;
            let tested = today - time::Duration::days(if good { 45 } else { 500 });
            let mut copies = vec![CopyInput {
                medium: "nas".into(),
                location: "Serverraum Rathaus".into(),
                ..Default::default()
            }];
            if good {
                copies.push(CopyInput {
                    medium: "tape".into(),
                    location: "Tresor Bauhof".into(),
                    offsite: s("ja"),
                    offline: s("ja"),
                    immutable: None,
                });
            }
            let input = BackupInput {
                systems: pair.iter().map(|o| o.id).collect(),
                name: format!("Sicherung {}", pair[0].data.name),
                method: s(if good {
                    "Voll wöchentlich, inkrementell täglich"
                } else {
                    "Abbild"
                }),
                tool: s("Sicherungssoftware (Demo)"),
                interval: if good { "24h".into() } else { "7d".into() },
                retention: s("30d"),
                copies,
                encrypted: s(if good { "ja" } else { "nein" }),
                separate_credentials: s(if good { "ja" } else { "nein" }),
                last_success: Some(today.to_string()),
                restore_tests: if good || k % 3 == 1 {
                    vec![RestoreTestInput {
                        date: tested.to_string(),
                        duration: if good { "5h".into() } else { "14h".into() },
                        result: if good {
                            "success".into()
                        } else {
                            "partial".into()
                        },
                        errors: s(if good { "0" } else { "3" }),
                        notes: s(if good {
                            "Vollständig wiederhergestellt, Anmeldung geprüft"
                        } else {
                            "Datenbank ließ sich erst nach Nacharbeit öffnen"
                        }),
                    }]
                } else {
                    Vec::new()
                },
            };
            store.save_backup(&sys, town.id, None, &input).await?;
            n += 1;
        }
        // BIA for up to four processes.
        let processes: Vec<_> = objects
            .iter()
            .filter(|o| o.data.kind == ObjectKind::Process)
            .take(4)
            .collect();
        for (k, p) in processes.iter().enumerate() {
            let (mta, rto, crit) = match k {
                0 => ("2d", "1d", "sehr_hoch"),
                1 => ("3d", "2d", "hoch"),
                2 => ("1w", "3d", "mittel"),
                _ => ("2w", "1w", "niedrig"),
            };
            let mut input = BiaInput {
                mta: mta.into(),
                rto: rto.into(),
                rpo: s(if k == 0 { "24h" } else { "2d" }),
                criticality: crit.into(),
                deadlines: if k == 0 {
                    vec![DeadlineInput {
                        description: "Zahlungslauf zum Monatsersten".into(),
                        kind: "monthly".into(),
                        value: "1".into(),
                        lead: s("2d"),
                    }]
                } else {
                    Vec::new()
                },
                procedure_summary: (k < 2 || i % 2 == 0)
                    .then(|| format!("{} auf Papier weiterführen", p.data.name)),
                procedure_steps: if k < 2 {
                    vec![
                        StepInput {
                            who: "Sachgebietsleitung".into(),
                            what: "Papiervordrucke aus dem Notfallschrank ausgeben".into(),
                        },
                        StepInput {
                            who: "Sachbearbeitung".into(),
                            what: "Vorgänge im Eingangsbuch mit Uhrzeit erfassen".into(),
                        },
                    ]
                } else {
                    Vec::new()
                },
                procedure_materials: (k < 2)
                    .then(|| "Vordrucke und Eingangsbuch im Notfallschrank, Raum 012".into()),
                procedure_sustainable_for: s("5d"),
            };
            if store.save_bia(&sys, p.id, &input).await.is_err() {
                // No backup on the process's chain: an RPO would be refused.
                input.rpo = None;
                store.save_bia(&sys, p.id, &input).await?;
            }
            n += 1;
        }
        store
            .save_checklist(
                &sys,
                town.id,
                &Checklist {
                    mfa_remote_access: answer(i, 0),
                    admin_accounts_separated: answer(i, 1),
                    segmentation: answer(i, 2),
                    edr: answer(i, 3),
                },
            )
            .await?;
        let mut contacts = Contacts::default();
        let mut entries = vec![
            ContactForm {
                section: "alarm".into(),
                trigger: s("Verdacht auf Schadsoftware oder Erpressung"),
                notify: s("IT-Bereitschaft"),
                phone: s("0171 3900001"),
                escalate_after: s("15min"),
                ..Default::default()
            },
            ContactForm {
                section: "alarm".into(),
                trigger: s("IT-Bereitschaft nicht erreichbar oder Lage bestätigt"),
                notify: s("Leitung Krisenstab"),
                phone: s("0171 3900002"),
                escalate_after: s("30min"),
                ..Default::default()
            },
            ContactForm {
                section: "crisis".into(),
                role: s("Leitung Krisenstab"),
                member_name: s("Bürgermeister/in (Demo)"),
                member_phone: s("0171 3900002"),
                member_phone_kind: s("mobile"),
                deputy_name: s("Allgemeine Vertretung (Demo)"),
                deputy_phone: s("0171 3900003"),
                deputy_phone_kind: s("private"),
                ..Default::default()
            },
            ContactForm {
                section: "crisis".into(),
                role: s("IT-Koordination"),
                member_name: s("IT-Leitung (Demo)"),
                member_phone: s("04 99 9000-100"),
                member_phone_kind: s("office"),
                deputy_name: (i % 2 == 0).then(|| "IT-Vertretung (Demo)".into()),
                deputy_phone: (i % 2 == 0).then(|| "0171 3900004".into()),
                deputy_phone_kind: s("mobile"),
                ..Default::default()
            },
        ];
        let external = [
            ("state_cert", "CERT Musterland (fiktiv)", "0171 3900010"),
            (
                "police_zac",
                "ZAC Landeskriminalamt Musterland (fiktiv)",
                "0171 3900011",
            ),
            (
                "data_protection",
                "Landesbeauftragte für Datenschutz (fiktiv)",
                "0171 3900012",
            ),
            (
                "insurer",
                "Musterauer Versicherung (fiktiv)",
                "0171 3900013",
            ),
            (
                "it_provider",
                "Kommunales Rechenzentrum Musterau (fiktiv)",
                "0171 3900014",
            ),
            (
                "incident_response",
                "IR-Dienst Beispiel GmbH (fiktiv)",
                "0171 3900015",
            ),
            ("bsi", "BSI Lagezentrum (Nummer fiktiv)", "0171 3900016"),
        ];
        let take = if i % 3 == 0 { 5 } else { 7 };
        for (kind, name, phone) in external.iter().take(take) {
            entries.push(ContactForm {
                section: "external".into(),
                kind: s(kind),
                name: s(name),
                phone: s(phone),
                ..Default::default()
            });
        }
        for e in &entries {
            e.apply(&mut contacts)?;
        }
        store.save_contacts(&sys, town.id, &contacts).await?;
        n += 2;
    }
    Ok(n)
}
