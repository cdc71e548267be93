//! Demo facts for tests, the benchmark and screenshots: a town with full records (and planted
//! confidential strings), and a town with nothing recorded.

use crate::records::*;
use crate::town::*;
use time::macros::date;

/// Strings that only the confidential edition may show.
pub const PLANTED: &[&str] = &[
    "intranet.kleinmurne.example",
    "10.20.30.40",
    "OpenSSH 7.4p1",
    "Exchange Server 2016 CU23",
    "Geheim-Versicherung AG",
    "Firewall fw01 veraltet",
    "Rechenzentrum Nord GmbH",
];

pub fn full_town() -> TownFacts {
    let p = Programme {
        profile: Profile {
            isb_appointed: Some(true),
            isb_deputy: Some(false),
            team_size: Some(2),
            qualifications: Some("IT-Grundschutz-Praktiker, ISO 27001 Foundation".into()),
            standard: Some("BSI IT-Grundschutz (Kommunalprofil)".into()),
            guideline_adopted_by: Some("Stadtrat".into()),
            guideline_adopted_on: Some(date!(2024 - 05 - 14)),
            guideline_review_on: Some(date!(2026 - 05 - 14)),
            emergency_plan: Some(true),
            emergency_offices: Some(
                "Bürgermeisterin, Krisenstab, Landes-CERT, Polizei (ZAC), Datenschutzbeauftragter"
                    .into(),
            ),
            phone_fallback: Some(true),
            hours_without_it: Some(24),
            mfa_remote: Some(Coverage::Full),
            mfa_email: Some(Coverage::Partial),
            mfa_admin: Some(Coverage::Full),
            insurance: Some(true),
            insurer: Some("Geheim-Versicherung AG".into()),
            insurance_sum: Some(2_000_000),
        },
        years: vec![
            YearFigures {
                year: 2024,
                budget: Some(40_000),
                spent: Some(36_500),
                incidents: Some(3),
            },
            YearFigures {
                year: 2025,
                budget: Some(55_000),
                spent: Some(51_200),
                incidents: Some(1),
            },
        ],
        events: vec![
            Event {
                id: 5,
                kind: EventKind::Drill,
                held_on: date!(2026 - 02 - 10),
                party: "Krisenstab".into(),
                topic: Some("Ausfall des Rechenzentrums".into()),
                result: None,
                participants: Some(14),
            },
            Event {
                id: 4,
                kind: EventKind::Training,
                held_on: date!(2025 - 11 - 20),
                party: "Geschäftsstelle".into(),
                topic: Some("Phishing".into()),
                result: None,
                participants: Some(120),
            },
            Event {
                id: 3,
                kind: EventKind::Pentest,
                held_on: date!(2025 - 09 - 01),
                party: "Prüf GmbH".into(),
                topic: Some("Bürgerportal intranet.kleinmurne.example".into()),
                result: Some("OpenSSH 7.4p1 auf 10.20.30.40 erreichbar".into()),
                participants: None,
            },
            Event {
                id: 2,
                kind: EventKind::Advice,
                held_on: date!(2025 - 06 - 03),
                party: "BSI".into(),
                topic: Some("Erstberatung Netzsegmentierung".into()),
                result: Some("Firewall fw01 veraltet".into()),
                participants: None,
            },
        ],
        findings: vec![
            Finding {
                id: 1,
                event_id: 3,
                title: "SQL-Injektion auf intranet.kleinmurne.example".into(),
                severity: Severity::Critical,
                status: Remediation::Fixed,
            },
            Finding {
                id: 2,
                event_id: 3,
                title: "Veraltetes OpenSSH 7.4p1 auf 10.20.30.40".into(),
                severity: Severity::High,
                status: Remediation::InProgress,
            },
            Finding {
                id: 3,
                event_id: 3,
                title: "Fehlende Sicherheits-Header".into(),
                severity: Severity::Low,
                status: Remediation::Open,
            },
        ],
    };
    TownFacts {
        org_id: 7,
        name: "Stadt Kleinmurne".into(),
        inhabitants: Some(12_500),
        staff: Some(180),
        workstations: Some(150),
        programme: p,
        hosting: Some(Hosting {
            self_hosted: 9,
            provider: 14,
            saas: 4,
            unknown: 1,
        }),
        providers: vec![ProviderUse {
            name: "Rechenzentrum Nord GmbH".into(),
            shared: true,
            processes: 11,
        }],
        protection: Some(ProtectionFigure {
            target: "Kommunale Basis".into(),
            percent: Some(62),
            taken_on: date!(2026 - 01 - 31),
        }),
        updates: Some(UpdateFigure {
            open: 4,
            unsupported: 1,
            kev: 0,
            median_patch_days: Some(9),
            details: vec!["Exchange Server 2016 CU23: ohne Herstellerunterstützung".into()],
        }),
        readiness: None,
        backups: None,
    }
}

pub fn empty_town() -> TownFacts {
    TownFacts {
        org_id: 9,
        name: "Gemeinde Leerbach".into(),
        inhabitants: Some(2_043),
        staff: Some(21),
        workstations: None,
        ..Default::default()
    }
}
