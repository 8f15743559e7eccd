-- Collections: daily AR snapshots (trends, CEI) and the sales history DSO counts back over.
-- Keep in step with migrations/sqlite/0015_ar_collections.sql.

-- One row per day, company code, currency and collector ('' = no accounting clerk).
CREATE TABLE ar_snapshots (
    as_of           DATE NOT NULL,
    company_code    TEXT NOT NULL,
    currency        TEXT NOT NULL,
    collector       TEXT NOT NULL,
    items           BIGINT NOT NULL,
    open_amount     NUMERIC NOT NULL,
    overdue_amount  NUMERIC NOT NULL,
    not_due         NUMERIC NOT NULL,
    d1_30           NUMERIC NOT NULL,
    d31_60          NUMERIC NOT NULL,
    d61_90          NUMERIC NOT NULL,
    d91_180         NUMERIC NOT NULL,
    d181_360        NUMERIC NOT NULL,
    over_360        NUMERIC NOT NULL,
    over_60_amount  NUMERIC NOT NULL,
    over_360_amount NUMERIC NOT NULL,
    -- Credit sales posted that day; NULL without sales history.
    sales           NUMERIC,
    taken_at        TIMESTAMPTZ NOT NULL,
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
    posting_date DATE NOT NULL,
    amount       NUMERIC NOT NULL,
    currency     TEXT NOT NULL,
    seen_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_code, fiscal_year, document, item)
);
CREATE INDEX ar_sales_by_posting ON ar_sales (posting_date);
