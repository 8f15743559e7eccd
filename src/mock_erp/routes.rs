//! Which handler answers which path. The top of the module graph: it imports the handlers,
//! and nothing below imports it.

use super::odata_handler::odata_handler;
use super::state::{lock, State};
use super::{batch, dynamics, journal_entry, oauth, soap};
use crate::erp::soap::{dispute_case, journal_entry as je};
use axum::extract::State as AxState;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/mock/writes", get(writes_handler))
        .route(oauth::TOKEN_PATH, post(oauth::token))
        .route(dispute_case::SERVICE_PATH, post(soap::handle))
        .route(
            "/sap/opu/odata/sap/API_BUSINESS_PARTNER/$batch",
            post(batch::handle),
        )
        .route(je::SERVICE_PATH, post(journal_entry::handle))
        .route("/data", get(dynamics::handle))
        .route("/data/", get(dynamics::handle))
        .route("/data/{*rest}", get(dynamics::handle))
        .fallback(odata_handler)
        .with_state(state)
}

async fn writes_handler(AxState(st): AxState<Arc<State>>) -> Response {
    let writes = lock(&st.writes).clone();
    axum::Json(writes).into_response()
}
