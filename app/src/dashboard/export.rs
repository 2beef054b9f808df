//! Export of the dashboard as CSV: one table with a `section` column
//! (kpi, timeline, top_source, maturity) so a spreadsheet can filter it.

use super::types::Dashboard;

const HEADER: &str =
    "section,name,date,service,feature,events,errors,fixes,error_rate,level,label,value";

fn field(s: &str) -> String {
    // Quote when needed; neutralise leading characters spreadsheets execute.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn to_csv(d: &Dashboard) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    let mut row = |cols: [String; 12]| {
        out.push_str(&cols.join(","));
        out.push('\n');
    };
    let e = String::new;
    let k = &d.kpis;
    for (name, value) in [
        ("readiness", k.readiness.to_string()),
        ("quality", k.quality.to_string()),
        ("stability", k.stability.to_string()),
        ("activity", k.activity.to_string()),
        ("usage_24h", k.usage_24h.to_string()),
        ("error_rate", k.error_rate.to_string()),
        ("events", k.events.to_string()),
        ("errors", k.errors.to_string()),
        ("open_errors", d.errors.open.to_string()),
        ("fix_rate", d.errors.fix_rate.to_string()),
        ("fixes_per_week", d.errors.fixes_per_week.to_string()),
        (
            "mttr_seconds",
            d.errors
                .mttr_seconds
                .map(|m| m.to_string())
                .unwrap_or_default(),
        ),
    ] {
        row([
            "kpi".into(),
            name.into(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            value,
        ]);
    }
    for t in &d.timeline {
        row([
            "timeline".into(),
            e(),
            t.date.clone(),
            e(),
            e(),
            t.events.to_string(),
            t.errors.to_string(),
            t.fixes.to_string(),
            e(),
            e(),
            e(),
            e(),
        ]);
    }
    for s in &d.errors.top_sources {
        row([
            "top_source".into(),
            e(),
            e(),
            field(&s.service),
            field(&s.feature),
            e(),
            s.errors.to_string(),
            e(),
            e(),
            e(),
            e(),
            e(),
        ]);
    }
    for m in &d.maturity {
        row([
            "maturity".into(),
            e(),
            e(),
            field(&m.service),
            field(&m.feature),
            m.events.to_string(),
            m.errors.to_string(),
            e(),
            m.error_rate.to_string(),
            m.level.to_string(),
            field(&m.label),
            e(),
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(field("checkout"), "checkout");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
    }
}
