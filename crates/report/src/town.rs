//! The council report of one town: one chapter per standard question, each answer built from
//! recorded data only. What is not recorded reads "nicht erfasst" — never a guess.

use crate::chart;
use crate::model::{Chapter, Chart, Edition, Figure, Report, Table, NOT_RECORDED};
use crate::records::{german_date, Coverage, EventKind, Programme, Remediation, Severity, Tri};
use crate::{de_eur, de_int, percent};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// Applications by operating model (from the Informationsverbund).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hosting {
    pub self_hosted: i64,
    pub provider: i64,
    pub saas: i64,
    pub unknown: i64,
}

impl Hosting {
    pub fn total(&self) -> i64 {
        self.self_hosted + self.provider + self.saas + self.unknown
    }
}

/// A provider the town's processes depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderUse {
    pub name: String,
    pub shared: bool,
    pub processes: usize,
}

/// The security level reached against the town's target (latest assessment snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectionFigure {
    pub target: String,
    pub percent: Option<u8>,
    pub taken_on: Date,
}

/// The update watch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateFigure {
    pub open: usize,
    pub unsupported: usize,
    pub kev: usize,
    pub median_patch_days: Option<i64>,
    /// Confidential: product and version of open findings.
    pub details: Vec<String>,
}

/// Ransomware readiness score (continuity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessFigure {
    pub score: u8,
    pub summary: Vec<String>,
}

/// Backups (continuity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFigure {
    pub summary: Vec<String>,
    pub rule_3_2_1_1_0: Option<bool>,
}

/// Everything known about a town that the report may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TownFacts {
    pub org_id: i64,
    pub name: String,
    pub inhabitants: Option<i64>,
    pub staff: Option<i64>,
    pub workstations: Option<i64>,
    pub programme: Programme,
    pub hosting: Option<Hosting>,
    pub providers: Vec<ProviderUse>,
    pub protection: Option<ProtectionFigure>,
    pub updates: Option<UpdateFigure>,
    pub readiness: Option<ReadinessFigure>,
    pub backups: Option<BackupFigure>,
}

/// The standard questions, in the order of the report: (key, question, short label).
pub const QUESTIONS: &[(&str, &str, &str)] = &[
    (
        "schutzniveau",
        "Welches Schutzniveau hat die Verwaltung erreicht?",
        "Schutzniveau",
    ),
    (
        "standards",
        "Nach welchen Konzepten und Standards (ISO 27001, BSI IT-Grundschutz) wird gearbeitet?",
        "Leitlinie",
    ),
    (
        "rollen",
        "Wer ist für Informationssicherheit verantwortlich?",
        "ISB",
    ),
    (
        "notfall",
        "Gibt es Notfallpläne, und werden sie geübt?",
        "Notfallplan",
    ),
    (
        "stellen",
        "Welche Stellen und Behörden sind im Notfall beteiligt?",
        "Stellen",
    ),
    (
        "beratung",
        "Welche externe Beratung (BSI, CERT, IT-Dienstleister) gab es, mit welchem Ergebnis?",
        "Beratung",
    ),
    (
        "betrieb",
        "Wie groß ist der Anteil selbst betriebener gegenüber extern betriebener Software?",
        "Betrieb",
    ),
    (
        "pentest",
        "Finden regelmäßig Prüfungen und Penetrationstests statt, und was ergaben sie?",
        "Pentest",
    ),
    (
        "ransomware",
        "Wie gut ist die Verwaltung auf einen Ransomware-Angriff vorbereitet?",
        "Ransomware",
    ),
    ("backup", "Welche Backup-Strategie wird verfolgt?", "Backup"),
    (
        "updates",
        "Erhält die eingesetzte Software noch Sicherheitsupdates, und wie schnell wird gepatcht?",
        "Updates",
    ),
    (
        "mfa",
        "Ist die Mehr-Faktor-Authentisierung eingeführt?",
        "MFA",
    ),
    (
        "versicherung",
        "Besteht eine Cyberversicherung?",
        "Versicherung",
    ),
    (
        "budget",
        "Welches Budget steht für Informationssicherheit zur Verfügung, und was wurde ausgegeben?",
        "Budget",
    ),
    (
        "vorfaelle",
        "Wie viele Sicherheitsvorfälle gab es?",
        "Vorfälle",
    ),
    (
        "awareness",
        "Wie werden die Beschäftigten sensibilisiert?",
        "Schulung",
    ),
];

