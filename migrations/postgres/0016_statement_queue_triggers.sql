-- The reconcile queue (0010) fed once per statement instead of once per row: a pulled
-- batch of thousands of rows queues its customers with one INSERT … SELECT DISTINCT over
-- the statement's transition tables, where a trigger per row ran one INSERT … ON CONFLICT
-- each (most of the cost of a first pull into PostgreSQL). The same customers are queued
-- as before: every customer of an inserted or deleted row, and of an updated row whose
-- columns the rules read changed (old and new customer). `version` still grows whenever a
-- statement queues a customer again. Customers are queued in their order, so that two
-- transactions writing at once (a pull writes its levels side by side) take the queue's
-- row locks in the same order and never wait on each other in a cycle.

CREATE FUNCTION reconcile_queue_rows_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reconcile_queue (customer) SELECT DISTINCT customer FROM added_rows ORDER BY customer
        ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    RETURN NULL;
END;
$$;

CREATE FUNCTION reconcile_queue_rows_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reconcile_queue (customer) SELECT DISTINCT customer FROM removed_rows ORDER BY customer
        ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    RETURN NULL;
END;
$$;

DROP TRIGGER customers_queue_insert_delete ON customers;
DROP TRIGGER customers_queue_update ON customers;
CREATE TRIGGER customers_queue_insert AFTER INSERT ON customers REFERENCING NEW TABLE AS added_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_added();
CREATE TRIGGER customers_queue_delete AFTER DELETE ON customers REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_removed();
-- Rows matched by key; one without its counterpart (a key changed) counts as changed.
CREATE FUNCTION customers_queue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reconcile_queue (customer)
        SELECT DISTINCT c FROM (
            SELECT o.customer AS o_customer, n.customer AS n_customer
            FROM old_rows o FULL JOIN new_rows n USING (customer)
            WHERE o.customer IS NULL OR n.customer IS NULL
               OR (o.addr_name, o.addr_street, o.addr_city, o.addr_postal_code, o.addr_country, o.deletion_flag, o.posting_block) IS DISTINCT FROM
                  (n.addr_name, n.addr_street, n.addr_city, n.addr_postal_code, n.addr_country, n.deletion_flag, n.posting_block)
        ) changed, LATERAL (VALUES (o_customer), (n_customer)) AS v(c)
        WHERE c IS NOT NULL ORDER BY c
        ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER customers_queue_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customers_queue_changed();

DROP TRIGGER customer_company_queue_insert_delete ON customer_company;
DROP TRIGGER customer_company_queue_update ON customer_company;
CREATE TRIGGER customer_company_queue_insert AFTER INSERT ON customer_company REFERENCING NEW TABLE AS added_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_added();
CREATE TRIGGER customer_company_queue_delete AFTER DELETE ON customer_company REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_removed();
-- Rows matched by key; one without its counterpart (a key changed) counts as changed.
CREATE FUNCTION customer_company_queue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reconcile_queue (customer)
        SELECT DISTINCT c FROM (
            SELECT o.customer AS o_customer, n.customer AS n_customer
            FROM old_rows o FULL JOIN new_rows n USING (customer, company_code)
            WHERE o.customer IS NULL OR n.customer IS NULL
               OR (o.payment_terms, o.deletion_flag, o.posting_block) IS DISTINCT FROM
                  (n.payment_terms, n.deletion_flag, n.posting_block)
        ) changed, LATERAL (VALUES (o_customer), (n_customer)) AS v(c)
        WHERE c IS NOT NULL ORDER BY c
        ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER customer_company_queue_update AFTER UPDATE ON customer_company
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_company_queue_changed();

DROP TRIGGER customer_sales_area_queue_insert_delete ON customer_sales_area;
DROP TRIGGER customer_sales_area_queue_update ON customer_sales_area;
CREATE TRIGGER customer_sales_area_queue_insert AFTER INSERT ON customer_sales_area REFERENCING NEW TABLE AS added_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_added();
CREATE TRIGGER customer_sales_area_queue_delete AFTER DELETE ON customer_sales_area REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_removed();
-- Rows matched by key; one without its counterpart (a key changed) counts as changed.
CREATE FUNCTION customer_sales_area_queue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reconcile_queue (customer)
        SELECT DISTINCT c FROM (
            SELECT o.customer AS o_customer, n.customer AS n_customer
            FROM old_rows o FULL JOIN new_rows n USING (customer, sales_org, distribution_channel, division)
            WHERE o.customer IS NULL OR n.customer IS NULL
               OR (o.payment_terms, o.currency, o.deletion_flag) IS DISTINCT FROM
                  (n.payment_terms, n.currency, n.deletion_flag)
        ) changed, LATERAL (VALUES (o_customer), (n_customer)) AS v(c)
        WHERE c IS NOT NULL ORDER BY c
        ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER customer_sales_area_queue_update AFTER UPDATE ON customer_sales_area
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_sales_area_queue_changed();

