//! Keeps `inv_provider_use` current: for every provider, the processes that halt when it is down.
//!
//! The Verbund's provider view needs, for each provider, everything upstream of it. Walking all
//! links of a large Verbund on every view costs hundreds of milliseconds, so the answer is kept
//! as a derived table and changed in the same transaction as the links it derives from:
//! - a link added can only add pairs: the processes upstream of its user × the providers
//!   downstream of what it uses (usually a handful of rows);
//! - a link or object removed can take pairs away, which needs a fresh walk: the town of the
//!   change is rebuilt in memory (its links only; shared providers are reached through them);
//! - bulk loads, imports, restores and the first start after the migration rebuild whole towns.

use crate::{id_list, internal, Backend, Result};
use sqlx::{AnyConnection, Row};
use stadtmauer_inventory::graph::provider_users;

/// All (from, to) links whose user belongs to one of `towns` (`None`: every link).
async fn links(
    conn: &mut AnyConnection,
    backend: Backend,
    towns: Option<&[i64]>,
) -> Result<Vec<(i64, i64)>> {
    // One text value instead of one row per link: decoding 300,000 rows one by one costs far
    // more than splitting one string. The aggregate's name is the one dialect difference.
    let concat = match backend {
        Backend::Sqlite => "group_concat",
        Backend::Postgres => "string_agg",
    };
    let filter = match towns {
        Some(t) => format!(
            "JOIN inv_object f ON f.id = l.from_id WHERE f.organisation_id IN {}",
            id_list(t.iter().copied())
        ),
        None => String::new(),
    };
    let row = sqlx::query(&format!(
        "SELECT {concat}(CAST(l.from_id AS TEXT) || ' ' || CAST(l.to_id AS TEXT), ' ') FROM inv_link l {filter}"
    ))
    .fetch_one(&mut *conn)
    .await
    .map_err(internal)?;
    let pairs: String = row
        .try_get::<Option<String>, _>(0)
        .map_err(internal)?
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut numbers = pairs.split(' ').filter_map(|n| n.parse::<i64>().ok());
    while let (Some(f), Some(t)) = (numbers.next(), numbers.next()) {
        out.push((f, t));
    }
    Ok(out)
}

async fn ids(conn: &mut AnyConnection, sql: &str) -> Result<Vec<i64>> {
    Ok(sqlx::query(sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(internal)?
        .iter()
        .filter_map(|r| r.try_get::<i64, _>(0).ok())
        .collect())
}

/// Inserts pairs, skipping those already present. The values are integers from the database,
/// so formatting them into the statement injects nothing.
async fn insert(conn: &mut AnyConnection, pairs: &[(i64, i64)]) -> Result<()> {
    for chunk in pairs.chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|(p, q)| format!("({p}, {q})")).collect();
        sqlx::query(&format!(
            "INSERT INTO inv_provider_use (provider_id, process_id) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        ))
        .execute(&mut *conn)
        .await
        .map_err(internal)?;
    }
    Ok(())
}

/// Recomputes the pairs of every process of `towns` (`None`: of every town). Returns how many
/// pairs the towns now have.
pub(crate) async fn rebuild(
    conn: &mut AnyConnection,
    backend: Backend,
    towns: Option<&[i64]>,
) -> Result<usize> {
    if towns.is_some_and(|t| t.is_empty()) {
        return Ok(0);
    }
    let in_towns = towns
        .map(|t| format!(" AND organisation_id IN {}", id_list(t.iter().copied())))
        .unwrap_or_default();
    let edges = links(conn, backend, towns).await?;
    let providers = ids(conn, "SELECT id FROM inv_object WHERE kind = 'provider'").await?;
    let processes = ids(
        conn,
        &format!("SELECT id FROM inv_object WHERE kind = 'process'{in_towns}"),
    )
    .await?;
    let pairs = provider_users(&providers, &processes, &edges);
    sqlx::query(&format!(
        "DELETE FROM inv_provider_use WHERE process_id IN (SELECT id FROM inv_object WHERE kind = 'process'{in_towns})"
    ))
    .execute(&mut *conn)
    .await
    .map_err(internal)?;
    insert(conn, &pairs).await?;
    Ok(pairs.len())
}

/// After "`from` uses `to`" was added: the processes upstream of `from` now also need every
/// provider downstream of `to`.
pub(crate) async fn link_added(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    let providers = ids(
        conn,
        &format!(
            "WITH RECURSIVE down(id) AS (SELECT CAST({to} AS BIGINT) UNION SELECT l.to_id FROM inv_link l JOIN down d ON l.from_id = d.id) \
             SELECT down.id FROM down JOIN inv_object o ON o.id = down.id WHERE o.kind = 'provider'"
        ),
    )
    .await?;
    if providers.is_empty() {
        return Ok(());
    }
    let processes = ids(
        conn,
        &format!(
            "WITH RECURSIVE up(id) AS (SELECT CAST({from} AS BIGINT) UNION SELECT l.from_id FROM inv_link l JOIN up ON l.to_id = up.id) \
             SELECT up.id FROM up JOIN inv_object o ON o.id = up.id WHERE o.kind = 'process'"
        ),
    )
    .await?;
    let pairs: Vec<(i64, i64)> = providers
        .iter()
        .flat_map(|p| processes.iter().map(move |q| (*p, *q)))
        .collect();
    insert(conn, &pairs).await
}

/// Before object `id` of `town` and its links are deleted: drops its own pairs. The caller
/// rebuilds the town afterwards, which takes away what only ran through the object.
pub(crate) async fn forget_object(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM inv_provider_use WHERE provider_id = $1 OR process_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Before the objects of a town are deleted: drops every pair that names one of them.
pub(crate) async fn forget_town(conn: &mut AnyConnection, town: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM inv_provider_use WHERE provider_id IN (SELECT id FROM inv_object WHERE organisation_id = $1) \
         OR process_id IN (SELECT id FROM inv_object WHERE organisation_id = $1)",
    )
    .bind(town)
    .execute(&mut *conn)
    .await
    .map_err(internal)?;
    Ok(())
}

/// At start-up after the migration that created the table: fills it once if it is empty while
/// providers are in use.
pub(crate) async fn fill_if_new(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    let empty = sqlx::query("SELECT COUNT(*) FROM inv_provider_use")
        .fetch_one(&mut *conn)
        .await
        .map_err(internal)?
        .try_get::<i64, _>(0)
        .map_err(internal)?
        == 0;
    let used = sqlx::query(
        "SELECT COUNT(*) FROM inv_link l JOIN inv_object o ON o.id = l.to_id WHERE o.kind = 'provider'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(internal)?
    .try_get::<i64, _>(0)
    .map_err(internal)?
        > 0;
    if empty && used {
        rebuild(conn, backend, None).await?;
    }
    Ok(())
}
