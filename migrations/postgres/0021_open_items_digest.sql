-- A digest of each open item as it was last written (128 bits of SHA-256 over every data
-- column, as two 64-bit halves), written by every upsert of the table: a full pull reads
-- these instead of every column to tell which items it reads unchanged. Items written
-- before this have none and get theirs the next time they are written (a pull writes
-- them once more).
ALTER TABLE open_items ADD COLUMN digest_hi BIGINT;
ALTER TABLE open_items ADD COLUMN digest_lo BIGINT;
