//! Commits a spreadsheet import ([`stadtmauer_inventory::import::Preview`]) in one write
//! transaction: every object created or updated, every link made, the Schutzbedarf recomputed
//! for everything touched — or, on any error, nothing at all. Rows are written with multi-row
//! statements and the import is audited as one entry that lists every object and link it
//! created or changed (with before and after), so 50,000 rows commit in seconds and hold the
//! write lock no longer than that.
//!
//! The preview is computed by the caller, so nothing in it is trusted for tenancy: updates are
//! applied only to objects of the town (same kind), links only to objects of the town or shared
//! providers of its Verbund, and the caller's write access is checked for every kind imported.

use crate::inventory::{recompute, update_object_row};
use crate::{flag, id_list, internal, Result, Store, WriteTx};
use serde_json::json;
use sqlx::Row;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{DomainError, ObjectId, OrgId, Scope};
use stadtmauer_inventory::import::{Action, Preview, Target};
use stadtmauer_inventory::model::{ObjectData, ObjectKind};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Rows per multi-row INSERT: 400 rows × 24 values stays far below SQLite's and PostgreSQL's
/// limits on bound parameters, and one statement per 400 rows keeps a 50,000-row import at a
/// few hundred round trips.
const INSERT_CHUNK: usize = 400;

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
        let mut ids: Vec<ObjectId> = vec![ObjectId(0); preview.rows.len()];
        let mut summary = ImportSummary::default();
        // What the import did, for its one audit entry.
        let mut created_log = Vec::new();
        let mut updated_log = Vec::new();
        let mut links_log = Vec::new();
        let creates: Vec<usize> = (0..preview.rows.len())
            .filter(|&i| matches!(preview.rows[i].action, Action::Create))
            .collect();
        for chunk in creates.chunks(INSERT_CHUNK) {
            let rows: Vec<&ObjectData> = chunk.iter().map(|&i| datas[i]).collect();
            let made = insert_objects(&mut w, self.backend, org, &rows).await?;
            for (&i, id) in chunk.iter().zip(made) {
                ids[i] = id;
                created_log.push(json!({"id": id, "kind": datas[i].kind, "name": datas[i].name}));
            }
            summary.created += chunk.len();
        }
        for (i, (r, d)) in preview.rows.iter().zip(&datas).enumerate() {
            if let Action::Update { id, before } = &r.action {
                if before.kind != d.kind || before.shared != d.shared {
                    return Err(invalid("kind", "err.kind_fixed"));
                }
                let done = update_object_row(&mut w, *id, org, d).await?;
                if !done {
                    // Not an object of this town (or it changed since the preview).
                    return Err(DomainError::NotFound);
                }
                updated_log.push(changed_fields(*id, before, d));
                ids[i] = *id;
                summary.updated += 1;
            }
        }
        let mut starts: Vec<i64> = ids.iter().map(|i| i.0).collect();
        // Existing objects named as dependencies: read once, checked for reachability.
        let existing: BTreeSet<i64> = preview
            .rows
            .iter()
            .flat_map(|r| r.depends_on.iter())
            .filter_map(|t| match t {
                Target::Existing(id) => Some(id.0),
                Target::Row(_) => None,
            })
            .collect();
        let mut known: HashMap<i64, (ObjectKind, String)> = HashMap::new();
        let ex: Vec<i64> = existing.into_iter().collect();
        for chunk in ex.chunks(1000) {
            let rows = sqlx::query(&format!(
                "SELECT o.id AS id, o.kind AS kind, o.name AS name, o.shared AS shared, o.organisation_id AS org, g.verbund_id AS verbund \
                 FROM inv_object o JOIN organisation g ON g.id = o.organisation_id WHERE o.id IN {}",
                id_list(chunk.iter().copied())
            ))
            .fetch_all(&mut *w.tx)
            .await
            .map_err(internal)?;
            for row in rows {
                let kind: String = row.try_get("kind").map_err(internal)?;
                let their_org: i64 = row.try_get("org").map_err(internal)?;
                let their_verbund: Option<i64> = row.try_get("verbund").map_err(internal)?;
                let reachable = their_org == org.0
                    || (flag(&row, "shared")
                        && verbund.is_some()
                        && their_verbund == verbund.map(|v| v.0));
                if !reachable {
                    return Err(invalid("depends_on", "err.link_other_town"));
                }
                known.insert(
                    row.try_get("id").map_err(internal)?,
                    (
                        ObjectKind::parse(&kind).unwrap_or(ObjectKind::System),
                        row.try_get::<String, _>("name").map_err(internal)?,
                    ),
                );
            }
        }
        // Every link the rows ask for, checked, without duplicates.
        let mut wanted: Vec<(i64, i64)> = Vec::new();
        let mut seen: HashSet<(i64, i64)> = HashSet::new();
        let mut names: Vec<(String, String)> = Vec::new();
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
                        let (kind, name) = known
                            .get(&id.0)
                            .ok_or_else(|| invalid("depends_on", "imp.err.dep_unknown"))?;
                        (*id, *kind, name.clone())
                    }
                };
                if to == from {
                    return Err(invalid("depends_on", "err.link_self"));
                }
                if !d.kind.may_depend_on(to_kind) {
                    return Err(invalid("depends_on", "err.link_kind"));
                }
                if seen.insert((from.0, to.0)) {
                    wanted.push((from.0, to.0));
                    names.push((d.name.clone(), to_name));
                }
            }
        }
        // Links that already exist are not made again (updated rows keep theirs).
        let mut exists: HashSet<(i64, i64)> = HashSet::new();
        let froms: BTreeSet<i64> = wanted.iter().map(|p| p.0).collect();
        let froms: Vec<i64> = froms.into_iter().collect();
        for chunk in froms.chunks(1000) {
            let rows = sqlx::query(&format!(
                "SELECT from_id, to_id FROM inv_link WHERE from_id IN {}",
                id_list(chunk.iter().copied())
            ))
            .fetch_all(&mut *w.tx)
            .await
            .map_err(internal)?;
            for row in rows {
                exists.insert((
                    row.try_get(0).map_err(internal)?,
                    row.try_get(1).map_err(internal)?,
                ));
            }
        }
        let new_links: Vec<(usize, (i64, i64))> = wanted
            .into_iter()
            .enumerate()
            .filter(|(_, p)| !exists.contains(p))
            .collect();
        let t = stadtmauer_core::now();
        for chunk in new_links.chunks(INSERT_CHUNK) {
            // Integers only, so formatting them into the statement injects nothing.
            let values: Vec<String> = chunk
                .iter()
                .map(|(_, (f, to))| format!("({f}, {to}, {t})"))
                .collect();
            sqlx::query(&format!(
                "INSERT INTO inv_link (from_id, to_id, created_at) VALUES {}",
                values.join(", ")
            ))
            .execute(&mut *w.tx)
            .await
            .map_err(crate::unique_or_internal("depends_on"))?;
            for (k, (f, to)) in chunk {
                let (fname, tname) = &names[*k];
                links_log.push(json!({"from_id": f, "to_id": to, "from": fname, "to": tname}));
                starts.push(*to);
            }
            summary.links += chunk.len();
        }
        w.audit(
            Some(org),
            "import",
            "inventory",
            org.0,
            None,
            Some(json!({
                "created": created_log,
                "updated": updated_log,
                "links": links_log,
            })),
        )
        .await?;
        starts.sort_unstable();
        starts.dedup();
        recompute(&mut w, &starts).await?;
        crate::provider_use::rebuild(&mut w.tx, self.backend, Some(&[org.0])).await?;
        w.commit().await?;
        Ok(summary)
    }
}

