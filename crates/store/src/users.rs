//! Users, their roles, and resolving a user's [`Scope`].

use crate::{flag, id_list, internal, unique_or_internal, Result, Store};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use stadtmauer_core::scope::{Grant, OrgRef};
use stadtmauer_core::user::{Membership, MembershipData, Role, User, UserData};
use stadtmauer_core::{now, Access, DomainError, MembershipId, OrgId, Scope, UserId};

pub(crate) const USER_COLUMNS: &str =
    "id, email, display_name, is_admin, totp_secret, language, disabled";

pub(crate) fn user(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: UserId(row.try_get("id").map_err(internal)?),
        email: row.try_get("email").map_err(internal)?,
        display_name: row.try_get("display_name").map_err(internal)?,
        is_admin: flag(row, "is_admin"),
        totp_enabled: row
            .try_get::<Option<String>, _>("totp_secret")
            .map_err(internal)?
            .is_some(),
        language: row.try_get("language").map_err(internal)?,
        disabled: flag(row, "disabled"),
    })
}

fn membership(row: &AnyRow) -> Result<Membership> {
    let role: String = row.try_get("role").map_err(internal)?;
    Ok(Membership {
        id: MembershipId(row.try_get("id").map_err(internal)?),
        user_id: UserId(row.try_get("user_id").map_err(internal)?),
        organisation_id: OrgId(row.try_get("organisation_id").map_err(internal)?),
        organisation_name: row.try_get("org_name").map_err(internal)?,
        role: Role::parse(&role).unwrap_or(Role::Reader),
        valid_until: row.try_get("valid_until").map_err(internal)?,
    })
}

/// What the login needs to know about an account. Never leaves the web crate's login handler.
#[derive(Debug, Clone)]
pub struct LoginAccount {
    pub id: UserId,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub disabled: bool,
    pub language: String,
}

/// A user with the roles the viewer may see.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserWithRoles {
    pub user: User,
    pub memberships: Vec<Membership>,
    /// May the viewer change this user (name, password, second factor, roles)?
    pub manageable: bool,
}

const MEMBERSHIP_SELECT: &str =
    "SELECT m.id, m.user_id, m.organisation_id, o.name AS org_name, m.role, m.valid_until \
     FROM membership m JOIN organisation o ON o.id = m.organisation_id";

