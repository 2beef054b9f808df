//! Building and running the HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::dashboard::kpi::KpiSettings;
use app::events::live::LiveHub;
use app::events::writer::{IngestWriter, WriterConfig};
use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::api;
use crate::config::Settings;
use crate::connections::{ConnectionLimits, Slots};
use crate::database::Database;
use crate::jobs::housekeeping::Housekeeping;
use crate::jobs::probes::{ProbeStats, ProbeWork};
use crate::jobs::recovery::Recovery;
use crate::outbound::Outbound;
use crate::security::{GuardState, Transport};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    /// `--metrics-listen`: `/metrics` alone, without a key.
    metrics_listener: Option<TcpListener>,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    router: Router,
    state: AppState,
    database: Database,
    tracker: TaskTracker,
    shutdown_timeout: Duration,
    connections: ConnectionLimits,
}

impl Application {
    /// Opens the database (migrating it), binds the listener (port 0 picks a
    /// free port), starts the background work and assembles the router.
    /// Serves nothing until run.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        // Installed before anything is recorded.
        crate::metrics::registry();
        let database = Database::open_waiting(
            &settings,
            std::time::Duration::from_secs(settings.database.db_wait),
        )
        .await?;
        let listener = TcpListener::bind(settings.http.listen)
            .await
            .with_context(|| format!("binding {}", settings.http.listen))?;
        let metrics_listener = match settings.http.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding --metrics-listen {addr}"))?,
            ),
            None => None,
        };
        let tls = load_tls(&settings).await?;
        let site = Arc::new(crate::site::Site::open(settings.http.site_root.as_deref())?);
        tracing::info!(site = %site.describe(), "web assets");
        let tracker = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let state = shared_state(
            &settings,
            site.leptos_root(),
            &database,
            listener.local_addr()?,
            &tracker,
            &shutdown,
        )
        .await?;
        app::probes::store::ensure_partitions(&database.pool, chrono::Utc::now())
            .await
            .map_err(|e| anyhow::anyhow!("creating probe result partitions: {e:?}"))?;
        let jobs = crate::database::jobs_pool(
            &database.pool,
            settings.database.db_max_connections.div_ceil(2),
        );
        start_probes(&settings, &jobs, &tracker, &shutdown)?;
        start_alerts(&settings, &state, &jobs, &tracker, &shutdown)?;

        let transport = Arc::new(settings.transport());
        let limits = crate::limits::Limits::from_settings(&settings);
        let per_ip = crate::limits::per_ip_config(&settings, transport.clone());
        tracker.spawn(crate::metrics::run_upkeep(shutdown.clone()));
        tracker.spawn(
            Housekeeping {
                pool: database.pool.clone(),
                sessions: state.sessions,
                auth_failures: state.auth_failures.clone(),
                limits: limits.clone(),
                per_ip: per_ip.as_ref().map(crate::limits::PerIpLimiter::of),
            }
            .run(shutdown),
        );
        let router = router(
            state.clone(),
            &settings,
            RouterParts {
                transport: transport.clone(),
                limits,
                per_ip,
                site,
            },
        );
        let connections = ConnectionLimits {
            header_read_timeout: Duration::from_secs(settings.http.header_read_timeout),
            slots: Slots::new(settings.http.max_connections_per_ip, transport),
        };
        Ok(Self {
            listener,
            metrics_listener,
            tls,
            router,
            state,
            database,
            tracker,
            shutdown_timeout: Duration::from_secs(settings.http.shutdown_timeout),
            connections,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Where `--metrics-listen` serves, when set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then drains and stops.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes: stops accepting, ends live streams and
    /// jobs, waits for in-flight requests (at most the shutdown timeout),
    /// then closes the database.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            metrics_listener,
            tls,
            router,
            state,
            database,
            tracker,
            shutdown_timeout,
            connections,
        } = self;
        let token = state.shutdown.clone();
        tracing::info!(addr = %listener.local_addr()?, https = tls.is_some(), "Leitstand is serving");
        if let Some(listener) = metrics_listener {
            tracing::info!(addr = %listener.local_addr()?, "serving /metrics");
            let app = Router::new()
                .route("/metrics", axum::routing::get(crate::metrics::metrics_open))
                .with_state(state.clone());
            let stop = token.clone();
            tracker.spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            });
        }

        let server = match tls {
            None => {
                crate::connections::accept(
                    listener,
                    router,
                    state.live.stats.clone(),
                    connections,
                    &tracker,
                    token.clone(),
                );
                None
            }
            Some(config) => {
                let listener = listener.into_std()?;
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                let serve_token = token.clone();
                tokio::spawn(async move {
                    serve_token.cancelled().await;
                    stopper.graceful_shutdown(None);
                });
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config).acceptor(
                    crate::connections::SlotAcceptor::new(connections.slots.clone()),
                );
                let mut server = axum_server::from_tcp(listener)?.acceptor(acceptor);
                server
                    .http_builder()
                    .http1()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(connections.header_read_timeout);
                Some(tokio::spawn(async move {
                    server
                        .handle(handle)
                        .serve(router.into_make_service_with_connect_info::<SocketAddr>())
                        .await
                }))
            }
        };

        stop.await;
        tracing::info!("shutting down");
        token.cancel();
        tracker.close();

        let drain = async {
            if let Some(server) = server {
                let _ = server.await;
            }
            tracker.wait().await;
        };
        if tokio::time::timeout(shutdown_timeout, drain).await.is_err() {
            tracing::warn!(
                seconds = shutdown_timeout.as_secs(),
                "requests still running after the shutdown timeout; stopping anyway"
            );
        }
        database.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The certificate and key when Leitstand serves HTTPS itself.
