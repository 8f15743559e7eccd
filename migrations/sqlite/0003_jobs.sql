-- Background service: job leases (one instance runs a job at a time), the last run of each
-- job (for the status page and readiness), and outbox claims (several instances drain the
-- outbox without sending an entry twice). Keep in step with migrations/postgres/0003_jobs.sql.

-- A lease is held until expires_at; a holder that dies stops renewing it, and after it
-- expires another instance takes it over.
CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
    holder      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE TABLE job_runs (
    name            TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
    instance        TEXT NOT NULL,
    runs            INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_started_at TEXT NOT NULL,
    last_finished_at TEXT NOT NULL,
    last_success_at TEXT,
    last_error      TEXT
);

-- An entry claimed by an instance is not handed to another until claimed_until has passed.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
