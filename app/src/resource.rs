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

/// Data that holds HTML the server rendered into the page.
pub trait HoldsHtml {
    /// The same data without that HTML.
    fn without_html(&self) -> Self;
}

impl<T: HoldsHtml + Clone, E: Clone> HoldsHtml for Result<T, E> {
    fn without_html(&self) -> Self {
        self.as_ref().map(T::without_html).map_err(E::clone)
    }
}

/// [`Json`] for data holding server-rendered HTML that a page sets as an
/// element's inner HTML: the page's hydration data leaves the HTML out.
/// The DOM holds it already, and hydrating an `inner_html` leaves the
/// element's content as the server wrote it; sending it twice would only
/// make the page heavier. Data fetched later, in the browser, keeps it.
pub struct PageJson;

impl<T: Serialize + HoldsHtml> Encoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        <JsonSerdeCodec as Encoder<T>>::encode(&val.without_html())
    }
}

impl<T: DeserializeOwned> Decoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        <Json as Decoder<T>>::decode(val)
    }
}

/// A resource with [`PageJson`] encoding.
pub type PageResource<T> = Resource<T, PageJson>;

/// `Resource::new` with [`PageJson`] encoding, for data holding HTML the
/// server rendered.
#[track_caller]
pub fn page_resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageResource<T>
where
    T: Serialize + HoldsHtml + DeserializeOwned + Send + Sync + 'static,
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

    #[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
    struct Page {
        html: String,
        rows: Vec<u32>,
    }

    impl HoldsHtml for Page {
        fn without_html(&self) -> Self {
            Page {
                html: String::new(),
                rows: self.rows.clone(),
            }
        }
    }

    #[test]
    fn page_data_leaves_out_its_html_and_keeps_the_rest() {
        let page: Result<Page, String> = Ok(Page {
            html: "<p>42</p>".into(),
            rows: vec![1, 2],
        });
        let text = <PageJson as Encoder<_>>::encode(&page).expect("encodes");
        assert!(!text.contains("42"), "{text}");
        let back: Result<Page, String> = <PageJson as Decoder<_>>::decode(&text).expect("decodes");
        assert_eq!(
            back,
            Ok(Page {
                html: String::new(),
                rows: vec![1, 2]
            })
        );
        let failed: Result<Page, String> = Err("gone".into());
        let text = <PageJson as Encoder<_>>::encode(&failed).expect("encodes");
        assert_eq!(
            <PageJson as Decoder<Result<Page, String>>>::decode(&text).expect("decodes"),
            failed
        );
    }
}