DROP TRIGGER customer_credit_queue_insert_delete ON customer_credit;
DROP TRIGGER customer_credit_queue_update ON customer_credit;
CREATE TRIGGER customer_credit_queue_insert AFTER INSERT ON customer_credit REFERENCING NEW TABLE AS added_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_added();
CREATE TRIGGER customer_credit_queue_delete AFTER DELETE ON customer_credit REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_removed();
-- Rows matched by key; one without its counterpart (a key changed) counts as changed.
CREATE FUNCTION customer_credit_queue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reconcile_queue (customer)
        SELECT DISTINCT c FROM (
            SELECT o.customer AS o_customer, n.customer AS n_customer
            FROM old_rows o FULL JOIN new_rows n USING (customer, segment)
            WHERE o.customer IS NULL OR n.customer IS NULL
               OR (o.amount, o.currency) IS DISTINCT FROM
                  (n.amount, n.currency)
        ) changed, LATERAL (VALUES (o_customer), (n_customer)) AS v(c)
        WHERE c IS NOT NULL ORDER BY c
        ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER customer_credit_queue_update AFTER UPDATE ON customer_credit
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_credit_queue_changed();

DROP TRIGGER open_items_queue_insert_delete ON open_items;
DROP TRIGGER open_items_queue_update ON open_items;
CREATE TRIGGER open_items_queue_insert AFTER INSERT ON open_items REFERENCING NEW TABLE AS added_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_added();
CREATE TRIGGER open_items_queue_delete AFTER DELETE ON open_items REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_removed();
-- Rows matched by key; one without its counterpart (a key changed) counts as changed.
CREATE FUNCTION open_items_queue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reconcile_queue (customer)
        SELECT DISTINCT c FROM (
            SELECT o.customer AS o_customer, n.customer AS n_customer
            FROM old_rows o FULL JOIN new_rows n USING (company_code, fiscal_year, document, item)
            WHERE o.customer IS NULL OR n.customer IS NULL
               OR (o.customer, o.document_date, o.posting_date, o.baseline_date, o.payment_terms, o.discount1_days, o.discount1_percent, o.discount2_days, o.discount2_percent, o.net_days, o.net_due_date, o.amount, o.currency, o.cleared_at) IS DISTINCT FROM
                  (n.customer, n.document_date, n.posting_date, n.baseline_date, n.payment_terms, n.discount1_days, n.discount1_percent, n.discount2_days, n.discount2_percent, n.net_days, n.net_due_date, n.amount, n.currency, n.cleared_at)
        ) changed, LATERAL (VALUES (o_customer), (n_customer)) AS v(c)
        WHERE c IS NOT NULL ORDER BY c
        ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER open_items_queue_update AFTER UPDATE ON open_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION open_items_queue_changed();

DROP TRIGGER contracts_queue_insert_delete ON contracts;
DROP TRIGGER contracts_queue_update ON contracts;
CREATE TRIGGER contracts_queue_insert AFTER INSERT ON contracts REFERENCING NEW TABLE AS added_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_added();
CREATE TRIGGER contracts_queue_delete AFTER DELETE ON contracts REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_queue_rows_removed();
-- Rows matched by key; one without its counterpart (a key changed) counts as changed.
CREATE FUNCTION contracts_queue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reconcile_queue (customer)
        SELECT DISTINCT c FROM (
            SELECT o.customer AS o_customer, n.customer AS n_customer
            FROM old_rows o FULL JOIN new_rows n USING (source, id)
            WHERE o.customer IS NULL OR n.customer IS NULL
               OR (o.customer, o.company_code, o.sales_org, o.distribution_channel, o.division, o.payment_terms, o.credit_limit, o.currency, o.billing_name, o.billing_street, o.billing_city, o.billing_postal_code, o.billing_country, o.valid_from, o.valid_to, o.retired_at) IS DISTINCT FROM
                  (n.customer, n.company_code, n.sales_org, n.distribution_channel, n.division, n.payment_terms, n.credit_limit, n.currency, n.billing_name, n.billing_street, n.billing_city, n.billing_postal_code, n.billing_country, n.valid_from, n.valid_to, n.retired_at)
        ) changed, LATERAL (VALUES (o_customer), (n_customer)) AS v(c)
        WHERE c IS NOT NULL ORDER BY c
        ON CONFLICT (customer) DO UPDATE SET version = reconcile_queue.version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER contracts_queue_update AFTER UPDATE ON contracts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contracts_queue_changed();

DROP FUNCTION reconcile_queue_touch();