async fn load_tls(
    settings: &Settings,
) -> anyhow::Result<Option<axum_server::tls_rustls::RustlsConfig>> {
    let (Some(cert), Some(key)) = (&settings.http.tls_cert, &settings.http.tls_key) else {
        return Ok(None);
    };
    // One process-wide crypto provider; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .with_context(|| {
            format!(
                "loading TLS certificate {} and key {}",
                cert.display(),
                key.display()
            )
        })?;
    Ok(Some(config))
}

/// The state every request shares, with the background work it owns
/// (ingest writers, the live hub, the backup scheduler) started on `tracker`.
async fn shared_state(
    settings: &Settings,
    site_root: &std::path::Path,
    database: &Database,
    addr: SocketAddr,
    tracker: &TaskTracker,
    shutdown: &CancellationToken,
) -> anyhow::Result<AppState> {
    let leptos_options = LeptosOptions::builder()
        .output_name("leitstand")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let ingest = IngestWriter::start(
        database.pool.clone(),
        WriterConfig {
            writers: settings.database.ingest_writers,
            ..WriterConfig::default()
        },
        tracker,
        shutdown.clone(),
    );
    let live = LiveHub::start(database.pool.clone(), tracker, shutdown.clone()).await?;
    let backups = Arc::new(settings.backup_settings());
    tracker.spawn(app::backups::store::run_scheduler(
        database.pool.clone(),
        backups.clone(),
        shutdown.clone(),
    ));
    let weights = &settings.kpi.readiness_weights;
    Ok(AppState::new(app::state::Shared {
        leptos_options,
        pool: database.pool.clone(),
        kpi: Arc::new(KpiSettings {
            activity_target: settings.kpi.activity_target,
            weights: [weights[0], weights[1], weights[2]],
            time_zone: settings.kpi.time_zone.name().to_owned(),
        }),
        keys: Arc::default(),
        auth_failures: Arc::new(app::auth::limiter::FailureLimiter::new(
            settings.limits.auth_failures_per_minute,
        )),
        sessions: app::auth::store::SessionPolicy {
            idle: chrono::Duration::hours(i64::from(settings.sessions.session_idle_hours)),
            absolute: chrono::Duration::days(i64::from(settings.sessions.session_max_days)),
        },
        ingest,
        live,
        backups,
        shutdown: shutdown.clone(),
        started_at: chrono::Utc::now(),
        status_cache: Arc::default(),
        public_url: settings.http.public_url.clone(),
        public_status: settings.probes.public_status,
        secrets: Arc::new(crate::secret_key::load(settings)?),
        alerting: Arc::new(app::state::AlertConfig {
            schedule: app::alerts::schedule::parse_schedule(&settings.alerts.delivery_schedule)
                .map_err(|e| anyhow::anyhow!("--delivery-schedule: {e}"))?,
            base_url: settings
                .http
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}")),
            retention: settings.retention_policy()?,
            language: settings.http.default_language.into(),
        }),
        default_language: settings.http.default_language.into(),
    }))
}

