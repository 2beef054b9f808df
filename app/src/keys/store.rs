//! SQL of API keys, and the short-lived cache that keeps authentication off
//! the database for busy clients.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor};

use super::types::{ApiKeyInfo, CreatedKey, KeyPrincipal, Scope, key_prefix};
use crate::error::{AppError, AppResult};

/// How long a verified key is trusted without asking the database again.
/// A revocation reaches every other process within this time (the process
/// that revoked it forgets the key at once).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

pub fn hash_secret(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

fn random_alnum(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn parse_scopes(raw: &[String]) -> Vec<Scope> {
    raw.iter().filter_map(|s| Scope::parse(s)).collect()
}

/// Creates a key; `service_id` binds it to one service.
#[tracing::instrument(skip_all, err(level = "debug"), fields(name = %name))]
pub async fn create(
    db: &mut PgConnection,
    name: &str,
    scopes: &[Scope],
    service_id: Option<i64>,
    created_by: &str,
) -> AppResult<CreatedKey> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("name", "must be 1 to 100 characters"));
    }
    if scopes.is_empty() {
        return Err(AppError::validation(
            "scopes",
            "at least one of ingest, read, backup, admin, errors",
        ));
    }
    let mut scopes: Vec<Scope> = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let scope_names: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    // A prefix collision is astronomically unlikely; retry rather than fail.
    for _ in 0..3 {
        let prefix = format!("lst_{}", random_alnum(8));
        let secret = format!("{prefix}_{}", random_alnum(32));
        let row = sqlx::query!(
            r#"insert into api_keys (name, prefix, secret_sha256, scopes, service_id, created_by)
               values ($1, $2, $3, $4, $5, $6)
               on conflict do nothing
               returning id, created_at"#,
            name,
            prefix,
            hash_secret(&secret),
            &scope_names,
            service_id,
            created_by,
        )
        .fetch_optional(&mut *db)
        .await?;
        if let Some(row) = row {
            let service = match service_id {
                Some(id) => Some(
                    sqlx::query_scalar!("select slug from services where id = $1", id)
                        .fetch_one(&mut *db)
                        .await?,
                ),
                None => None,
            };
            return Ok(CreatedKey {
                info: ApiKeyInfo {
                    id: row.id,
                    name: name.to_owned(),
                    prefix,
                    scopes,
                    service,
                    created_at: row.created_at.to_rfc3339(),
                    last_used_at: None,
                    revoked_at: None,
                },
                secret,
            });
        }
    }
    Err(AppError::internal("no free key prefix after several tries"))
}

#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(db: impl PgExecutor<'_>) -> AppResult<Vec<ApiKeyInfo>> {
    let rows = sqlx::query!(
        r#"select k.id, k.name, k.prefix, k.scopes, s.slug as "service?",
                  k.created_at, k.last_used_at, k.revoked_at
           from api_keys k left join services s on s.id = k.service_id
           order by k.revoked_at is not null, k.created_at desc, k.id desc"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ApiKeyInfo {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: parse_scopes(&r.scopes),
            service: r.service,
            created_at: r.created_at.to_rfc3339(),
            last_used_at: r.last_used_at.map(|t| t.to_rfc3339()),
            revoked_at: r.revoked_at.map(|t| t.to_rfc3339()),
        })
        .collect())
}

/// Revokes the key with this prefix or (unique) name; returns its prefix.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn revoke(db: impl PgExecutor<'_>, prefix_or_name: &str) -> AppResult<String> {
    let rows = sqlx::query_scalar!(
        r#"update api_keys set revoked_at = coalesce(revoked_at, now())
           where id = (
               select id from api_keys
               where prefix = $1 or (name = $1 and revoked_at is null)
               order by prefix = $1 desc
               limit 1)
           returning prefix"#,
        prefix_or_name
    )
    .fetch_optional(db)
    .await?;
    rows.ok_or_else(|| AppError::NotFound(format!("API key `{prefix_or_name}`")))
}

/// Looks a presented key up, recording its use. `None` for unknown or
/// revoked keys.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn authenticate(db: impl PgExecutor<'_>, key: &str) -> AppResult<Option<KeyPrincipal>> {
    if key_prefix(key).is_none() {
        return Ok(None);
    }
    let row = sqlx::query!(
        r#"update api_keys k set last_used_at = now()
           where secret_sha256 = $1 and revoked_at is null
           returning id, name, prefix, scopes, service_id,
                     (select slug from services s where s.id = k.service_id) as service"#,
        hash_secret(key)
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| KeyPrincipal {
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        scopes: parse_scopes(&r.scopes),
        service_id: r.service_id,
        service: r.service,
    }))
}

/// Verified keys by hash, each trusted for [`KEY_CACHE_TTL`].
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<Vec<u8>, (KeyPrincipal, Instant)>>,
    /// Look-up turns, by the first byte of the key's hash.
    turns: [tokio::sync::Mutex<()>; LOOKUP_STRIPES],
}

/// Keys whose hashes share a stripe take turns at look-ups.
const LOOKUP_STRIPES: usize = 32;

impl KeyCache {
    /// Held while a key missing from the cache is looked up: the requests
    /// that arrive together with one key when its entry expires then cost
    /// one database update instead of one each (all on the same row).
    /// Other keys mostly have stripes of their own. Check the cache again
    /// once it is held.
    pub async fn lookup_turn(&self, key: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = hash_secret(key).first().copied().unwrap_or(0) as usize % LOOKUP_STRIPES;
        self.turns[stripe].lock().await
    }

    pub fn get(&self, key: &str) -> Option<KeyPrincipal> {
        let hash = hash_secret(key);
        let entries = self.entries.lock().ok()?;
        entries
            .get(&hash)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(p, _)| p.clone())
    }

    pub fn put(&self, key: &str, principal: KeyPrincipal) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
            }
            entries.insert(hash_secret(key), (principal, Instant::now()));
        }
    }

    /// Forgets every key (after a restore replaced the keys).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// Forgets a key at once (after revoking it in this process).
    pub fn forget_prefix(&self, prefix: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (p, _)| p.prefix != prefix);
        }
    }
}
