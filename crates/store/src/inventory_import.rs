//! Commits a spreadsheet import ([`stadtmauer_inventory::import::Preview`]) in one write
//! transaction: every object created or updated, every link made, one audit entry each, the
//! Schutzbedarf recomputed for everything touched — or, on any error, nothing at all.
//!
//! The preview is computed by the caller, so nothing in it is trusted for tenancy: updates are
//! applied only to objects of the town (same kind), links only to objects of the town or shared
//! providers of its Verbund, and the caller's write access is checked for every kind imported.

use crate::inventory::{insert_link, insert_object, recompute, update_object_row};
use crate::{flag, internal, Result, Store};
use serde_json::json;
use sqlx::Row;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{DomainError, ObjectId, OrgId, Scope};
use stadtmauer_inventory::import::{Action, Preview, Target};
use stadtmauer_inventory::model::ObjectKind;
use std::collections::BTreeSet;

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    /// Links made (links that already existed are not counted).
    pub links: usize,
}

fn invalid(field: &'static str, key: &'static str) -> DomainError {
    let mut e = FieldErrors::default();
    e.add(field, key);
    DomainError::Invalid(e)
}

impl Store {
    /// Imports the rows of `preview` into town `org`: all or nothing.
    pub async fn import_objects(
        &self,
        scope: &Scope,
        org: OrgId,
        preview: &Preview,
    ) -> Result<ImportSummary> {
        if !preview.errors.is_empty() || preview.rows.iter().any(|r| r.has_errors) {
            return Err(invalid("file", "imp.err.has_errors"));
        }
        if preview.rows.is_empty() {
            return Err(invalid("file", "imp.err.no_rows"));
        }
        let mut datas = Vec::with_capacity(preview.rows.len());
        for r in &preview.rows {
            datas.push(
                r.data
                    .as_ref()
                    .ok_or_else(|| invalid("file", "imp.err.has_errors"))?,
            );
        }
        // Access: the right for each kind (IT staff may import technical records only), checked
        // once per kind, and shared providers only by the Verbund's office.
        let kinds: BTreeSet<(ObjectKind, bool)> =
            datas.iter().map(|d| (d.kind, d.shared)).collect();
        if kinds.is_empty() {
            self.check_write(scope, org, ObjectKind::Process, false)
                .await?;
        }
        for (kind, shared) in kinds {
            self.check_write(scope, org, kind, shared).await?;
        }
        let verbund = self.organisation(scope, org).await?.verbund_id;

        let mut w = self.begin_write(scope).await?;
        let mut ids: Vec<ObjectId> = Vec::with_capacity(preview.rows.len());
        let mut summary = ImportSummary::default();
        let mut starts: Vec<i64> = Vec::new();
        for (r, d) in preview.rows.iter().zip(&datas) {
            match &r.action {
                Action::Create => {
                    let id = insert_object(&mut w, org, d).await?;
                    ids.push(id);
                    summary.created += 1;
                }
                Action::Update { id, before } => {
                    if before.kind != d.kind || before.shared != d.shared {
                        return Err(invalid("kind", "err.kind_fixed"));
                    }
                    let done = update_object_row(&mut w, *id, org, d).await?;
                    if !done {
                        // Not an object of this town (or it changed since the preview).
                        return Err(DomainError::NotFound);
                    }
                    w.audit(
                        Some(org),
                        "update",
                        "object",
                        id,
                        Some(json!(before)),
                        Some(json!(d)),
                    )
                    .await?;
                    ids.push(*id);
                    summary.updated += 1;
                }
            }
        }
        starts.extend(ids.iter().map(|i| i.0));
        for (i, (r, d)) in preview.rows.iter().zip(&datas).enumerate() {
            let from = ids[i];
            for t in &r.depends_on {
                let (to, to_kind, to_name) = match t {
                    Target::Row(j) => {
                        let to = *ids
                            .get(*j)
                            .ok_or_else(|| invalid("depends_on", "imp.err.dep_unknown"))?;
                        let td = datas
                            .get(*j)
                            .ok_or_else(|| invalid("depends_on", "imp.err.dep_unknown"))?;
                        (to, td.kind, td.name.clone())
                    }
                    Target::Existing(id) => {
                        // Of this town, or a shared provider of the town's Verbund.
                        let row = sqlx::query(
                            "SELECT o.kind AS kind, o.name AS name, o.shared AS shared, o.organisation_id AS org, g.verbund_id AS verbund \
                             FROM inv_object o JOIN organisation g ON g.id = o.organisation_id WHERE o.id = $1",
                        )
                        .bind(id.0)
                        .fetch_optional(&mut *w.tx)
                        .await
                        .map_err(internal)?
                        .ok_or_else(|| invalid("depends_on", "imp.err.dep_unknown"))?;
                        let kind: String = row.try_get("kind").map_err(internal)?;
                        let their_org: i64 = row.try_get("org").map_err(internal)?;
                        let their_verbund: Option<i64> =
                            row.try_get("verbund").map_err(internal)?;
                        let reachable = their_org == org.0
                            || (flag(&row, "shared")
                                && verbund.is_some()
                                && their_verbund == verbund.map(|v| v.0));
                        if !reachable {
                            return Err(invalid("depends_on", "err.link_other_town"));
                        }
                        (
                            *id,
                            ObjectKind::parse(&kind).unwrap_or(ObjectKind::System),
                            row.try_get::<String, _>("name").map_err(internal)?,
                        )
                    }
                };
                if to == from {
                    return Err(invalid("depends_on", "err.link_self"));
                }
                if !d.kind.may_depend_on(to_kind) {
                    return Err(invalid("depends_on", "err.link_kind"));
                }
                let exists =
                    sqlx::query("SELECT id FROM inv_link WHERE from_id = $1 AND to_id = $2")
                        .bind(from.0)
                        .bind(to.0)
                        .fetch_optional(&mut *w.tx)
                        .await
                        .map_err(internal)?
                        .is_some();
                if exists {
                    continue;
                }
                insert_link(
                    &mut w,
                    org,
                    from,
                    to,
                    "depends_on",
                    json!({"from": d.name, "to": to_name}),
                )
                .await?;
                summary.links += 1;
                starts.push(to.0);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        recompute(&mut w, &starts).await?;
        crate::provider_use::rebuild(&mut w.tx, self.backend, Some(&[org.0])).await?;
        w.commit().await?;
        Ok(summary)
    }
}
