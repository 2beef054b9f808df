//! The UI's languages, German and English: the translations (compiled in from
//! `app/locales/<locale>.json`), which language a request gets, and the switch.
//!
//! A page keeps its language for its whole life: the server picks it per
//! request ([`choice`]) and writes it into `<html lang>`; the browser reads it
//! back from there when it hydrates, so both render the same text. Switching
//! reloads the page in the other language.

pub mod choice;
pub mod messages;
#[cfg(feature = "ssr")]
mod request;
mod switch;

use leptos::prelude::*;

/// The translations, generated from `app/locales/*.json` at compile time.
/// The macro is marked deprecated in favour of a build script; that route
/// needs the crate's ICU data tooling as a build dependency, which nothing
/// here uses (numbers and dates are formatted by hand).
#[allow(deprecated)]
mod generated {
    leptos_i18n::load_locales!();
}

pub use generated::i18n;
pub use i18n::{Locale, td_string};

/// The text of `key` in the page's language: `t!(i18n, nav.events)`.
///
/// A page keeps its language for its whole life (switching reloads it), so
/// the text is a plain `&'static str` rather than leptos_i18n's reactive
/// view: a closure per use would be a view type of its own, compiled into
/// the WebAssembly once per use.
macro_rules! t {
    ($i18n:expr, $($key:ident).+) => {
        $crate::lang::td_string!($i18n.get_locale_untracked(), $($key).+)
    };
}
pub(crate) use t;

/// The same as [`t!`], for attributes.
macro_rules! t_string {
    ($i18n:expr, $($key:ident).+) => {
        $crate::lang::t!($i18n, $($key).+)
    };
}
#[cfg(feature = "ssr")]
pub use request::{request_locale, shell_locale};
pub use switch::LangSwitch;
pub(crate) use t_string;

/// `key` in `locale` with its `{name}` placeholders filled, as a String:
/// `tf!(l, dash.range_is, range = label)`.
macro_rules! tf {
    ($locale:expr, $($key:ident).+ $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::lang::fill(
            $crate::lang::td_string!($locale, $($key).+),
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),*],
        )
    };
}
pub(crate) use tf;