fn question(key: &str) -> String {
    QUESTIONS
        .iter()
        .find(|q| q.0 == key)
        .map(|q| q.1.to_string())
        .unwrap_or_default()
}

fn chapter(key: &str) -> Chapter {
    Chapter {
        key: key.to_string(),
        question: question(key),
        status: Tri::Unknown,
        paragraphs: Vec::new(),
        figures: Vec::new(),
        table: None,
        chart: None,
        waits_for: None,
    }
}

fn unknown(mut c: Chapter, waits_for: Option<&str>) -> Chapter {
    c.status = Tri::Unknown;
    c.paragraphs.push(format!("{}.", capital(NOT_RECORDED)));
    c.waits_for = waits_for.map(str::to_string);
    c
}

fn capital(s: &str) -> String {
    let mut ch = s.chars();
    match ch.next() {
        Some(f) => f.to_uppercase().collect::<String>() + ch.as_str(),
        None => String::new(),
    }
}

fn fig(label: &str, value: impl Into<String>) -> Figure {
    Figure {
        label: label.to_string(),
        value: value.into(),
    }
}

fn opt_text(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| NOT_RECORDED.to_string())
}

fn opt_bool(v: Option<bool>) -> String {
    Tri::from_bool(v).german().to_string()
}

fn opt_cov(v: Option<Coverage>) -> String {
    v.map_or(NOT_RECORDED, Coverage::german).to_string()
}

fn opt_date(v: Option<Date>) -> String {
    v.map_or_else(|| NOT_RECORDED.to_string(), german_date)
}

/// Events of a kind within the 12 months before `today` (inclusive).
fn recent(p: &Programme, kind: EventKind, today: Date) -> Vec<&crate::records::Event> {
    let from = today - Duration::days(365);
    p.events
        .iter()
        .filter(|e| e.kind == kind && e.held_on > from && e.held_on <= today)
        .collect()
}

fn of_kind(p: &Programme, kind: EventKind) -> Vec<&crate::records::Event> {
    p.events.iter().filter(|e| e.kind == kind).collect()
}

