//! Request bodies as SDKs send them: plain, or `Content-Encoding: gzip`,
//! `deflate`, `br` or `zstd`. Decompression reads through a limit, so a
//! small "bomb" that would expand to gigabytes is refused after `limit + 1`
//! bytes, never allocated in full.

use std::io::Read;

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported Content-Encoding “{0}” (gzip, deflate, br, zstd or none)")]
    Unsupported(String),
    #[error("the body is larger than {limit} bytes once decompressed")]
    TooLarge { limit: usize },
    #[error("the body is not valid {encoding}: {reason}")]
    Corrupt {
        encoding: &'static str,
        reason: String,
    },
}

/// The decoded body of `encoding` (a `Content-Encoding` value; None or
/// `identity` for plain), at most `limit` bytes.
pub fn decode(encoding: Option<&str>, body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => {
            if body.len() > limit {
                return Err(DecodeError::TooLarge { limit });
            }
            Ok(body.to_vec())
        }
        Some("gzip") | Some("x-gzip") => bounded(flate2::read::GzDecoder::new(body), "gzip", limit),
        Some("deflate") => {
            // RFC 9110's "deflate" is zlib; some clients send raw deflate.
            if body.first().is_some_and(|b| b & 0x0f == 8) {
                bounded(flate2::read::ZlibDecoder::new(body), "deflate", limit)
            } else {
                bounded(flate2::read::DeflateDecoder::new(body), "deflate", limit)
            }
        }
        Some("br") => bounded(
            brotli_decompressor::Decompressor::new(body, 4096),
            "br",
            limit,
        ),
        Some("zstd") => {
            let decoder =
                zstd::stream::read::Decoder::new(body).map_err(|e| DecodeError::Corrupt {
                    encoding: "zstd",
                    reason: e.to_string(),
                })?;
            bounded(decoder, "zstd", limit)
        }
        Some(other) => Err(DecodeError::Unsupported(other.to_owned())),
    }
}

/// Reads `reader` to its end, refusing more than `limit` bytes.
fn bounded(
    reader: impl Read,
    encoding: &'static str,
    limit: usize,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Corrupt {
            encoding,
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const TEXT: &[u8] = br#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}"#;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    #[test]
    fn every_encoding_decodes_to_the_same_body() {
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(TEXT).expect("write");
        let zlib = zlib.finish().expect("finish");
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(TEXT).expect("write");
        let raw = raw.finish().expect("finish");
        let zstd = zstd::encode_all(TEXT, 3).expect("zstd");
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(TEXT).expect("write");
        }
        for (encoding, body) in [
            (None, TEXT.to_vec()),
            (Some("identity"), TEXT.to_vec()),
            (Some("gzip"), gzip(TEXT)),
            (Some("GZIP "), gzip(TEXT)),
            (Some("deflate"), zlib),
            (Some("deflate"), raw),
            (Some("zstd"), zstd),
            (Some("br"), br),
        ] {
            assert_eq!(
                decode(encoding, &body, 1024).as_deref(),
                Ok(TEXT),
                "{encoding:?}"
            );
        }
    }

    #[test]
    fn a_bomb_is_refused_at_the_limit() {
        let bomb = gzip(&vec![b'a'; 50 * 1024 * 1024]);
        assert!(
            bomb.len() < 100 * 1024,
            "compresses to {} bytes",
            bomb.len()
        );
        assert_eq!(
            decode(Some("gzip"), &bomb, 1024 * 1024),
            Err(DecodeError::TooLarge { limit: 1024 * 1024 })
        );
        assert_eq!(
            decode(None, &[0u8; 11], 10),
            Err(DecodeError::TooLarge { limit: 10 })
        );
    }

    #[test]
    fn garbage_and_unknown_encodings_say_what_is_wrong() {
        assert!(matches!(
            decode(Some("gzip"), b"not gzip at all", 1024),
            Err(DecodeError::Corrupt {
                encoding: "gzip",
                ..
            })
        ));
        let mut truncated = gzip(TEXT);
        truncated.truncate(truncated.len() / 2);
        assert!(decode(Some("gzip"), &truncated, 1024).is_err());
        assert_eq!(
            decode(Some("compress"), TEXT, 1024),
            Err(DecodeError::Unsupported("compress".into()))
        );
    }
}

/// Property tests (`make fuzz` runs them longer): every encoding gives back
/// what was compressed, or refuses it when it is larger than the limit;
/// damaged and random bodies are refused, never a panic.
#[cfg(test)]
mod props {
    use std::io::Write;

    use super::*;
    use proptest::prelude::*;

    fn encode(encoding: &str, data: &[u8]) -> Vec<u8> {
        match encoding {
            "gzip" => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                let _ = e.write_all(data);
                e.finish().unwrap_or_default()
            }
            "deflate" => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                let _ = e.write_all(data);
                e.finish().unwrap_or_default()
            }
            "zstd" => zstd::encode_all(data, 1).unwrap_or_default(),
            "br" => {
                let mut out = Vec::new();
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 1, 22);
                    let _ = w.write_all(data);
                }
                out
            }
            _ => data.to_vec(),
        }
    }

    fn encoding() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["identity", "gzip", "deflate", "zstd", "br"])
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
            )),
            ..ProptestConfig::default()
        })]

        #[test]
        fn compressed_bodies_come_back_or_are_refused_as_too_large(
            encoding in encoding(),
            // Repetitive data, as JSON is: compresses well, like a bomb would.
            data in prop::collection::vec(prop::sample::select(vec![b'a', b'{', b'"', b'0']), 0..20_000),
            limit in 0usize..25_000,
        ) {
            let body = encode(encoding, &data);
            match decode(Some(encoding), &body, limit) {
                Ok(out) => prop_assert_eq!(out, data),
                Err(DecodeError::TooLarge { .. }) => prop_assert!(data.len() > limit),
                Err(e) => prop_assert!(false, "{encoding}: {e}"),
            }
        }

        #[test]
        fn damaged_or_random_bodies_are_refused_never_a_panic(
            encoding in encoding(),
            data in prop::collection::vec(any::<u8>(), 0..2_000),
            flip in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut body = encode(encoding, &data);
            if !body.is_empty() {
                let at = flip.index(body.len());
                if truncate {
                    body.truncate(at);
                } else {
                    body[at] ^= 0x5a;
                }
            }
            if let Ok(out) = decode(Some(encoding), &body, 4096) {
                prop_assert!(out.len() <= 4096);
            }
            if let Ok(out) = decode(Some(encoding), &data, 4096) {
                prop_assert!(out.len() <= 4096);
            }
        }
    }
}
