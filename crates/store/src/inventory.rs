//! Persistence of the Informationsverbund: objects, links, installed software, and the derived
//! Schutzbedarf, recomputed incrementally inside the same transaction as the change.
//!
//! The objects a change can affect are found with a recursive query (both backends support
//! `WITH RECURSIVE … UNION`, which also stops on cycles); only those are recomputed by
//! `stadtmauer_inventory::graph::compute`, with the edges into them from unaffected objects as
//! fixed inputs.

use crate::{flag, id_list, internal, provider_use, unique_or_internal, Result, Store, WriteTx};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{now, Access, DomainError, LinkId, ObjectId, OrgId, Scope};
use stadtmauer_inventory::graph::{compute, Node, Source};
use stadtmauer_inventory::model::{
    Level, Link, Object, ObjectData, ObjectKind, ObjectRef, OperatingModel, Override, Protection,
    Status,
};
use std::collections::HashMap;

const COLUMNS: &str = "o.id, o.organisation_id, o.kind, o.name, o.description, o.owner, o.status, o.data_personal, o.data_special, \
    o.data_classified, o.vendor, o.product, o.version, o.operating_model, o.vendor_country, o.system_type, o.item_count, o.contract, \
    o.contact, o.shared, o.own_c, o.own_i, o.own_a, o.ovr_c, o.ovr_i, o.ovr_a, o.ovr_reason, o.eff_c, o.eff_i, o.eff_a, o.via_c, o.via_i, o.via_a";

fn level(row: &AnyRow, col: &str) -> Option<Level> {
    row.try_get::<Option<i64>, _>(col)
        .ok()
        .flatten()
        .and_then(Level::from_i64)
}

fn triple(row: &AnyRow, prefix: &str) -> Option<Protection> {
    Some(Protection {
        c: level(row, &format!("{prefix}_c"))?,
        i: level(row, &format!("{prefix}_i"))?,
        a: level(row, &format!("{prefix}_a"))?,
    })
}

fn object(row: &AnyRow) -> Result<Object> {
    let text = |c: &str| row.try_get::<Option<String>, _>(c).map_err(internal);
    let kind: String = row.try_get("kind").map_err(internal)?;
    let status: String = row.try_get("status").map_err(internal)?;
    let override_value = match (triple(row, "ovr"), text("ovr_reason")?) {
        (Some(value), Some(reason)) => Some(Override { value, reason }),
        _ => None,
    };
    let via = |c: &str| {
        row.try_get::<Option<i64>, _>(c)
            .ok()
            .flatten()
            .map(ObjectId)
    };
    Ok(Object {
        id: ObjectId(row.try_get("id").map_err(internal)?),
        organisation_id: OrgId(row.try_get("organisation_id").map_err(internal)?),
        data: ObjectData {
            kind: ObjectKind::parse(&kind).unwrap_or(ObjectKind::System),
            name: row.try_get("name").map_err(internal)?,
            description: text("description")?,
            owner: text("owner")?,
            status: Status::parse(&status).unwrap_or(Status::Active),
            data_personal: flag(row, "data_personal"),
            data_special: flag(row, "data_special"),
            data_classified: flag(row, "data_classified"),
            vendor: text("vendor")?,
            product: text("product")?,
            version: text("version")?,
            operating_model: text("operating_model")?
                .as_deref()
                .and_then(OperatingModel::parse),
            vendor_country: text("vendor_country")?,
            system_type: text("system_type")?,
            count: row.try_get("item_count").map_err(internal)?,
            contract: text("contract")?,
            contact: text("contact")?,
            shared: flag(row, "shared"),
            own: triple(row, "own"),
        },
        override_value,
        effective: triple(row, "eff").unwrap_or(Protection::NORMAL),
        via: [via("via_c"), via("via_i"), via("via_a")],
    })
}

fn object_ref(row: &AnyRow, prefix: &str) -> Result<ObjectRef> {
    let kind: String = row
        .try_get(format!("{prefix}kind").as_str())
        .map_err(internal)?;
    Ok(ObjectRef {
        id: ObjectId(
            row.try_get(format!("{prefix}id").as_str())
                .map_err(internal)?,
        ),
        organisation_id: OrgId(
            row.try_get(format!("{prefix}org").as_str())
                .map_err(internal)?,
        ),
        kind: ObjectKind::parse(&kind).unwrap_or(ObjectKind::System),
        name: row
            .try_get(format!("{prefix}name").as_str())
            .map_err(internal)?,
    })
}

