-- Write-back: dropped dead letters (kept, never deleted), the ERP's own ids recorded after a
-- read-back, an audit of every manual outbox action, and the collector's details on notes.
-- Keep in step with migrations/postgres/0008_outbox_dead_letters.sql.

-- SQLite cannot change a CHECK constraint in place: the outbox is rebuilt with 'dropped'
-- allowed, keeping every row and id.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('note', 'dispute_status')),
    idempotency_key TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL
                    CHECK (status IN ('pending', 'sent', 'failed', 'dead', 'dropped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT,
    claimed_by      TEXT,
    claimed_until   TEXT,
    -- What the ERP calls what was written (text key, case ID), once read back.
    erp_ref         TEXT,
    verified_at     TEXT,
    dropped_by      TEXT,
    dropped_at      TEXT,
    drop_reason     TEXT
);
INSERT INTO outbox_new (id, kind, idempotency_key, payload, status, attempts, last_error,
                        created_at, updated_at, sent_at, claimed_by, claimed_until)
SELECT id, kind, idempotency_key, payload, status, attempts, last_error,
       created_at, updated_at, sent_at, claimed_by, claimed_until FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_status ON outbox (status, id);

-- Who did what to an entry by hand (retry, drop) or what a verification found, and when.
CREATE TABLE outbox_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id   INTEGER NOT NULL REFERENCES outbox (id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    note        TEXT
);
CREATE INDEX outbox_audit_by_entry ON outbox_audit (outbox_id, id);

ALTER TABLE notes ADD COLUMN via TEXT;
ALTER TABLE notes ADD COLUMN follow_up DATE;
ALTER TABLE notes ADD COLUMN promise_amount TEXT;
ALTER TABLE notes ADD COLUMN promise_currency TEXT;
ALTER TABLE notes ADD COLUMN promise_date DATE;
