//! Reading list-valued request and response headers.

use axum::http::HeaderMap;
use axum::http::header::AsHeaderName;

/// The items of a comma-separated header, over all its lines, trimmed and in
/// order (`Connection: keep-alive, close` and two `Connection` lines read
/// the same). Lines that are not visible ASCII are skipped.
pub fn list_items(
    headers: &HeaderMap,
    name: impl AsHeaderName,
) -> impl DoubleEndedIterator<Item = &str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn items_of_every_line_in_order() {
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 2.2.2.2"),
        );
        h.append("x-forwarded-for", HeaderValue::from_static(" 3.3.3.3 "));
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff").expect("value"),
        );
        let items: Vec<&str> = list_items(&h, "x-forwarded-for").collect();
        assert_eq!(items, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]);
        assert_eq!(list_items(&h, "connection").count(), 0);
    }
}