/// Starts the probe runner (the lease scheduler over due checks) with the
/// shared outbound client and the recovery actions of the config file.
fn start_probes(
    settings: &Settings,
    pool: &sqlx::PgPool,
    tracker: &TaskTracker,
    shutdown: &CancellationToken,
) -> anyhow::Result<Arc<ProbeStats>> {
    let extra_roots: Vec<&std::path::Path> =
        settings.probes.probe_ca.as_deref().into_iter().collect();
    let outbound = Arc::new(Outbound::new(
        &extra_roots,
        settings.probes.probe_concurrency,
    )?);
    let recovery = Arc::new(Recovery::new(pool.clone(), &settings.recovery));
    let stats = Arc::new(ProbeStats::default());
    let work = Arc::new(ProbeWork::new(
        pool.clone(),
        outbound,
        recovery,
        stats.clone(),
    ));
    tracker.spawn(crate::jobs::lease::run(
        work,
        settings.probes.probe_concurrency,
        Arc::new(tokio::sync::Notify::new()),
        tracker.clone(),
        shutdown.clone(),
    ));
    Ok(stats)
}

/// Starts the alert machinery: delivery workers (the lease scheduler over
/// the outbox, woken by `NOTIFY`), the alert worker (signals and the
/// tick), event subscriptions and the daily retention run.
fn start_alerts(
    settings: &Settings,
    state: &AppState,
    pool: &sqlx::PgPool,
    tracker: &TaskTracker,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let pool = pool.clone();
    let guard = crate::outbound::AddressGuard::new(crate::outbound::parse_allow(
        &settings.alerts.outbound_allow,
    )?);
    let deliverer = Arc::new(crate::outbound::Deliverer::new(guard)?);
    let work = Arc::new(crate::jobs::deliveries::DeliveryWork::new(
        pool.clone(),
        state.secrets.clone(),
        deliverer,
        state.alerting.schedule.clone(),
        state.default_language,
    ));
    let wake = Arc::new(tokio::sync::Notify::new());
    tracker.spawn(crate::jobs::listen(
        pool.clone(),
        app::alerts::store::DELIVERIES_CHANNEL,
        wake.clone(),
        shutdown.clone(),
    ));
    tracker.spawn(crate::jobs::lease::run(
        work,
        settings.alerts.delivery_concurrency,
        wake,
        tracker.clone(),
        shutdown.clone(),
    ));
    let worker = Arc::new(crate::jobs::alerts::AlertWorker {
        pool: pool.clone(),
        dispatch: state.alerting.dispatch(),
        backup_warning: chrono::Duration::hours(26),
        tick: Duration::from_millis(settings.alerts.alert_tick_ms.max(100)),
        status: state.status_cache.clone(),
        started_at: state.started_at,
    });
    tracker.spawn(worker.run(shutdown.clone()));
    tracker.spawn(crate::jobs::subscriptions::run(
        pool.clone(),
        state.alerting.dispatch().first_delay,
        shutdown.clone(),
    ));
    if let Some(at) = settings.retention_time()? {
        tracker.spawn(
            crate::jobs::retention::RetentionJob {
                pool,
                defaults: state.alerting.retention,
                at,
                time_zone: settings.kpi.time_zone,
            }
            .run(shutdown.clone()),
        );
    }
    Ok(())
}

/// What the router needs besides the state.
pub struct RouterParts {
    pub transport: Arc<Transport>,
    pub limits: Arc<crate::limits::Limits>,
    pub per_ip: Option<Arc<crate::limits::PerIpConfig>>,
    /// The web assets (built in, or a directory).
    pub site: Arc<crate::site::Site>,
}

