//! Review-desk sessions, by the SHA-256 of their token (the token itself is only in the
//! user's cookie). In the store rather than in memory, so a restart signs nobody out and
//! several instances behind one load balancer accept each other's sessions.

use super::dialect::{sql_impl, SqlStore};
use super::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A live session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub user: String,
    /// The role when the session started (a desk role name).
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session under `token_hash`, and purges the ones that ended.
    async fn session_create(
        &self,
        token_hash: &str,
        session: &StoredSession,
        idle_before: DateTime<Utc>,
    ) -> Result<()>;
    /// The session, if it has neither expired at `now` nor been idle since `idle_before`.
    async fn session_get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> Result<Option<StoredSession>>;
    /// Marks the session as used at `now` (the idle timeout counts from here).
    async fn session_touch(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()>;
    async fn session_delete(&self, token_hash: &str) -> Result<()>;
}

sql_impl! {
    #[async_trait]
    impl<D> SessionStore for SqlStore<D> {
        async fn session_create(
            &self,
            token_hash: &str,
            session: &StoredSession,
            idle_before: DateTime<Utc>,
        ) -> Result<()> {
            // Ended sessions go as new ones come, so the table cannot grow without bound.
            sqlx::query::<D::DB>(
                "DELETE FROM desk_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
            )
            .bind(D::stamp(session.created_at))
            .bind(D::stamp(idle_before))
            .execute(self.pool())
            .await?;
            sqlx::query::<D::DB>(
                "INSERT INTO desk_sessions (token_hash, user_name, role, created_at, \
                 last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_hash.to_string())
            .bind(session.user.clone())
            .bind(session.role.clone())
            .bind(D::stamp(session.created_at))
            .bind(D::stamp(session.last_seen_at))
            .bind(D::stamp(session.expires_at))
            .execute(self.pool())
            .await?;
            Ok(())
        }

        async fn session_get(
            &self,
            token_hash: &str,
            now: DateTime<Utc>,
            idle_before: DateTime<Utc>,
        ) -> Result<Option<StoredSession>> {
            let row = sqlx::query::<D::DB>(
                "SELECT user_name, role, created_at, last_seen_at, expires_at FROM desk_sessions \
                 WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
            )
            .bind(token_hash.to_string())
            .bind(D::stamp(now))
            .bind(D::stamp(idle_before))
            .fetch_optional(self.pool())
            .await?;
            row.map(|row| {
                Ok(StoredSession {
                    user: Self::get(&row, "user_name")?,
                    role: Self::get(&row, "role")?,
                    created_at: Self::stamp(&row, "created_at")?,
                    last_seen_at: Self::stamp(&row, "last_seen_at")?,
                    expires_at: Self::stamp(&row, "expires_at")?,
                })
            })
            .transpose()
        }

        async fn session_touch(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
            sqlx::query::<D::DB>("UPDATE desk_sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash.to_string())
                .bind(D::stamp(now))
                .execute(self.pool())
                .await?;
            Ok(())
        }

        async fn session_delete(&self, token_hash: &str) -> Result<()> {
            sqlx::query::<D::DB>("DELETE FROM desk_sessions WHERE token_hash = $1")
                .bind(token_hash.to_string())
                .execute(self.pool())
                .await?;
            Ok(())
        }
    }
}
