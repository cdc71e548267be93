//! Browser sessions, personal API tokens and login throttling. All of it lives in the database so
//! that several `serve` processes behind one load balancer share it.

use crate::{flag, internal, Result, Store};
use serde_json::json;
use sqlx::Row;
use stadtmauer_core::credentials::{new_api_token, random_secret, secret_hash};
use stadtmauer_core::{now, DomainError, Scope, Timestamp, TokenId, UserId};

/// A session as the web layer needs it. The session id itself is never stored, only its hash.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    /// Password accepted, second factor still missing.
    pub mfa_pending: bool,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What a page request needs to know about its session: the session, the user with their
/// scope (`None` while the second factor is pending or for a disabled account), and the audit
/// sequence number read with it (for cached views).
#[derive(Debug, Clone)]
pub struct SessionScope {
    pub session: SessionRecord,
    pub user: Option<(stadtmauer_core::user::User, Scope)>,
    pub audit_seq: i64,
}

/// A token as its owner sees it in the list (never the secret).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInfo {
    pub id: TokenId,
    pub name: String,
    pub read_only: bool,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Past its expiry when the list was read (and so refused by the API).
    pub expired: bool,
}

/// Throttle key of an account. Hashed, because people sometimes type their password into the
/// e-mail field, and the throttle table must not keep it.
pub fn account_key(email: &str) -> String {
    format!("acct:{}", secret_hash(&email.trim().to_lowercase()))
}

/// Throttle key of a client address.
pub fn address_key(addr: &str) -> String {
    format!("addr:{}", secret_hash(addr))
}

/// Revokes every live API token of a user, inside the caller's write (a password change or
/// reset, a disabled account): a token must not outlive the credentials it was created under.
/// Returns how many died.
pub(crate) async fn revoke_all_tokens(w: &mut crate::WriteTx<'_>, user: UserId) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE api_token SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(user.0)
    .execute(&mut *w.tx)
    .await
    .map_err(internal)?;
    Ok(r.rows_affected())
}

impl Store {
    /// Creates a session; returns the secret session id for the cookie and the CSRF token.
    pub async fn create_session(
        &self,
        user: UserId,
        mfa_pending: bool,
        ttl_secs: i64,
    ) -> Result<(String, String)> {
        let id = random_secret(32);
        let csrf = random_secret(32);
        let t = now();
        sqlx::query(
            "INSERT INTO user_session (id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at) \
             VALUES ($1,$2,$3,$4,$5,$5,$6)",
        )
        .bind(secret_hash(&id))
        .bind(user.0)
        .bind(&csrf)
        .bind(i64::from(mfa_pending))
        .bind(t)
        .bind(t + ttl_secs)
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        // Expired sessions of everyone are cleared now and then, on login.
        sqlx::query("DELETE FROM user_session WHERE expires_at < $1")
            .bind(t)
            .execute(&self.pool)
            .await
            .map_err(internal)?;
        Ok((id, csrf))
    }

