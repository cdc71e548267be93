//! The Verbund report for the office and the county assembly: every member side by side on the
//! standard questions, the shared measures, and the office's cost allocation with its arithmetic.

use crate::model::{Chapter, Edition, Figure, Report, Table, NOT_RECORDED};
use crate::records::{german_date, Tri};
use crate::town::{town_report, TownFacts, QUESTIONS};
use crate::{de_eur, de_int};
use serde::{Deserialize, Serialize};
use time::Date;

/// How the office's costs are divided among the members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostKey {
    /// Weights in whole numbers (e.g. 50/25/25); a single key is 1/0/0.
    pub inhabitants: u32,
    pub staff: u32,
    pub workstations: u32,
}

impl CostKey {
    pub const INHABITANTS: CostKey = CostKey {
        inhabitants: 1,
        staff: 0,
        workstations: 0,
    };
    pub const STAFF: CostKey = CostKey {
        inhabitants: 0,
        staff: 1,
        workstations: 0,
    };
    pub const WORKSTATIONS: CostKey = CostKey {
        inhabitants: 0,
        staff: 0,
        workstations: 1,
    };
    pub fn label(&self) -> String {
        let parts: Vec<(u32, &str)> = [
            (self.inhabitants, "Einwohner"),
            (self.staff, "Beschäftigte"),
            (self.workstations, "Arbeitsplätze"),
        ]
        .into_iter()
        .filter(|x| x.0 > 0)
        .collect();
        if parts.len() == 1 {
            format!("nach {}", parts[0].1)
        } else {
            let sum: u32 = parts.iter().map(|x| x.0).sum();
            let list: Vec<String> = parts
                .iter()
                .map(|(w, l)| format!("{l} {w}/{sum}"))
                .collect();
            format!("gewichtet: {}", list.join(", "))
        }
    }
}

/// A member as the allocation sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub org_id: i64,
    pub name: String,
    pub inhabitants: Option<i64>,
    pub staff: Option<i64>,
    pub workstations: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocRow {
    pub org_id: i64,
    pub name: String,
    /// Basis values used, as text ("12.500 Einwohner").
    pub basis: String,
    /// Share in millionths (ppm), rounded down.
    pub share_ppm: i64,
    /// Exact amount in 1/100 cent, rounded down.
    pub exact_centicents: i64,
    /// Amount charged in cents.
    pub cents: i64,
    /// Got one of the remainder cents.
    pub extra_cent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub key: CostKey,
    pub total_cents: i64,
    pub rows: Vec<AllocRow>,
    /// Cents left after rounding every share down, handed out one each.
    pub remainder_cents: i64,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocError {
    NoWeight,
    NoBasis(&'static str),
    NegativeTotal,
}

impl std::fmt::Display for AllocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllocError::NoWeight => write!(f, "the cost key has no weight"),
            AllocError::NoBasis(k) => write!(f, "no member has a value for {k}"),
            AllocError::NegativeTotal => write!(f, "the amount is negative"),
        }
    }
}

impl std::error::Error for AllocError {}

