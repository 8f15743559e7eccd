-- Credit limits from the ERP's credit management (S/4HANA credit segments, ECC credit
-- control areas), one row per customer and segment. Changes queue the customer for
-- reconciliation like every other level (see 0010).
CREATE TABLE customer_credit (
    customer TEXT NOT NULL CHECK (customer <> ''),
    segment  TEXT NOT NULL CHECK (segment <> ''),
    amount   NUMERIC NOT NULL,
    currency TEXT,
    seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer, segment)
);

CREATE TRIGGER customer_credit_queue_insert_delete AFTER INSERT OR DELETE ON customer_credit
    FOR EACH ROW EXECUTE FUNCTION reconcile_queue_touch();
CREATE TRIGGER customer_credit_queue_update AFTER UPDATE ON customer_credit FOR EACH ROW WHEN (
    OLD.amount IS DISTINCT FROM NEW.amount
    OR OLD.currency IS DISTINCT FROM NEW.currency
) EXECUTE FUNCTION reconcile_queue_touch();
