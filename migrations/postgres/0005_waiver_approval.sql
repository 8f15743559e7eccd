-- A waiver is an accepted deviation that a second person must approve: who proposed it and
-- who approved it are kept on the flag (the audit log keeps when).
ALTER TABLE discrepancies ADD COLUMN waiver_by TEXT;
ALTER TABLE discrepancies ADD COLUMN waiver_approved_by TEXT;
