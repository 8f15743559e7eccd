-- The KPIs' grouped read of the open items (company code, currency, due date; see
-- store/ar.rs) from one covering index, in group order. Keep in step with
-- migrations/sqlite/0018_ar_aging_index.sql (same index, same expression).
CREATE INDEX open_items_ar_aging ON open_items (
    company_code, currency, coalesce(net_due_date, baseline_date), posting_date, cleared_at, amount
);
