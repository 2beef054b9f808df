//! German for the details of errors the server sends (validation messages,
//! conflicts, names of things). The server speaks English to every client —
//! the REST API's machines as much as the UI — so the UI translates the
//! details it knows when it shows them; anything else stays as sent.

use super::Locale;

/// Exact details and their German.
const EXACT: &[(&str, &str)] = &[
    ("request", "Anfrage"),
    ("record", "Eintrag"),
    (
        "text must not contain NUL characters",
        "Text darf keine NUL-Zeichen enthalten",
    ),
    (
        "a concurrent update got in the way; retry",
        "eine gleichzeitige Änderung kam dazwischen; bitte wiederholen",
    ),
    (
        "the database is not reachable",
        "die Datenbank ist nicht erreichbar",
    ),
    ("the server is shutting down", "der Server fährt herunter"),
    (
        "too many sign-ins at once; retry in a few seconds",
        "zu viele gleichzeitige Anmeldungen; in ein paar Sekunden erneut versuchen",
    ),
];

/// `detail` in `locale`: German where it is known, else as sent.
pub fn detail(locale: Locale, detail: &str) -> String {
    if locale == Locale::en {
        return detail.to_owned();
    }
    EXACT
        .iter()
        .find(|(en, _)| *en == detail)
        .map(|(_, de)| (*de).to_owned())
        .unwrap_or_else(|| detail.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_details_read_in_german_and_unknown_ones_stay() {
        assert_eq!(
            detail(Locale::de, "the database is not reachable"),
            "die Datenbank ist nicht erreichbar"
        );
        assert_eq!(detail(Locale::de, "something new"), "something new");
        assert_eq!(detail(Locale::en, "record"), "record");
    }
}
