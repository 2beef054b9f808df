//! The instance key that seals channel secrets: from `--secret-key`
//! (32 bytes in base64), else `secret.key` in the data directory, created
//! with mode 0600 on first start.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use rand::RngCore;
use secrecy::ExposeSecret;

use crate::config::Settings;

/// 32 bytes from base64 text.
pub fn decode(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .context("the secret key is not base64")?;
    let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        bail!(
            "the secret key must be 32 bytes (44 characters of base64), got {}",
            bytes.len()
        );
    };
    Ok(key)
}

/// The key file in `dir`, created if missing.
fn from_file(dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => decode(&text).with_context(|| format!("in {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let text = base64::engine::general_purpose::STANDARD.encode(key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut file) => {
                    file.write_all(text.as_bytes())
                        .and_then(|()| file.sync_all())
                        .with_context(|| format!("writing {}", path.display()))?;
                    tracing::info!(path = %path.display(), "created the instance key for channel secrets");
                    Ok(key)
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    decode(&text)
                }
                Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The secret box of this instance.
pub fn load(settings: &Settings) -> anyhow::Result<app::secrets::SecretBox> {
    let key = match &settings.alerts.secret_key {
        Some(k) => decode(k.0.expose_secret())?,
        None => from_file(&settings.database.data_dir)?,
    };
    Ok(app::secrets::SecretBox::new(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_bytes_of_base64_and_the_file_is_created_once() {
        assert!(decode("not base64!").is_err());
        assert!(
            decode("AAAA")
                .expect_err("too short")
                .to_string()
                .contains("32 bytes")
        );
        let dir = tempfile::tempdir().expect("dir");
        let first = from_file(dir.path()).expect("created");
        let again = from_file(dir.path()).expect("read");
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key"))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
