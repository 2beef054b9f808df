//! What notices say, in the instance's default language: the titles and
//! details the alert worker and the channel test write (server only).

use crate::lang::{Locale, td_string, tf};

/// Words of notices in one language.
#[derive(Debug, Clone, Copy)]
pub struct Texts(pub Locale);

impl Texts {
    pub fn new_error(self, message: &str) -> String {
        tf!(self.0, notice_text.new_error, message = message)
    }

    pub fn type_and_fingerprint(self, kind: &str, fingerprint: &str) -> String {
        tf!(
            self.0,
            notice_text.type_fingerprint,
            kind = kind,
            fingerprint = fingerprint
        )
    }

    pub fn regression(self, message: &str) -> String {
        tf!(self.0, notice_text.regression, message = message)
    }

    pub fn resolved_and_fingerprint(self, resolved: &str, fingerprint: &str) -> String {
        tf!(
            self.0,
            notice_text.resolved_fingerprint,
            resolved = resolved,
            fingerprint = fingerprint
        )
    }

    pub fn critical_events(self, count: i64, message: &str) -> String {
        tf!(
            self.0,
            notice_text.n_critical,
            count = count,
            message = message
        )
    }

    pub fn of_type(self, kind: &str) -> String {
        tf!(self.0, notice_text.of_type, kind = kind)
    }

    pub fn probes_up(self) -> String {
        td_string!(self.0, notice_text.probes_up).to_owned()
    }

    pub fn probe_down(self, names: &str) -> String {
        tf!(self.0, notice_text.probe_down, names = names)
    }

    pub fn backup_failed(self) -> String {
        td_string!(self.0, notice_text.backup_failed).to_owned()
    }

    pub fn dead_letters(self, n: i64) -> String {
        match n {
            0 => td_string!(self.0, notice_text.no_dead_letters).to_owned(),
            n => tf!(self.0, alerts.n_dead_letters, count = n),
        }
    }

    pub fn ran_out(self, destination: &str) -> String {
        tf!(self.0, notice_text.ran_out, destination = destination)
    }

    pub fn error_rate(self, active: bool, rate: f64, minutes: i64) -> String {
        let rate = crate::components::format::decimal(self.0, rate, 1);
        if active {
            tf!(
                self.0,
                notice_text.error_rate,
                rate = rate,
                minutes = minutes
            )
        } else {
            tf!(
                self.0,
                notice_text.error_rate_back,
                rate = rate,
                minutes = minutes
            )
        }
    }

    pub fn errors_in_events(self, errors: i64, events: i64) -> String {
        tf!(
            self.0,
            notice_text.errors_in_events,
            errors = errors,
            events = events
        )
    }

    pub fn slo_entry(self, name: &str, value: Option<f64>, target: f64) -> String {
        let value = value
            .map(|v| crate::components::format::decimal(self.0, v, 3))
            .unwrap_or_else(|| "–".into());
        tf!(
            self.0,
            notice_text.slo_entry,
            name = name,
            value = value,
            target = target
        )
    }

    pub fn slos(self, missed: &[String]) -> String {
        if missed.is_empty() {
            td_string!(self.0, notice_text.slos_met).to_owned()
        } else {
            tf!(self.0, notice_text.slo_missed, list = missed.join(", "))
        }
    }

    pub fn last_30_days(self) -> String {
        td_string!(self.0, notice_text.last_30_days).to_owned()
    }

    /// Which budget burns: uptime or error rate.
    pub fn budget(self, uptime: bool) -> &'static str {
        if uptime {
            td_string!(self.0, slo.uptime)
        } else {
            td_string!(self.0, dash.error_rate)
        }
    }

    pub fn burn(self, active: bool, which: &str, burn: f64) -> String {
        if active {
            let burn = crate::components::format::decimal(self.0, burn, 1);
            tf!(self.0, notice_text.burn, which = which, burn = burn)
        } else {
            td_string!(self.0, notice_text.burn_normal).to_owned()
        }
    }

    pub fn burn_detail(self, failures: i64, checks: i64, errors: i64, events: i64) -> String {
        tf!(
            self.0,
            notice_text.burn_detail,
            failures = failures,
            checks = checks,
            errors = errors,
            events = events
        )
    }

    pub fn last_backup_failed(self) -> String {
        td_string!(self.0, notice_text.last_backup_failed).to_owned()
    }

    pub fn backup_age(self, hours: Option<i64>) -> String {
        match hours {
            Some(h) => tf!(self.0, notice_text.backup_age, hours = h),
            None => td_string!(self.0, notice_text.no_backup).to_owned(),
        }
    }

    pub fn backups_fresh(self) -> String {
        td_string!(self.0, notice_text.backups_fresh).to_owned()
    }

    pub fn quiet_for(self, kind: &str, minutes: i32) -> String {
        tf!(
            self.0,
            notice_text.quiet_for,
            kind = kind,
            minutes = minutes
        )
    }

    pub fn test_title(self, channel: &str) -> String {
        tf!(self.0, notice_text.test_title, channel = channel)
    }

    pub fn test_detail(self, actor: &str) -> String {
        tf!(self.0, notice_text.test_detail, actor = actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_read_in_the_instance_language() {
        assert_eq!(Texts(Locale::en).new_error("boom"), "New error: boom");
        assert_eq!(Texts(Locale::de).new_error("boom"), "Neuer Fehler: boom");
        assert_eq!(Texts(Locale::en).dead_letters(2), "2 dead letters");
        assert_eq!(
            Texts(Locale::de).error_rate(true, 12.34, 5),
            "Fehlerquote 12,3 % in den letzten 5 min"
        );
    }
}
