//! Council records for the demo: several towns of Landkreis Musterau record their security
//! programme in varying completeness (some record nothing, so the report shows "nicht erfasst"),
//! and the office records the measures it runs for all members.

use stadtmauer_core::org::Organisation;
use stadtmauer_core::DomainError;
use stadtmauer_report::records::{
    Coverage, Event, EventKind, Finding, Profile, Remediation, Severity, YearFigures,
};
use stadtmauer_store::Store;
use time::macros::date;
use time::Date;

fn ev(
    kind: EventKind,
    held_on: Date,
    party: &str,
    topic: &str,
    participants: Option<i64>,
) -> Event {
    Event {
        id: 0,
        kind,
        held_on,
        party: party.into(),
        topic: Some(topic.into()),
        result: None,
        participants,
    }
}

/// Loads the records; towns are picked by their position in the member list (every third
/// town records nothing).
pub async fn load(store: &Store, members: &[Organisation]) -> Result<(), DomainError> {
    let sys = store.system_scope("Demo").await?;
    if let Some(office) = members.iter().find(|o| o.is_office) {
        store
            .add_council_event(
                &sys,
                office.id,
                &ev(
                    EventKind::Training,
                    date!(2025 - 11 - 20),
                    "Geschäftsstelle",
                    "Gemeinsame Phishing-Sensibilisierung aller Mitglieder",
                    Some(640),
                ),
            )
            .await?;
        store
            .add_council_event(
                &sys,
                office.id,
                &ev(
                    EventKind::Drill,
                    date!(2026 - 02 - 10),
                    "Geschäftsstelle mit Landes-CERT",
                    "Planspiel Ransomware im Kreisrechenzentrum",
                    Some(38),
                ),
            )
            .await?;
    }
    let towns: Vec<&Organisation> = members.iter().filter(|o| !o.is_office).collect();
    for (i, o) in towns.iter().enumerate() {
        if i % 3 == 2 {
            continue;
        }
        let strong = i % 3 == 0;
        let staff = o.staff.unwrap_or(50);
        let profile = Profile {
            isb_appointed: Some(strong || i % 2 == 0),
            isb_deputy: Some(strong),
            team_size: Some(if strong { 2 } else { 1 }),
            qualifications: Some("IT-Grundschutz-Praktiker".into()),
            standard: Some(if strong { "BSI IT-Grundschutz (Kommunale Basis)" } else { "Arbeitshilfe Informationssicherheit der Geschäftsstelle" }.into()),
            guideline_adopted_by: Some(if o.kind == stadtmauer_core::org::OrgKind::Kreis { "Kreistag" } else { "Rat" }.into()),
            guideline_adopted_on: Some(if strong { date!(2024 - 05 - 14) } else { date!(2021 - 09 - 30) }),
            guideline_review_on: Some(if strong { date!(2026 - 12 - 31) } else { date!(2024 - 09 - 30) }),
            emergency_plan: Some(strong),
            emergency_offices: Some("Verwaltungsleitung, Krisenstab, Geschäftsstelle des Verbunds, Landes-CERT, Polizei (ZAC), Datenschutzbeauftragte".into()),
            phone_fallback: Some(strong),
            hours_without_it: Some(if strong { 48 } else { 8 }),
            mfa_remote: Some(Coverage::Full),
            mfa_email: Some(if strong { Coverage::Full } else { Coverage::None }),
            mfa_admin: Some(if strong { Coverage::Full } else { Coverage::Partial }),
            insurance: Some(strong),
            insurer: strong.then(|| "Musterauer Kommunalversicherung VVaG".into()),
            insurance_sum: strong.then_some(1_000_000),
        };
        store.save_council_profile(&sys, o.id, &profile).await?;
        let per_head = if strong { 3 } else { 1 };
        let base = o.inhabitants.unwrap_or(5_000) * per_head;
        for (year, f, inc) in [(2024, 90, 3), (2025, 100, if strong { 1 } else { 4 })] {
            store
                .save_council_year(
                    &sys,
                    o.id,
                    &YearFigures {
                        year,
                        budget: Some(base * f / 100),
                        spent: Some(base * f * 93 / 10_000),
                        incidents: Some(inc),
                    },
                )
                .await?;
        }
        store
            .add_council_event(
                &sys,
                o.id,
                &ev(
                    EventKind::Training,
                    date!(2025 - 11 - 20),
                    "Geschäftsstelle",
                    "Phishing",
                    Some(staff * if strong { 9 } else { 5 } / 10),
                ),
            )
            .await?;
        store
            .add_council_event(
                &sys,
                o.id,
                &ev(
                    EventKind::Advice,
                    date!(2025 - 06 - 03),
                    if strong {
                        "BSI"
                    } else {
                        "Kommunaler IT-Dienstleister"
                    },
                    "Netzsegmentierung und Fernzugriff",
                    None,
                ),
            )
            .await?;
        if strong {
            store
                .add_council_event(
                    &sys,
                    o.id,
                    &ev(
                        EventKind::Drill,
                        date!(2026 - 02 - 10),
                        "Krisenstab",
                        "Ausfall des Rechenzentrums",
                        Some(12),
                    ),
                )
                .await?;
            let mut test = ev(
                EventKind::Pentest,
                date!(2025 - 09 - 01),
                "Prüfstelle Nord GmbH",
                "Bürgerportal und Fernzugriff",
                None,
            );
            test.result =
                Some("Zwei Schwachstellen im Fernzugriff, eine kritische im Bürgerportal".into());
            let tid = store.add_council_event(&sys, o.id, &test).await?;
            for (title, severity, status) in [
                (
                    "Veraltete VPN-Firmware am Fernzugang",
                    Severity::High,
                    Remediation::InProgress,
                ),
                (
                    "SQL-Injektion im Bürgerportal (Suchfeld)",
                    Severity::Critical,
                    Remediation::Fixed,
                ),
                (
                    "Fehlende Sicherheits-Header",
                    Severity::Low,
                    Remediation::Open,
                ),
            ] {
                store
                    .add_council_finding(
                        &sys,
                        o.id,
                        &Finding {
                            id: 0,
                            event_id: tid,
                            title: title.into(),
                            severity,
                            status,
                        },
                    )
                    .await?;
            }
        }
    }
    Ok(())
}
