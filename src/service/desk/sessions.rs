//! Review-desk sessions, kept in the store (see `store::sessions`): a random token in the
//! `HttpOnly` cookie, its SHA-256 in the store. The session's CSRF token is derived from the
//! session token by another hash, so nothing in the store lets anyone act as the user.
//!
//! A session ends `session_lifetime` after login, or `session_idle_minutes` after its last
//! request, whichever comes first.

use super::auth::{random_token, Principal, Role, Via};
use crate::store::{SharedStore, StoreError, StoredSession};
use chrono::Utc;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Last-use stamps closer together than this are not written again: a page and its
/// script's API calls would otherwise write the store on every request.
const TOUCH_EVERY: Duration = Duration::from_secs(15);

pub struct Sessions {
    store: SharedStore,
    lifetime: Duration,
    idle: Duration,
}

/// The store's key for a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token of a session: tied to it, unguessable without the session token, and
/// not derivable from what the store holds.
fn csrf_of(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"erpsync desk csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Sessions {
    pub fn new(store: SharedStore, lifetime: Duration, idle: Duration) -> Sessions {
        Sessions {
            store,
            lifetime,
            idle,
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Starts a session; returns its token (for the cookie) and CSRF token.
    pub async fn create(&self, user: &str, role: Role) -> Result<(String, String), StoreError> {
        let token = random_token();
        let now = Utc::now();
        let session = StoredSession {
            user: user.to_string(),
            role: role.as_str().to_string(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono_of(self.lifetime),
        };
        self.store
            .session_create(&token_hash(&token), &session, now - chrono_of(self.idle))
            .await?;
        let csrf = csrf_of(&token);
        Ok((token, csrf))
    }

    /// The live session of `token`, its last use moved to now.
    pub async fn get(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let now = Utc::now();
        let hash = token_hash(token);
        let Some(s) = self
            .store
            .session_get(&hash, now, now - chrono_of(self.idle))
            .await?
        else {
            return Ok(None);
        };
        let Some(role) = Role::parse(&s.role) else {
            return Ok(None);
        };
        if now - s.last_seen_at >= chrono_of(TOUCH_EVERY) {
            self.store.session_touch(&hash, now).await?;
        }
        Ok(Some(Principal {
            name: s.user,
            role,
            via: Via::Session {
                id: token.to_string(),
                csrf: csrf_of(token),
            },
        }))
    }

    pub async fn remove(&self, token: &str) -> Result<(), StoreError> {
        self.store.session_delete(&token_hash(token)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_key_and_the_csrf_token_differ_and_neither_is_the_token() {
        let t = random_token();
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(token_hash(&t), csrf_of(&t));
        assert!(!token_hash(&t).contains(&t) && !csrf_of(&t).contains(&t));
        assert_eq!(csrf_of(&t), csrf_of(&t));
    }
}
