//! Resources whose data the browser reads with the same JSON decoder as
//! server function responses.
//!
//! Leptos decodes a server function's response with `serde_json::from_slice`
//! and, by default, a resource's serialised data with `serde_json::from_str`.
//! Each reader is a separate copy of every `Deserialize` impl in the
//! WebAssembly, so a type loaded by a resource through a server function was
//! compiled twice. [`Json`] decodes the resource's text as bytes, which makes
//! the two one.

use leptos::prelude::*;
use leptos::server::codee::string::JsonSerdeCodec;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON through serde_json's byte reader (see the module documentation).
pub struct Json;

/// Encodes as Leptos' default codec does: the server's output is unchanged.
impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        <JsonSerdeCodec as Encoder<T>>::encode(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A resource with [`Json`] encoding.
pub type JsonResource<T> = Resource<T, Json>;

/// `Resource::new` with [`Json`] encoding.
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> JsonResource<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Sample {
        name: String,
        value: f64,
    }

    #[test]
    fn round_trips_and_rejects_bad_json() {
        let s = Sample {
            name: "Überblick \"a\"".into(),
            value: 1.5,
        };
        let text = <Json as Encoder<Sample>>::encode(&s).expect("encodes");
        let back: Sample = <Json as Decoder<Sample>>::decode(&text).expect("decodes");
        assert_eq!(back, s);
        assert!(<Json as Decoder<Sample>>::decode("{\"name\":1}").is_err());
    }
}
