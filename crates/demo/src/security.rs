//! Demo data for the security level: every member town of Landkreis Musterau has answered the
//! Kommunale Basis to a different degree, and finished assessments once a year over the last
//! five years (some towns started later), so the heatmap and the trends look like a real Verbund.
//! Deterministic: the same demo every time.

use stadtmauer_assessment::score::evaluate;
use stadtmauer_assessment::snapshot::Snapshot;
use stadtmauer_assessment::{Answer, Date, RequirementRef, SecLevel, Status};
use stadtmauer_catalog::catalog::Requirement;
use stadtmauer_core::org::Organisation;
use stadtmauer_core::DomainError;
use stadtmauer_store::security::Target;
use stadtmauer_store::Store;

/// A small deterministic generator (xorshift), enough to spread statuses.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn rref(r: &Requirement) -> RequirementRef {
    RequirementRef {
        id: r.id.clone(),
        practice: r.practice.clone(),
        sec_level: match r.sec_level {
            Some(stadtmauer_catalog::SecLevel::Erhoeht) => SecLevel::Erhoeht,
            _ => SecLevel::NormalSdT,
        },
        effort_level: r.effort_level.unwrap_or(3),
        recurring: None,
    }
}

/// A status drawn for a town at a level (0..1): cheaper requirements are met first.
fn draw(rng: &mut Rng, level: f64, effort: u8) -> Status {
    let bias = (3.0 - f64::from(effort.min(5))) * 0.06;
    let x = rng.next();
    let p = (level + bias).clamp(0.02, 0.98);
    if x < p {
        Status::Ja
    } else if x < p + (1.0 - p) * 0.35 {
        Status::Teilweise
    } else if x < p + (1.0 - p) * 0.8 {
        Status::Nein
    } else if x < p + (1.0 - p) * 0.88 {
        Status::Entbehrlich
    } else {
        Status::Offen
    }
}

fn answers_at(
    reqs: &[RequirementRef],
    rng: &mut Rng,
    level: f64,
    on: Date,
    responsible: &str,
) -> Vec<Answer> {
    reqs.iter()
        .map(|r| {
            let status = draw(rng, level, r.effort_level);
            Answer {
                requirement_id: r.id.clone(),
                object_id: None,
                status,
                reason: (status == Status::Entbehrlich)
                    .then(|| "Kein entsprechender Bestand in der Kommune vorhanden.".to_string()),
                note: None,
                responsible: Some(responsible.to_string()),
                assessed_on: on,
                review_by: None,
                evidence: vec![],
            }
        })
        .collect()
}

/// Answers and five years of snapshots for every member town (not the office).
pub async fn load(store: &Store, members: &[Organisation]) -> Result<usize, DomainError> {
    let shipped = stadtmauer_catalog::shipped()
        .map_err(|e| DomainError::Internal(format!("shipped catalog: {e}")))?;
    let basis = shipped
        .resolve_kommunale_basis()
        .map_err(|e| DomainError::Internal(format!("Kommunale Basis: {e}")))?
        .catalog;
    let reqs: Vec<RequirementRef> = basis.requirements.iter().map(rref).collect();
    let sys = store.system_scope("Demo").await?;
    let today = time::OffsetDateTime::now_utc().date();
    let towns: Vec<&Organisation> = members.iter().filter(|o| !o.is_office).collect();
    let mut snapshots: Vec<(Snapshot, Target)> = Vec::new();
    let mut n = 0;
    for (i, town) in towns.iter().enumerate() {
        let mut rng =
            Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
        // Where the town stands today, and how many years it has been assessing (2–5).
        let today_level = 0.25 + 0.6 * ((i * 37) % 15) as f64 / 14.0;
        let years = 2 + (i * 7) % 4;
        for y in (1..years).rev() {
            let on = today - time::Duration::days(365 * y as i64 + ((i * 11) % 40) as i64);
            let level = today_level * (1.0 - 0.12 * y as f64);
            let answers = answers_at(&reqs, &mut rng, level, on, "Koordination");
            let states = evaluate(&reqs, &answers, on);
            snapshots.push((Snapshot::take(town.id, on, &states), Target::KommunaleBasis));
        }
        // Today's answers are stored, and finished as today's snapshot.
        let on = today - time::Duration::days(1 + ((i * 5) % 20) as i64);
        // Not everything is answered yet: the questionnaire has questions left.
        let answers: Vec<Answer> = answers_at(&reqs, &mut rng, today_level, on, "Koordination")
            .into_iter()
            .filter(|_| rng.next() < 0.55 + 0.4 * today_level)
            .collect();
        store.save_answers(&sys, town.id, &answers).await?;
        n += answers.len();
        let states = evaluate(&reqs, &answers, today);
        snapshots.push((Snapshot::take(town.id, on, &states), Target::KommunaleBasis));
    }
    store.save_snapshots(&sys, &snapshots).await?;
    office_plans(store, &sys, members).await?;
    Ok(n)
}

/// What the office added for the whole Verbund: one own requirement in the uniform target and one
/// shared measure (a joint awareness training) that some towns have already delivered.
async fn office_plans(
    store: &Store,
    sys: &stadtmauer_core::Scope,
    members: &[Organisation],
) -> Result<(), DomainError> {
    use stadtmauer_assessment::measure::{Measure, MeasureStatus, Priority, TownProgress};
    use stadtmauer_catalog::own::OwnRequirement;
    let Some(office) = members.iter().find(|o| o.is_office) else {
        return Ok(());
    };
    let Some(v) = office.verbund_id else {
        return Ok(());
    };
    store
        .save_own_requirement(
            sys,
            v,
            None,
            &OwnRequirement {
                code: "VB.1".into(),
                practice: "DET".into(),
                title: "Meldung von Sicherheitsvorfällen an die Informationssicherheitsstelle"
                    .into(),
                statement:
                    "Die Kommune MUSS jeden Sicherheitsvorfall und jeden begründeten Verdacht \
                    binnen 24 Stunden an die Informationssicherheitsstelle des Verbunds melden."
                        .into(),
                guidance: Some(
                    "Die Meldung geht an die Rufnummer und Adresse im Notfallhandbuch; eine \
                     erste Meldung darf unvollständig sein."
                        .into(),
                ),
                sec_level: stadtmauer_catalog::SecLevel::NormalSdt,
                effort_level: 1,
                target_category: None,
            },
        )
        .await?;
    let towns: Vec<&Organisation> = members.iter().filter(|o| !o.is_office).collect();
    let today = time::OffsetDateTime::now_utc().date();
    let measure = Measure {
        title: "Gemeinsame Awareness-Schulung zu Phishing und Ransomware".into(),
        description: Some("Ein Präsenz- und ein Online-Termin für alle Beschäftigten.".into()),
        requirement_id: None,
        objects: vec![],
        owner: Some(office.name.clone()),
        deadline: Some(today + time::Duration::days(120)),
        priority: Priority::Hoch,
        cost_eur: Some(6_000),
        effort_person_days: Some(8.0),
        towns: towns
            .iter()
            .enumerate()
            .map(|(i, t)| TownProgress {
                organisation_id: t.id,
                status: match i % 3 {
                    0 => MeasureStatus::Umgesetzt,
                    1 => MeasureStatus::InArbeit,
                    _ => MeasureStatus::Geplant,
                },
            })
            .collect(),
    };
    store.create_measures(sys, office.id, &[measure]).await?;
    Ok(())
}