/// Divides `total_cents` among `members` by `key`. Each member's exact share is rounded down to
/// the cent; the cents left over go one each to the members with the largest remainders, ties to
/// the lower organisation id — so the same input always gives the same result and the amounts
/// add up to the total exactly. A missing value counts as zero and is noted.
pub fn allocate(
    total_cents: i64,
    members: &[Member],
    key: CostKey,
) -> Result<Allocation, AllocError> {
    if total_cents < 0 {
        return Err(AllocError::NegativeTotal);
    }
    type Getter = fn(&Member) -> Option<i64>;
    let dims: [(u32, &'static str, Getter); 3] = [
        (key.inhabitants, "Einwohner", |m| m.inhabitants),
        (key.staff, "Beschäftigte", |m| m.staff),
        (key.workstations, "Arbeitsplätze", |m| m.workstations),
    ];
    let used: Vec<_> = dims.iter().filter(|d| d.0 > 0).collect();
    if used.is_empty() {
        return Err(AllocError::NoWeight);
    }
    let mut notes = Vec::new();
    let mut totals = Vec::new();
    for (_, label, get) in &used {
        let t: i128 = members
            .iter()
            .map(|m| i128::from(get(m).unwrap_or(0).max(0)))
            .sum();
        if t == 0 {
            return Err(AllocError::NoBasis(label));
        }
        for m in members.iter().filter(|m| get(m).is_none()) {
            notes.push(format!(
                "{}: {label} nicht erfasst, mit 0 angesetzt.",
                m.name
            ));
        }
        totals.push(t);
    }
    // share_i = Σ_k w_k · x_ik / X_k / Σ_k w_k, on a common denominator in integers.
    let prod_all: i128 = totals.iter().product();
    let wsum: i128 = used.iter().map(|d| i128::from(d.0)).sum();
    let den: i128 = wsum * prod_all;
    let nums: Vec<i128> = members
        .iter()
        .map(|m| {
            used.iter()
                .zip(&totals)
                .map(|((w, _, get), t)| {
                    i128::from(*w) * i128::from(get(m).unwrap_or(0).max(0)) * (prod_all / t)
                })
                .sum()
        })
        .collect();
    let total = i128::from(total_cents);
    let mut rows: Vec<AllocRow> = Vec::new();
    let mut rems: Vec<(i128, i64, usize)> = Vec::new();
    for (i, (m, num)) in members.iter().zip(&nums).enumerate() {
        let floor = total * num / den;
        rems.push((total * num % den, m.org_id, i));
        let basis: Vec<String> = used
            .iter()
            .map(|(_, label, get)| {
                format!(
                    "{} {label}",
                    get(m).map_or(NOT_RECORDED.to_string(), de_int)
                )
            })
            .collect();
        rows.push(AllocRow {
            org_id: m.org_id,
            name: m.name.clone(),
            basis: basis.join(", "),
            share_ppm: (num * 1_000_000 / den) as i64,
            exact_centicents: (total * 100 * num / den) as i64,
            cents: floor as i64,
            extra_cent: false,
        });
    }
    let assigned: i64 = rows.iter().map(|r| r.cents).sum();
    let remainder = total_cents - assigned;
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, i) in rems.into_iter().take(remainder.max(0) as usize) {
        rows[i].cents += 1;
        rows[i].extra_cent = true;
    }
    Ok(Allocation {
        key,
        total_cents,
        rows,
        remainder_cents: remainder,
        notes,
    })
}

/// Parameters of the Verbund report.
#[derive(Debug, Clone)]
pub struct VerbundInput<'a> {
    pub verbund_name: &'a str,
    /// Member towns (without the office).
    pub members: &'a [TownFacts],
    /// Measures taken for all members (the office's records, shared providers).
    pub shared: Vec<String>,
    pub office_cost_cents: Option<i64>,
    pub key: CostKey,
}

fn ppm_percent(ppm: i64) -> String {
    format!("{},{:04} %", ppm / 10_000, ppm % 10_000)
}

fn centicents(v: i64) -> String {
    // euros with four decimals
    let euros = v / 10_000;
    let frac = v % 10_000;
    format!("{},{:04} €", de_int(euros), frac)
}