/// Fills the `{name}` placeholders of a translation; a placeholder without
/// a value stays as it is (a missing argument shows, rather than vanishing).
/// `{name|one|other}` chooses a word by the number: `one` where the value
/// reads "1", else `other` — the rule of both our languages
/// (`"{count} {count|event|events}"`, `"{count} {count|Ereignis|Ereignisse}"`).
pub fn fill(template: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after.find('}').and_then(|end| {
            let mut parts = after[..end].split('|');
            let name = parts.next().unwrap_or_default();
            let forms = parts.next().zip(parts.next());
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (end, *v, forms))
        });
        match value {
            Some((end, v, forms)) => {
                match forms {
                    Some((one, other)) => {
                        out.push_str(if v.to_string() == "1" { one } else { other })
                    }
                    None => {
                        let _ = write!(out, "{v}");
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A text known at compile time, in the language asked for (for tables of
/// labels: navigation entries, tabs, form fields).
pub type Label = fn(Locale) -> &'static str;

/// The name of the cookie that keeps a person's language.
pub const COOKIE: &str = "lang";

/// The language of a render, as context: what [`t!`] reads its texts in.
///
/// A page keeps its language for its whole life (switching reloads it), so
/// this is a plain value rather than a reactive context: nothing below has
/// to follow a change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct I18n(Locale);

impl I18n {
    /// The language (named as in leptos_i18n, whose `td_string!` [`t!`] calls).
    pub fn get_locale_untracked(self) -> Locale {
        self.0
    }
}

/// The language context of the current owner.
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_default()
}

/// The language of this render: on the server the one chosen for the
/// request, in the browser the one the server wrote into `<html lang>`.
pub fn use_locale() -> Locale {
    use_i18n().0
}

/// Makes `locale` the language of everything below the current owner
/// ([`use_i18n`], `t!` and [`use_locale`]).
pub fn provide(locale: Locale) {
    provide_context(I18n(locale));
}

/// The language the server rendered this page in (`<html lang>`).
#[cfg(feature = "hydrate")]
pub fn document_locale() -> Locale {
    document()
        .document_element()
        .and_then(|el| el.get_attribute("lang"))
        .and_then(|tag| choice::from_tag(&tag))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every key path of a locale file (`nav.dashboard`, …).
    fn keys(json: &str) -> BTreeSet<String> {
        fn walk(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
            match v {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        let path = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        walk(&path, v, out);
                    }
                }
                _ => {
                    out.insert(prefix.to_owned());
                }
            }
        }
        let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
        let mut out = BTreeSet::new();
        walk("", &value, &mut out);
        out
    }

    #[test]
    fn placeholders_are_filled_by_name() {
        let n = 3;
        assert_eq!(
            super::fill(
                "{count} of {total} – {count}",
                &[("count", &n), ("total", &"7")]
            ),
            "3 of 7 – 3"
        );
        assert_eq!(super::fill("{missing} {", &[]), "{missing} {");
    }

    #[test]
    fn a_word_follows_its_number() {
        let form = |n: &dyn std::fmt::Display| super::fill("{n} {n|event|events}", &[("n", n)]);
        assert_eq!(form(&1), "1 event");
        assert_eq!(form(&0), "0 events");
        assert_eq!(form(&2), "2 events");
        assert_eq!(form(&11), "11 events");
        assert_eq!(form(&"1.000"), "1.000 events");
        // Without a value the placeholder stays, forms and all.
        assert_eq!(super::fill("{n|a|b}", &[]), "{n|a|b}");
    }

    #[test]
    fn german_and_english_use_the_same_placeholders() {
        fn placeholders(s: &str) -> std::collections::BTreeSet<String> {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}'))
                .map(|(n, _)| n.split('|').next().unwrap_or_default().to_owned())
                .collect()
        }
        let en: serde_json::Value =
            serde_json::from_str(include_str!("../../locales/en.json")).expect("valid JSON");
        let de: serde_json::Value =
            serde_json::from_str(include_str!("../../locales/de.json")).expect("valid JSON");
        for key in keys(include_str!("../../locales/en.json")) {
            let pointer = format!("/{}", key.replace('.', "/"));
            let (Some(e), Some(d)) = (
                en.pointer(&pointer).and_then(|v| v.as_str()),
                de.pointer(&pointer).and_then(|v| v.as_str()),
            ) else {
                continue;
            };
            assert_eq!(placeholders(e), placeholders(d), "{key}");
        }
    }

    #[test]
    fn german_and_english_have_exactly_the_same_keys() {
        let en = keys(include_str!("../../locales/en.json"));
        let de = keys(include_str!("../../locales/de.json"));
        let only_en: Vec<_> = en.difference(&de).collect();
        let only_de: Vec<_> = de.difference(&en).collect();
        assert!(only_en.is_empty(), "missing in de.json: {only_en:?}");
        assert!(only_de.is_empty(), "missing in en.json: {only_de:?}");
    }

    #[test]
    fn no_translation_is_empty() {
        for (name, json) in [
            ("en", include_str!("../../locales/en.json")),
            ("de", include_str!("../../locales/de.json")),
        ] {
            let text: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
            let mut stack = vec![("".to_owned(), &text)];
            while let Some((path, v)) = stack.pop() {
                match v {
                    serde_json::Value::Object(map) => {
                        stack.extend(map.iter().map(|(k, v)| (format!("{path}.{k}"), v)))
                    }
                    serde_json::Value::String(s) => {
                        assert!(!s.trim().is_empty(), "{name}{path} is empty")
                    }
                    _ => {}
                }
            }
        }
    }
}
