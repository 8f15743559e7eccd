//! Writes in the client's session: the CSRF-token handshake, JSON writes and `$batch`
//! posts, and the plain POST the SOAP client sends through the same session.

use super::{count_request, describe_reqwest, redact, ODataClient, Write, WriteResponse};
use crate::erp::odata::query::with_sap_client;
use crate::erp::ErpError;
use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

impl ODataClient {
    async fn csrf_token(&self, service_root: &Url, refresh: bool) -> Result<String, ErpError> {
        let mut tokens = self.csrf.lock().await;
        if !refresh {
            if let Some(t) = tokens.get(service_root.as_str()) {
                return Ok(t.clone());
            }
        }
        let url = with_sap_client(service_root.clone(), self.sap_client.as_deref());
        let mut headers = HeaderMap::new();
        headers.insert("x-csrf-token", HeaderValue::from_static("Fetch"));
        let req = self
            .authorize(self.http.get(url.clone()))
            .await?
            .header("Accept", "application/json")
            .headers(headers);
        let permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| ErpError::Setup("the HTTP client is shutting down".into()))?;
        let resp = req.send().await.inspect_err(|_| count_request(None));
        drop(permit);
        if let Ok(r) = &resp {
            count_request(Some(r.status()));
        }
        let resp = resp.map_err(|e| ErpError::Unreachable {
            what: "CSRF token".into(),
            url: redact(&url),
            reason: describe_reqwest(&e),
        })?;
        let status = resp.status();
        let token = resp
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match token {
            Some(t) if status.is_success() && !t.eq_ignore_ascii_case("required") => {
                tokens.insert(service_root.to_string(), t.clone());
                Ok(t)
            }
            _ => Err(ErpError::Status {
                what: "CSRF token".into(),
                url: redact(&url),
                status: status.as_u16(),
                code: String::new(),
                message: "the ERP did not hand out a CSRF token".into(),
                retry_after: None,
            }),
        }
    }

    /// A write (POST/PUT/PATCH/MERGE) with the CSRF token of this session. On
    /// `403 x-csrf-token: Required` (the token expired with its session) the token is
    /// fetched anew once and the write repeated.
    pub async fn write(
        &self,
        what: &str,
        service_root: &Url,
        write: &Write<'_>,
    ) -> Result<WriteResponse, ErpError> {
        let mut refreshed = false;
        loop {
            let token = self.csrf_token(service_root, refreshed).await?;
            let mut req = self
                .authorize(self.http.request(write.method.clone(), write.url.clone()))
                .await?
                .header("Accept", "application/json")
                .header("x-csrf-token", token)
                .json(write.body);
            if let Some(etag) = write.if_match {
                req = req.header("If-Match", etag);
            }
            for (k, v) in &write.headers {
                req = req.header(*k, v);
            }
            match self.send(what, write.url, req).await {
                Err(ErpError::Status { status: 403, .. }) if !refreshed => {
                    tracing::info!(target_set = what, "CSRF token refused, fetching a new one");
                    refreshed = true;
                }
                other => return other,
            }
        }
    }

    /// A POST of a body that is not JSON (an OData `$batch`, multipart/mixed) with the
    /// session's CSRF token, fetched anew once like [`ODataClient::write`]. Not retried
    /// here: the caller decides what an unknown outcome means.
    pub async fn post_raw(
        &self,
        what: &str,
        service_root: &Url,
        url: &Url,
        content_type: &str,
        body: &str,
    ) -> Result<WriteResponse, ErpError> {
        let mut refreshed = false;
        loop {
            let token = self.csrf_token(service_root, refreshed).await?;
            let req = self
                .authorize(self.http.post(url.clone()))
                .await?
                .header("Accept", "multipart/mixed")
                .header("Content-Type", content_type)
                .header("x-csrf-token", token)
                .body(body.to_string());
            match self.send(what, url, req).await {
                Err(ErpError::Status { status: 403, .. }) if !refreshed => refreshed = true,
                other => return other,
            }
        }
    }

    /// A POST in this session without a CSRF token, answered whatever its status (only
    /// transport failures are errors): for the SOAP client, which shares the session since
    /// SAP binds sessions per system and user, and whose faults arrive as HTTP 500.
    pub(crate) async fn post_in_session(
        &self,
        what: &str,
        url: &Url,
        headers: &[(&'static str, &str)],
        body: String,
    ) -> Result<WriteResponse, ErpError> {
        let mut req = self.authorize(self.http.post(url.clone())).await?;
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send_raw(what, url, req.body(body)).await
    }
}