/// Builds the Verbund report (always the public edition: members' levels and yes/no answers).
pub fn verbund_report(input: &VerbundInput<'_>, today: Date, version: &str) -> Report {
    let towns: Vec<Report> = input
        .members
        .iter()
        .map(|m| town_report(m, Edition::Public, today, version))
        .collect();
    let mut chapters = Vec::new();

    // Heatmap
    let mut head = vec!["Mitglied".to_string()];
    head.extend(QUESTIONS.iter().map(|q| q.2.to_string()));
    let rows: Vec<Vec<String>> = towns
        .iter()
        .map(|t| {
            let mut r = vec![t.subject.clone()];
            r.extend(t.chapters.iter().map(|c| c.status.german().to_string()));
            r
        })
        .collect();
    let mut figures = Vec::new();
    for (qi, q) in QUESTIONS.iter().enumerate() {
        let yes = towns
            .iter()
            .filter(|t| t.chapters.get(qi).is_some_and(|c| c.status == Tri::Yes))
            .count();
        let unknown = towns
            .iter()
            .filter(|t| t.chapters.get(qi).is_some_and(|c| c.status == Tri::Unknown))
            .count();
        figures.push(Figure {
            label: q.1.to_string(),
            value: format!("{yes} von {} ja, {unknown} {NOT_RECORDED}", towns.len()),
        });
    }
    chapters.push(Chapter {
        key: "uebersicht".into(),
        question: "Wo stehen die Mitglieder bei den Standardfragen?".into(),
        status: Tri::Yes,
        paragraphs: vec![format!(
            "Die Tabelle zeigt für {} Mitglieder die Antwort auf jede Standardfrage: ja, teilweise, nein oder nicht erfasst.",
            towns.len()
        )],
        figures,
        table: Some(Table { head, rows }),
        chart: None,
        waits_for: None,
    });

    // The uniform target level and who is below it.
    chapters.push(target_chapter(input.members));

    // Shared measures
    chapters.push(Chapter {
        key: "gemeinsam".into(),
        question: "Welche Maßnahmen werden gemeinsam umgesetzt?".into(),
        status: if input.shared.is_empty() {
            Tri::Unknown
        } else {
            Tri::Yes
        },
        paragraphs: if input.shared.is_empty() {
            vec!["Nicht erfasst.".into()]
        } else {
            input.shared.clone()
        },
        figures: Vec::new(),
        table: None,
        chart: None,
        waits_for: None,
    });

    // Costs
    let mut c = Chapter {
        key: "kosten".into(),
        question: "Wie werden die Kosten der Geschäftsstelle auf die Mitglieder verteilt?".into(),
        status: Tri::Unknown,
        paragraphs: Vec::new(),
        figures: Vec::new(),
        table: None,
        chart: None,
        waits_for: None,
    };
    let members: Vec<Member> = input
        .members
        .iter()
        .map(|m| Member {
            org_id: m.org_id,
            name: m.name.clone(),
            inhabitants: m.inhabitants,
            staff: m.staff,
            workstations: m.workstations,
        })
        .collect();
    match input.office_cost_cents {
        None => c
            .paragraphs
            .push("Kosten der Geschäftsstelle: nicht erfasst.".into()),
        Some(total) => match allocate(total, &members, input.key) {
            Err(e) => c.paragraphs.push(match e {
                AllocError::NoBasis(k) => format!(
                    "Keine Verteilung möglich: für {k} ist bei keinem Mitglied ein Wert erfasst."
                ),
                _ => "Keine Verteilung möglich: der Schlüssel ist leer.".into(),
            }),
            Ok(a) => {
                c.status = Tri::Yes;
                c.paragraphs.push(format!(
                    "Zu verteilen sind {} {}. Jeder Anteil ist der gewichtete Anteil des Mitglieds an der Summe jeder Bezugsgröße. Die Beträge werden auf den Cent abgerundet; die {} übrigen Cent erhalten nacheinander die Mitglieder mit dem größten Rundungsrest (bei Gleichstand die kleinere Organisationsnummer).",
                    de_eur(a.total_cents),
                    input.key.label(),
                    a.remainder_cents
                ));
                c.paragraphs.extend(a.notes.iter().cloned());
                let mut rows: Vec<Vec<String>> = a
                    .rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.name.clone(),
                            r.basis.clone(),
                            ppm_percent(r.share_ppm),
                            centicents(r.exact_centicents),
                            format!(
                                "{}{}",
                                de_eur(r.cents),
                                if r.extra_cent { " (+1 ct)" } else { "" }
                            ),
                        ]
                    })
                    .collect();
                rows.push(vec![
                    "Summe".into(),
                    String::new(),
                    "100 %".into(),
                    String::new(),
                    de_eur(a.rows.iter().map(|r| r.cents).sum()),
                ]);
                c.table = Some(Table {
                    head: vec![
                        "Mitglied".into(),
                        "Bezugsgröße".into(),
                        "Anteil".into(),
                        "Exakt".into(),
                        "Betrag".into(),
                    ],
                    rows,
                });
            }
        },
    }
    chapters.push(c);

    Report {
        kind: "verbund".into(),
        title: format!("Informationssicherheit im Verbund – {}", input.verbund_name),
        subject: input.verbund_name.to_string(),
        edition: Edition::Public,
        edition_label: "Bericht an die Geschäftsstelle und den Kreistag".into(),
        date: german_date(today),
        version: version.to_string(),
        intro: vec![
            "Dieser Bericht stellt alle Mitglieder des Verbunds nebeneinander: dieselben Standardfragen wie im Bericht an den Rat, nur als Ja/Nein/Nicht-erfasst-Übersicht, die gemeinsamen Maßnahmen und die Verteilung der Kosten der Geschäftsstelle mit ihrer Rechnung.".into(),
        ],
        chapters,
        charts: Vec::new(),
    }
}