/// The audit record of one updated row: its id and name and, per field that changed, the value
/// before and after. Only the differences, so that re-importing 50,000 unchanged rows does not
/// write (and hold in memory) two copies of every object.
fn changed_fields(
    id: ObjectId,
    before: &impl serde::Serialize,
    after: &ObjectData,
) -> serde_json::Value {
    let (b, a) = (json!(before), json!(after));
    let mut changed = serde_json::Map::new();
    if let (Some(b), Some(a)) = (b.as_object(), a.as_object()) {
        for (k, av) in a {
            let bv = b.get(k).unwrap_or(&serde_json::Value::Null);
            if bv != av {
                changed.insert(k.clone(), json!([bv, av]));
            }
        }
    }
    json!({"id": id, "name": after.name, "changed": changed})
}

/// Inserts objects of one town with one multi-row statement; returns their ids in the order
/// given. The ids are matched back by (kind, name), which is unique in a town, so the order in
/// which the database returns rows does not matter.
pub(crate) async fn insert_objects(
    w: &mut WriteTx<'_>,
    backend: crate::Backend,
    org: OrgId,
    rows: &[&ObjectData],
) -> Result<Vec<ObjectId>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let t = stadtmauer_core::now();
    let mut values = Vec::with_capacity(rows.len());
    for k in 0..rows.len() {
        let b = k * 22;
        // SQLite looks numbered parameters up by name in a list, which makes binding thousands
        // of them quadratic (seconds for 50,000 rows); anonymous `?` are bound by position.
        let p: Vec<String> = match backend {
            crate::Backend::Sqlite => vec!["?".to_string(); 22],
            crate::Backend::Postgres => (1..=22).map(|n| format!("${}", b + n)).collect(),
        };
        values.push(format!("({}, 1, 1, 1, {t}, {t})", p.join(", ")));
    }
    let sql = format!(
        "INSERT INTO inv_object (organisation_id, kind, name, description, owner, status, data_personal, data_special, data_classified, \
         vendor, product, version, operating_model, vendor_country, system_type, item_count, contract, contact, shared, own_c, own_i, own_a, \
         eff_c, eff_i, eff_a, created_at, updated_at) VALUES {} RETURNING id, kind, name",
        values.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for d in rows {
        let own = d.own;
        q = q
            .bind(org.0)
            .bind(d.kind.as_str())
            .bind(&d.name)
            .bind(&d.description)
            .bind(&d.owner)
            .bind(d.status.as_str())
            .bind(i64::from(d.data_personal))
            .bind(i64::from(d.data_special))
            .bind(i64::from(d.data_classified))
            .bind(&d.vendor)
            .bind(&d.product)
            .bind(&d.version)
            .bind(d.operating_model.map(|m| m.as_str()))
            .bind(&d.vendor_country)
            .bind(&d.system_type)
            .bind(d.count)
            .bind(&d.contract)
            .bind(&d.contact)
            .bind(i64::from(d.shared))
            .bind(own.map(|p| p.c.as_i64()))
            .bind(own.map(|p| p.i.as_i64()))
            .bind(own.map(|p| p.a.as_i64()));
    }
    let made = q
        .fetch_all(&mut *w.tx)
        .await
        .map_err(crate::unique_or_internal("name"))?;
    let mut by_name: HashMap<(String, String), i64> = HashMap::with_capacity(made.len());
    for r in made {
        by_name.insert(
            (
                r.try_get("kind").map_err(internal)?,
                r.try_get("name").map_err(internal)?,
            ),
            r.try_get("id").map_err(internal)?,
        );
    }
    rows.iter()
        .map(|d| {
            by_name
                .get(&(d.kind.as_str().to_string(), d.name.clone()))
                .map(|&id| ObjectId(id))
                .ok_or_else(|| internal("an inserted object was not returned"))
        })
        .collect()
}