/// Applications of a town by operating model, counted and weighted by their highest requirement
/// (normal 1, hoch 2, sehr hoch 3).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct HostingShare {
    pub self_hosted: (i64, i64),
    pub provider: (i64, i64),
    pub saas: (i64, i64),
    pub unknown: (i64, i64),
}

impl HostingShare {
    pub fn total(&self) -> (i64, i64) {
        let all = [self.self_hosted, self.provider, self.saas, self.unknown];
        (all.iter().map(|x| x.0).sum(), all.iter().map(|x| x.1).sum())
    }
}

/// What halts if a provider fails: the processes that depend on it, directly or through
/// applications and systems, per town.
/// A process that halts, with its town's name and its requirement.
pub type ProcessEntry = std::sync::Arc<(ObjectRef, String, Protection)>;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderImpact {
    pub provider: ObjectRef,
    pub shared: bool,
    /// Processes (visible to the viewer) that stop, with their town's name and requirement,
    /// ordered by town and name. Shared between providers: large Verbünde list the same process
    /// under many providers, and copying its names each time was most of the view's cost.
    pub processes: Vec<ProcessEntry>,
    pub towns: usize,
    pub critical: usize,
}

/// Builds the SQL `IN` list of objects the scope may read: those of readable organisations, and
/// the shared providers of their Verbünde.
fn readable_objects_clause(scope: &Scope) -> String {
    let orgs = id_list(scope.with(Access::Read).iter().map(|o| o.0));
    format!(
        "(o.organisation_id IN {orgs} OR (o.shared = 1 AND o.organisation_id IN \
         (SELECT id FROM organisation WHERE verbund_id IN (SELECT verbund_id FROM organisation WHERE id IN {orgs}))))"
    )
}

impl Store {
    /// Objects of one organisation the scope may read (with the Verbund's shared providers when
    /// `with_shared`), ordered by kind and name.
    pub async fn objects(
        &self,
        scope: &Scope,
        org: OrgId,
        kind: Option<ObjectKind>,
        with_shared: bool,
    ) -> Result<Vec<Object>> {
        scope.require(org, Access::Read)?;
        let mut sql = format!("SELECT {COLUMNS} FROM inv_object o WHERE (o.organisation_id = $1");
        if with_shared {
            sql.push_str(" OR (o.shared = 1 AND o.organisation_id IN (SELECT id FROM organisation WHERE verbund_id = (SELECT verbund_id FROM organisation WHERE id = $1)))");
        }
        sql.push(')');
        if let Some(k) = kind {
            sql.push_str(&format!(" AND o.kind = '{}'", k.as_str()));
        }
        sql.push_str(" ORDER BY o.kind, o.name");
        let rows = sqlx::query(&sql)
            .bind(org.0)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter().map(object).collect()
    }