    /// The live session for a cookie value, if any.
    pub async fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT id_hash, user_id, csrf_token, mfa_pending, last_seen_at, expires_at FROM user_session WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(secret_hash(id))
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        row.map(|r| {
            Ok(SessionRecord {
                id_hash: r.try_get("id_hash").map_err(internal)?,
                user_id: UserId(r.try_get("user_id").map_err(internal)?),
                csrf_token: r.try_get("csrf_token").map_err(internal)?,
                mfa_pending: flag(&r, "mfa_pending"),
                last_seen_at: r.try_get("last_seen_at").map_err(internal)?,
                expires_at: r.try_get("expires_at").map_err(internal)?,
            })
        })
        .transpose()
    }

    /// The live session for a cookie value with its user and scope, in two queries (the path
    /// of every page request). The user part is `None` for a disabled account.
    pub async fn session_scope(&self, id: &str) -> Result<Option<SessionScope>> {
        let cols = crate::users::USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = sqlx::query(&format!(
            "SELECT s.id_hash, s.user_id, s.csrf_token, s.mfa_pending, s.last_seen_at, s.expires_at, {cols}, \
             (SELECT h.seq FROM audit_head h WHERE h.id = 1) AS audit_seq \
             FROM user_session s JOIN app_user u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2"
        ))
        .bind(secret_hash(id))
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        let Some(r) = row else { return Ok(None) };
        let session = SessionRecord {
            id_hash: r.try_get("id_hash").map_err(internal)?,
            user_id: UserId(r.try_get("user_id").map_err(internal)?),
            csrf_token: r.try_get("csrf_token").map_err(internal)?,
            mfa_pending: flag(&r, "mfa_pending"),
            last_seen_at: r.try_get("last_seen_at").map_err(internal)?,
            expires_at: r.try_get("expires_at").map_err(internal)?,
        };
        let u = crate::users::user(&r)?;
        let seq: i64 = r.try_get("audit_seq").map_err(internal)?;
        if u.disabled || session.mfa_pending {
            return Ok(Some(SessionScope {
                session,
                user: None,
                audit_seq: seq,
            }));
        }
        let user = Some(self.resolve_scope_at(u, seq).await?);
        Ok(Some(SessionScope {
            session,
            user,
            audit_seq: seq,
        }))
    }

    /// Extends an idle session, but never beyond `max_age` seconds after it was created: an
    /// absolute lifetime, so a stolen session cookie kept busy does not live for ever. Called at
    /// most once a minute per session to keep reads cheap.
    pub async fn touch_session(&self, id_hash: &str, idle_ttl: i64, max_age: i64) -> Result<()> {
        let t = now();
        sqlx::query(
            "UPDATE user_session SET last_seen_at = $1, \
             expires_at = CASE WHEN $2 < created_at + $4 THEN $2 ELSE created_at + $4 END \
             WHERE id_hash = $3",
        )
        .bind(t)
        .bind(t + idle_ttl)
        .bind(id_hash)
        .bind(max_age)
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        Ok(())
    }

    /// Replaces a session after the second factor: new id (no fixation), no longer pending.
    pub async fn complete_mfa(
        &self,
        old_id_hash: &str,
        user: UserId,
        ttl: i64,
    ) -> Result<(String, String)> {
        self.delete_session(old_id_hash).await?;
        self.create_session(user, false, ttl).await
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM user_session WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(internal)?;
        Ok(())
    }

    /// Is any of these keys locked now?
    pub async fn throttled(&self, keys: &[String]) -> Result<bool> {
        let t = now();
        for k in keys {
            let row = sqlx::query("SELECT locked_until FROM login_throttle WHERE key = $1")
                .bind(k)
                .fetch_optional(&self.pool)
                .await
                .map_err(internal)?;
            let until: Option<i64> =
                row.and_then(|r| r.try_get::<Option<i64>, _>(0).ok().flatten());
            if until.is_some_and(|u| u > t) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Counts a failed login against a key; after `limit` failures within `window` seconds the key
    /// is locked for `lock` seconds. One statement each, so concurrent logins cannot lose a count.
    ///
    /// While a key is locked, a failure changes nothing: otherwise one attempt per lock period
    /// would keep the owner out for good. Locking starts a new count, so after the lock ends it
    /// takes `limit` new failures to lock again, not one.
    pub async fn throttle_failure(
        &self,
        key: &str,
        limit: i64,
        window: i64,
        lock: i64,
    ) -> Result<()> {
        let t = now();
        sqlx::query(
            "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, 0, $2, NULL) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(t)
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        sqlx::query(
            "UPDATE login_throttle SET \
               failures = CASE WHEN window_start < $2 THEN 1 ELSE failures + 1 END, \
               window_start = CASE WHEN window_start < $2 THEN $1 ELSE window_start END \
             WHERE key = $3 AND (locked_until IS NULL OR locked_until <= $1)",
        )
        .bind(t)
        .bind(t - window)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        sqlx::query(
            "UPDATE login_throttle SET locked_until = $1, failures = 0, window_start = $4 \
             WHERE key = $2 AND failures >= $3",
        )
        .bind(t + lock)
        .bind(key)
        .bind(limit)
        .bind(t)
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        Ok(())
    }

    pub async fn throttle_reset(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(internal)?;
        Ok(())
    }

    /// Records a successful login in the audit log (never the session id).
    pub async fn record_login(&self, scope: &Scope, second_factor: bool) -> Result<()> {
        let mut w = self.begin_write(scope).await?;
        w.audit(
            None,
            "login",
            "user",
            scope.user,
            None,
            Some(json!({ "second_factor": second_factor })),
        )
        .await?;
        w.commit().await
    }

    /// A secret key of the installation for `name`, made on first use and kept in the database,
    /// so that all processes and the next start agree. Cached for the life of the process (the
    /// cache tag is fixed: the key never changes once made).
    pub async fn server_key(&self, name: &str) -> Result<std::sync::Arc<Vec<u8>>> {
        const TAG: i64 = i64::MIN;
        let cache_key = format!("server_key:{name}");
        if let Some(k) = self.cache.get::<std::sync::Arc<Vec<u8>>>(&cache_key, TAG) {
            return Ok(k);
        }
        // Two processes starting at once both insert; the first wins, both then read it.
        sqlx::query(
            "INSERT INTO server_key (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(random_secret(32))
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        let value: String = sqlx::query("SELECT value FROM server_key WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(internal)?
            .try_get(0)
            .map_err(internal)?;
        let key = std::sync::Arc::new(value.into_bytes());
        self.cache.put(cache_key, TAG, key.clone());
        Ok(key)
    }

    /// Creates a personal API token for the scope's user; the plain value is returned once.
    /// Every token expires: `None` means the default of 90 days; more than a year ahead (a day of
    /// grace for the end of a chosen date) or a past instant is refused.
    pub async fn create_token(
        &self,
        scope: &Scope,
        name: &str,
        read_only: bool,
        expires_at: Option<Timestamp>,
    ) -> Result<(TokenId, String)> {
        use stadtmauer_core::credentials::{TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS};
        if scope.read_only {
            return Err(DomainError::Forbidden);
        }
        let mut errs = stadtmauer_core::validate::FieldErrors::default();
        let name = stadtmauer_core::validate::required_text(&mut errs, "name", name, 80);
        let t = now();
        let expires_at = expires_at.unwrap_or(t + TOKEN_DEFAULT_DAYS * 86_400);
        if expires_at > t + (TOKEN_MAX_DAYS + 1) * 86_400 {
            errs.add("expires_in_days", "err.token_too_long");
        } else if expires_at <= t {
            errs.add("expires_in_days", "err.date_in_past");
        }
        errs.into_result(())?;
        let (plain, hash) = new_api_token();
        let mut w = self.begin_write(scope).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO api_token (user_id, name, token_hash, read_only, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
        )
        .bind(scope.user.0)
        .bind(&name)
        .bind(&hash)
        .bind(i64::from(read_only))
        .bind(t)
        .bind(expires_at)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(internal)?
        .try_get(0)
        .map_err(internal)?;
        w.audit(
            None,
            "create",
            "api_token",
            id,
            None,
            Some(json!({"name": name, "read_only": read_only, "expires_at": expires_at})),
        )
        .await?;
        w.commit().await?;
        Ok((TokenId(id), plain))
    }

    /// The scope's own tokens.
    pub async fn tokens(&self, scope: &Scope) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, read_only, created_at, last_used_at, expires_at, revoked_at FROM api_token WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(scope.user.0)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        let t = now();
        rows.iter()
            .map(|r| {
                let expires_at: Option<Timestamp> = r.try_get("expires_at").map_err(internal)?;
                Ok(TokenInfo {
                    id: TokenId(r.try_get("id").map_err(internal)?),
                    name: r.try_get("name").map_err(internal)?,
                    read_only: flag(r, "read_only"),
                    created_at: r.try_get("created_at").map_err(internal)?,
                    last_used_at: r.try_get("last_used_at").map_err(internal)?,
                    expires_at,
                    revoked_at: r.try_get("revoked_at").map_err(internal)?,
                    expired: expires_at.is_some_and(|e| e <= t),
                })
            })
            .collect()
    }

    pub async fn revoke_token(&self, scope: &Scope, id: TokenId) -> Result<()> {
        let mut w = self.begin_write(scope).await?;
        let r = sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now())
            .bind(id.0)
            .bind(scope.user.0)
            .execute(&mut *w.tx)
            .await
            .map_err(internal)?;
        if r.rows_affected() != 1 {
            return Err(DomainError::NotFound);
        }
        w.audit(None, "revoke", "api_token", id, None, None).await?;
        w.commit().await
    }

    /// The user and scope of a bearer token (narrowed for read-only tokens), in two queries;
    /// `None` for unknown, revoked or expired tokens and disabled users.
    pub async fn token_scope(
        &self,
        plain: &str,
    ) -> Result<Option<(stadtmauer_core::user::User, Scope, i64)>> {
        let t = now();
        let hash = secret_hash(plain);
        let cols = crate::users::USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = sqlx::query(&format!(
            "SELECT k.read_only, k.last_used_at, {cols}, (SELECT h.seq FROM audit_head h WHERE h.id = 1) AS audit_seq \
             FROM api_token k JOIN app_user u ON u.id = k.user_id \
             WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)"
        ))
        .bind(&hash)
        .bind(t)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        let Some(r) = row else { return Ok(None) };
        let last: Option<i64> = r.try_get("last_used_at").map_err(internal)?;
        if last.is_none_or(|l| l < t - 60) {
            sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE token_hash = $2")
                .bind(t)
                .bind(&hash)
                .execute(&self.pool)
                .await
                .map_err(internal)?;
        }
        let read_only = flag(&r, "read_only");
        let seq: i64 = r.try_get("audit_seq").map_err(internal)?;
        let u = crate::users::user(&r)?;
        if u.disabled {
            return Ok(None);
        }
        let (u, scope) = self.resolve_scope_at(u, seq).await?;
        let scope = if read_only {
            scope.into_read_only()
        } else {
            scope
        };
        Ok(Some((u, scope, seq)))
    }

    /// The user a bearer token belongs to, and whether it is read-only; `None` for unknown,
    /// revoked or expired tokens.
    pub async fn token_user(&self, plain: &str) -> Result<Option<(UserId, bool)>> {
        let t = now();
        let hash = secret_hash(plain);
        let row = sqlx::query(
            "SELECT id, user_id, read_only, last_used_at FROM api_token WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(&hash)
        .bind(t)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        let Some(r) = row else { return Ok(None) };
        let last: Option<i64> = r.try_get("last_used_at").map_err(internal)?;
        if last.is_none_or(|l| l < t - 60) {
            sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE token_hash = $2")
                .bind(t)
                .bind(&hash)
                .execute(&self.pool)
                .await
                .map_err(internal)?;
        }
        Ok(Some((
            UserId(r.try_get("user_id").map_err(internal)?),
            flag(&r, "read_only"),
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::testkit::fresh_store;
    use sqlx::Row;
    use stadtmauer_core::DomainError;

    async fn row(store: &crate::Store, key: &str) -> (i64, Option<i64>) {
        let r = sqlx::query("SELECT failures, locked_until FROM login_throttle WHERE key = $1")
            .bind(key)
            .fetch_one(&store.pool)
            .await
            .unwrap();
        (r.try_get(0).unwrap(), r.try_get(1).unwrap())
    }

    async fn set_lock(store: &crate::Store, key: &str, until: i64) {
        sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE key = $2")
            .bind(until)
            .bind(key)
            .execute(&store.pool)
            .await
            .unwrap();
    }

    /// However busy a session is, it ends `max_age` after its creation.
    #[tokio::test]
    async fn a_session_has_an_absolute_lifetime() {
        let (store, _db) = fresh_store().await;
        let sys = store.system_scope("test").await.unwrap();
        let uid = store
            .create_admin(
                &sys,
                &stadtmauer_core::user::UserData {
                    email: "lang@example.org".into(),
                    display_name: "Lang".into(),
                },
                "x",
            )
            .await
            .unwrap();
        let (id, _) = store.create_session(uid, false, 3600).await.unwrap();
        let hash = stadtmauer_core::credentials::secret_hash(&id);
        // Active within its lifetime: touching extends it.
        store.touch_session(&hash, 3600, 12 * 3600).await.unwrap();
        assert!(store.session_scope(&id).await.unwrap().is_some());
        // Created 13 hours ago and still busy: a touch no longer extends it, it has ended.
        sqlx::query(
            "UPDATE user_session SET created_at = created_at - 13 * 3600 WHERE id_hash = $1",
        )
        .bind(&hash)
        .execute(&store.pool)
        .await
        .unwrap();
        store.touch_session(&hash, 3600, 12 * 3600).await.unwrap();
        assert!(store.session_scope(&id).await.unwrap().is_none());
    }

    async fn user_with_token(store: &crate::Store) -> (stadtmauer_core::Scope, String) {
        let sys = store.system_scope("test").await.unwrap();
        let uid = store
            .create_admin(
                &sys,
                &stadtmauer_core::user::UserData {
                    email: "token@example.org".into(),
                    display_name: "Token".into(),
                },
                "x",
            )
            .await
            .unwrap();
        let (_, scope) = store.scope_for(uid).await.unwrap().unwrap();
        let (_, plain) = store.create_token(&scope, "t", false, None).await.unwrap();
        (scope, plain)
    }

    /// A token without a chosen end lives 90 days; one longer than a year is refused; an
    /// expired one is refused and listed as expired.
    #[tokio::test]
    async fn tokens_expire_by_default_and_within_a_year() {
        let (store, _db) = fresh_store().await;
        let (scope, plain) = user_with_token(&store).await;
        let t = stadtmauer_core::now();
        let list = store.tokens(&scope).await.unwrap();
        let exp = list[0].expires_at.unwrap();
        assert!((t + 90 * 86_400 - 5..=t + 90 * 86_400 + 5).contains(&exp));
        assert!(!list[0].expired);
        let err = store
            .create_token(&scope, "ewig", false, Some(t + 400 * 86_400))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Invalid(_)), "{err:?}");
        assert!(store
            .create_token(&scope, "jahr", false, Some(t + 365 * 86_400))
            .await
            .is_ok());
        assert!(store.token_scope(&plain).await.unwrap().is_some());
        sqlx::query("UPDATE api_token SET expires_at = $1 WHERE name = 't'")
            .bind(t - 1)
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(store.token_scope(&plain).await.unwrap().is_none());
        let list = store.tokens(&scope).await.unwrap();
        assert!(list.iter().any(|k| k.name == "t" && k.expired));
    }

    /// A token dies with the password it was created under, and with the account.
    #[tokio::test]
    async fn password_change_reset_and_disabling_revoke_tokens() {
        let (store, _db) = fresh_store().await;
        let sys = store.system_scope("test").await.unwrap();
        let (scope, plain) = user_with_token(&store).await;
        store
            .set_password(&scope, scope.user, "new-hash", None)
            .await
            .unwrap();
        assert!(store.token_scope(&plain).await.unwrap().is_none());
        assert!(store.token_user(&plain).await.unwrap().is_none());

        let (_, plain) = store.create_token(&scope, "2", false, None).await.unwrap();
        assert!(store
            .reset_password_by_email(&sys, "token@example.org", "h")
            .await
            .unwrap());
        assert!(store.token_scope(&plain).await.unwrap().is_none());

        let (_, plain) = store.create_token(&scope, "3", false, None).await.unwrap();
        store
            .set_user_disabled(&sys, scope.user, true)
            .await
            .unwrap();
        store
            .set_user_disabled(&sys, scope.user, false)
            .await
            .unwrap();
        assert!(store.token_scope(&plain).await.unwrap().is_none());
        assert!(store
            .tokens(&scope)
            .await
            .unwrap()
            .iter()
            .all(|k| k.revoked_at.is_some()));
    }

    /// The key is made once, kept in the database, and the same for another process.
    #[tokio::test]
    async fn server_key_is_made_once_and_shared() {
        let (store, db) = fresh_store().await;
        let a = store.server_key("csrf").await.unwrap();
        assert!(a.len() >= 32);
        assert_eq!(store.server_key("csrf").await.unwrap(), a);
        assert_ne!(store.server_key("other").await.unwrap(), a);
        let second = crate::Store::connect(&db.url).await.unwrap();
        assert_eq!(second.server_key("csrf").await.unwrap(), a);
    }

    /// Attempts on a locked account neither extend the lock nor count; after the lock a full
    /// new series of failures is needed to lock again.
    #[tokio::test]
    async fn attempts_while_locked_do_not_renew_the_lock() {
        let (store, _db) = fresh_store().await;
        let key = "account:someone@example.org";
        let (limit, window, lock) = (3, 900, 900);
        for _ in 0..limit {
            store
                .throttle_failure(key, limit, window, lock)
                .await
                .unwrap();
        }
        assert!(store.throttled(&[key.to_string()]).await.unwrap());
        // Time passes (the lock ends in 100 s); the attacker tries again, many times.
        let until = stadtmauer_core::now() + 100;
        set_lock(&store, key, until).await;
        let before = row(&store, key).await;
        for _ in 0..10 {
            store
                .throttle_failure(key, limit, window, lock)
                .await
                .unwrap();
        }
        assert_eq!(row(&store, key).await, before);
        assert_eq!(before.1, Some(until));
        // The lock ends; one more failure does not lock again at once.
        set_lock(&store, key, stadtmauer_core::now() - 1).await;
        store
            .throttle_failure(key, limit, window, lock)
            .await
            .unwrap();
        assert!(!store.throttled(&[key.to_string()]).await.unwrap());
        // A full new series does.
        for _ in 1..limit {
            store
                .throttle_failure(key, limit, window, lock)
                .await
                .unwrap();
        }
        assert!(store.throttled(&[key.to_string()]).await.unwrap());
    }
}
