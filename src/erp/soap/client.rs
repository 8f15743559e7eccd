//! The SOAP client: posts an enterprise-service message to a path on the ERP host and
//! hands back the answer whatever its HTTP status (a SOAP fault arrives as HTTP 500 with
//! the fault in the body). SAP's SOAP runtime uses no CSRF token.
//!
//! It rides on the OData client's session (its logon, cookies, TLS setup and in-flight
//! limit): SAP binds sessions per system and user, and both talk to the same system.

use crate::erp::odata::{ErpError, ODataClient};

/// A SOAP answer: the HTTP status and the body as text.
#[derive(Debug, Clone)]
pub struct SoapAnswer {
    pub status: u16,
    pub body: String,
}

#[derive(Clone)]
pub struct SoapClient {
    session: ODataClient,
}

impl SoapClient {
    pub fn new(session: ODataClient) -> Self {
        SoapClient { session }
    }

    /// Posts `body` to `path` on the ERP host (with `sap-client`) as `soap_action`.
    pub async fn call(
        &self,
        what: &str,
        path: &str,
        soap_action: &str,
        body: String,
    ) -> Result<SoapAnswer, ErpError> {
        let url = self.session.host_url(path);
        let resp = self
            .session
            .post_in_session(
                what,
                &url,
                &[
                    ("Content-Type", "text/xml; charset=utf-8"),
                    ("SOAPAction", soap_action),
                ],
                body,
            )
            .await?;
        Ok(SoapAnswer {
            status: resp.status.as_u16(),
            body: String::from_utf8_lossy(&resp.body).into_owned(),
        })
    }
}
