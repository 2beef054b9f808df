//! German for the details of errors the server sends (validation messages,
//! conflicts, names of things). The server speaks English to every client —
//! the REST API's machines as much as the UI — so the UI translates the
//! details it knows when it shows them; anything else stays as sent.

use super::Locale;

/// Exact details and their German: validation messages, conflicts, the
/// names of fields and of things not found.
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
    ("name", "Name"),
    ("title", "Titel"),
    ("user", "Benutzer"),
    ("email", "E-Mail"),
    ("password", "Passwort"),
    ("role", "Rolle"),
    ("service", "Dienst"),
    ("channels", "Kanäle"),
    ("cooldown_seconds", "Ruhezeit"),
    ("from", "Absender"),
    ("to", "Empfänger"),
    ("headers", "Header"),
    ("kind", "Art"),
    ("kind_prefix", "Typ-Präfix"),
    ("min_events", "Mindestzahl Ereignisse"),
    ("threshold", "Schwellwert"),
    ("window_seconds", "Zeitfenster"),
    ("username", "Benutzername"),
    ("start_time", "Beginn"),
    ("time_zone", "Zeitzone"),
    ("duration_minutes", "Dauer"),
    ("ends_at", "Ende"),
    ("starts_at", "Beginn"),
    ("file", "Datei"),
    ("confirm", "Bestätigung"),
    ("level", "Stufe"),
    ("events_days", "Ereignisse"),
    ("audit_days", "Audit-Log"),
    ("probe_results_days", "Prüfergebnisse"),
    ("deliveries_days", "Zustellungen"),
    ("failures_before_down", "Fehlschläge bis ausgefallen"),
    ("interval_seconds", "Intervall"),
    ("period_seconds", "Periode"),
    ("grace_seconds", "Karenz"),
    ("uptime_percent", "Verfügbarkeit"),
    ("error_rate_percent", "Fehlerquote"),
    ("expected_status", "Erwarteter Status"),
    ("origins", "Origins"),
    (
        "must be 1 to 100 characters",
        "muss 1 bis 100 Zeichen lang sein",
    ),
    (
        "must be 1 to 200 characters",
        "muss 1 bis 200 Zeichen lang sein",
    ),
    ("1 to 100 characters", "1 bis 100 Zeichen"),
    ("must be after starts_at", "muss nach dem Beginn liegen"),
    (
        "must be 1 to 10080 (a week)",
        "muss 1 bis 10080 sein (eine Woche)",
    ),
    ("must be HH:MM", "muss im Format HH:MM sein"),
    (
        "must be an IANA time zone, e.g. Europe/Berlin",
        "muss eine IANA-Zeitzone sein, z. B. Europe/Berlin",
    ),
    (
        "name at least one error group",
        "mindestens eine Fehlergruppe angeben",
    ),
    (
        "the search took too long; narrow the time range or the filters",
        "die Suche hat zu lange gedauert; Zeitraum oder Filter einschränken",
    ),
    ("at least one channel", "mindestens ein Kanal"),
    ("at most 20 channels", "höchstens 20 Kanäle"),
    ("0 to 604800 (7 days)", "0 bis 604800 (7 Tage)"),
    ("an e-mail address", "eine E-Mail-Adresse"),
    (
        "Slack-compatible webhooks take no headers",
        "Slack-kompatible Webhooks nehmen keine Header",
    ),
    ("at most 20 headers", "höchstens 20 Header"),
    (
        "SMTP settings belong to e-mail channels",
        "SMTP-Einstellungen gehören zu E-Mail-Kanälen",
    ),
    (
        "the SMTP server's host name or address",
        "Hostname oder Adresse des SMTP-Servers",
    ),
    (
        "one of email, webhook, slack",
        "eines von email, webhook, slack",
    ),
    ("at most 200 characters", "höchstens 200 Zeichen"),
    ("0 or more", "0 oder mehr"),
    ("1 to 65535", "1 bis 65535"),
    (
        "a burn-rate factor from 1 to 1000",
        "ein Verbrauchsfaktor von 1 bis 1000",
    ),
    (
        "a percentage above 0 and at most 100",
        "ein Prozentwert über 0 und höchstens 100",
    ),
    ("1 to 50 recipients", "1 bis 50 Empfänger"),
    (
        "URLs belong to webhook channels",
        "URLs gehören zu Webhook-Kanälen",
    ),
    (
        "a password needs a user name",
        "ein Passwort braucht einen Benutzernamen",
    ),
    ("60 to 604800", "60 bis 604800"),
    (
        "must be between 0 and 365",
        "muss zwischen 0 und 365 liegen",
    ),
    ("must not be negative", "darf nicht negativ sein"),
    ("must be 0 to 100", "muss 0 bis 100 sein"),
    (
        "must be between 1 and 100",
        "muss zwischen 1 und 100 liegen",
    ),
    (
        "is required for a TCP probe",
        "ist für eine TCP-Prüfung nötig",
    ),
    (
        "must be a host name or an IP address",
        "muss ein Hostname oder eine IP-Adresse sein",
    ),
    (
        "is required: http, tcp or heartbeat",
        "ist nötig: http, tcp oder heartbeat",
    ),
    (
        "must be GET, HEAD, POST, PUT or OPTIONS",
        "muss GET, HEAD, POST, PUT oder OPTIONS sein",
    ),
    (
        "is required for a heartbeat",
        "ist für einen Heartbeat nötig",
    ),
    (
        "must be between 1 and 65535",
        "muss zwischen 1 und 65535 liegen",
    ),
    ("is not a valid URL", "ist keine gültige URL"),
    (
        "is required for an HTTP probe",
        "ist für eine HTTP-Prüfung nötig",
    ),
    (
        "must start with http:// or https://",
        "muss mit http:// oder https:// beginnen",
    ),
    ("needs a host", "braucht einen Host"),
    ("unknown", "unbekannt"),
    ("error group", "Fehlergruppe"),
    ("event", "Ereignis"),
    ("status page", "Statusseite"),
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
