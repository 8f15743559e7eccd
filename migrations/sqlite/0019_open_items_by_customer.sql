-- A customer's open items as of a date include those cleared after it, so the AR reads
-- (call list, customer page, statements: store/ar.rs `ar_items_of`) ask for
-- `customer IN (…) AND (cleared_at IS NULL OR cleared_at >= …)`. The partial index of
-- 0001 holds uncleared items only and cannot answer that: each chunk of customers scanned
-- every item (a collector's call list over 1M items did not finish in minutes). One index
-- on (customer, cleared_at) answers both that and the uncleared-only reads the partial
-- index served (`cleared_at IS NULL` is an equality on its second column).
DROP INDEX open_items_customer;
CREATE INDEX open_items_customer ON open_items (customer, cleared_at);
