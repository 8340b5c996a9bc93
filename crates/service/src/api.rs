//! The HTTP API (axum): `GET /api/rooms`, `GET /api/rooms/{user}`, `POST /api/rooms`
//! (`{"user": "..."}`), `DELETE /api/rooms/{user}`, `GET /healthz`, `GET /metrics`, and whatever
//! routes outputs add.
//!
//! With a token configured (required for any non-loopback address), every route but `/healthz`
//! asks for `Authorization: Bearer <token>`, compared in constant time. Every error is a JSON
//! body `{"error": {"code": "...", "message": "..."}}` with a 4xx (or 5xx) status: a bad request
//! never crashes anything.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::registry::{RegistryError, normalize_user};
use crate::service::{AddOutcome, RoomError, ServiceInner};

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024;

/// An API error: a status, a short code and a message, as JSON.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ttlive\""),
            );
        }
        r
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::InvalidUser(e) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_user", e.to_string())
            }
            e @ RegistryError::TooManyRooms { .. } => {
                ApiError::new(StatusCode::CONFLICT, "too_many_rooms", e.to_string())
            }
            e => {
                tracing::error!(error = %e, "state file");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "state_not_saved",
                    format!("{e}; nothing was changed"),
                )
            }
        }
    }
}

impl From<RoomError> for ApiError {
    fn from(e: RoomError) -> Self {
        match e {
            RoomError::Registry(e) => e.into(),
            e => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                e.to_string(),
            ),
        }
    }
}

/// The token's digest: comparing digests of equal length in constant time hides the token's
/// length too.
#[derive(Clone)]
pub(crate) struct TokenCheck(Option<[u8; 32]>);

impl TokenCheck {
    pub(crate) fn new(token: Option<&str>) -> Self {
        TokenCheck(token.filter(|t| !t.is_empty()).map(digest))
    }

    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(want) = &self.0 else { return true };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            });
        match given {
            Some(t) => bool::from(digest(&t).ct_eq(want)),
            None => false,
        }
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

type AppState = Arc<ServiceInner>;

/// The router: the service's routes, `extra` (outputs' routes) behind the same token, and
/// `/healthz` open.
pub(crate) fn router(state: AppState, extra: Vec<Router>) -> Router {
    let mut authed: Router = Router::new()
        .route("/api/rooms", get(list_rooms).post(add_room))
        .route("/api/rooms/{user}", get(get_room).delete(remove_room))
        .route("/metrics", get(metrics))
        .with_state(state.clone());
    for r in extra {
        authed = authed.merge(r);
    }
    let open: Router = Router::new()
        .route("/healthz", get(healthz))
        .with_state(state.clone());
    authed
        .route_layer(middleware::from_fn_with_state(state, auth))
        .merge(open)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(count))
}

async fn auth(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !s.token.allows(req.headers()) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this route needs `Authorization: Bearer <token>` with the service's token",
        )
        .into_response();
    }
    next.run(req).await
}

/// A bounded label for a request's route.
fn route_label(path: &str) -> &'static str {
    match path {
        "/api/rooms" => "/api/rooms",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        p if p.starts_with("/api/rooms/") => "/api/rooms/{user}",
        _ => "other",
    }
}

async fn count(req: Request, next: Next) -> Response {
    let route = route_label(req.uri().path());
    let r = next.run(req).await;
    metrics::counter!(
        "ttlive_api_requests_total",
        "route" => route,
        "status" => r.status().as_u16().to_string()
    )
    .increment(1);
    r
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

async fn healthz(State(s): State<AppState>) -> Response {
    if s.shutting_down.load(Ordering::SeqCst) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "shutting_down"})),
        )
            .into_response()
    } else {
        axum::Json(json!({"status": "ok", "rooms": s.rooms.len()})).into_response()
    }
}

async fn list_rooms(State(s): State<AppState>) -> Response {
    axum::Json(json!({"rooms": s.snapshots()})).into_response()
}

async fn get_room(
    State(s): State<AppState>,
    Path(user): Path<String>,
) -> Result<Response, ApiError> {
    let user = normalize_user(&user)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_user", e.to_string()))?;
    match s.rooms.status(&user) {
        Some(st) => Ok(axum::Json(st.snapshot()).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_followed",
            format!("@{user} is not followed"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddRoom {
    user: String,
}

async fn add_room(
    State(s): State<AppState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "bad_body"
        };
        ApiError::new(status, code, e.body_text())
    })?;
    let req: AddRoom = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("expected {{\"user\": \"...\"}}: {e}"),
        )
    })?;
    let (outcome, snapshot) = s.add_room(&req.user).await?;
    let status = match outcome {
        AddOutcome::Added => StatusCode::CREATED,
        AddOutcome::AlreadyFollowed => StatusCode::OK,
    };
    Ok((status, axum::Json(snapshot)).into_response())
}

async fn remove_room(
    State(s): State<AppState>,
    Path(user): Path<String>,
) -> Result<Response, ApiError> {
    let user = normalize_user(&user)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_user", e.to_string()))?;
    if s.remove_room(&user).await? {
        Ok(axum::Json(json!({"removed": user})).into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_followed",
            format!("@{user} is not followed"),
        ))
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    let body = s.render_metrics();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn the_token_is_checked_whole() {
        let t = TokenCheck::new(Some("s3cret"));
        assert!(t.allows(&headers("Bearer s3cret")));
        assert!(t.allows(&headers("bearer   s3cret ")));
        assert!(!t.allows(&headers("Bearer s3cre")));
        assert!(!t.allows(&headers("Bearer s3cret2")));
        assert!(!t.allows(&headers("Basic s3cret")));
        assert!(!t.allows(&HeaderMap::new()));
        assert!(TokenCheck::new(None).allows(&HeaderMap::new()));
    }
}