/// The whole HTTP surface.
pub fn router(state: AppState, settings: &Settings, parts: RouterParts) -> Router {
    let routes = generate_route_list(App);
    let request_timeout = || {
        TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.http.request_timeout),
        )
    };

    // Pages, server functions and the REST API: request timeout (which
    // bounds reading the body too), and the per-address rate limit when it
    // is on.
    let mut timed = Router::new()
        .merge(api::router())
        .leptos_routes_with_context(&state, routes, || (), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(crate::site::fallback)
        .layer(request_timeout());
    if let Some(config) = parts.per_ip {
        timed = timed
            .layer(tower_governor::GovernorLayer::new(config))
            .layer(axum::middleware::map_response(crate::limits::json_429));
    }
    // Ingest is limited per API key inside its handler.
    let ingest = api::ingest::router()
        .merge(api::sentry::router())
        .layer(request_timeout());

    // Backups move whole files: a long timeout of their own; uploads are
    // bounded in size and rate by their handlers.
    let backups = api::backup_router().layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(6 * 3600),
    ));

    Router::new()
        .merge(timed)
        .merge(ingest)
        .merge(backups)
        .merge(api::streaming_router())
        .layer(axum::Extension(parts.limits))
        .layer(axum::Extension(parts.site))
        .layer(axum::Extension(Arc::new(crate::metrics::MetricsAccess {
            allow: crate::metrics::parse_allow(&settings.http.metrics_allow).unwrap_or_default(),
        })))
        .layer(axum::Extension(crate::api::backups::UploadLimits::new(
            settings
                .backups
                .backup_upload_max_mib
                .saturating_mul(1024 * 1024),
        )))
        .layer(axum::middleware::from_fn_with_state(
            GuardState {
                app: state.clone(),
                transport: parts.transport,
            },
            crate::security::guard,
        ))
        .layer(axum::middleware::from_fn(
            crate::security::refuse_ambiguous_paths,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(make_span)
                        .on_request(())
                        .on_response(on_response)
                        .on_failure(()),
                )
                .layer(axum::middleware::from_fn(crate::metrics::track_http))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(CompressionLayer::new())
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("x-content-type-options"),
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("x-frame-options"),
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("referrer-policy"),
                    HeaderValue::from_static("strict-origin-when-cross-origin"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("permissions-policy"),
                    HeaderValue::from_static(crate::security::PERMISSIONS_POLICY),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("content-security-policy"),
                    HeaderValue::from_static(crate::security::DEFAULT_CSP),
                )),
        )
        .with_state(state)
}

fn is_probe_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The request's span: method, the matched route's template (not the raw
/// path, which may carry ids and user data), the request id, and the
/// client address, which the security layer records once it knows it.
fn make_span(req: &Request<Body>) -> Span {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(fallback)", MatchedPath::as_str);
    let client = tracing::field::Empty;
    // A span prints nothing by itself; its level only decides under which
    // filters it exists. At ERROR it exists under every filter, so an error
    // logged during a request always carries the request's id, even with
    // `RUST_LOG=error`. Health probes stay at DEBUG.
    if is_probe_path(req.uri().path()) {
        tracing::debug_span!("request", method = %req.method(), route, request_id, client)
    } else {
        tracing::error_span!("request", method = %req.method(), route, request_id, client)
    }
}

fn on_response<B>(res: &Response<B>, latency: Duration, span: &Span) {
    let status = res.status().as_u16();
    let ms = latency.as_secs_f64() * 1000.0;
    if span
        .metadata()
        .is_some_and(|m| *m.level() == tracing::Level::DEBUG)
    {
        tracing::debug!(status, ms, "response");
    } else if status >= 500 {
        tracing::warn!(status, ms, "response");
    } else {
        tracing::info!(status, ms, "response");
    }
}

/// Resolves at SIGTERM or SIGINT (Ctrl-C). The handlers are installed when
/// this is called, not when the future is first polled: a signal arriving
/// after the first request was answered must stop the server cleanly
/// rather than fall to the default action, which kills it on the spot
/// (leaving an embedded PostgreSQL running).
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            let (mut terminate, mut interrupt) = match (terminate, interrupt) {
                (Ok(t), Ok(i)) => (t, i),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM and SIGINT");
                    return std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}
