//! The dashboard's data: the JSON of `GET /api/v1/dashboard` and what the
//! page renders. Percentages are 0–100 and unrounded; the UI rounds.

use serde::{Deserialize, Serialize};

use super::window::Range;

/// Query of the dashboard: range and optional service filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    pub range: Range,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub range: Range,
    pub service: Option<String>,
    pub generated_at: String,
    /// Start and end of the range (RFC 3339).
    pub window: Window,
    pub kpis: Kpis,
    /// The same KPIs for the period before, for trends.
    pub previous: Kpis,
    pub timeline: Vec<TimelineDay>,
    pub errors: ErrorAnalysis,
    pub maturity: Vec<MaturityRow>,
    pub settings: KpiSettingsView,
    /// Services known (for the filter), by slug.
    pub services: Vec<String>,
    /// No events stored at all (show onboarding instead of zeros).
    pub empty: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Window {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Kpis {
    pub readiness: f64,
    pub quality: f64,
    pub stability: f64,
    pub activity: f64,
    pub usage_24h: i64,
    pub error_rate: f64,
    pub events: i64,
    pub errors: i64,
    pub criticals: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineDay {
    pub date: String,
    pub events: i64,
    pub errors: i64,
    pub fixes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TopSource {
    pub service: String,
    pub feature: String,
    pub errors: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorAnalysis {
    pub top_sources: Vec<TopSource>,
    pub open: i64,
    pub fix_rate: f64,
    pub fixes_per_week: i64,
    pub mttr_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MaturityRow {
    pub service: String,
    pub feature: String,
    pub events: i64,
    pub errors: i64,
    pub error_rate: f64,
    pub level: u8,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KpiSettingsView {
    pub activity_target: f64,
    pub weights: [f64; 3],
    pub time_zone: String,
}

/// What the Dashboard page gets from the server: the figures as HTML the
/// server rendered (`dashboard::figures`), and the data of the parts that
/// act in the browser (the service filter, the maturity table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardParts {
    pub range: Range,
    pub service: Option<String>,
    pub generated_at: String,
    /// Services known (for the filter), by slug.
    pub services: Vec<String>,
    /// No events stored at all (show onboarding instead of zeros).
    pub empty: bool,
    pub maturity: Vec<MaturityRow>,
    /// The key figures, the timeline and the error analysis (HTML).
    pub figures: String,
    /// The side column's widgets above the live list (HTML).
    pub side: String,
}

/// A server-rendered page carries the parts for hydration without their
/// HTML: its DOM holds that already (`resource::PageJson`).
impl crate::resource::HoldsHtml for DashboardParts {
    fn without_html(&self) -> Self {
        Self {
            range: self.range,
            service: self.service.clone(),
            generated_at: self.generated_at.clone(),
            services: self.services.clone(),
            empty: self.empty,
            maturity: self.maturity.clone(),
            figures: String::new(),
            side: String::new(),
        }
    }
}

/// What the onboarding panel needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnboardingInfo {
    /// Base URL the browser reached Leitstand at, for the curl example.
    pub origin: String,
    /// Whether any API key exists (then none is created from the page).
    pub keys_exist: bool,
}
