-- Credit limits from the ERP's credit management (S/4HANA credit segments, ECC credit
-- control areas), one row per customer and segment. Changes queue the customer for
-- reconciliation like every other level (see 0010).
CREATE TABLE customer_credit (
    customer TEXT NOT NULL CHECK (customer <> ''),
    segment  TEXT NOT NULL CHECK (segment <> ''),
    amount   TEXT NOT NULL,
    currency TEXT,
    seen_at  TEXT NOT NULL,
    PRIMARY KEY (customer, segment)
);

CREATE TRIGGER customer_credit_queue_insert AFTER INSERT ON customer_credit BEGIN
    INSERT INTO reconcile_queue (customer, version) SELECT NEW.customer, 0
        WHERE NOT EXISTS (SELECT 1 FROM reconcile_queue WHERE customer = NEW.customer);
    UPDATE reconcile_queue SET version = version + 1 WHERE customer = NEW.customer;
END;
CREATE TRIGGER customer_credit_queue_delete AFTER DELETE ON customer_credit BEGIN
    INSERT INTO reconcile_queue (customer, version) SELECT OLD.customer, 0
        WHERE NOT EXISTS (SELECT 1 FROM reconcile_queue WHERE customer = OLD.customer);
    UPDATE reconcile_queue SET version = version + 1 WHERE customer = OLD.customer;
END;
CREATE TRIGGER customer_credit_queue_update AFTER UPDATE ON customer_credit WHEN
    OLD.amount IS NOT NEW.amount
    OR OLD.currency IS NOT NEW.currency
BEGIN
    INSERT INTO reconcile_queue (customer, version) SELECT NEW.customer, 0
        WHERE NOT EXISTS (SELECT 1 FROM reconcile_queue WHERE customer = NEW.customer);
    UPDATE reconcile_queue SET version = version + 1 WHERE customer = NEW.customer;
END;
