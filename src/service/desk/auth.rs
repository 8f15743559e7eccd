//! Who is asking, and what they may do.
//!
//! Three ways in: an API token (`Authorization: Bearer …`, from `[[server.tokens]]`), a
//! session cookie made by the login form (password checked against the user's Argon2
//! hash), or a trusted reverse proxy naming the user in `server.sso_header` — believed only
//! from the peer addresses in `server.sso_trusted_proxies` (see [`super::sso_gate`]). The
//! proxy's user gets the role `[[server.users]]` gives that name, and nothing if unlisted.
//! Sessions live in the store, by the hash of their token (see `desk::sessions`).
//!
//! Every state-changing request made with a session must carry the session's CSRF token
//! (form field `csrf` or header `X-CSRF-Token`); the cookie is also `SameSite=Strict`, so a
//! foreign page cannot even make the browser send it. Token requests need no CSRF token:
//! a browser never adds a bearer header on its own.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::fmt;
use std::time::Duration;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "erpsync_session";
/// The login form's double-submit cookie (there is no session to bind a token to yet).
pub const LOGIN_COOKIE: &str = "erpsync_login";
pub use super::limiter::{LOGIN_ATTEMPTS, LOGIN_WINDOW};

/// What a desk user may do. The roles are not a ladder: an approver confirms waivers but
/// does not work flags, so that the two people of a waiver have different duties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads the queue, flags, audit history and exports.
    Viewer,
    /// Reads, adds notes to customers and sets dispute-case statuses.
    Collector,
    /// Reads, works flags (acknowledge, resolve, waive, reopen) and adds notes.
    Mdm,
    /// Reads and approves waivers someone else proposed.
    Approver,
    /// Everything.
    Admin,
}

/// An action needing more than reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    /// Notes and dispute statuses (written back to the ERP).
    Collect,
    /// Acknowledge, resolve, waive, reopen.
    Review,
    /// Approve a proposed waiver.
    Approve,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Collector,
        Role::Mdm,
        Role::Approver,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Collector => "collector",
            Role::Mdm => "mdm",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// `None` for roles the desk does not know (e.g. `erp`, which may only post IDocs).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Viewer => p == Read,
            Role::Collector => matches!(p, Read | Collect),
            Role::Mdm => matches!(p, Read | Collect | Review),
            Role::Approver => matches!(p, Read | Approve),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Token,
    Session {
        id: String,
        csrf: String,
    },
    /// The trusted reverse proxy's header alone (no session yet). The user's role applies,
    /// but there is no CSRF token yet, so API posts are refused until a page started a
    /// session.
    Proxy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub via: Via,
}

impl Principal {
    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            _ => None,
        }
    }
}

/// A random token for session ids and CSRF tokens: two v4 UUIDs, 244 random bits from
/// the operating system's generator.
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares without stopping at the first differing byte, so response time does not
/// reveal how much of a guessed secret was right.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// An Argon2id PHC string (`$argon2id$v=19$…`) for `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `hash`. A malformed hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody knows: checked for unknown user names, so a login for a
/// name that does not exist takes as long as one that does.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, whole site.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_the_issue_lists_and_nothing_more() {
        use Permission::*;
        assert!(Role::Viewer.may(Read));
        assert!(!Role::Viewer.may(Collect) && !Role::Viewer.may(Review));
        assert!(Role::Collector.may(Collect) && !Role::Collector.may(Review));
        assert!(Role::Mdm.may(Review) && !Role::Mdm.may(Approve));
        assert!(Role::Approver.may(Approve) && !Role::Approver.may(Review));
        assert!([Read, Collect, Review, Approve]
            .into_iter()
            .all(|p| Role::Admin.may(p)));
        assert_eq!(Role::parse("erp"), None);
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("Geheim 密码").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "Geheim 密码"));
        assert!(!verify_password(&hash, "geheim 密码"));
        assert!(!verify_password("not a hash", "x"));
        assert_ne!(hash, hash_password("Geheim 密码").unwrap(), "salted");
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = "a=1; erpsync_session=abc; erpsync_session_x=no";
        assert_eq!(cookie(h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(h, "b"), None);
    }
}
