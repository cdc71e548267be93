//! A small hand-drawn town for the tests, so expectations can be computed on paper:
//!
//! ```text
//! Pr1 Sozialleistungen ─▶ A1 Finanzen ─▶ S5 Finanzserver (5h) ─▶ HV1, DC
//! Pr4 Kasse ─▶ A1, A2
//! Pr2 Bauantrag ─▶ A2 Ablage ─▶ S4 Fileserver (3h) ─▶ HV1, DC, Switch
//! Pr3 Meldewesen ─▶ A3 Melde-SaaS ─▶ P1 KDN
//! DC (4h, infra) ─▶ HV1, Switch;  HV1 (6h, infra) ─▶ Switch;  Switch (2h, infra) ─▶ L1
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::bia::{Bia, Criticality, DeadlineRule, LegalDeadline, ManualProcedure, ProcedureStep};
use crate::restart::{RestartGraph, RestartNode};
use crate::span::Span;
use stadtmauer_core::ObjectId;
use stadtmauer_inventory::{Level, ObjectKind};

pub const L1: ObjectId = ObjectId(100);
pub const P1: ObjectId = ObjectId(200);
pub const DC: ObjectId = ObjectId(10);
pub const HV1: ObjectId = ObjectId(11);
pub const SWITCH: ObjectId = ObjectId(12);
pub const FILES: ObjectId = ObjectId(13);
pub const FIN: ObjectId = ObjectId(14);
pub const A1: ObjectId = ObjectId(21);
pub const A2: ObjectId = ObjectId(22);
pub const A3: ObjectId = ObjectId(23);
pub const PR1: ObjectId = ObjectId(31);
pub const PR2: ObjectId = ObjectId(32);
pub const PR3: ObjectId = ObjectId(33);
pub const PR4: ObjectId = ObjectId(34);

fn node(
    id: ObjectId,
    kind: ObjectKind,
    st: Option<&str>,
    name: &str,
    hours: u32,
    infra: bool,
) -> RestartNode {
    RestartNode {
        id,
        kind,
        system_type: st.map(Into::into),
        name: name.into(),
        availability: Level::Hoch,
        restore: Span::hours(hours),
        is_infrastructure: infra,
    }
}

pub fn graph() -> RestartGraph {
    use ObjectKind::*;
    RestartGraph {
        nodes: vec![
            node(L1, Location, None, "Rathaus Serverraum", 0, false),
            node(P1, Provider, None, "KDN Rechenzentrum", 0, false),
            node(DC, System, Some("server"), "Domänencontroller/DNS", 4, true),
            node(
                HV1,
                System,
                Some("virtualisation"),
                "Hypervisor HV1",
                6,
                true,
            ),
            node(SWITCH, System, Some("network"), "Core-Switch", 2, true),
            node(FILES, System, Some("server"), "Fileserver", 3, false),
            node(FIN, System, Some("server"), "Finanzserver", 5, false),
            node(A1, Application, None, "Finanzsoftware", 0, false),
            node(A2, Application, None, "Dokumentenablage", 0, false),
            node(A3, Application, None, "Meldewesen (SaaS)", 0, false),
            node(PR1, Process, None, "Sozialleistungen auszahlen", 0, false),
            node(PR2, Process, None, "Bauanträge bearbeiten", 0, false),
            node(PR3, Process, None, "Meldewesen", 0, false),
            node(PR4, Process, None, "Stadtkasse", 0, false),
        ],
        edges: vec![
            (PR1, A1),
            (PR4, A1),
            (PR4, A2),
            (PR2, A2),
            (PR3, A3),
            (A1, FIN),
            (A2, FILES),
            (A3, P1),
            (FIN, HV1),
            (FIN, DC),
            (FILES, HV1),
            (FILES, DC),
            (FILES, SWITCH),
            (DC, HV1),
            (DC, SWITCH),
            (HV1, SWITCH),
            (SWITCH, L1),
            (P1, L1),
        ],
    }
}

fn bia(
    process: ObjectId,
    mta_h: u32,
    rto_h: u32,
    rpo_h: Option<u32>,
    c: Criticality,
    deadlines: Vec<LegalDeadline>,
) -> Bia {
    Bia {
        process,
        mta: Span::hours(mta_h),
        rto: Span::hours(rto_h),
        rpo: rpo_h.map(Span::hours),
        criticality: c,
        deadlines,
        procedure: ManualProcedure {
            summary: Some("Auszahlung per Barscheck <Notfall>".into()),
            steps: vec![ProcedureStep {
                who: "Kassenleitung".into(),
                what: "Liste der Empfänger ausdrucken".into(),
            }],
            materials: Some("Ordner \"Notbetrieb\" im Tresor".into()),
            sustainable_for: Some(Span::days(5)),
        },
    }
}

pub fn bias() -> Vec<Bia> {
    vec![
        bia(
            PR1,
            72,
            48,
            Some(24),
            Criticality::SehrHoch,
            vec![LegalDeadline {
                description: "Leistungen zum 1. des Monats".into(),
                rule: DeadlineRule::MonthlyDay(1),
                lead: Span::days(1),
            }],
        ),
        bia(PR2, 168, 120, Some(24), Criticality::Mittel, vec![]),
        bia(
            PR3,
            24,
            8,
            None,
            Criticality::Hoch,
            vec![LegalDeadline {
                description: "Auskunft an die Polizei binnen 24 h".into(),
                rule: DeadlineRule::WithinHours(24),
                lead: Span::ZERO,
            }],
        ),
        bia(PR4, 48, 24, Some(4), Criticality::Hoch, vec![]),
    ]
}
