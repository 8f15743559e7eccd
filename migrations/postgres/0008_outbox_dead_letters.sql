-- Write-back: dropped dead letters (kept, never deleted), the ERP's own ids recorded after a
-- read-back, an audit of every manual outbox action, and the collector's details on notes.
-- Keep in step with migrations/sqlite/0008_outbox_dead_letters.sql.

ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'dead', 'dropped'));
-- What the ERP calls what was written (text key, case ID), once read back.
ALTER TABLE outbox ADD COLUMN erp_ref TEXT;
ALTER TABLE outbox ADD COLUMN verified_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN dropped_by TEXT;
ALTER TABLE outbox ADD COLUMN dropped_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN drop_reason TEXT;

-- Who did what to an entry by hand (retry, drop) or what a verification found, and when.
CREATE TABLE outbox_audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id   BIGINT NOT NULL REFERENCES outbox (id),
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    note        TEXT
);
CREATE INDEX outbox_audit_by_entry ON outbox_audit (outbox_id, id);

ALTER TABLE notes ADD COLUMN via TEXT;
ALTER TABLE notes ADD COLUMN follow_up DATE;
ALTER TABLE notes ADD COLUMN promise_amount NUMERIC;
ALTER TABLE notes ADD COLUMN promise_currency TEXT;
ALTER TABLE notes ADD COLUMN promise_date DATE;
