//! Answering the council: the security programme a town records (profile, figures per year,
//! audits, tests, advice, trainings, drills and their findings), and the facts the council
//! report is built from (gathered from this and the other areas' public methods).
//!
//! Reading the records needs `Read`; the report's facts need `Reports` (council members read
//! reports); writing needs `Write`. Every write is audited.

use crate::{internal, unique_or_internal, Result, Store};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use stadtmauer_core::{now, Access, DomainError, OrgId, Scope, VerbundId};
use stadtmauer_report::records::{
    iso, parse_date, Coverage, Event, EventKind, Finding, Profile, Programme, Remediation,
    Severity, YearFigures,
};
use stadtmauer_report::town::{Hosting, ProtectionFigure, ProviderUse, TownFacts, UpdateFigure};

fn opt_bool(row: &AnyRow, col: &str) -> Result<Option<bool>> {
    Ok(row
        .try_get::<Option<i64>, _>(col)
        .map_err(internal)?
        .map(|v| v != 0))
}

fn opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    row.try_get::<Option<i64>, _>(col).map_err(internal)
}

fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    row.try_get::<Option<String>, _>(col).map_err(internal)
}

fn b(v: Option<bool>) -> Option<i64> {
    v.map(i64::from)
}

fn event_row(r: &AnyRow) -> Result<Event> {
    let kind: String = r.try_get("kind").map_err(internal)?;
    let held: String = r.try_get("held_on").map_err(internal)?;
    Ok(Event {
        id: r.try_get("id").map_err(internal)?,
        kind: EventKind::parse(&kind).unwrap_or(EventKind::Audit),
        held_on: parse_date(&held).ok_or_else(|| internal("bad date in cnc_event"))?,
        party: r.try_get("party").map_err(internal)?,
        topic: opt_text(r, "topic")?,
        result: opt_text(r, "result")?,
        participants: opt_i64(r, "participants")?,
    })
}

fn finding_row(r: &AnyRow) -> Result<Finding> {
    let sev: String = r.try_get("severity").map_err(internal)?;
    let st: String = r.try_get("status").map_err(internal)?;
    Ok(Finding {
        id: r.try_get("id").map_err(internal)?,
        event_id: r.try_get("event_id").map_err(internal)?,
        title: r.try_get("title").map_err(internal)?,
        severity: Severity::parse(&sev).unwrap_or(Severity::Medium),
        status: Remediation::parse(&st).unwrap_or(Remediation::Open),
    })
}

fn target_label(t: crate::security::Target) -> &'static str {
    match t {
        crate::security::Target::KommunaleBasis => "Kommunale Basis",
        crate::security::Target::KernelSdt => "Stand der Technik (Kernel)",
        crate::security::Target::Grundschutz => "Grundschutz++ (BSI-Profil)",
        crate::security::Target::Imported(_) => "importierter Katalog",
    }
}

