//! OAuth 2.0 client credentials (RFC 6749 §4.4): a bearer token from the token endpoint,
//! kept until shortly before it expires and shared by every request of the client.

use super::ErpError;
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use url::Url;

/// A token is fetched anew when less than this (or a tenth of its lifetime, if more)
/// remains, so a request never leaves with a token that expires on the way.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// The longest a token is kept, whatever `expires_in` says: a day. A server's lifetime of
/// `u64::MAX` seconds would otherwise overflow the clock.
const MAX_LIFETIME: Duration = Duration::from_secs(86_400);

pub struct TokenSource {
    token_url: Url,
    client_id: String,
    client_secret: SecretString,
    scope: Option<String>,
    max_response_bytes: u64,
    cached: Mutex<Option<(SecretString, Instant)>>,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    /// Seconds; a server that gives none gets an hour, the common default.
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenSource {
    pub fn new(
        token_url: Url,
        client_id: String,
        client_secret: SecretString,
        scope: Option<String>,
        max_response_bytes: u64,
    ) -> Self {
        TokenSource {
            token_url,
            client_id,
            client_secret,
            scope,
            max_response_bytes,
            cached: Mutex::new(None),
        }
    }

    /// The current token, fetched when there is none or it is about to expire.
    pub async fn token(&self, http: &reqwest::Client) -> Result<SecretString, ErpError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, refresh_at)) = cached.as_ref() {
            if Instant::now() < *refresh_at {
                return Ok(token.clone());
            }
        }
        let (token, lifetime) = self.fetch(http).await?;
        let refresh_at = refresh_at(Instant::now(), lifetime);
        *cached = Some((token.clone(), refresh_at));
        Ok(token)
    }

    /// Forgets the cached token (the ERP refused it), so the next request fetches one.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<(SecretString, Duration), ErpError> {
        let mut form = vec![("grant_type", "client_credentials".to_string())];
        if let Some(s) = &self.scope {
            form.push(("scope", s.clone()));
        }
        let what = "OAuth token";
        let url = self.token_url.to_string();
        // Client authentication with HTTP Basic, which every server must accept (§2.3.1).
        let resp = http
            .post(self.token_url.clone())
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| ErpError::Unreachable {
                what: what.into(),
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let status = resp.status();
        let body =
            super::body::read_limited(resp, self.max_response_bytes, what, &self.token_url, |e| {
                ErpError::Unreachable {
                    what: what.into(),
                    url: url.clone(),
                    reason: e.to_string(),
                }
            })
            .await?;
        if !status.is_success() {
            // The body names the OAuth error (`invalid_client`, ...); it holds no secret.
            let text = crate::erp::error_text::excerpt(&body).unwrap_or_default();
            return Err(ErpError::Status {
                what: what.into(),
                url,
                status: status.as_u16(),
                code: String::new(),
                message: text,
                retry_after: None,
            });
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|e| ErpError::Malformed {
                what: what.into(),
                url: url.clone(),
                reason: format!("not a token answer: {e}"),
            })?;
        if answer
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            return Err(ErpError::Malformed {
                what: what.into(),
                url,
                reason: "the token is not a bearer token".into(),
            });
        }
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        tracing::info!(expires_in_s = lifetime.as_secs(), "OAuth token fetched");
        Ok((SecretString::from(answer.access_token), lifetime))
    }
}

/// When a token of `lifetime` fetched at `now` is fetched anew: before it expires by the
/// margin, and never later than [`MAX_LIFETIME`] — whatever the server claimed.
fn refresh_at(now: Instant, lifetime: Duration) -> Instant {
    let lifetime = lifetime.min(MAX_LIFETIME);
    let margin = REFRESH_MARGIN.max(lifetime / 10);
    now.checked_add(lifetime.saturating_sub(margin))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_expires_in_is_clamped_not_a_panic() {
        let now = Instant::now();
        let at = refresh_at(now, Duration::from_secs(u64::MAX));
        assert!(at > now && at <= now + MAX_LIFETIME);
        assert_eq!(
            refresh_at(now, Duration::from_secs(3600)),
            now + Duration::from_secs(3600 - 360)
        );
        assert_eq!(refresh_at(now, Duration::from_secs(10)), now);
    }
}
