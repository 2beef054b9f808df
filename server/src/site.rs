//! What answers when no route matched, decided by the path's area: files
//! for the static area (precompressed variants when the client takes
//! them, a plain 404 otherwise; the service worker filled in with the
//! build, see `pwa.rs`), the JSON error for the machine interface,
//! and the server-rendered app (its not-found page, behind the session
//! guard) for everything else. Nothing outside the page area ever renders
//! the app.

use app::state::AppState;
use app::{error::AppError, shell};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::api::error::ApiError;
use crate::security::paths::{Area, classify};

pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    match classify(req.uri().path()) {
        Area::Static => match req.uri().path() {
            crate::pwa::SERVICE_WORKER if matches!(*req.method(), Method::GET | Method::HEAD) => {
                crate::pwa::service_worker(std::path::Path::new(&*state.leptos_options.site_root))
                    .await
            }
            "/offline.html" => crate::pwa::offline_page(static_file(&state, req).await),
            _ => static_file(&state, req).await,
        },
        Area::Api | Area::Rpc | Area::Health => {
            ApiError::from(AppError::NotFound("a route for this path".into())).into_response()
        }
        Area::AuthPage | Area::Page | Area::PublicPage => {
            let render = leptos_axum::file_and_error_handler::<AppState, _>(shell);
            render(req.uri().clone(), State(state), req).await
        }
    }
}

async fn static_file(state: &AppState, req: Request) -> Response {
    let files = ServeDir::new(&*state.leptos_options.site_root)
        .precompressed_br()
        .precompressed_gzip();
    match files.oneshot(req).await {
        Ok(res) if res.status() == StatusCode::NOT_FOUND => not_found(),
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found",
    )
        .into_response()
}