    /// One object, or `NotFound` when it does not exist or is outside the scope.
    pub async fn object(&self, scope: &Scope, id: ObjectId) -> Result<Object> {
        let sql = format!(
            "SELECT {COLUMNS} FROM inv_object o WHERE o.id = $1 AND {}",
            readable_objects_clause(scope)
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?
            .ok_or(DomainError::NotFound)?;
        object(&row)
    }

    /// Objects by id that the scope may read (for explanation paths); others are left out.
    pub async fn object_refs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<ObjectRef>> {
        let sql = format!(
            "SELECT o.id AS id, o.organisation_id AS org, o.kind AS kind, o.name AS name FROM inv_object o WHERE o.id IN {} AND {}",
            id_list(ids.iter().map(|i| i.0)),
            readable_objects_clause(scope)
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter().map(|r| object_ref(r, "")).collect()
    }

    /// The access needed to change an object of this kind in `org`; shared providers belong to
    /// the office and only the Verbund's managers change them.
    pub(crate) async fn check_write(
        &self,
        scope: &Scope,
        org: OrgId,
        kind: ObjectKind,
        shared: bool,
    ) -> Result<()> {
        let need = if kind.is_technical() {
            Access::WriteTechnical
        } else {
            Access::Write
        };
        scope.require(org, need)?;
        if shared {
            let o = self.organisation(scope, org).await?;
            if !o.is_office || !o.verbund_id.is_some_and(|v| scope.manages_verbund(v)) {
                return Err(DomainError::field("shared", "err.shared_only_office"));
            }
        }
        Ok(())
    }

    pub async fn create_object(
        &self,
        scope: &Scope,
        org: OrgId,
        data: &ObjectData,
    ) -> Result<ObjectId> {
        self.check_write(scope, org, data.kind, data.shared).await?;
        let mut w = self.begin_write(scope).await?;
        let id = insert_object(&mut w, self.backend, org, data).await?;
        recompute(&mut w, &[id.0]).await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn update_object(
        &self,
        scope: &Scope,
        id: ObjectId,
        data: &ObjectData,
    ) -> Result<()> {
        let before = self.object(scope, id).await?;
        if before.data.kind != data.kind {
            return Err(DomainError::field("kind", "err.kind_fixed"));
        }
        self.check_write(
            scope,
            before.organisation_id,
            data.kind,
            data.shared || before.data.shared,
        )
        .await?;
        let mut w = self.begin_write(scope).await?;
        // Kind, town and sharing stay as they are; the row guard checks exactly that.
        let fields = ObjectData {
            shared: before.data.shared,
            ..data.clone()
        };
        if !update_object_row(&mut w, id, before.organisation_id, &fields).await? {
            return Err(DomainError::NotFound);
        }
        w.audit(
            Some(before.organisation_id),
            "update",
            "object",
            id,
            Some(json!(before.data)),
            Some(json!(data)),
        )
        .await?;
        if before.data.own != data.own {
            recompute(&mut w, &[id.0]).await?;
        }
        w.commit().await
    }

    /// Sets or removes the justified override of a (non-process) object.
    pub async fn set_override(
        &self,
        scope: &Scope,
        id: ObjectId,
        value: Option<&Override>,
    ) -> Result<()> {
        let before = self.object(scope, id).await?;
        if before.data.kind == ObjectKind::Process {
            return Err(DomainError::field("c", "err.override_not_for_processes"));
        }
        // Overrides are decisions about protection: the coordinator's, not IT staff's.
        scope.require(before.organisation_id, Access::Write)?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("UPDATE inv_object SET ovr_c=$1, ovr_i=$2, ovr_a=$3, ovr_reason=$4, updated_at=$5 WHERE id=$6")
            .bind(value.map(|o| o.value.c.as_i64()))
            .bind(value.map(|o| o.value.i.as_i64()))
            .bind(value.map(|o| o.value.a.as_i64()))
            .bind(value.map(|o| o.reason.clone()))
            .bind(now())
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            Some(before.organisation_id),
            "override",
            "object",
            id,
            Some(json!(before.override_value)),
            Some(json!(value)),
        )
        .await?;
        recompute(&mut w, &[id.0]).await?;
        w.commit().await
    }

    /// Links of an object: what it uses and what uses it (only those the scope may read).
    pub async fn links_of(&self, scope: &Scope, id: ObjectId) -> Result<(Vec<Link>, Vec<Link>)> {
        self.object(scope, id).await?;
        let sql = format!(
            "SELECT l.id AS lid, f.id AS f_id, f.organisation_id AS f_org, f.kind AS f_kind, f.name AS f_name, \
             t.id AS t_id, t.organisation_id AS t_org, t.kind AS t_kind, t.name AS t_name \
             FROM inv_link l JOIN inv_object f ON f.id = l.from_id JOIN inv_object t ON t.id = l.to_id \
             WHERE (l.from_id = $1 OR l.to_id = $1) AND {} AND {} ORDER BY f.name, t.name",
            readable_objects_clause(scope).replace("o.", "f."),
            readable_objects_clause(scope).replace("o.", "t.")
        );
        let rows = sqlx::query(&sql)
            .bind(id.0)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        let mut uses = Vec::new();
        let mut used_by = Vec::new();
        for r in &rows {
            let link = Link {
                id: LinkId(r.try_get("lid").map_err(internal)?),
                from: object_ref(r, "f_")?,
                to: object_ref(r, "t_")?,
            };
            if link.from.id == id {
                uses.push(link);
            } else {
                used_by.push(link);
            }
        }
        Ok((uses, used_by))
    }

    /// Adds "from uses to". Both must be of the same town, or `to` a shared provider of the
    /// town's Verbund; the kinds must fit; no object depends on itself.
    pub async fn add_link(&self, scope: &Scope, from: ObjectId, to: ObjectId) -> Result<LinkId> {
        let f = self.object(scope, from).await?;
        let t = self
            .object(scope, to)
            .await
            .map_err(|_| DomainError::field("to", "err.choose_one"))?;
        self.check_write(scope, f.organisation_id, f.data.kind, false)
            .await?;
        let mut e = FieldErrors::default();
        if from == to {
            e.add("to", "err.link_self");
        } else if !f.data.kind.may_depend_on(t.data.kind) {
            e.add("to", "err.link_kind");
        } else if t.organisation_id != f.organisation_id && !t.data.shared {
            e.add("to", "err.link_other_town");
        }
        e.into_result(())?;
        let mut w = self.begin_write(scope).await?;
        let id = insert_link(
            &mut w,
            f.organisation_id,
            from,
            to,
            "to",
            json!({"from": f.data.name, "to": t.data.name}),
        )
        .await?;
        recompute(&mut w, &[to.0]).await?;
        provider_use::link_added(&mut w.tx, from.0, to.0).await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn remove_link(&self, scope: &Scope, from: ObjectId, link: LinkId) -> Result<()> {
        let (uses, _) = self.links_of(scope, from).await?;
        let l = uses
            .into_iter()
            .find(|l| l.id == link)
            .ok_or(DomainError::NotFound)?;
        let f = self.object(scope, from).await?;
        self.check_write(scope, f.organisation_id, f.data.kind, false)
            .await?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM inv_link WHERE id = $1")
            .bind(link.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(Some(f.organisation_id), "delete", "link", link, Some(json!({"from": l.from.name, "to": l.to.name, "from_id": l.from.id, "to_id": l.to.id})), None).await?;
        recompute(&mut w, &[l.to.id.0]).await?;
        provider_use::rebuild(&mut w.tx, self.backend, Some(&[f.organisation_id.0])).await?;
        w.commit().await
    }

    /// Deletes an object with its links and software; the UI lists the dependents first.
    pub async fn delete_object(&self, scope: &Scope, id: ObjectId) -> Result<()> {
        let before = self.object(scope, id).await?;
        self.check_write(
            scope,
            before.organisation_id,
            before.data.kind,
            before.data.shared,
        )
        .await?;
        let mut w = self.begin_write(scope).await?;
        let targets: Vec<i64> = sqlx::query("SELECT to_id FROM inv_link WHERE from_id = $1")
            .bind(id.0)
            .fetch_all(&mut *w.tx)
            .await
            .map_err(internal)?
            .iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok())
            .collect();
        provider_use::forget_object(&mut w.tx, id.0).await?;
        for sql in [
            "DELETE FROM inv_link WHERE from_id = $1 OR to_id = $1",
            "DELETE FROM inv_software WHERE object_id = $1",
            "DELETE FROM inv_object WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(id.0)
                .execute(&mut *w.tx)
                .await
                .map_err(internal)?;
        }
        w.audit(
            Some(before.organisation_id),
            "delete",
            "object",
            id,
            Some(json!(before.data)),
            None,
        )
        .await?;
        recompute(&mut w, &targets).await?;
        provider_use::rebuild(&mut w.tx, self.backend, Some(&[before.organisation_id.0])).await?;
        w.commit().await
    }

    /// Recomputes the whole Informationsverbund of every town (after an import or an upgrade).
    /// Returns the number of objects computed.
    pub async fn recompute_all(&self, scope: &Scope) -> Result<usize> {
        if !scope.admin || scope.read_only {
            return Err(DomainError::Forbidden);
        }
        let mut w = self.begin_write(scope).await?;
        let ids: Vec<i64> = sqlx::query("SELECT id FROM inv_object")
            .fetch_all(&mut *w.tx)
            .await
            .map_err(internal)?
            .iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok())
            .collect();
        let n = recompute(&mut w, &ids).await?;
        provider_use::rebuild(&mut w.tx, self.backend, None).await?;
        w.commit().await?;
        Ok(n)
    }

    /// Applications of a town by operating model.
    pub async fn hosting_share(&self, scope: &Scope, org: OrgId) -> Result<HostingShare> {
        let apps = self
            .objects(scope, org, Some(ObjectKind::Application), false)
            .await?;
        let mut s = HostingShare::default();
        for a in apps.iter().filter(|a| a.data.status != Status::Retired) {
            let slot = match a.data.operating_model {
                Some(OperatingModel::SelfHosted) => &mut s.self_hosted,
                Some(OperatingModel::Provider) => &mut s.provider,
                Some(OperatingModel::Saas) => &mut s.saas,
                None => &mut s.unknown,
            };
            slot.0 += 1;
            slot.1 += a.effective.max().as_i64();
        }
        Ok(s)
    }

    /// For every provider of the Verbund of `org`: the processes that halt if it is down.
    /// Processes of towns the viewer may not read are left out.
    pub async fn provider_concentration(
        &self,
        scope: &Scope,
        verbund: stadtmauer_core::VerbundId,
    ) -> Result<Vec<ProviderImpact>> {
        self.verbund(scope, verbund).await?;
        let readable = scope.with(Access::Read);
        let providers = sqlx::query(&format!(
            "SELECT o.id AS id, o.organisation_id AS org, o.kind AS kind, o.name AS name, o.shared AS shared FROM inv_object o \
             WHERE o.kind = 'provider' AND o.organisation_id IN (SELECT id FROM organisation WHERE verbund_id = $1) \
             AND (o.shared = 1 OR o.organisation_id IN {}) ORDER BY o.name",
            id_list(readable.iter().map(|o| o.0))
        ))
        .bind(verbund.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        // Who uses which provider is kept in `inv_provider_use` (see provider_use.rs): one small
        // table instead of a walk over every link of the Verbund. Each provider's processes come
        // as one text value; decoding thousands of rows one by one would cost far more.
        let concat = match self.backend {
            crate::Backend::Sqlite => "group_concat",
            crate::Backend::Postgres => "string_agg",
        };
        let provider_ids: Vec<i64> = providers
            .iter()
            .filter_map(|p| p.try_get::<i64, _>("id").ok())
            .collect();
        let use_rows = sqlx::query(&format!(
            "SELECT provider_id, {concat}(CAST(process_id AS TEXT), ' ') FROM inv_provider_use \
             WHERE provider_id IN {} GROUP BY provider_id",
            id_list(provider_ids.iter().copied())
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let mut users: HashMap<i64, Vec<i64>> = HashMap::new();
        for r in &use_rows {
            let provider: i64 = r.try_get(0).map_err(internal)?;
            let list: Option<String> = r.try_get(1).map_err(internal)?;
            users.insert(
                provider,
                list.unwrap_or_default()
                    .split(' ')
                    .filter_map(|n| n.parse().ok())
                    .collect(),
            );
        }
        let process_rows = sqlx::query(&format!(
            "SELECT o.id AS id, o.organisation_id AS org, o.kind AS kind, o.name AS name, o.eff_c, o.eff_i, o.eff_a, g.name AS town \
             FROM inv_object o JOIN organisation g ON g.id = o.organisation_id \
             WHERE o.kind = 'process' AND g.verbund_id = $1 AND o.organisation_id IN {} ORDER BY g.name, o.name",
            id_list(readable.iter().map(|o| o.0))
        ))
        .bind(verbund.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        // Rows come ordered by town and name, so a process's row number is its place in every list.
        let mut visible: HashMap<i64, (u32, ProcessEntry)> =
            HashMap::with_capacity(process_rows.len());
        for (rank, r) in process_rows.iter().enumerate() {
            let o = object_ref(r, "")?;
            let town: String = r.try_get("town").map_err(internal)?;
            let id = o.id.0;
            let entry =
                std::sync::Arc::new((o, town, triple(r, "eff").unwrap_or(Protection::NORMAL)));
            visible.insert(id, (rank as u32, entry));
        }
        let mut out = Vec::new();
        for p in &providers {
            let provider = object_ref(p, "")?;
            let mut ranked: Vec<&(u32, ProcessEntry)> = users
                .get(&provider.id.0)
                .map(|ids| ids.iter().filter_map(|i| visible.get(i)).collect())
                .unwrap_or_default();
            ranked.sort_unstable_by_key(|(rank, _)| *rank);
            let processes: Vec<ProcessEntry> = ranked.into_iter().map(|(_, e)| e.clone()).collect();
            let mut towns: Vec<OrgId> = processes.iter().map(|e| e.0.organisation_id).collect();
            towns.sort();
            towns.dedup();
            let critical = processes.iter().filter(|e| e.2.a >= Level::Hoch).count();
            out.push(ProviderImpact {
                provider,
                shared: flag(p, "shared"),
                towns: towns.len(),
                critical,
                processes,
            });
        }
        out.sort_by(|a, b| {
            b.processes
                .len()
                .cmp(&a.processes.len())
                .then(a.provider.name.cmp(&b.provider.name))
        });
        Ok(out)
    }

    /// [`Store::provider_concentration`] from the per-process cache when nothing was written
    /// since `seq` (the audit sequence number read with the session).
    pub async fn provider_concentration_at(
        &self,
        scope: &Scope,
        verbund: stadtmauer_core::VerbundId,
        seq: i64,
    ) -> Result<Vec<ProviderImpact>> {
        let key = format!(
            "providers:{verbund}:{}",
            id_list(scope.with(Access::Read).iter().map(|o| o.0))
        );
        if let Some(v) = self.cache.get::<Vec<ProviderImpact>>(&key, seq) {
            return Ok(v);
        }
        let v = self.provider_concentration(scope, verbund).await?;
        self.cache.put(key, seq, v.clone());
        Ok(v)
    }

    /// All objects and links of one town (and the shared providers it uses), for diagrams and
    /// exports.
    pub async fn town_graph(
        &self,
        scope: &Scope,
        org: OrgId,
    ) -> Result<(Vec<Object>, Vec<(ObjectId, ObjectId)>)> {
        let objects = self.objects(scope, org, None, true).await?;
        let rows = sqlx::query(
            "SELECT l.from_id, l.to_id FROM inv_link l JOIN inv_object f ON f.id = l.from_id WHERE f.organisation_id = $1",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let links = rows
            .iter()
            .filter_map(|r| {
                Some((
                    ObjectId(r.try_get::<i64, _>(0).ok()?),
                    ObjectId(r.try_get::<i64, _>(1).ok()?),
                ))
            })
            .collect();
        Ok((objects, links))
    }
}

/// Writes an object's fields (never its kind, town or shared flag). Returns whether a row of
/// that town, kind and sharing matched; used by the form and the import alike.
pub(crate) async fn update_object_row(
    w: &mut WriteTx<'_>,
    id: ObjectId,
    org: OrgId,
    d: &ObjectData,
) -> Result<bool> {
    let own = d.own;
    let done = sqlx::query(
        "UPDATE inv_object SET name=$1, description=$2, owner=$3, status=$4, data_personal=$5, data_special=$6, \
         data_classified=$7, vendor=$8, product=$9, version=$10, operating_model=$11, vendor_country=$12, \
         system_type=$13, item_count=$14, contract=$15, contact=$16, own_c=$17, own_i=$18, own_a=$19, updated_at=$20 \
         WHERE id=$21 AND organisation_id=$22 AND kind=$23 AND shared=$24",
    )
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
    .bind(own.map(|p| p.c.as_i64()))
    .bind(own.map(|p| p.i.as_i64()))
    .bind(own.map(|p| p.a.as_i64()))
    .bind(now())
    .bind(id.0)
    .bind(org.0)
    .bind(d.kind.as_str())
    .bind(i64::from(d.shared))
    .execute(&mut *w.tx)
    .await
    .map_err(unique_or_internal("name"))?;
    Ok(done.rows_affected() == 1)
}

/// Inserts "from uses to" and its audit entry; `names` adds readable names to the entry. The
/// caller has checked the link rules and recomputes afterwards.
pub(crate) async fn insert_link(
    w: &mut WriteTx<'_>,
    org: OrgId,
    from: ObjectId,
    to: ObjectId,
    field: &'static str,
    names: serde_json::Value,
) -> Result<LinkId> {
    let id: i64 = sqlx::query(
        "INSERT INTO inv_link (from_id, to_id, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(from.0)
    .bind(to.0)
    .bind(now())
    .fetch_one(&mut *w.tx)
    .await
    .map_err(unique_or_internal(field))?
    .try_get(0)
    .map_err(internal)?;
    let mut after = json!({"from_id": from, "to_id": to});
    if let (Some(a), Some(n)) = (after.as_object_mut(), names.as_object()) {
        a.extend(n.clone());
    }
    w.audit(Some(org), "create", "link", id, None, Some(after))
        .await?;
    Ok(LinkId(id))
}

pub(crate) async fn insert_object(
    w: &mut WriteTx<'_>,
    backend: crate::Backend,
    org: OrgId,
    data: &ObjectData,
) -> Result<ObjectId> {
    let id = crate::inventory_import::insert_objects(w, backend, org, &[data])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| internal("the inserted object was not returned"))?;
    w.audit(Some(org), "create", "object", id, None, Some(json!(data)))
        .await?;
    Ok(id)
}

/// Recomputes the derived requirement of everything downstream of `starts`, in the write's
/// transaction. Returns the number of objects computed.
pub(crate) async fn recompute(w: &mut WriteTx<'_>, starts: &[i64]) -> Result<usize> {
    if starts.is_empty() {
        return Ok(0);
    }
    let down = format!(
        "WITH RECURSIVE down(id) AS (SELECT id FROM inv_object WHERE id IN {} \
         UNION SELECT l.to_id FROM inv_link l JOIN down d ON l.from_id = d.id)",
        id_list(starts.iter().copied())
    );
    // The downstream ids first, then their rows by explicit id lists: joining the recursive CTE
    // back to the object table lets SQLite's planner scan all objects (16 ms at 300,000).
    let down_ids: Vec<i64> = sqlx::query(&format!("{down} SELECT id FROM down"))
        .fetch_all(&mut *w.tx)
        .await
        .map_err(internal)?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<std::result::Result<_, _>>()
        .map_err(internal)?;
    let mut rows = Vec::with_capacity(down_ids.len());
    for chunk in down_ids.chunks(1000) {
        rows.extend(
            sqlx::query(&format!(
                "SELECT o.id, o.kind, o.own_c, o.own_i, o.own_a, o.ovr_c, o.ovr_i, o.ovr_a, o.ovr_reason, o.eff_c, o.eff_i, o.eff_a, o.via_c, o.via_i, o.via_a \
                 FROM inv_object o WHERE o.id IN {}",
                id_list(chunk.iter().copied())
            ))
            .fetch_all(&mut *w.tx)
            .await
            .map_err(internal)?,
        );
    }
    let mut nodes = Vec::with_capacity(rows.len());
    let mut old = std::collections::HashMap::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get("id").map_err(internal)?;
        let kind: String = r.try_get("kind").map_err(internal)?;
        let source = match (triple(r, "ovr"), triple(r, "own")) {
            (Some(o), _) if kind != "process" => Source::Override(o),
            (_, Some(own)) if kind == "process" => Source::Own(own),
            _ => Source::Inherit,
        };
        nodes.push(Node { id, source });
        let via = |c: &str| r.try_get::<Option<i64>, _>(c).ok().flatten();
        old.insert(
            id,
            (
                triple(r, "eff").unwrap_or(Protection::NORMAL),
                [via("via_c"), via("via_i"), via("via_a")],
            ),
        );
    }
    // The edges into the downstream set, fetched by explicit id lists in chunks: a recursive
    // CTE's row estimate is poor, and PostgreSQL then scans the whole link and object tables
    // (tens of milliseconds at 500,000 objects) where an index lookup per id takes microseconds.
    let down_ids: std::collections::HashSet<i64> = nodes.iter().map(|n| n.id).collect();
    let mut sorted: Vec<i64> = down_ids.iter().copied().collect();
    sorted.sort_unstable();
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for chunk in sorted.chunks(1000) {
        let edge_rows = sqlx::query(&format!(
            "SELECT l.from_id, l.to_id, s.eff_c, s.eff_i, s.eff_a \
             FROM inv_link l JOIN inv_object s ON s.id = l.from_id WHERE l.to_id IN {}",
            id_list(chunk.iter().copied())
        ))
        .fetch_all(&mut *w.tx)
        .await
        .map_err(internal)?;
        for r in &edge_rows {
            let (f, t): (i64, i64) = (
                r.try_get(0).map_err(internal)?,
                r.try_get(1).map_err(internal)?,
            );
            if down_ids.contains(&f) {
                inside.push((f, t));
            } else {
                outside.push((f, t, triple(r, "eff").unwrap_or(Protection::NORMAL)));
            }
        }
    }
    let fresh = compute(&nodes, &inside, &outside);
    let n = fresh.len();
    let changed: Vec<(i64, [i64; 3], [Option<i64>; 3])> = fresh
        .into_iter()
        .filter(|(id, d)| old.get(id) != Some(&(d.value, d.via)))
        .map(|(id, d)| {
            (
                id,
                [d.value.c.as_i64(), d.value.i.as_i64(), d.value.a.as_i64()],
                d.via,
            )
        })
        .collect();
    // Written back in chunks of one statement each; the values are integers computed here, so
    // formatting them into the statement injects nothing. Typed NULLs keep PostgreSQL happy.
    for chunk in changed.chunks(500) {
        let opt = |v: Option<i64>| {
            v.map(|x| x.to_string())
                .unwrap_or_else(|| "CAST(NULL AS BIGINT)".into())
        };
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, e, v)| {
                format!(
                    "({id}, {}, {}, {}, {}, {}, {})",
                    e[0],
                    e[1],
                    e[2],
                    opt(v[0]),
                    opt(v[1]),
                    opt(v[2])
                )
            })
            .collect();
        sqlx::query(&format!(
            "UPDATE inv_object SET eff_c = v.c, eff_i = v.i, eff_a = v.a, via_c = v.vc, via_i = v.vi, via_a = v.va \
             FROM (SELECT column1 AS id, column2 AS c, column3 AS i, column4 AS a, column5 AS vc, column6 AS vi, column7 AS va \
             FROM (VALUES {}) AS x) AS v WHERE inv_object.id = v.id",
            values.join(", ")
        ))
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
    }
    Ok(n)
}

/// One object of a batch, with its dependencies given as positions in the batch or as ids of
/// existing objects (shared providers).
#[derive(Debug, Clone)]
pub struct BatchObject {
    pub data: ObjectData,
    pub uses: Vec<usize>,
    pub uses_existing: Vec<ObjectId>,
}

impl Store {
    /// Creates many objects of one town with their links in one transaction (demo data, bulk
    /// loads): all or nothing, every object and link audited, Schutzbedarf computed once at the end.
    pub async fn create_inventory(
        &self,
        scope: &Scope,
        org: OrgId,
        batch: &[BatchObject],
    ) -> Result<Vec<ObjectId>> {
        for b in batch {
            self.check_write(scope, org, b.data.kind, b.data.shared)
                .await?;
        }
        let mut w = self.begin_write(scope).await?;
        let mut ids = Vec::with_capacity(batch.len());
        for b in batch {
            ids.push(insert_object(&mut w, self.backend, org, &b.data).await?);
        }
        for (i, b) in batch.iter().enumerate() {
            let targets = b
                .uses
                .iter()
                .map(|j| {
                    ids.get(*j)
                        .copied()
                        .map(|id| (id, batch[*j].data.kind, false))
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| DomainError::field("uses", "err.choose_one"))?;
            let mut all = targets;
            for e in &b.uses_existing {
                let row = sqlx::query(
                    "SELECT kind, shared, organisation_id FROM inv_object WHERE id = $1",
                )
                .bind(e.0)
                .fetch_optional(&mut *w.tx)
                .await
                .map_err(internal)?
                .ok_or(DomainError::NotFound)?;
                let kind = ObjectKind::parse(&row.try_get::<String, _>(0).map_err(internal)?)
                    .unwrap_or(ObjectKind::System);
                if !flag(&row, "shared") && row.try_get::<i64, _>(2).map_err(internal)? != org.0 {
                    return Err(DomainError::field("uses", "err.link_other_town"));
                }
                all.push((*e, kind, true));
            }
            for (to, kind, _) in all {
                if !b.data.kind.may_depend_on(kind) || to == ids[i] {
                    return Err(DomainError::field("uses", "err.link_kind"));
                }
                insert_link(&mut w, org, ids[i], to, "uses", json!({})).await?;
            }
        }
        let starts: Vec<i64> = ids.iter().map(|i| i.0).collect();
        recompute(&mut w, &starts).await?;
        provider_use::rebuild(&mut w.tx, self.backend, Some(&[org.0])).await?;
        w.commit().await?;
        Ok(ids)
    }
}
