//! The Sentry envelope format: a JSON header line, then items, each a JSON
//! header line and a payload — `length` bytes when the header says so,
//! else up to the next newline. Every length is checked against what is
//! there and against the item type's limit before anything is parsed.

use serde_json::Value;

/// Largest `event` (and `transaction`) payload accepted.
pub const MAX_EVENT: usize = 1024 * 1024;
/// Largest payload of any other item (attachments, replays…).
pub const MAX_ITEM: usize = 100 * 1024 * 1024;

/// One item: its type, its header and its raw payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<'a> {
    pub kind: String,
    pub header: Value,
    pub payload: &'a [u8],
}

/// A parsed envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<'a> {
    pub header: Value,
    pub items: Vec<Item<'a>>,
}

impl Envelope<'_> {
    /// `event_id` of the envelope header, if any.
    pub fn event_id(&self) -> Option<&str> {
        self.header["event_id"].as_str()
    }

    /// The DSN in the envelope header (browser SDKs authenticate with it).
    pub fn dsn(&self) -> Option<&str> {
        self.header["dsn"].as_str()
    }
}

/// What is wrong with an envelope; the message goes to the SDK in
/// `X-Sentry-Error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the envelope is empty")]
    Empty,
    #[error("the envelope header is not a JSON object: {0}")]
    Header(String),
    #[error("item {index}: the item header is not a JSON object: {reason}")]
    ItemHeader { index: usize, reason: String },
    #[error("item {index}: the item header has no `type`")]
    NoType { index: usize },
    #[error("item {index}: `length` is {length} but only {left} bytes follow")]
    Truncated {
        index: usize,
        length: usize,
        left: usize,
    },
    #[error("item {index}: `length` is not a non-negative integer")]
    BadLength { index: usize },
    #[error("item {index} ({kind}) is {size} bytes, more than the {limit} allowed")]
    TooLarge {
        index: usize,
        kind: String,
        size: usize,
        limit: usize,
    },
    #[error("item {index}: after {length} bytes of payload a newline or the end was expected")]
    Trailing { index: usize, length: usize },
}

/// The limit for an item type.
pub fn limit_of(kind: &str) -> usize {
    match kind {
        "event" | "transaction" => MAX_EVENT,
        _ => MAX_ITEM,
    }
}

fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn object(text: &[u8]) -> Result<Value, String> {
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    match serde_json::from_slice::<Value>(text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err("not an object".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Splits `body` into the envelope header and its items.
pub fn parse(body: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(EnvelopeError::Empty);
    }
    let (head, mut rest) = line(body);
    let header = object(head).map_err(EnvelopeError::Header)?;
    let mut items = Vec::new();
    loop {
        // Blank lines between items are tolerated (some SDKs end with one).
        while let Some(tail) = rest.strip_prefix(b"\n") {
            rest = tail;
        }
        if rest.is_empty() {
            break;
        }
        let index = items.len();
        let (item_head, after) = line(rest);
        let item_header =
            object(item_head).map_err(|reason| EnvelopeError::ItemHeader { index, reason })?;
        let kind = item_header["type"]
            .as_str()
            .ok_or(EnvelopeError::NoType { index })?
            .to_owned();
        let limit = limit_of(&kind);
        let payload;
        match item_header.get("length") {
            Some(l) => {
                let length = l
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or(EnvelopeError::BadLength { index })?;
                if length > limit {
                    return Err(EnvelopeError::TooLarge {
                        index,
                        kind,
                        size: length,
                        limit,
                    });
                }
                if length > after.len() {
                    return Err(EnvelopeError::Truncated {
                        index,
                        length,
                        left: after.len(),
                    });
                }
                payload = &after[..length];
                rest = &after[length..];
                match rest.first() {
                    None => {}
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => return Err(EnvelopeError::Trailing { index, length }),
                }
            }
            None => {
                let (p, tail) = line(after);
                if p.len() > limit {
                    return Err(EnvelopeError::TooLarge {
                        index,
                        kind,
                        size: p.len(),
                        limit,
                    });
                }
                payload = p;
                rest = tail;
            }
        }
        items.push(Item {
            kind,
            header: item_header,
            payload,
        });
    }
    Ok(Envelope { header, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_with_and_without_length_are_split_as_sdks_send_them() {
        let event = br#"{"message":"hello","level":"error"}"#;
        let attachment = b"binary\n\0data";
        let mut body = br#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://abc@example.com/42"}"#.to_vec();
        body.push(b'\n');
        body.extend_from_slice(
            format!(r#"{{"type":"event","length":{}}}"#, event.len()).as_bytes(),
        );
        body.push(b'\n');
        body.extend_from_slice(event);
        body.push(b'\n');
        body.extend_from_slice(
            format!(
                r#"{{"type":"attachment","length":{},"filename":"a.bin"}}"#,
                attachment.len()
            )
            .as_bytes(),
        );
        body.push(b'\n');
        body.extend_from_slice(attachment);
        body.push(b'\n');
        // No length: up to the newline; and a last item without a newline.
        body.extend_from_slice(b"{\"type\":\"session\"}\n{\"sid\":\"x\",\"status\":\"ok\"}\n");
        body.extend_from_slice(b"{\"type\":\"client_report\"}\n{\"discarded_events\":[]}");
        let e = parse(&body).expect("valid envelope");
        assert_eq!(e.event_id(), Some("9ec79c33ec9942ab8353589fcb2e04dc"));
        assert_eq!(e.dsn(), Some("https://abc@example.com/42"));
        let kinds: Vec<&str> = e.items.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, ["event", "attachment", "session", "client_report"]);
        assert_eq!(e.items[0].payload, event);
        assert_eq!(
            e.items[1].payload, attachment,
            "newlines inside a sized payload"
        );
        assert_eq!(e.items[2].payload, br#"{"sid":"x","status":"ok"}"#);
        assert_eq!(e.items[3].payload, br#"{"discarded_events":[]}"#);
    }

    #[test]
    fn a_header_alone_and_trailing_blank_lines_are_fine() {
        assert_eq!(parse(b"{}").expect("ok").items.len(), 0);
        assert_eq!(
            parse(b"{}\n{\"type\":\"event\",\"length\":2}\n{}\n\n")
                .expect("ok")
                .items
                .len(),
            1
        );
        assert_eq!(
            parse(b"{}\r\n{\"type\":\"event\"}\r\n{}")
                .expect("crlf")
                .items[0]
                .kind,
            "event"
        );
    }

    #[test]
    fn broken_envelopes_say_where_and_what() {
        assert_eq!(parse(b" \n"), Err(EnvelopeError::Empty));
        assert!(matches!(
            parse(b"not json\n"),
            Err(EnvelopeError::Header(_))
        ));
        assert!(matches!(parse(b"[1]\n"), Err(EnvelopeError::Header(_))));
        assert!(matches!(
            parse(b"{}\n{oops}\n{}"),
            Err(EnvelopeError::ItemHeader { index: 0, .. })
        ));
        assert_eq!(
            parse(b"{}\n{\"length\":2}\n{}"),
            Err(EnvelopeError::NoType { index: 0 })
        );
        // The header says more than there is.
        assert_eq!(
            parse(b"{}\n{\"type\":\"event\",\"length\":100}\n{}"),
            Err(EnvelopeError::Truncated {
                index: 0,
                length: 100,
                left: 2
            })
        );
        // The header says less than there is.
        assert_eq!(
            parse(b"{}\n{\"type\":\"event\",\"length\":2}\n{\"a\":1}"),
            Err(EnvelopeError::Trailing {
                index: 0,
                length: 2
            })
        );
        assert_eq!(
            parse(b"{}\n{\"type\":\"event\",\"length\":-1}\n{}"),
            Err(EnvelopeError::BadLength { index: 0 })
        );
        assert_eq!(
            parse(b"{}\n{\"type\":\"event\",\"length\":\"2\"}\n{}"),
            Err(EnvelopeError::BadLength { index: 0 })
        );
    }

    #[test]
    fn an_event_over_a_mebibyte_is_refused_before_it_is_read() {
        let header = format!(
            r#"{{}}
{{"type":"event","length":{}}}
"#,
            MAX_EVENT + 1
        );
        // Only the header is present: the size is refused from the header.
        assert!(matches!(
            parse(header.as_bytes()),
            Err(EnvelopeError::TooLarge { index: 0, size, .. }) if size == MAX_EVENT + 1
        ));
        let mut body = b"{}\n{\"type\":\"event\"}\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', MAX_EVENT + 1));
        assert!(matches!(parse(&body), Err(EnvelopeError::TooLarge { .. })));
        // Other items may be larger.
        let mut body = format!(
            "{{}}\n{{\"type\":\"attachment\",\"length\":{}}}\n",
            MAX_EVENT + 1
        )
        .into_bytes();
        body.extend(std::iter::repeat_n(b'x', MAX_EVENT + 1));
        assert_eq!(
            parse(&body).expect("attachment").items[0].payload.len(),
            MAX_EVENT + 1
        );
    }
}

/// Property tests (`make fuzz` runs them longer): envelopes built from
/// random items read back as built; any bytes are refused or read, never a
/// panic, and no payload is longer than its type's limit.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "event",
            "transaction",
            "session",
            "attachment",
            "check_in",
            "client_report",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
            )),
            ..ProptestConfig::default()
        })]

        #[test]
        fn built_envelopes_read_back_item_by_item(
            items in prop::collection::vec(
                (kind(), prop::collection::vec(any::<u8>(), 0..200), any::<bool>(), 0usize..3),
                0..6,
            ),
            trailing_newline in any::<bool>(),
        ) {
            let mut body = br#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}"#.to_vec();
            let mut expected = Vec::new();
            for (kind, payload, with_length, blank_lines) in &items {
                body.push(b'\n');
                body.extend(std::iter::repeat_n(b'\n', *blank_lines));
                // Without a length the payload ends at the first newline.
                let payload: Vec<u8> = if *with_length {
                    payload.clone()
                } else {
                    payload.iter().copied().filter(|b| *b != b'\n').collect()
                };
                if *with_length {
                    body.extend_from_slice(format!(r#"{{"type":"{kind}","length":{}}}"#, payload.len()).as_bytes());
                } else {
                    body.extend_from_slice(format!(r#"{{"type":"{kind}"}}"#).as_bytes());
                }
                body.push(b'\n');
                body.extend_from_slice(&payload);
                expected.push((kind.to_string(), payload));
            }
            if trailing_newline {
                body.push(b'\n');
            }
            let envelope = parse(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let got: Vec<(String, Vec<u8>)> = envelope.items.iter().map(|i| (i.kind.clone(), i.payload.to_vec())).collect();
            // An item without a length and with an empty payload, last and
            // without a newline, is still an item.
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn any_bytes_are_read_or_refused_within_the_limits(
            bytes in prop::collection::vec(any::<u8>(), 0..600),
        ) {
            if let Ok(envelope) = parse(&bytes) {
                for item in envelope.items {
                    prop_assert!(item.payload.len() <= limit_of(&item.kind));
                    prop_assert!(item.header.is_object());
                }
            }
        }

        #[test]
        fn a_lying_length_is_refused_never_read_past_the_body(
            claimed in 0usize..2_000_000,
            actual in prop::collection::vec(any::<u8>(), 0..100),
        ) {
            let mut body = b"{}\n".to_vec();
            body.extend_from_slice(format!(r#"{{"type":"event","length":{claimed}}}"#).as_bytes());
            body.push(b'\n');
            body.extend_from_slice(&actual);
            match parse(&body) {
                Ok(envelope) => {
                    prop_assert_eq!(envelope.items[0].payload.len(), claimed);
                    prop_assert!(claimed <= actual.len());
                }
                Err(EnvelopeError::TooLarge { .. }) => prop_assert!(claimed > MAX_EVENT),
                Err(EnvelopeError::Truncated { .. }) => prop_assert!(claimed > actual.len()),
                Err(EnvelopeError::Trailing { .. }) => prop_assert!(claimed < actual.len()),
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }
    }
}