impl Store {
    /// Everything a town recorded for the council (needs `Reports`: the report is built from it;
    /// the pages that show single records need `Read` and check it themselves).
    pub async fn council_programme(&self, scope: &Scope, org: OrgId) -> Result<Programme> {
        scope.require(org, Access::Reports)?;
        let mut p = Programme::default();
        if let Some(r) = sqlx::query("SELECT * FROM cnc_profile WHERE organisation_id = $1")
            .bind(org.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?
        {
            let date = |c: &str| -> Result<Option<time::Date>> {
                Ok(opt_text(&r, c)?.as_deref().and_then(parse_date))
            };
            let cov = |c: &str| -> Result<Option<Coverage>> {
                Ok(opt_text(&r, c)?.as_deref().and_then(Coverage::parse))
            };
            p.profile = Profile {
                isb_appointed: opt_bool(&r, "isb_appointed")?,
                isb_deputy: opt_bool(&r, "isb_deputy")?,
                team_size: opt_i64(&r, "team_size")?,
                qualifications: opt_text(&r, "qualifications")?,
                standard: opt_text(&r, "standard")?,
                guideline_adopted_by: opt_text(&r, "guideline_adopted_by")?,
                guideline_adopted_on: date("guideline_adopted_on")?,
                guideline_review_on: date("guideline_review_on")?,
                emergency_plan: opt_bool(&r, "emergency_plan")?,
                emergency_offices: opt_text(&r, "emergency_offices")?,
                phone_fallback: opt_bool(&r, "phone_fallback")?,
                hours_without_it: opt_i64(&r, "hours_without_it")?,
                mfa_remote: cov("mfa_remote")?,
                mfa_email: cov("mfa_email")?,
                mfa_admin: cov("mfa_admin")?,
                insurance: opt_bool(&r, "insurance")?,
                insurer: opt_text(&r, "insurer")?,
                insurance_sum: opt_i64(&r, "insurance_sum")?,
            };
        }
        for r in sqlx::query(
            "SELECT year, budget, spent, incidents FROM cnc_year WHERE organisation_id = $1 ORDER BY year",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?
        {
            p.years.push(YearFigures {
                year: r.try_get::<i64, _>("year").map_err(internal)? as i32,
                budget: opt_i64(&r, "budget")?,
                spent: opt_i64(&r, "spent")?,
                incidents: opt_i64(&r, "incidents")?,
            });
        }
        for r in sqlx::query(
            "SELECT id, kind, held_on, party, topic, result, participants FROM cnc_event \
             WHERE organisation_id = $1 ORDER BY held_on DESC, id DESC",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?
        {
            p.events.push(event_row(&r)?);
        }
        for r in sqlx::query(
            "SELECT id, event_id, title, severity, status FROM cnc_finding WHERE organisation_id = $1 ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?
        {
            p.findings.push(finding_row(&r)?);
        }
        Ok(p)
    }

    /// Replaces the town's profile.
    pub async fn save_council_profile(&self, scope: &Scope, org: OrgId, p: &Profile) -> Result<()> {
        scope.require(org, Access::Write)?;
        let before = self.council_programme(scope, org).await?.profile;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM cnc_profile WHERE organisation_id = $1")
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        sqlx::query(
            "INSERT INTO cnc_profile (organisation_id, isb_appointed, isb_deputy, team_size, qualifications, \
             standard, guideline_adopted_by, guideline_adopted_on, guideline_review_on, emergency_plan, \
             emergency_offices, phone_fallback, hours_without_it, mfa_remote, mfa_email, mfa_admin, insurance, \
             insurer, insurance_sum, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)",
        )
        .bind(org.0)
        .bind(b(p.isb_appointed))
        .bind(b(p.isb_deputy))
        .bind(p.team_size)
        .bind(p.qualifications.clone())
        .bind(p.standard.clone())
        .bind(p.guideline_adopted_by.clone())
        .bind(p.guideline_adopted_on.map(iso))
        .bind(p.guideline_review_on.map(iso))
        .bind(b(p.emergency_plan))
        .bind(p.emergency_offices.clone())
        .bind(b(p.phone_fallback))
        .bind(p.hours_without_it)
        .bind(p.mfa_remote.map(|c| c.as_str()))
        .bind(p.mfa_email.map(|c| c.as_str()))
        .bind(p.mfa_admin.map(|c| c.as_str()))
        .bind(b(p.insurance))
        .bind(p.insurer.clone())
        .bind(p.insurance_sum)
        .bind(now())
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit(
            Some(org),
            "update",
            "council_profile",
            org,
            Some(json!(before)),
            Some(json!(p)),
        )
        .await?;
        w.commit().await
    }

    /// Records (or replaces) the figures of one year.
    pub async fn save_council_year(
        &self,
        scope: &Scope,
        org: OrgId,
        y: &YearFigures,
    ) -> Result<()> {
        scope.require(org, Access::Write)?;
        let before = self
            .council_programme(scope, org)
            .await?
            .years
            .into_iter()
            .find(|x| x.year == y.year);
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM cnc_year WHERE organisation_id = $1 AND year = $2")
            .bind(org.0)
            .bind(i64::from(y.year))
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        sqlx::query(
            "INSERT INTO cnc_year (organisation_id, year, budget, spent, incidents, updated_at) VALUES ($1,$2,$3,$4,$5,$6)",
        )
        .bind(org.0)
        .bind(i64::from(y.year))
        .bind(y.budget)
        .bind(y.spent)
        .bind(y.incidents)
        .bind(now())
        .execute(&mut *w.tx)
        .await
        .map_err(unique_or_internal("year"))?;
        w.audit(
            Some(org),
            "update",
            "council_year",
            format!("{org}:{}", y.year),
            before.map(|b| json!(b)),
            Some(json!(y)),
        )
        .await?;
        w.commit().await
    }

    /// Records an audit, test, advice, training or drill.
    pub async fn add_council_event(&self, scope: &Scope, org: OrgId, e: &Event) -> Result<i64> {
        scope.require(org, Access::Write)?;
        let mut w = self.begin_write(scope).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO cnc_event (organisation_id, kind, held_on, party, topic, result, participants, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
        )
        .bind(org.0)
        .bind(e.kind.as_str())
        .bind(iso(e.held_on))
        .bind(e.party.clone())
        .bind(e.topic.clone())
        .bind(e.result.clone())
        .bind(e.participants)
        .bind(now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(internal)?
        .try_get(0)
        .map_err(internal)?;
        let mut after = e.clone();
        after.id = id;
        w.audit(
            Some(org),
            "create",
            "council_event",
            id,
            None,
            Some(json!(after)),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Deletes an event with its findings.
    pub async fn delete_council_event(&self, scope: &Scope, org: OrgId, id: i64) -> Result<()> {
        scope.require(org, Access::Write)?;
        let p = self.council_programme(scope, org).await?;
        let before = p
            .events
            .iter()
            .find(|e| e.id == id)
            .cloned()
            .ok_or(DomainError::NotFound)?;
        let mut w = self.begin_write(scope).await?;
        for sql in [
            "DELETE FROM cnc_finding WHERE event_id = $1 AND organisation_id = $2",
            "DELETE FROM cnc_event WHERE id = $1 AND organisation_id = $2",
        ] {
            sqlx::query(sql)
                .bind(id)
                .bind(org.0)
                .execute(&mut *w.tx)
                .await
                .map_err(internal)?;
        }
        w.audit(
            Some(org),
            "delete",
            "council_event",
            id,
            Some(json!(before)),
            None,
        )
        .await?;
        w.commit().await
    }

    /// Records a finding of one of the town's audits or tests.
    pub async fn add_council_finding(&self, scope: &Scope, org: OrgId, f: &Finding) -> Result<i64> {
        scope.require(org, Access::Write)?;
        let p = self.council_programme(scope, org).await?;
        if !p
            .events
            .iter()
            .any(|e| e.id == f.event_id && matches!(e.kind, EventKind::Audit | EventKind::Pentest))
        {
            return Err(DomainError::field("event_id", "cnc.err.choice"));
        }
        let mut w = self.begin_write(scope).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO cnc_finding (organisation_id, event_id, title, severity, status, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
        )
        .bind(org.0)
        .bind(f.event_id)
        .bind(f.title.clone())
        .bind(f.severity.as_str())
        .bind(f.status.as_str())
        .bind(now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(internal)?
        .try_get(0)
        .map_err(internal)?;
        let mut after = f.clone();
        after.id = id;
        w.audit(
            Some(org),
            "create",
            "council_finding",
            id,
            None,
            Some(json!(after)),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Moves a finding's remediation status.
    pub async fn set_council_finding_status(
        &self,
        scope: &Scope,
        org: OrgId,
        id: i64,
        status: Remediation,
    ) -> Result<()> {
        scope.require(org, Access::Write)?;
        let p = self.council_programme(scope, org).await?;
        let before = p
            .findings
            .iter()
            .find(|f| f.id == id)
            .cloned()
            .ok_or(DomainError::NotFound)?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("UPDATE cnc_finding SET status = $1 WHERE id = $2 AND organisation_id = $3")
            .bind(status.as_str())
            .bind(id)
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        let mut after = before.clone();
        after.status = status;
        w.audit(
            Some(org),
            "update",
            "council_finding",
            id,
            Some(json!(before)),
            Some(json!(after)),
        )
        .await?;
        w.commit().await
    }

    /// The facts of a town's council report. Needs `Reports`. Figures of other areas are taken
    /// from their public methods; what was not recorded stays `None` ("nicht erfasst"), and a
    /// failure to read them is an error, never "nicht erfasst" in a report to the council.
    pub async fn council_facts(&self, scope: &Scope, org: OrgId) -> Result<TownFacts> {
        scope.require(org, Access::Reports)?;
        // Aggregates of the Informationsverbund are part of the report; a council member
        // (reports only) may see them as figures, never the objects themselves.
        let reader = if scope.can(org, Access::Read) {
            scope.clone()
        } else {
            self.system_scope("Ratsbericht").await?
        };
        let o = self.organisation(&reader, org).await?;
        let programme = self.council_programme(scope, org).await?;
        let hosting = Some(self.hosting_share(&reader, org).await?).map(|h| Hosting {
            self_hosted: h.self_hosted.0,
            provider: h.provider.0,
            saas: h.saas.0,
            unknown: h.unknown.0,
        });
        let mut providers = Vec::new();
        if let Some(v) = o.verbund_id {
            for p in self.provider_concentration(&reader, v).await? {
                let n = p
                    .processes
                    .iter()
                    .filter(|e| e.0.organisation_id == org)
                    .count();
                if n > 0 {
                    providers.push(ProviderUse {
                        name: p.provider.name.clone(),
                        shared: p.shared,
                        processes: n,
                    });
                }
            }
        }
        let latest = self.latest_snapshots(&reader, &[org]).await?.pop();
        let imported_title = match latest.as_ref().map(|s| s.target) {
            Some(t @ crate::security::Target::Imported(_)) => self.target_title(t).await?,
            _ => None,
        };
        let protection = latest.map(|s| ProtectionFigure {
            target: imported_title
                .clone()
                .unwrap_or_else(|| target_label(s.target).to_string()),
            percent: s
                .snapshot
                .overall(stadtmauer_assessment::SecLevel::Erhoeht)
                .percent(),
            taken_on: s.snapshot.taken_on,
        });
        let open = self.findings(scope, org, false).await?;
        let updates = match open {
            open if !self.installations(&reader, org).await?.is_empty() => {
                let latency = self.patch_latency(scope, &[org]).await?;
                Some(UpdateFigure {
                    open: open.len(),
                    unsupported: open.iter().filter(|f| f.kind == "unsupported").count(),
                    kev: open.iter().filter(|f| f.kind == "kev").count(),
                    median_patch_days: latency.median,
                    details: open
                        .iter()
                        .take(20)
                        .map(|f| {
                            format!(
                                "{} {} ({})",
                                f.product_key,
                                f.version.clone().unwrap_or_default(),
                                f.kind
                            )
                        })
                        .collect(),
                })
            }
            _ => None,
        };
        let (readiness, backups) = self.council_continuity(&reader, org).await?;
        Ok(TownFacts {
            org_id: org.0,
            name: o.name,
            inhabitants: o.inhabitants,
            staff: o.staff,
            workstations: o.workstations,
            programme,
            hosting,
            providers,
            protection,
            updates,
            readiness,
            backups,
        })
    }

    /// The facts of every member of a Verbund (without the office) and the measures taken for
    /// all of them (the office's recorded events, shared providers). Needs `Reports` on the
    /// Verbund's office or on every member shown.
    pub async fn council_verbund_facts(
        &self,
        scope: &Scope,
        verbund: VerbundId,
    ) -> Result<(String, Vec<TownFacts>, Vec<String>)> {
        let v = self.verbund(scope, verbund).await?;
        let orgs = self.organisations(scope).await?;
        let members: Vec<_> = orgs
            .iter()
            .filter(|o| o.verbund_id == Some(verbund) && scope.can(o.id, Access::Reports))
            .collect();
        if members.is_empty() {
            return Err(DomainError::NotFound);
        }
        let mut facts = Vec::new();
        let mut shared = Vec::new();
        for o in &members {
            if o.is_office {
                let p = self.council_programme(scope, o.id).await?;
                for e in p.events {
                    shared.push(format!(
                        "{} der Geschäftsstelle am {}: {}{}.",
                        e.kind.german(),
                        stadtmauer_report::records::german_date(e.held_on),
                        e.party,
                        e.topic.map_or(String::new(), |t| format!(" – {t}"))
                    ));
                }
            } else {
                facts.push(self.council_facts(scope, o.id).await?);
            }
        }
        let reader_ok = members.iter().all(|o| scope.can(o.id, Access::Read));
        if reader_ok {
            if let Ok(impacts) = self.provider_concentration(scope, verbund).await {
                for p in impacts.iter().filter(|p| p.shared && p.towns > 0) {
                    shared.push(format!(
                        "Gemeinsamer Dienstleister {}: genutzt von {} Mitgliedern.",
                        p.provider.name, p.towns
                    ));
                }
            }
        }
        Ok((v.name, facts, shared))
    }
}

impl Store {
    /// The continuity chapters' figures: the readiness score and the backup register's 3-2-1-1-0
    /// verdicts, as counts only (the public edition may show them). `None` where the town has
    /// recorded nothing — a score computed from no data would be invented.
    async fn council_continuity(
        &self,
        reader: &Scope,
        org: OrgId,
    ) -> Result<(
        Option<stadtmauer_report::town::ReadinessFigure>,
        Option<stadtmauer_report::town::BackupFigure>,
    )> {
        use stadtmauer_continuity::readiness::{Answer, Status};
        let t = self.continuity(reader, org).await?;
        let c = &t.checklist;
        let answered = [
            c.mfa_remote_access,
            c.admin_accounts_separated,
            c.segmentation,
            c.edr,
        ]
        .iter()
        .any(|a| *a != Answer::Unknown);
        if t.backups.is_empty() && t.bias.is_empty() && !answered {
            return Ok((None, None));
        }
        let today = time::OffsetDateTime::now_utc().date();
        let start = time::PrimitiveDateTime::new(today, time::Time::MIDNIGHT);
        let a = crate::continuity::analyse(&t, today, start, 2);
        let points = &a.readiness.points;
        let met = points.iter().filter(|p| p.status == Status::Met).count();
        let partial = points
            .iter()
            .filter(|p| p.status == Status::Partial)
            .count();
        let readiness = stadtmauer_report::town::ReadinessFigure {
            score: a.readiness.score,
            summary: vec![format!(
                "Von {} Prüfpunkten sind {met} erfüllt und {partial} teilweise erfüllt.",
                points.len()
            )],
        };
        let backups = if t.backups.is_empty() {
            None
        } else {
            let n = a.verdicts.backups.len();
            let ok = a.verdicts.backups.iter().filter(|b| b.ok).count();
            let gaps = a.verdicts.gaps.len();
            Some(stadtmauer_report::town::BackupFigure {
                summary: vec![
                    format!("Im Backup-Register sind {n} Datensicherungen erfasst; {ok} davon erfüllen die 3-2-1-1-0-Regel."),
                    format!("Offene Punkte bei kritischen Systemen (keine Sicherung, kein Wiederherstellungstest in 12 Monaten, mit Domänen-Zugangsdaten erreichbar): {gaps}."),
                ],
                rule_3_2_1_1_0: Some(ok == n),
            })
        };
        Ok((Some(readiness), backups))
    }
}
