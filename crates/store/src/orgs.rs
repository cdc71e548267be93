//! Verbünde, organisations and their contacts.

use crate::{flag, id_list, internal, unique_or_internal, Result, Store};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use stadtmauer_core::org::{
    Contact, ContactData, OrgKind, Organisation, OrganisationData, Verbund,
};
use stadtmauer_core::scope::OrgRef;
use stadtmauer_core::{now, Access, ContactId, DomainError, OrgId, Scope, VerbundId};

const ORG_COLUMNS: &str = "id, verbund_id, name, kind, is_office, ags, inhabitants, staff, workstations, email, phone, address";

fn organisation(row: &AnyRow) -> Result<Organisation> {
    let kind: String = row.try_get("kind").map_err(internal)?;
    Ok(Organisation {
        id: OrgId(row.try_get("id").map_err(internal)?),
        verbund_id: row
            .try_get::<Option<i64>, _>("verbund_id")
            .map_err(internal)?
            .map(VerbundId),
        name: row.try_get("name").map_err(internal)?,
        kind: OrgKind::parse(&kind).unwrap_or(OrgKind::Gemeinde),
        is_office: flag(row, "is_office"),
        ags: row.try_get("ags").map_err(internal)?,
        inhabitants: row.try_get("inhabitants").map_err(internal)?,
        staff: row.try_get("staff").map_err(internal)?,
        workstations: row.try_get("workstations").map_err(internal)?,
        email: row.try_get("email").map_err(internal)?,
        phone: row.try_get("phone").map_err(internal)?,
        address: row.try_get("address").map_err(internal)?,
    })
}

fn contact(row: &AnyRow) -> Result<Contact> {
    Ok(Contact {
        id: ContactId(row.try_get("id").map_err(internal)?),
        organisation_id: OrgId(row.try_get("organisation_id").map_err(internal)?),
        function: row.try_get("function").map_err(internal)?,
        name: row.try_get("name").map_err(internal)?,
        email: row.try_get("email").map_err(internal)?,
        phone: row.try_get("phone").map_err(internal)?,
    })
}

/// A member as the dashboard lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrgSummary {
    pub organisation: Organisation,
    pub verbund_name: Option<String>,
    pub users: i64,
    pub contacts: i64,
    /// When the organisation's records last changed (from the audit log).
    pub last_change: Option<i64>,
}

/// What deleting an organisation would remove, shown before the user confirms.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Dependents {
    pub memberships: i64,
    pub contacts: i64,
    pub objects: i64,
}

impl Store {
    /// All organisations as scope resolution needs them.
    pub async fn org_refs(&self) -> Result<Vec<OrgRef>> {
        let rows = sqlx::query("SELECT id, verbund_id, is_office FROM organisation")
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter()
            .map(|r| {
                Ok(OrgRef {
                    id: OrgId(r.try_get("id").map_err(internal)?),
                    verbund_id: r
                        .try_get::<Option<i64>, _>("verbund_id")
                        .map_err(internal)?
                        .map(VerbundId),
                    is_office: flag(r, "is_office"),
                })
            })
            .collect()
    }

    /// The scope of command-line administration and the demo loader.
    pub async fn system_scope(&self, name: &str) -> Result<Scope> {
        Ok(Scope::system(&self.org_refs().await?, name))
    }

