//! Which language a request gets: `?lang=` on the URL, else the person's
//! setting (the `lang` cookie the switch sets), else the browser's
//! `Accept-Language`, else the instance default. Pure, so the server and the
//! tests share it.

use super::Locale;

/// A language tag (`de`, `de-AT`, `EN_us`) as one of ours, by its primary subtag.
pub fn from_tag(tag: &str) -> Option<Locale> {
    let primary = tag.trim().split(['-', '_']).next()?;
    if primary.eq_ignore_ascii_case("de") {
        Some(Locale::de)
    } else if primary.eq_ignore_ascii_case("en") {
        Some(Locale::en)
    } else {
        None
    }
}

/// The language the browser prefers most among ours, by quality value
/// (`de;q=0.9, en;q=0.8`); equal qualities keep the header's order, `q=0`
/// means "not this one" and malformed entries are skipped.
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut best: Option<(u16, Locale)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(locale) = parts.next().and_then(from_tag) else {
            continue;
        };
        let mut quality = Some(1000);
        for param in parts {
            if let Some((key, value)) = param.split_once('=')
                && key.trim().eq_ignore_ascii_case("q")
            {
                quality = parse_quality(value.trim());
            }
        }
        let Some(q) = quality.filter(|q| *q > 0) else {
            continue;
        };
        if best.is_none_or(|(b, _)| q > b) {
            best = Some((q, locale));
        }
    }
    best.map(|(_, l)| l)
}

/// A quality value (`0`, `0.8`, `1.000`) in thousandths; None if malformed.
fn parse_quality(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The value of `lang` in a query string (`a=1&lang=de`).
pub fn from_query(query: &str) -> Option<Locale> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| from_tag(v))
}

/// The value of the `lang` cookie in a `Cookie` header.
pub fn from_cookie_header(header: &str) -> Option<Locale> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == super::COOKIE)
        .and_then(|(_, v)| from_tag(v))
}

/// What a request asks for, in the order that decides.
#[derive(Debug, Default, Clone, Copy)]
pub struct Asked<'a> {
    pub query: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub accept_language: Option<&'a str>,
}

/// The language of a request: the URL's `?lang=`, the setting, the browser's
/// preference, the instance default — the first that names one of ours.
pub fn choose(asked: Asked<'_>, default: Locale) -> Locale {
    asked
        .query
        .and_then(from_query)
        .or_else(|| asked.cookie.and_then(from_cookie_header))
        .or_else(|| asked.accept_language.and_then(from_accept_language))
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_by_primary_subtag_in_any_case() {
        assert_eq!(from_tag("de"), Some(Locale::de));
        assert_eq!(from_tag("de-AT"), Some(Locale::de));
        assert_eq!(from_tag("EN_us"), Some(Locale::en));
        assert_eq!(from_tag("fr"), None);
        assert_eq!(from_tag(""), None);
    }

    #[test]
    fn accept_language_takes_the_highest_quality_of_ours() {
        assert_eq!(
            from_accept_language("de-DE,de;q=0.9,en;q=0.8"),
            Some(Locale::de)
        );
        assert_eq!(from_accept_language("en;q=0.5, de;q=0.7"), Some(Locale::de));
        assert_eq!(
            from_accept_language("fr-FR, fr;q=0.9, en;q=0.8, de;q=0.7"),
            Some(Locale::en)
        );
        assert_eq!(from_accept_language("en-US,en;q=0.9"), Some(Locale::en));
    }

    #[test]
    fn accept_language_skips_refused_unknown_and_malformed_entries() {
        assert_eq!(from_accept_language("de;q=0, en;q=0.1"), Some(Locale::en));
        assert_eq!(from_accept_language("fr, *;q=0.5"), None);
        assert_eq!(from_accept_language("de;q=2, en;q=0.3"), Some(Locale::en));
        assert_eq!(
            from_accept_language("de;q=0.5x, en;q=0.3"),
            Some(Locale::en)
        );
        assert_eq!(from_accept_language(""), None);
    }

    #[test]
    fn equal_qualities_keep_the_header_order() {
        assert_eq!(from_accept_language("en, de"), Some(Locale::en));
        assert_eq!(
            from_accept_language("de;q=0.8, en;q=0.800"),
            Some(Locale::de)
        );
    }

    #[test]
    fn query_and_cookie_are_read_by_name() {
        assert_eq!(from_query("next=%2F&lang=de"), Some(Locale::de));
        assert_eq!(from_query("language=de"), None);
        assert_eq!(from_cookie_header("session=abc; lang=de"), Some(Locale::de));
        assert_eq!(from_cookie_header("xlang=de"), None);
    }

    #[test]
    fn the_url_beats_the_setting_which_beats_the_browser_which_beats_the_default() {
        let all = Asked {
            query: Some("lang=en"),
            cookie: Some("lang=de"),
            accept_language: Some("de"),
        };
        assert_eq!(choose(all, Locale::de), Locale::en);
        let no_query = Asked { query: None, ..all };
        assert_eq!(choose(no_query, Locale::en), Locale::de);
        let browser_only = Asked {
            accept_language: Some("de-CH, en;q=0.5"),
            ..Asked::default()
        };
        assert_eq!(choose(browser_only, Locale::en), Locale::de);
        assert_eq!(choose(Asked::default(), Locale::de), Locale::de);
        let unknown = Asked {
            query: Some("lang=fr"),
            cookie: Some("lang=xx"),
            accept_language: Some("fr"),
        };
        assert_eq!(choose(unknown, Locale::en), Locale::en);
    }
}