/// Share of a target's requirements that counts as "reached": the same line the security
/// heatmap draws.
pub const TARGET_REACHED_PERCENT: u8 = 80;

/// Which target most members assess against (the office's uniform target; a town may only choose
/// a stricter one), and who is below it.
fn target_chapter(members: &[TownFacts]) -> Chapter {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for m in members {
        if let Some(p) = &m.protection {
            *counts.entry(p.target.as_str()).or_default() += 1;
        }
    }
    // Most members first; ties by name, so the choice is stable.
    let uniform = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(t, _)| (*t).to_string());
    let mut rows = Vec::new();
    let (mut reached, mut below, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for m in members {
        match &m.protection {
            Some(p) => {
                let ok = p.percent.map(|x| x >= TARGET_REACHED_PERCENT);
                match ok {
                    Some(true) => reached.push(m.name.clone()),
                    Some(false) => below.push(m.name.clone()),
                    None => unknown.push(m.name.clone()),
                }
                rows.push(vec![
                    m.name.clone(),
                    p.target.clone(),
                    p.percent
                        .map_or(NOT_RECORDED.to_string(), |x| format!("{x} %")),
                    german_date(p.taken_on),
                    match ok {
                        Some(true) => "ja".to_string(),
                        Some(false) => "nein".to_string(),
                        None => NOT_RECORDED.to_string(),
                    },
                ]);
            }
            None => {
                unknown.push(m.name.clone());
                rows.push(vec![
                    m.name.clone(),
                    NOT_RECORDED.to_string(),
                    NOT_RECORDED.to_string(),
                    NOT_RECORDED.to_string(),
                    NOT_RECORDED.to_string(),
                ]);
            }
        }
    }
    let status = if reached.is_empty() && below.is_empty() {
        Tri::Unknown
    } else if below.is_empty() && unknown.is_empty() {
        Tri::Yes
    } else if reached.is_empty() {
        Tri::No
    } else {
        Tri::Partial
    };
    let mut paragraphs = vec![match &uniform {
        Some(t) => format!(
            "Einheitliches Zielniveau des Verbunds: „{t}“. Es gilt als erreicht, wenn mindestens {TARGET_REACHED_PERCENT} % seiner Anforderungen erfüllt sind (die Zielmarke der Heatmap); maßgeblich ist die letzte abgeschlossene Erhebung jedes Mitglieds."
        ),
        None => "Für kein Mitglied ist eine abgeschlossene Erhebung gegen ein Zielniveau erfasst.".to_string(),
    }];
    let list = |v: &[String]| {
        if v.is_empty() {
            "–".to_string()
        } else {
            v.join(", ")
        }
    };
    paragraphs.push(format!("Unter dem Ziel: {}.", list(&below)));
    if !unknown.is_empty() {
        paragraphs.push(format!(
            "Ohne abgeschlossene Erhebung ({NOT_RECORDED}): {}.",
            list(&unknown)
        ));
    }
    Chapter {
        key: "zielniveau".into(),
        question: "Erreichen die Mitglieder das einheitliche Zielniveau?".into(),
        status,
        paragraphs,
        figures: vec![
            Figure {
                label: "Ziel erreicht".into(),
                value: format!("{} von {}", reached.len(), members.len()),
            },
            Figure {
                label: "Unter dem Ziel".into(),
                value: below.len().to_string(),
            },
            Figure {
                label: NOT_RECORDED.to_string(),
                value: unknown.len().to_string(),
            },
        ],
        table: Some(Table {
            head: [
                "Mitglied",
                "Ziel",
                "Erfüllungsgrad",
                "Stand",
                "Ziel erreicht",
            ]
            .iter()
            .map(|h| h.to_string())
            .collect(),
            rows,
        }),
        chart: None,
        waits_for: None,
    }
}