/// Builds the council report of one town.
pub fn town_report(f: &TownFacts, edition: Edition, today: Date, version: &str) -> Report {
    let conf = edition == Edition::Confidential;
    let p = &f.programme;
    let mut charts = Vec::new();
    let mut chapters = Vec::new();

    // Schutzniveau
    let c = chapter("schutzniveau");
    chapters.push(match &f.protection {
        Some(pr) => {
            let mut c = c;
            let pct = pr
                .percent
                .map_or(NOT_RECORDED.to_string(), |x| format!("{x} %"));
            c.status = match pr.percent {
                Some(x) if x >= 80 => Tri::Yes,
                Some(x) if x >= 40 => Tri::Partial,
                Some(_) => Tri::No,
                None => Tri::Unknown,
            };
            c.paragraphs.push(format!(
                "Gemessen am Ziel „{}“ sind laut der Erhebung vom {} {} der Anforderungen erfüllt.",
                pr.target,
                german_date(pr.taken_on),
                pct
            ));
            c.figures.push(fig("Ziel", pr.target.clone()));
            c.figures.push(fig("Erfüllungsgrad", pct));
            c.figures.push(fig("Stand", german_date(pr.taken_on)));
            c
        }
        None => unknown(
            c,
            Some("Sicherheitsniveau: Erhebung (Snapshot) der Grundschutz-Anforderungen"),
        ),
    });

    // Standards and guideline
    let mut c = chapter("standards");
    let pr = &p.profile;
    if pr.standard.is_none()
        && pr.guideline_adopted_on.is_none()
        && pr.guideline_adopted_by.is_none()
    {
        chapters.push(unknown(c, None));
    } else {
        c.status = match (pr.guideline_adopted_on, pr.guideline_review_on) {
            (Some(_), Some(r)) if r >= today => Tri::Yes,
            (Some(_), _) => Tri::Partial,
            _ => Tri::No,
        };
        c.paragraphs
            .push(match (&pr.guideline_adopted_by, pr.guideline_adopted_on) {
            (Some(by), Some(on)) => format!(
                "Die Leitlinie zur Informationssicherheit wurde am {} beschlossen von: {by}.",
                german_date(on)
            ),
            _ => "Ein Beschluss über eine Leitlinie zur Informationssicherheit ist nicht erfasst."
                .into(),
        });
        if let Some(r) = pr.guideline_review_on {
            c.paragraphs.push(if r < today {
                format!(
                    "Die Überprüfung war zum {} fällig und ist überfällig.",
                    german_date(r)
                )
            } else {
                format!(
                    "Die nächste Überprüfung ist zum {} vorgesehen.",
                    german_date(r)
                )
            });
        }
        c.figures.push(fig("Standard", opt_text(&pr.standard)));
        c.figures.push(fig(
            "Leitlinie beschlossen von",
            opt_text(&pr.guideline_adopted_by),
        ));
        c.figures
            .push(fig("Beschlossen am", opt_date(pr.guideline_adopted_on)));
        c.figures
            .push(fig("Überprüfung bis", opt_date(pr.guideline_review_on)));
        chapters.push(c);
    }

    // Roles
    let mut c = chapter("rollen");
    if pr.isb_appointed.is_none() && pr.team_size.is_none() {
        chapters.push(unknown(c, None));
    } else {
        c.status = match (pr.isb_appointed, pr.isb_deputy) {
            (Some(true), Some(true)) => Tri::Yes,
            (Some(true), _) => Tri::Partial,
            (Some(false), _) => Tri::No,
            (None, _) => Tri::Unknown,
        };
        c.paragraphs.push(match pr.isb_appointed {
            Some(true) => "Ein Informationssicherheitsbeauftragter (ISB) ist bestellt.".into(),
            Some(false) => {
                "Ein Informationssicherheitsbeauftragter (ISB) ist nicht bestellt.".into()
            }
            None => format!("Ob ein ISB bestellt ist: {NOT_RECORDED}."),
        });
        c.figures
            .push(fig("ISB bestellt", opt_bool(pr.isb_appointed)));
        c.figures
            .push(fig("Vertretung bestellt", opt_bool(pr.isb_deputy)));
        c.figures.push(fig(
            "Personen im Sicherheitsteam",
            pr.team_size.map_or(NOT_RECORDED.to_string(), de_int),
        ));
        c.figures
            .push(fig("Qualifikationen", opt_text(&pr.qualifications)));
        chapters.push(c);
    }

    // Emergency plans and drills
    let mut c = chapter("notfall");
    let drills = of_kind(p, EventKind::Drill);
    if pr.emergency_plan.is_none()
        && drills.is_empty()
        && pr.phone_fallback.is_none()
        && pr.hours_without_it.is_none()
    {
        chapters.push(unknown(c, None));
    } else {
        let recent_drills = recent(p, EventKind::Drill, today);
        c.status = match (pr.emergency_plan, recent_drills.is_empty()) {
            (Some(true), false) => Tri::Yes,
            (Some(true), true) => Tri::Partial,
            (Some(false), _) => Tri::No,
            (None, false) => Tri::Partial,
            (None, true) => Tri::Unknown,
        };
        c.paragraphs.push(match pr.emergency_plan {
            Some(true) => "Ein Notfallplan liegt vor.".into(),
            Some(false) => "Ein Notfallplan liegt nicht vor.".into(),
            None => format!("Notfallplan: {NOT_RECORDED}."),
        });
        c.paragraphs.push(format!(
            "In den letzten zwölf Monaten fanden {} Notfallübungen statt.",
            recent_drills.len()
        ));
        c.figures
            .push(fig("Notfallplan", opt_bool(pr.emergency_plan)));
        c.figures.push(fig(
            "Übungen in 12 Monaten",
            recent_drills.len().to_string(),
        ));
        c.figures.push(fig(
            "Letzte Übung",
            drills
                .first()
                .map_or(NOT_RECORDED.to_string(), |d| german_date(d.held_on)),
        ));
        c.figures.push(fig(
            "Telefonisch erreichbar bei IT-Ausfall",
            opt_bool(pr.phone_fallback),
        ));
        c.figures.push(fig(
            "Arbeitsfähig ohne IT (Stunden)",
            pr.hours_without_it.map_or(NOT_RECORDED.to_string(), de_int),
        ));
        if !drills.is_empty() {
            c.table = Some(Table {
                head: vec!["Datum".into(), "Thema".into(), "Teilnehmende".into()],
                rows: drills
                    .iter()
                    .map(|d| {
                        vec![
                            german_date(d.held_on),
                            opt_text(&d.topic),
                            d.participants.map_or(NOT_RECORDED.to_string(), de_int),
                        ]
                    })
                    .collect(),
            });
        }
        chapters.push(c);
    }

    // Offices and authorities
    let mut c = chapter("stellen");
    match &pr.emergency_offices {
        Some(o) => {
            c.status = Tri::Yes;
            c.paragraphs.push(format!("Im Notfall beteiligt: {o}."));
            chapters.push(c);
        }
        None => chapters.push(unknown(c, None)),
    }

    // Outside advice
    let mut c = chapter("beratung");
    let advice = of_kind(p, EventKind::Advice);
    if advice.is_empty() {
        chapters.push(unknown(c, None));
    } else {
        c.status = Tri::Yes;
        c.paragraphs
            .push(format!("Erfasst sind {} externe Beratungen.", advice.len()));
        let mut head = vec!["Datum".into(), "Beratende Stelle".into(), "Thema".into()];
        if conf {
            head.push("Ergebnis".into());
        }
        c.table = Some(Table {
            head,
            rows: advice
                .iter()
                .map(|a| {
                    let mut r = vec![german_date(a.held_on), a.party.clone(), opt_text(&a.topic)];
                    if conf {
                        r.push(opt_text(&a.result));
                    }
                    r
                })
                .collect(),
        });
        if !conf {
            c.paragraphs
                .push("Die Ergebnisse im Einzelnen stehen in der vertraulichen Fassung.".into());
        }
        chapters.push(c);
    }

    // Hosting share
    let mut c = chapter("betrieb");
    match f.hosting.as_ref().filter(|h| h.total() > 0) {
        Some(h) => {
            let t = h.total();
            let external = h.provider + h.saas;
            c.status = if h.unknown == 0 {
                Tri::Yes
            } else {
                Tri::Partial
            };
            c.paragraphs.push(format!(
                "Von {} erfassten Fachverfahren werden {} selbst betrieben ({}) und {} extern ({}), davon {} bei einem Dienstleister und {} als Cloud-Dienst (SaaS).",
                de_int(t),
                de_int(h.self_hosted),
                percent(h.self_hosted, t),
                de_int(external),
                percent(external, t),
                de_int(h.provider),
                de_int(h.saas)
            ));
            if h.unknown > 0 {
                c.paragraphs.push(format!(
                    "Bei {} Fachverfahren ist das Betriebsmodell nicht erfasst.",
                    de_int(h.unknown)
                ));
            }
            c.figures.push(fig(
                "Selbst betrieben",
                format!("{} ({})", de_int(h.self_hosted), percent(h.self_hosted, t)),
            ));
            c.figures.push(fig(
                "Dienstleister",
                format!("{} ({})", de_int(h.provider), percent(h.provider, t)),
            ));
            c.figures.push(fig(
                "Cloud (SaaS)",
                format!("{} ({})", de_int(h.saas), percent(h.saas, t)),
            ));
            c.figures.push(fig("Nicht erfasst", de_int(h.unknown)));
            c.figures
                .push(fig("Genutzte Dienstleister", f.providers.len().to_string()));
            if conf && !f.providers.is_empty() {
                c.table = Some(Table {
                    head: vec![
                        "Dienstleister".into(),
                        "Verbund-weit".into(),
                        "Abhängige Prozesse".into(),
                    ],
                    rows: f
                        .providers
                        .iter()
                        .map(|pu| {
                            vec![
                                pu.name.clone(),
                                if pu.shared {
                                    "ja".into()
                                } else {
                                    "nein".into()
                                },
                                pu.processes.to_string(),
                            ]
                        })
                        .collect(),
                });
            }
            let file = "chart-betrieb.svg".to_string();
            charts.push(Chart {
                file: file.clone(),
                caption: "Fachverfahren nach Betriebsmodell".into(),
                svg: chart::bars(&[
                    ("Selbst betrieben", h.self_hosted),
                    ("Dienstleister", h.provider),
                    ("Cloud (SaaS)", h.saas),
                    ("Nicht erfasst", h.unknown),
                ]),
            });
            c.chart = Some(file);
            chapters.push(c);
        }
        None => chapters.push(unknown(c, None)),
    }

    // Audits and penetration tests
    let mut c = chapter("pentest");
    let tests: Vec<_> = p
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Audit | EventKind::Pentest))
        .collect();
    if tests.is_empty() {
        chapters.push(unknown(c, None));
    } else {
        let last_year =
            recent(p, EventKind::Pentest, today).len() + recent(p, EventKind::Audit, today).len();
        let findings: Vec<_> = p
            .findings
            .iter()
            .filter(|x| tests.iter().any(|t| t.id == x.event_id))
            .collect();
        let open = findings.iter().filter(|x| x.status.is_open()).count();
        let open_severe = findings
            .iter()
            .filter(|x| x.status.is_open() && x.severity >= Severity::High)
            .count();
        c.status = if last_year > 0 && open_severe == 0 {
            Tri::Yes
        } else {
            Tri::Partial
        };
        c.paragraphs.push(format!(
            "Erfasst sind {} Prüfungen (Audits und Penetrationstests), davon {} in den letzten zwölf Monaten. Sie ergaben {} Feststellungen; {} sind noch offen, davon {} mit hoher oder kritischer Schwere.",
            tests.len(),
            last_year,
            findings.len(),
            open,
            open_severe
        ));
        c.figures
            .push(fig("Letzte Prüfung", german_date(tests[0].held_on)));
        c.figures
            .push(fig("Prüfungen in 12 Monaten", last_year.to_string()));
        let mut rows = Vec::new();
        for s in Severity::ALL {
            let of: Vec<_> = findings.iter().filter(|x| x.severity == s).collect();
            let mut r = vec![capital(s.german())];
            for st in Remediation::ALL {
                r.push(of.iter().filter(|x| x.status == st).count().to_string());
            }
            rows.push(r);
        }
        let mut head = vec!["Schwere".to_string()];
        head.extend(Remediation::ALL.iter().map(|r| capital(r.german())));
        c.table = Some(Table { head, rows });
        if conf {
            for t in &tests {
                c.paragraphs.push(format!(
                    "{} am {} durch {}{}{}",
                    t.kind.german(),
                    german_date(t.held_on),
                    t.party,
                    t.topic
                        .as_ref()
                        .map_or(String::new(), |s| format!(", Umfang: {s}")),
                    t.result
                        .as_ref()
                        .map_or(".".to_string(), |s| format!(". Ergebnis: {s}")),
                ));
                for x in findings.iter().filter(|x| x.event_id == t.id) {
                    c.paragraphs.push(format!(
                        "– Feststellung ({}, {}): {}",
                        x.severity.german(),
                        x.status.german(),
                        x.title
                    ));
                }
            }
        }
        chapters.push(c);
    }

    // Ransomware readiness
    let mut c = chapter("ransomware");
    match &f.readiness {
        Some(r) => {
            c.status = if r.score >= 80 {
                Tri::Yes
            } else if r.score >= 40 {
                Tri::Partial
            } else {
                Tri::No
            };
            c.paragraphs.push(format!(
                "Der Bereitschaftswert liegt bei {} von 100.",
                r.score
            ));
            c.paragraphs.extend(r.summary.iter().cloned());
            c.figures
                .push(fig("Bereitschaftswert", format!("{} / 100", r.score)));
            chapters.push(c);
        }
        None => chapters.push(unknown(
            c,
            Some("Notfallvorsorge: Bereitschaftswert (Ransomware-Readiness)"),
        )),
    }

    // Backups
    let mut c = chapter("backup");
    match &f.backups {
        Some(b) => {
            c.status = match b.rule_3_2_1_1_0 {
                Some(true) => Tri::Yes,
                Some(false) => Tri::Partial,
                None => Tri::Unknown,
            };
            c.paragraphs.extend(b.summary.iter().cloned());
            c.figures
                .push(fig("3-2-1-1-0 erfüllt", opt_bool(b.rule_3_2_1_1_0)));
            chapters.push(c);
        }
        None => chapters.push(unknown(
            c,
            Some("Notfallvorsorge: Backup-Register und Bewertung 3-2-1-1-0"),
        )),
    }

    // Updates
    let mut c = chapter("updates");
    match &f.updates {
        Some(u) => {
            c.status = if u.unsupported == 0 && u.kev == 0 {
                if u.open == 0 {
                    Tri::Yes
                } else {
                    Tri::Partial
                }
            } else {
                Tri::No
            };
            c.paragraphs.push(format!(
                "Offen sind {} Update-Befunde; {} betreffen Software ohne Herstellerunterstützung, {} aktiv ausgenutzte Schwachstellen.",
                u.open, u.unsupported, u.kev
            ));
            c.figures.push(fig("Offene Befunde", u.open.to_string()));
            c.figures.push(fig(
                "Ohne Herstellerunterstützung",
                u.unsupported.to_string(),
            ));
            c.figures
                .push(fig("Aktiv ausgenutzt (KEV)", u.kev.to_string()));
            c.figures.push(fig(
                "Patch-Dauer (Median, Tage)",
                u.median_patch_days
                    .map_or(NOT_RECORDED.to_string(), |d| d.to_string()),
            ));
            if conf && !u.details.is_empty() {
                c.table = Some(Table {
                    head: vec!["Offener Befund".into()],
                    rows: u.details.iter().map(|d| vec![d.clone()]).collect(),
                });
            }
            chapters.push(c);
        }
        None => chapters.push(unknown(
            c,
            Some("Update-Watch: offene Befunde und Patch-Dauer"),
        )),
    }

    // MFA
    let mut c = chapter("mfa");
    if pr.mfa_remote.is_none() && pr.mfa_email.is_none() && pr.mfa_admin.is_none() {
        chapters.push(unknown(c, None));
    } else {
        let all = [pr.mfa_remote, pr.mfa_email, pr.mfa_admin];
        c.status = if all.iter().all(|x| *x == Some(Coverage::Full)) {
            Tri::Yes
        } else if all
            .iter()
            .any(|x| matches!(x, Some(Coverage::Full | Coverage::Partial)))
        {
            Tri::Partial
        } else {
            Tri::No
        };
        c.figures.push(fig("Fernzugriff", opt_cov(pr.mfa_remote)));
        c.figures.push(fig("E-Mail", opt_cov(pr.mfa_email)));
        c.figures
            .push(fig("Administrationskonten", opt_cov(pr.mfa_admin)));
        chapters.push(c);
    }

    // Insurance
    let mut c = chapter("versicherung");
    match pr.insurance {
        Some(b) => {
            c.status = Tri::from_bool(Some(b));
            c.paragraphs.push(if b {
                "Eine Cyberversicherung besteht.".into()
            } else {
                "Eine Cyberversicherung besteht nicht.".into()
            });
            if conf && b {
                c.figures.push(fig("Versicherer", opt_text(&pr.insurer)));
                c.figures.push(fig(
                    "Versicherungssumme",
                    pr.insurance_sum
                        .map_or(NOT_RECORDED.to_string(), |s| de_eur(s * 100)),
                ));
            }
            chapters.push(c);
        }
        None => chapters.push(unknown(c, None)),
    }

    // Budget
    let mut c = chapter("budget");
    let years: Vec<_> = p
        .years
        .iter()
        .filter(|y| y.budget.is_some() || y.spent.is_some())
        .collect();
    if years.is_empty() {
        chapters.push(unknown(c, None));
    } else {
        c.status = Tri::Yes;
        let eur = |v: Option<i64>| v.map_or(NOT_RECORDED.to_string(), |x| de_eur(x * 100));
        c.table = Some(Table {
            head: vec![
                "Jahr".into(),
                "Budget".into(),
                "Ausgaben".into(),
                "je Einwohner".into(),
            ],
            rows: years
                .iter()
                .map(|y| {
                    vec![
                        y.year.to_string(),
                        eur(y.budget),
                        eur(y.spent),
                        match (y.spent.or(y.budget), f.inhabitants) {
                            (Some(s), Some(i)) if i > 0 => de_eur(s * 100 / i),
                            _ => NOT_RECORDED.to_string(),
                        },
                    ]
                })
                .collect(),
        });
        let file = "chart-budget.svg".to_string();
        let labels: Vec<(String, i64)> = years
            .iter()
            .map(|y| (y.year.to_string(), y.spent.or(y.budget).unwrap_or(0)))
            .collect();
        let refs: Vec<(&str, i64)> = labels.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        charts.push(Chart {
            file: file.clone(),
            caption: "Ausgaben (ersatzweise Budget) für Informationssicherheit je Jahr in Euro"
                .into(),
            svg: chart::bars(&refs),
        });
        c.chart = Some(file);
        chapters.push(c);
    }

    // Incidents
    let mut c = chapter("vorfaelle");
    let inc: Vec<_> = p
        .years
        .iter()
        .filter_map(|y| y.incidents.map(|n| (y.year, n)))
        .collect();
    if inc.is_empty() {
        chapters.push(unknown(c, None));
    } else {
        c.status = if inc.last().is_some_and(|x| x.1 == 0) {
            Tri::Yes
        } else {
            Tri::Partial
        };
        for (y, n) in &inc {
            c.figures.push(fig(&format!("Vorfälle {y}"), de_int(*n)));
        }
        chapters.push(c);
    }

    // Awareness
    let mut c = chapter("awareness");
    let trainings = recent(p, EventKind::Training, today);
    if of_kind(p, EventKind::Training).is_empty() {
        chapters.push(unknown(c, None));
    } else {
        let reached: i64 = trainings.iter().filter_map(|t| t.participants).sum();
        let share = f
            .staff
            .filter(|s| *s > 0)
            .map(|s| (reached.min(s) * 100 / s, s));
        c.status = match share {
            Some((x, _)) if x >= 80 => Tri::Yes,
            Some((x, _)) if x > 0 => Tri::Partial,
            Some(_) => Tri::No,
            None => Tri::Partial,
        };
        c.paragraphs.push(format!(
            "In den letzten zwölf Monaten fanden {} Schulungen mit zusammen {} Teilnahmen statt.",
            trainings.len(),
            de_int(reached)
        ));
        c.figures
            .push(fig("Schulungen in 12 Monaten", trainings.len().to_string()));
        c.figures.push(fig("Teilnahmen", de_int(reached)));
        c.figures.push(fig(
            "Anteil der Beschäftigten erreicht",
            share.map_or(NOT_RECORDED.to_string(), |(x, s)| {
                format!("{x} % von {} Beschäftigten (höchstens)", de_int(s))
            }),
        ));
        chapters.push(c);
    }

    let edition_label = match edition {
        Edition::Public => "öffentliche Fassung",
        Edition::Confidential => "vertrauliche Fassung",
    };
    Report {
        kind: "town".into(),
        title: format!("Informationssicherheit: Bericht an den Rat – {}", f.name),
        subject: f.name.clone(),
        edition,
        edition_label: edition_label.into(),
        date: german_date(today),
        version: version.to_string(),
        intro: vec![
            "Dieser Bericht beantwortet die Standardfragen des Rates zur Informationssicherheit der Verwaltung. Jede Antwort beruht auf den erfassten Daten; was nicht erfasst ist, steht als „nicht erfasst“ da.".into(),
            if conf {
                "Vertrauliche Fassung: enthält Einzelheiten zu Prüfergebnissen, Schwachstellen und Dienstleistern. Nur für den nichtöffentlichen Teil.".into()
            } else {
                "Öffentliche Fassung: Stände, Trends und Ja/Nein-Antworten; keine Systemnamen, Schwachstellen, Adressen oder Produktversionen.".into()
            },
        ],
        chapters,
        charts,
    }
}
