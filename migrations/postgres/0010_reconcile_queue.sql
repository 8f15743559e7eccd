-- Incremental reconciliation: the customers whose reconciled data changed since a run
-- last looked at them. Triggers queue a customer whenever a row that the rules read is
-- inserted, deleted, or changed in a column the rules use (a pull that only stamps
-- seen_at queues nothing). `version` grows with every change, so a run removes a queue
-- entry only if nothing changed it while the run was evaluating the customer.
CREATE TABLE reconcile_queue (
    customer TEXT PRIMARY KEY NOT NULL,
    version  BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE reconcile_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION reconcile_queue_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO reconcile_queue (customer) VALUES (OLD.customer)
            ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.customer IS DISTINCT FROM OLD.customer) THEN
        INSERT INTO reconcile_queue (customer) VALUES (NEW.customer)
            ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER customers_queue_insert_delete AFTER INSERT OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION reconcile_queue_touch();
CREATE TRIGGER customers_queue_update AFTER UPDATE ON customers FOR EACH ROW WHEN (
    OLD.addr_name IS DISTINCT FROM NEW.addr_name
    OR OLD.addr_street IS DISTINCT FROM NEW.addr_street
    OR OLD.addr_city IS DISTINCT FROM NEW.addr_city
    OR OLD.addr_postal_code IS DISTINCT FROM NEW.addr_postal_code
    OR OLD.addr_country IS DISTINCT FROM NEW.addr_country
    OR OLD.deletion_flag IS DISTINCT FROM NEW.deletion_flag
    OR OLD.posting_block IS DISTINCT FROM NEW.posting_block
) EXECUTE FUNCTION reconcile_queue_touch();

CREATE TRIGGER customer_company_queue_insert_delete AFTER INSERT OR DELETE ON customer_company
    FOR EACH ROW EXECUTE FUNCTION reconcile_queue_touch();
CREATE TRIGGER customer_company_queue_update AFTER UPDATE ON customer_company FOR EACH ROW WHEN (
    OLD.payment_terms IS DISTINCT FROM NEW.payment_terms
    OR OLD.deletion_flag IS DISTINCT FROM NEW.deletion_flag
    OR OLD.posting_block IS DISTINCT FROM NEW.posting_block
) EXECUTE FUNCTION reconcile_queue_touch();

CREATE TRIGGER customer_sales_area_queue_insert_delete AFTER INSERT OR DELETE ON customer_sales_area
    FOR EACH ROW EXECUTE FUNCTION reconcile_queue_touch();
CREATE TRIGGER customer_sales_area_queue_update AFTER UPDATE ON customer_sales_area FOR EACH ROW WHEN (
    OLD.payment_terms IS DISTINCT FROM NEW.payment_terms
    OR OLD.currency IS DISTINCT FROM NEW.currency
    OR OLD.deletion_flag IS DISTINCT FROM NEW.deletion_flag
) EXECUTE FUNCTION reconcile_queue_touch();

CREATE TRIGGER open_items_queue_insert_delete AFTER INSERT OR DELETE ON open_items
    FOR EACH ROW EXECUTE FUNCTION reconcile_queue_touch();
CREATE TRIGGER open_items_queue_update AFTER UPDATE ON open_items FOR EACH ROW WHEN (
    OLD.customer IS DISTINCT FROM NEW.customer
    OR OLD.document_date IS DISTINCT FROM NEW.document_date
    OR OLD.posting_date IS DISTINCT FROM NEW.posting_date
    OR OLD.baseline_date IS DISTINCT FROM NEW.baseline_date
    OR OLD.payment_terms IS DISTINCT FROM NEW.payment_terms
    OR OLD.discount1_days IS DISTINCT FROM NEW.discount1_days
    OR OLD.discount1_percent IS DISTINCT FROM NEW.discount1_percent
    OR OLD.discount2_days IS DISTINCT FROM NEW.discount2_days
    OR OLD.discount2_percent IS DISTINCT FROM NEW.discount2_percent
    OR OLD.net_days IS DISTINCT FROM NEW.net_days
    OR OLD.net_due_date IS DISTINCT FROM NEW.net_due_date
    OR OLD.amount IS DISTINCT FROM NEW.amount
    OR OLD.currency IS DISTINCT FROM NEW.currency
    OR OLD.cleared_at IS DISTINCT FROM NEW.cleared_at
) EXECUTE FUNCTION reconcile_queue_touch();

CREATE TRIGGER contracts_queue_insert_delete AFTER INSERT OR DELETE ON contracts
    FOR EACH ROW EXECUTE FUNCTION reconcile_queue_touch();
CREATE TRIGGER contracts_queue_update AFTER UPDATE ON contracts FOR EACH ROW WHEN (
    OLD.customer IS DISTINCT FROM NEW.customer
    OR OLD.company_code IS DISTINCT FROM NEW.company_code
    OR OLD.sales_org IS DISTINCT FROM NEW.sales_org
    OR OLD.distribution_channel IS DISTINCT FROM NEW.distribution_channel
    OR OLD.division IS DISTINCT FROM NEW.division
    OR OLD.payment_terms IS DISTINCT FROM NEW.payment_terms
    OR OLD.credit_limit IS DISTINCT FROM NEW.credit_limit
    OR OLD.currency IS DISTINCT FROM NEW.currency
    OR OLD.billing_name IS DISTINCT FROM NEW.billing_name
    OR OLD.billing_street IS DISTINCT FROM NEW.billing_street
    OR OLD.billing_city IS DISTINCT FROM NEW.billing_city
    OR OLD.billing_postal_code IS DISTINCT FROM NEW.billing_postal_code
    OR OLD.billing_country IS DISTINCT FROM NEW.billing_country
    OR OLD.valid_from IS DISTINCT FROM NEW.valid_from
    OR OLD.valid_to IS DISTINCT FROM NEW.valid_to
    OR OLD.retired_at IS DISTINCT FROM NEW.retired_at
) EXECUTE FUNCTION reconcile_queue_touch();
