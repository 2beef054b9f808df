//! Password hashing with argon2id (the crate's recommended parameters:
//! 19 MiB, two passes), off the async runtime and bounded.
//!
//! Every check needs 19 MiB of working memory. At most one check per CPU
//! (up to four) runs at a time, each in one of as many buffers allocated
//! once and reused, so a burst of sign-ins costs a fixed amount of memory
//! instead of 19 MiB per request, and the process returns to its size
//! after the burst. A request that cannot get a turn within a few seconds
//! is answered 503 with `Retry-After`.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::{AppError, AppResult};

/// How long a check waits for a turn before the request is turned away.
const WAIT: Duration = Duration::from_secs(5);
/// Stored hashes asking for more memory than this are not checked.
const MAX_MEMORY_KIB: u32 = 256 * 1024;

struct Hashers {
    turns: tokio::sync::Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
}

fn hashers() -> &'static Hashers {
    static HASHERS: OnceLock<Hashers> = OnceLock::new();
    HASHERS.get_or_init(|| {
        let turns = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        Hashers {
            turns: tokio::sync::Semaphore::new(turns),
            buffers: Mutex::new(Vec::new()),
        }
    })
}

/// Runs `job` on a blocking thread with a reused argon2 buffer, once a
/// turn is free.
async fn with_memory<T: Send + 'static>(
    job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> AppResult<T> {
    let hashers = hashers();
    let _turn = tokio::time::timeout(WAIT, hashers.turns.acquire())
        .await
        .map_err(|_| {
            AppError::Unavailable("too many sign-ins at once; retry in a few seconds".into())
        })?
        .map_err(AppError::internal)?;
    let mut buffer = hashers
        .buffers
        .lock()
        .ok()
        .and_then(|mut free| free.pop())
        .unwrap_or_default();
    let (result, buffer) = tokio::task::spawn_blocking(move || {
        let result = job(&mut buffer);
        (result, buffer)
    })
    .await
    .map_err(|e| AppError::internal(format_args!("password hashing task failed: {e}")))?;
    if let Ok(mut free) = hashers.buffers.lock() {
        free.push(buffer);
    }
    Ok(result)
}

fn grow(buffer: &mut Vec<Block>, params: &Params) {
    if buffer.len() < params.block_count() {
        buffer.resize(params.block_count(), Block::default());
    }
}

/// The PHC string of `password` with a fresh salt.
pub async fn hash(password: String) -> AppResult<String> {
    let salt_bytes: [u8; 16] = rand::random();
    with_memory(move |buffer| {
        let params = Params::default();
        grow(buffer, &params);
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt_bytes,
                &mut out,
                &mut buffer[..],
            )
            .map_err(|e| internal("hashing a password", &e))?;
        let salt =
            SaltString::encode_b64(&salt_bytes).map_err(|e| internal("encoding a salt", &e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)
                .map_err(|e| internal("encoding parameters", &e))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| internal("encoding a hash", &e))?),
        };
        Ok(phc.to_string())
    })
    .await?
}

fn internal(what: &str, e: &dyn std::fmt::Display) -> AppError {
    AppError::internal(format_args!("{what} failed: {e}"))
}

/// Whether `password` matches `stored` (constant-time comparison). A
/// stored value that is not a usable argon2 hash never matches.
pub async fn verify(password: String, stored: String) -> AppResult<bool> {
    with_memory(move |buffer| check(&password, &stored, buffer).unwrap_or(false)).await
}

fn check(password: &str, stored: &str, buffer: &mut Vec<Block>) -> Option<bool> {
    let parsed = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    if params.m_cost() > MAX_MEMORY_KIB {
        return None;
    }
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    grow(buffer, &params);
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut buffer[..])
        .ok()?;
    Some(Output::new(&out).ok()? == expected)
}

/// A hash of a random password: verifying against it costs as much as a
/// real check, so unknown accounts cannot be told apart by timing.
pub async fn dummy_hash() -> AppResult<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash("not a real password, only for timing".into()))
        .await
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let stored = hash("correct horse battery".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify("correct horse battery".into(), stored.clone())
                .await
                .expect("verify")
        );
        assert!(
            !verify("correct horse batterY".into(), stored)
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_defaults_still_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let stored = Argon2::default()
            .hash_password(b"legacy password", &salt)
            .expect("hash")
            .to_string();
        assert!(
            verify("legacy password".into(), stored)
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn garbage_and_greedy_hashes_never_match() {
        assert!(
            !verify("x".into(), "not a hash".into())
                .await
                .expect("verify")
        );
        let greedy = "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!verify("x".into(), greedy.into()).await.expect("verify"));
    }
}