    /// Verbünde the scope reaches through at least one organisation.
    pub async fn verbuende(&self, scope: &Scope) -> Result<Vec<Verbund>> {
        let sql = format!(
            "SELECT id, name FROM verbund WHERE id IN (SELECT verbund_id FROM organisation WHERE id IN {}) \
             OR id IN {} ORDER BY name",
            id_list(scope.visible().map(|o| o.0)),
            id_list(scope.managed_verbuende().map(|v| v.0)),
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter()
            .map(|r| {
                Ok(Verbund {
                    id: VerbundId(r.try_get("id").map_err(internal)?),
                    name: r.try_get("name").map_err(internal)?,
                })
            })
            .collect()
    }

    pub async fn verbund(&self, scope: &Scope, id: VerbundId) -> Result<Verbund> {
        self.verbuende(scope)
            .await?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or(DomainError::NotFound)
    }

    /// Creates a Verbund together with its security office. Administrators only.
    pub async fn create_verbund(
        &self,
        scope: &Scope,
        name: &str,
        office: &OrganisationData,
    ) -> Result<(VerbundId, OrgId)> {
        if !scope.admin || scope.read_only {
            return Err(DomainError::Forbidden);
        }
        let mut errs = stadtmauer_core::validate::FieldErrors::default();
        let name = stadtmauer_core::validate::required_text(&mut errs, "verbund_name", name, 120);
        errs.into_result(())?;
        let mut w = self.begin_write(scope).await?;
        let vid: i64 =
            sqlx::query("INSERT INTO verbund (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(&name)
                .bind(now())
                .fetch_one(&mut *w.tx)
                .await
                .map_err(unique_or_internal("verbund_name"))?
                .try_get(0)
                .map_err(internal)?;
        w.audit(
            None,
            "create",
            "verbund",
            vid,
            None,
            Some(json!({ "name": name })),
        )
        .await?;
        let oid = insert_org(&mut w, Some(VerbundId(vid)), office, true).await?;
        w.commit().await?;
        Ok((VerbundId(vid), oid))
    }

    /// Renames a Verbund (its managers and administrators).
    pub async fn rename_verbund(&self, scope: &Scope, id: VerbundId, name: &str) -> Result<()> {
        let before = self.verbund(scope, id).await?;
        if !scope.manages_verbund(id) {
            return Err(DomainError::Forbidden);
        }
        let mut errs = stadtmauer_core::validate::FieldErrors::default();
        let name = stadtmauer_core::validate::required_text(&mut errs, "verbund_name", name, 120);
        errs.into_result(())?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("UPDATE verbund SET name = $1 WHERE id = $2")
            .bind(&name)
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(unique_or_internal("verbund_name"))?;
        w.audit(
            None,
            "update",
            "verbund",
            id,
            Some(json!({"name": before.name})),
            Some(json!({"name": name})),
        )
        .await?;
        w.commit().await
    }

    /// Organisations the scope may see, ordered by Verbund, office first, then name.
    pub async fn organisations(&self, scope: &Scope) -> Result<Vec<Organisation>> {
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM organisation WHERE id IN {} ORDER BY verbund_id, is_office DESC, CASE kind WHEN 'kreis' THEN 0 ELSE 1 END, name",
            id_list(scope.visible().map(|o| o.0))
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter().map(organisation).collect()
    }

    /// One organisation, or `NotFound` when it does not exist or lies outside the scope.
    pub async fn organisation(&self, scope: &Scope, id: OrgId) -> Result<Organisation> {
        scope.require(id, Access::Reports)?;
        let row = sqlx::query(&format!(
            "SELECT {ORG_COLUMNS} FROM organisation WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?
        .ok_or(DomainError::NotFound)?;
        organisation(&row)
    }

    /// The dashboard's list: every visible organisation with a few counts and its Verbund's
    /// name, in one query (the dashboard is the most visited page). The last change is the
    /// newest audit entry by sequence number, which the (organisation_id, seq) index finds
    /// without a scan.
    pub async fn org_summaries(&self, scope: &Scope) -> Result<Vec<OrgSummary>> {
        let cols = ORG_COLUMNS
            .split(", ")
            .map(|c| format!("o.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, v.name AS verbund_name, \
             (SELECT COUNT(*) FROM membership m WHERE m.organisation_id = o.id) AS users, \
             (SELECT COUNT(*) FROM contact c WHERE c.organisation_id = o.id) AS contacts, \
             (SELECT a.at FROM audit_log a WHERE a.organisation_id = o.id ORDER BY a.seq DESC LIMIT 1) AS last_change \
             FROM organisation o LEFT JOIN verbund v ON v.id = o.verbund_id WHERE o.id IN {} \
             ORDER BY o.verbund_id, o.is_office DESC, CASE o.kind WHEN 'kreis' THEN 0 ELSE 1 END, o.name",
            id_list(scope.visible().map(|o| o.0))
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        rows.iter()
            .map(|r| {
                Ok(OrgSummary {
                    organisation: organisation(r)?,
                    verbund_name: r.try_get("verbund_name").map_err(internal)?,
                    users: r.try_get("users").map_err(internal)?,
                    contacts: r.try_get("contacts").map_err(internal)?,
                    last_change: r.try_get("last_change").map_err(internal)?,
                })
            })
            .collect()
    }

    /// [`Store::organisations`] from the per-process cache when nothing was written since `seq`.
    pub async fn organisations_at(&self, scope: &Scope, seq: i64) -> Result<Vec<Organisation>> {
        let key = format!("organisations:{}", id_list(scope.visible().map(|o| o.0)));
        if let Some(v) = self.cache.get::<Vec<Organisation>>(&key, seq) {
            return Ok(v);
        }
        let v = self.organisations(scope).await?;
        self.cache.put(key, seq, v.clone());
        Ok(v)
    }

    /// [`Store::org_summaries`] from the per-process cache when nothing was written since `seq`.
    pub async fn org_summaries_at(&self, scope: &Scope, seq: i64) -> Result<Vec<OrgSummary>> {
        let key = format!("summaries:{}", id_list(scope.visible().map(|o| o.0)));
        if let Some(v) = self.cache.get::<Vec<OrgSummary>>(&key, seq) {
            return Ok(v);
        }
        let v = self.org_summaries(scope).await?;
        self.cache.put(key, seq, v.clone());
        Ok(v)
    }

    /// Adds an organisation to a Verbund (managers of that Verbund) or, without Verbund, as a town of
    /// its own (administrators).
    pub async fn create_organisation(
        &self,
        scope: &Scope,
        verbund: Option<VerbundId>,
        data: &OrganisationData,
    ) -> Result<OrgId> {
        scope.require_create_org(verbund)?;
        let mut w = self.begin_write(scope).await?;
        let id = insert_org(&mut w, verbund, data, false).await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn update_organisation(
        &self,
        scope: &Scope,
        id: OrgId,
        data: &OrganisationData,
    ) -> Result<()> {
        let before = self.organisation(scope, id).await?;
        scope.require(id, Access::Write)?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query(
            "UPDATE organisation SET name=$1, kind=$2, ags=$3, inhabitants=$4, staff=$5, workstations=$6, \
             email=$7, phone=$8, address=$9, updated_at=$10 WHERE id=$11",
        )
        .bind(&data.name)
        .bind(data.kind.as_str())
        .bind(&data.ags)
        .bind(data.inhabitants)
        .bind(data.staff)
        .bind(data.workstations)
        .bind(&data.email)
        .bind(&data.phone)
        .bind(&data.address)
        .bind(now())
        .bind(id.0)
        .execute(&mut *w.tx)
        .await
        .map_err(|e| unique_field(e, data))?;
        w.audit(
            Some(id),
            "update",
            "organisation",
            id,
            Some(json!(before)),
            Some(json!(data)),
        )
        .await?;
        w.commit().await
    }

    /// What would go with the organisation if it were deleted.
    /// What deleting the organisation would take with it: for those who may delete it only.
    pub async fn org_dependents(&self, scope: &Scope, id: OrgId) -> Result<Dependents> {
        may_delete(scope, &self.organisation(scope, id).await?)?;
        let count = |table: &'static str| {
            let pool = &self.pool;
            async move {
                sqlx::query(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE organisation_id = $1"
                ))
                .bind(id.0)
                .fetch_one(pool)
                .await
                .map_err(internal)?
                .try_get::<i64, _>(0)
                .map_err(internal)
            }
        };
        Ok(Dependents {
            memberships: count("membership").await?,
            contacts: count("contact").await?,
            objects: count("inv_object").await?,
        })
    }

    /// Deletes a member organisation with its contacts and roles. The office of a Verbund cannot be
    /// deleted this way; the audit log keeps the record.
    pub async fn delete_organisation(&self, scope: &Scope, id: OrgId) -> Result<()> {
        let before = self.organisation(scope, id).await?;
        may_delete(scope, &before)?;
        if before.is_office {
            return Err(DomainError::field(
                "organisation",
                "err.office_cannot_be_deleted",
            ));
        }
        let mut w = self.begin_write(scope).await?;
        // The town's Informationsverbund goes with it: links touching its objects, their
        // software, the objects.
        crate::provider_use::forget_town(&mut w.tx, id.0).await?;
        let objects = "(SELECT id FROM inv_object WHERE organisation_id = $1)";
        for sql in [
            format!("DELETE FROM inv_link WHERE from_id IN {objects} OR to_id IN {objects}"),
            format!("DELETE FROM inv_software WHERE object_id IN {objects}"),
            "DELETE FROM inv_object WHERE organisation_id = $1".to_string(),
        ] {
            sqlx::query(&sql)
                .bind(id.0)
                .execute(&mut *w.tx)
                .await
                .map_err(internal)?;
        }
        for table in ["membership", "contact"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE organisation_id = $1"))
                .bind(id.0)
                .execute(&mut *w.tx)
                .await
                .map_err(internal)?;
        }
        sqlx::query("DELETE FROM organisation WHERE id = $1")
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            Some(id),
            "delete",
            "organisation",
            id,
            Some(json!(before)),
            None,
        )
        .await?;
        w.commit().await
    }

    pub async fn contacts(&self, scope: &Scope, org: OrgId) -> Result<Vec<Contact>> {
        scope.require(org, Access::Read)?;
        let rows = sqlx::query(
            "SELECT id, organisation_id, function, name, email, phone FROM contact WHERE organisation_id = $1 ORDER BY function, name",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(contact).collect()
    }

    pub async fn add_contact(
        &self,
        scope: &Scope,
        org: OrgId,
        data: &ContactData,
    ) -> Result<ContactId> {
        scope.require(org, Access::Write)?;
        let mut w = self.begin_write(scope).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO contact (organisation_id, function, name, email, phone, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
        )
        .bind(org.0)
        .bind(&data.function)
        .bind(&data.name)
        .bind(&data.email)
        .bind(&data.phone)
        .bind(now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(internal)?
        .try_get(0)
        .map_err(internal)?;
        w.audit(Some(org), "create", "contact", id, None, Some(json!(data)))
            .await?;
        w.commit().await?;
        Ok(ContactId(id))
    }

    pub async fn delete_contact(&self, scope: &Scope, org: OrgId, id: ContactId) -> Result<()> {
        let existing = self
            .contacts(scope, org)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(DomainError::NotFound)?;
        scope.require(org, Access::Write)?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM contact WHERE id = $1 AND organisation_id = $2")
            .bind(id.0)
            .bind(org.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            Some(org),
            "delete",
            "contact",
            id,
            Some(json!(existing)),
            None,
        )
        .await?;
        w.commit().await
    }
}

fn unique_field(e: sqlx::Error, data: &OrganisationData) -> DomainError {
    // Two unique indexes can fail; the message tells which one on both backends.
    let text = e.to_string();
    if text.contains("organisation_ags") || (text.contains("ags") && data.ags.is_some()) {
        unique_or_internal("ags")(e)
    } else {
        unique_or_internal("name")(e)
    }
}

async fn insert_org(
    w: &mut crate::WriteTx<'_>,
    verbund: Option<VerbundId>,
    data: &OrganisationData,
    is_office: bool,
) -> Result<OrgId> {
    let t = now();
    let id: i64 = sqlx::query(
        "INSERT INTO organisation (verbund_id, name, kind, is_office, ags, inhabitants, staff, workstations, \
         email, phone, address, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12) RETURNING id",
    )
    .bind(verbund.map(|v| v.0))
    .bind(&data.name)
    .bind(data.kind.as_str())
    .bind(i64::from(is_office))
    .bind(&data.ags)
    .bind(data.inhabitants)
    .bind(data.staff)
    .bind(data.workstations)
    .bind(&data.email)
    .bind(&data.phone)
    .bind(&data.address)
    .bind(t)
    .fetch_one(&mut *w.tx)
    .await
    .map_err(|e| unique_field(e, data))?
    .try_get(0)
    .map_err(internal)?;
    let mut after = json!(data);
    after["verbund_id"] = json!(verbund);
    after["is_office"] = json!(is_office);
    w.audit(
        Some(OrgId(id)),
        "create",
        "organisation",
        id,
        None,
        Some(after),
    )
    .await?;
    Ok(OrgId(id))
}

/// Who may delete an organisation: who manages its Verbund; for a town without one, administrators.
fn may_delete(scope: &Scope, org: &Organisation) -> Result<()> {
    let allowed = match org.verbund_id {
        Some(v) => scope.manages_verbund(v),
        None => scope.admin && !scope.read_only,
    };
    if allowed {
        Ok(())
    } else {
        Err(DomainError::Forbidden)
    }
}
