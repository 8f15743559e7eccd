-- Review-desk sessions, shared by every instance on the store and kept across restarts.
-- Only the SHA-256 of a session token is stored: the token itself lives in the browser's
-- cookie, so reading this table does not let anyone sign on.
-- Keep in step with migrations/sqlite/0014_desk_sessions.sql.
CREATE TABLE desk_sessions (
    token_hash   TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
    user_name    TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX desk_sessions_expiry ON desk_sessions (expires_at);