impl Store {
    /// Resolves what a user may see, or `None` for unknown or disabled users.
    pub async fn scope_for(&self, id: UserId) -> Result<Option<(User, Scope)>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM app_user WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?
        else {
            return Ok(None);
        };
        let u = user(&row)?;
        if u.disabled {
            return Ok(None);
        }
        self.resolve_scope(u).await.map(Some)
    }

    /// The scope of a loaded, enabled user, from the cache when nothing was written since
    /// `seq` and no role of the user has expired since it was computed.
    pub(crate) async fn resolve_scope_at(&self, u: User, seq: i64) -> Result<(User, Scope)> {
        let key = format!("scope:{}", u.id);
        let now = now();
        if let Some((scope, valid_to)) = self.cache.get::<(Scope, i64)>(&key, seq) {
            if now <= valid_to && scope.name == u.display_name && scope.admin == u.is_admin {
                return Ok((u, scope));
            }
        }
        let (u, scope, valid_to) = self.resolve_scope_uncached(u).await?;
        self.cache.put(key, seq, (scope.clone(), valid_to));
        Ok((u, scope))
    }

    /// The scope of a loaded, enabled user.
    pub(crate) async fn resolve_scope(&self, u: User) -> Result<(User, Scope)> {
        let (u, scope, _) = self.resolve_scope_uncached(u).await?;
        Ok((u, scope))
    }

    /// The scope and the instant until which it holds (the earliest end of a role).
    async fn resolve_scope_uncached(&self, u: User) -> Result<(User, Scope, i64)> {
        let id = u.id;
        // One query, one row: every organisation the user's roles can reach (their own, and for
        // roles held at an office, the rest of that Verbund), with the role where the user holds
        // one, aggregated into one text value. Every request resolves a scope, and sqlx hands
        // SQLite rows over one at a time between threads, so one row instead of dozens matters.
        let aggregate = match self.backend {
            crate::Backend::Sqlite => "group_concat",
            crate::Backend::Postgres => "string_agg",
        };
        let item = "CAST(o.id AS TEXT) || ',' || COALESCE(CAST(o.verbund_id AS TEXT), '') || ',' || \
                    CAST(o.is_office AS TEXT) || ',' || COALESCE(m.role, '') || ',' || COALESCE(CAST(m.valid_until AS TEXT), '')";
        let filter = if u.is_admin {
            ""
        } else {
            " WHERE o.id IN (SELECT organisation_id FROM membership WHERE user_id = $1) \
             OR o.verbund_id IN (SELECT o2.verbund_id FROM organisation o2 JOIN membership m2 \
             ON m2.organisation_id = o2.id WHERE m2.user_id = $1 AND o2.is_office = 1)"
        };
        let sql = format!(
            "SELECT {aggregate}({item}, ';') FROM organisation o \
             LEFT JOIN membership m ON m.organisation_id = o.id AND m.user_id = $1{filter}"
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(internal)?;
        let text: String = row
            .try_get::<Option<String>, _>(0)
            .map_err(internal)?
            .unwrap_or_default();
        let mut refs: Vec<OrgRef> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut grants: Vec<Grant> = Vec::new();
        for item in text.split(';').filter(|x| !x.is_empty()) {
            let f: Vec<&str> = item.split(',').collect();
            let (Some(org), Some(verbund), Some(office), Some(role), Some(until)) =
                (f.first(), f.get(1), f.get(2), f.get(3), f.get(4))
            else {
                return Err(internal("malformed scope row"));
            };
            let org = OrgId(org.parse().map_err(internal)?);
            if seen.insert(org) {
                refs.push(OrgRef {
                    id: org,
                    verbund_id: verbund.parse().ok().map(stadtmauer_core::VerbundId),
                    is_office: *office == "1",
                });
            }
            if let Some(role) = Role::parse(role) {
                grants.push(Grant {
                    organisation_id: org,
                    role,
                    valid_until: until.parse().ok(),
                });
            }
        }
        let t = now();
        let scope = Scope::resolve(id, u.is_admin, &grants, &refs, t).named(u.display_name.clone());
        let valid_to = grants
            .iter()
            .filter_map(|g| g.valid_until)
            .filter(|until| *until >= t)
            .min()
            .unwrap_or(i64::MAX);
        Ok((u, scope, valid_to))
    }

    async fn memberships_of(&self, users: &[UserId]) -> Result<Vec<Membership>> {
        let rows = sqlx::query(&format!(
            "{MEMBERSHIP_SELECT} WHERE m.user_id IN {} ORDER BY o.name, m.role",
            id_list(users.iter().map(|u| u.0))
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(membership).collect()
    }

    pub async fn login_account(&self, email: &str) -> Result<Option<LoginAccount>> {
        let row = sqlx::query(
            "SELECT id, password_hash, totp_secret, totp_last_step, disabled, language FROM app_user WHERE email = $1",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        row.map(|r| {
            Ok(LoginAccount {
                id: UserId(r.try_get("id").map_err(internal)?),
                password_hash: r.try_get("password_hash").map_err(internal)?,
                totp_secret: r.try_get("totp_secret").map_err(internal)?,
                totp_last_step: r.try_get("totp_last_step").map_err(internal)?,
                disabled: flag(&r, "disabled"),
                language: r.try_get("language").map_err(internal)?,
            })
        })
        .transpose()
    }

    /// Records the TOTP step just used, refusing it if an equal or later one was used before
    /// (a replayed code). Returns whether the step was accepted.
    pub async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE app_user SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user.0)
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        Ok(r.rows_affected() == 1)
    }

    /// Users the scope may see: those holding a role in an organisation whose records the viewer
    /// may read. Administrators also see users without any role.
    pub async fn users(&self, scope: &Scope) -> Result<Vec<UserWithRoles>> {
        let readable = scope.with(Access::Read);
        let mut sql = format!(
            "SELECT {USER_COLUMNS} FROM app_user WHERE id IN (SELECT user_id FROM membership WHERE organisation_id IN {})",
            id_list(readable.iter().map(|o| o.0))
        );
        if scope.admin && !scope.read_only {
            sql.push_str(" OR id NOT IN (SELECT user_id FROM membership)");
        }
        sql.push_str(" ORDER BY display_name");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(internal)?;
        let users: Vec<User> = rows.iter().map(user).collect::<Result<_>>()?;
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        let all = self.memberships_of(&ids).await?;
        Ok(users
            .into_iter()
            .map(|u| {
                let mine: Vec<Membership> =
                    all.iter().filter(|m| m.user_id == u.id).cloned().collect();
                let orgs: Vec<OrgId> = mine.iter().map(|m| m.organisation_id).collect();
                let manageable = u.id != scope.user && scope.may_manage_user(u.is_admin, &orgs);
                let visible = mine
                    .into_iter()
                    .filter(|m| scope.can(m.organisation_id, Access::Read))
                    .collect();
                UserWithRoles {
                    manageable,
                    user: u,
                    memberships: visible,
                }
            })
            .collect())
    }

    /// One user as the scope may see them, or `NotFound`.
    pub async fn user(&self, scope: &Scope, id: UserId) -> Result<UserWithRoles> {
        if id == scope.user {
            let row = sqlx::query(&format!(
                "SELECT {USER_COLUMNS} FROM app_user WHERE id = $1"
            ))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?
            .ok_or(DomainError::NotFound)?;
            let u = user(&row)?;
            let memberships = self.memberships_of(&[id]).await?;
            return Ok(UserWithRoles {
                manageable: scope.admin && !scope.read_only,
                user: u,
                memberships,
            });
        }
        self.users(scope)
            .await?
            .into_iter()
            .find(|u| u.user.id == id)
            .ok_or(DomainError::NotFound)
    }

    async fn manageable(&self, scope: &Scope, id: UserId) -> Result<UserWithRoles> {
        let u = self.user(scope, id).await?;
        if !u.manageable {
            return Err(DomainError::Forbidden);
        }
        Ok(u)
    }

    /// Creates a user with a first role. Needs the right to grant that role there.
    pub async fn create_user(
        &self,
        scope: &Scope,
        data: &UserData,
        password_hash: &str,
        first: &MembershipData,
    ) -> Result<UserId> {
        let org = self.org_ref(scope, first.organisation_id).await?;
        if !scope.may_grant(&org, first.role) {
            return Err(DomainError::Forbidden);
        }
        let mut w = self.begin_write(scope).await?;
        let id = insert_user(
            &mut w,
            data,
            password_hash,
            false,
            Some(first.organisation_id),
        )
        .await?;
        insert_membership(&mut w, id, first).await?;
        w.commit().await?;
        Ok(id)
    }

    /// Creates an installation administrator (command line only).
    pub async fn create_admin(
        &self,
        scope: &Scope,
        data: &UserData,
        password_hash: &str,
    ) -> Result<UserId> {
        if !scope.admin || scope.read_only {
            return Err(DomainError::Forbidden);
        }
        let mut w = self.begin_write(scope).await?;
        let id = insert_user(&mut w, data, password_hash, true, None).await?;
        w.commit().await?;
        Ok(id)
    }

    async fn org_ref(&self, scope: &Scope, id: OrgId) -> Result<OrgRef> {
        let o = self.organisation(scope, id).await?;
        Ok(OrgRef {
            id: o.id,
            verbund_id: o.verbund_id,
            is_office: o.is_office,
        })
    }

    /// Whether an organisation in scope is a Verbund office (`None`: not visible).
    pub async fn is_office(&self, scope: &Scope, id: OrgId) -> Option<bool> {
        self.organisation(scope, id).await.ok().map(|o| o.is_office)
    }

    pub async fn update_user(&self, scope: &Scope, id: UserId, data: &UserData) -> Result<()> {
        let before = self.manageable(scope, id).await?;
        let mut w = self.begin_write(scope).await?;
        sqlx::query(
            "UPDATE app_user SET email = $1, display_name = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(&data.email)
        .bind(&data.display_name)
        .bind(now())
        .bind(id.0)
        .execute(&mut *w.tx)
        .await
        .map_err(unique_or_internal("email"))?;
        let org = before.memberships.first().map(|m| m.organisation_id);
        w.audit(
            org,
            "update",
            "user",
            id,
            Some(json!({"email": before.user.email, "display_name": before.user.display_name})),
            Some(json!(data)),
        )
        .await?;
        w.commit().await
    }

    /// Disables or re-enables a user; disabling ends all their sessions and tokens' effect.
    pub async fn set_user_disabled(&self, scope: &Scope, id: UserId, disabled: bool) -> Result<()> {
        let before = self.manageable(scope, id).await?;
        if id == scope.user {
            return Err(DomainError::field("disabled", "err.not_yourself"));
        }
        let mut w = self.begin_write(scope).await?;
        sqlx::query("UPDATE app_user SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(now())
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        sqlx::query("DELETE FROM user_session WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        // Tokens die too, so that enabling the account again does not bring them back.
        let revoked = if disabled {
            crate::sessions::revoke_all_tokens(&mut w, id).await?
        } else {
            0
        };
        let mut after = json!({"disabled": disabled});
        if revoked > 0 {
            after["api_tokens_revoked"] = json!(revoked);
        }
        let org = before.memberships.first().map(|m| m.organisation_id);
        w.audit(
            org,
            if disabled { "disable" } else { "enable" },
            "user",
            id,
            Some(json!({"disabled": before.user.disabled})),
            Some(after),
        )
        .await?;
        w.commit().await
    }

    /// Sets a new password (a manager's reset or the user's own change), ends the user's other
    /// sessions and revokes their API tokens.
    pub async fn set_password(
        &self,
        scope: &Scope,
        id: UserId,
        hash: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let target = if id == scope.user && !scope.read_only {
            self.user(scope, id).await?
        } else {
            self.manageable(scope, id).await?
        };
        let mut w = self.begin_write(scope).await?;
        sqlx::query("UPDATE app_user SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now())
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        sqlx::query("DELETE FROM user_session WHERE user_id = $1 AND id_hash <> $2")
            .bind(id.0)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        let revoked = crate::sessions::revoke_all_tokens(&mut w, id).await?;
        let org = target.memberships.first().map(|m| m.organisation_id);
        w.audit(
            org,
            "set_password",
            "user",
            id,
            None,
            tokens_revoked(revoked),
        )
        .await?;
        w.commit().await
    }

    /// Command-line reset by e-mail address; returns false when no such user exists.
    pub async fn reset_password_by_email(
        &self,
        scope: &Scope,
        email: &str,
        hash: &str,
    ) -> Result<bool> {
        let Some(acct) = self.login_account(email).await? else {
            return Ok(false);
        };
        let mut w = self.begin_write(scope).await?;
        sqlx::query(
            "UPDATE app_user SET password_hash = $1, disabled = 0, updated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now())
        .bind(acct.id.0)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        sqlx::query("DELETE FROM user_session WHERE user_id = $1")
            .bind(acct.id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(crate::sessions::account_key(email))
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        let revoked = crate::sessions::revoke_all_tokens(&mut w, acct.id).await?;
        w.audit(
            None,
            "set_password",
            "user",
            acct.id,
            None,
            tokens_revoked(revoked),
        )
        .await?;
        w.commit().await?;
        Ok(true)
    }

    pub async fn set_language(&self, scope: &Scope, lang: &str) -> Result<()> {
        let mut w = self.begin_write(scope).await?;
        sqlx::query("UPDATE app_user SET language = $1 WHERE id = $2")
            .bind(lang)
            .bind(scope.user.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            None,
            "update",
            "user",
            scope.user,
            None,
            Some(json!({"language": lang})),
        )
        .await?;
        w.commit().await
    }

    /// Stores a TOTP secret awaiting confirmation by a first code.
    pub async fn totp_begin(&self, scope: &Scope, secret: &str) -> Result<()> {
        sqlx::query("UPDATE app_user SET totp_pending = $1 WHERE id = $2")
            .bind(secret)
            .bind(scope.user.0)
            .execute(&self.pool)
            .await
            .map_err(internal)?;
        Ok(())
    }

    pub async fn totp_pending(&self, scope: &Scope) -> Result<Option<String>> {
        let row = sqlx::query("SELECT totp_pending FROM app_user WHERE id = $1")
            .bind(scope.user.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?;
        Ok(row.and_then(|r| r.try_get::<Option<String>, _>(0).ok().flatten()))
    }

    /// Turns the pending secret into the active second factor.
    pub async fn totp_confirm(&self, scope: &Scope, step: i64) -> Result<()> {
        let mut w = self.begin_write(scope).await?;
        sqlx::query(
            "UPDATE app_user SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 WHERE id = $2 AND totp_pending IS NOT NULL",
        )
        .bind(step)
        .bind(scope.user.0)
        .execute(&mut *w.tx)
        .await
        .map_err(internal)?;
        w.audit(None, "enable_totp", "user", scope.user, None, None)
            .await?;
        w.commit().await
    }

    /// Removes a user's second factor: their own choice, or a manager's reset for a lost device.
    pub async fn totp_disable(&self, scope: &Scope, id: UserId) -> Result<()> {
        let target = if id == scope.user && !scope.read_only {
            self.user(scope, id).await?
        } else {
            self.manageable(scope, id).await?
        };
        let mut w = self.begin_write(scope).await?;
        sqlx::query("UPDATE app_user SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = $1")
            .bind(id.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        let org = target.memberships.first().map(|m| m.organisation_id);
        w.audit(org, "disable_totp", "user", id, None, None).await?;
        w.commit().await
    }

    pub async fn add_membership(
        &self,
        scope: &Scope,
        user: UserId,
        data: &MembershipData,
    ) -> Result<MembershipId> {
        let target = self.user(scope, user).await?;
        let org = self.org_ref(scope, data.organisation_id).await?;
        // A manager may give an existing user of their town another role; taking over a user from
        // elsewhere is not possible because the target must be visible and not an administrator.
        if target.user.is_admin
            || !scope.may_grant(&org, data.role)
            || (user == scope.user && !scope.admin)
        {
            return Err(DomainError::Forbidden);
        }
        let mut w = self.begin_write(scope).await?;
        let id = insert_membership(&mut w, user, data).await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn remove_membership(
        &self,
        scope: &Scope,
        user: UserId,
        id: MembershipId,
    ) -> Result<()> {
        let target = self.user(scope, user).await?;
        let m = target
            .memberships
            .iter()
            .find(|m| m.id == id)
            .ok_or(DomainError::NotFound)?;
        let org = self.org_ref(scope, m.organisation_id).await?;
        if !scope.may_grant(&org, m.role) || (user == scope.user && !scope.admin) {
            return Err(DomainError::Forbidden);
        }
        let mut w = self.begin_write(scope).await?;
        sqlx::query("DELETE FROM membership WHERE id = $1 AND user_id = $2")
            .bind(id.0)
            .bind(user.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        w.audit(
            Some(m.organisation_id),
            "delete",
            "membership",
            id,
            Some(json!(m)),
            None,
        )
        .await?;
        w.commit().await
    }
}

/// The audit's "after" of a password change: how many API tokens it revoked, if any.
fn tokens_revoked(n: u64) -> Option<serde_json::Value> {
    (n > 0).then(|| json!({"api_tokens_revoked": n}))
}

async fn insert_user(
    w: &mut crate::WriteTx<'_>,
    data: &UserData,
    password_hash: &str,
    is_admin: bool,
    org: Option<OrgId>,
) -> Result<UserId> {
    let t = now();
    let id: i64 = sqlx::query(
        "INSERT INTO app_user (email, display_name, password_hash, is_admin, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$5) RETURNING id",
    )
    .bind(&data.email)
    .bind(&data.display_name)
    .bind(password_hash)
    .bind(i64::from(is_admin))
    .bind(t)
    .fetch_one(&mut *w.tx)
    .await
    .map_err(unique_or_internal("email"))?
    .try_get(0)
    .map_err(internal)?;
    let mut after = json!(data);
    after["is_admin"] = json!(is_admin);
    w.audit(org, "create", "user", id, None, Some(after))
        .await?;
    Ok(UserId(id))
}

async fn insert_membership(
    w: &mut crate::WriteTx<'_>,
    user: UserId,
    data: &MembershipData,
) -> Result<MembershipId> {
    let id: i64 = sqlx::query(
        "INSERT INTO membership (user_id, organisation_id, role, valid_until, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id",
    )
    .bind(user.0)
    .bind(data.organisation_id.0)
    .bind(data.role.as_str())
    .bind(data.valid_until)
    .bind(now())
    .fetch_one(&mut *w.tx)
    .await
    .map_err(unique_or_internal("role"))?
    .try_get(0)
    .map_err(internal)?;
    let mut after = json!(data);
    after["user_id"] = json!(user);
    w.audit(
        Some(data.organisation_id),
        "create",
        "membership",
        id,
        None,
        Some(after),
    )
    .await?;
    Ok(MembershipId(id))
}
