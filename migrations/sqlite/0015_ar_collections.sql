-- Collections: daily AR snapshots (trends, CEI) and the sales history DSO counts back over.
-- Keep in step with migrations/postgres/0015_ar_collections.sql.

-- One row per day, company code, currency and collector ('' = no accounting clerk).
-- Amounts are canonical decimal TEXT like everywhere else in this schema.
CREATE TABLE ar_snapshots (
    as_of           TEXT NOT NULL,
    company_code    TEXT NOT NULL,
    currency        TEXT NOT NULL,
    collector       TEXT NOT NULL,
    items           INTEGER NOT NULL,
    open_amount     TEXT NOT NULL,
    overdue_amount  TEXT NOT NULL,
    not_due         TEXT NOT NULL,
    d1_30           TEXT NOT NULL,
    d31_60          TEXT NOT NULL,
    d61_90          TEXT NOT NULL,
    d91_180         TEXT NOT NULL,
    d181_360        TEXT NOT NULL,
    over_360        TEXT NOT NULL,
    over_60_amount  TEXT NOT NULL,
    over_360_amount TEXT NOT NULL,
    -- Credit sales posted that day; NULL without sales history.
    sales           TEXT,
    taken_at        TEXT NOT NULL,
    PRIMARY KEY (as_of, company_code, currency, collector)
);

-- Customer debit and credit items by posting date, cleared or not (the optional
-- `sales_items` mapping entity): the credit sales of DSO.
CREATE TABLE ar_sales (
    company_code TEXT NOT NULL CHECK (company_code <> ''),
    fiscal_year  TEXT NOT NULL CHECK (fiscal_year <> ''),
    document     TEXT NOT NULL CHECK (document <> ''),
    item         TEXT NOT NULL CHECK (item <> ''),
    customer     TEXT NOT NULL,
    posting_date TEXT NOT NULL,
    amount       TEXT NOT NULL,
    currency     TEXT NOT NULL,
    seen_at      TEXT NOT NULL,
    PRIMARY KEY (company_code, fiscal_year, document, item)
);
CREATE INDEX ar_sales_by_posting ON ar_sales (posting_date);
