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
