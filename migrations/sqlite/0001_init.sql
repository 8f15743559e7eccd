-- erpsync schema, SQLite flavour. Keep it table-for-table and column-for-column with
-- migrations/postgres/0001_init.sql: one Rust implementation serves both.
--
-- SQLite has no exact decimal type, so amounts and percentages are canonical decimal TEXT
-- (as rust_decimal prints them, scale kept). Columns are declared TEXT, never NUMERIC/DATE:
-- those affinities would turn '1234.50' into a float. Timestamps are UTC ISO-8601 text with
-- exactly six fractional digits, so comparing the text compares the instants.

CREATE TABLE customers (
    customer         TEXT PRIMARY KEY NOT NULL CHECK (customer <> ''),
    name             TEXT NOT NULL,
    -- All address columns are NULL when the customer has no address.
    addr_name        TEXT,
    addr_street      TEXT,
    addr_city        TEXT,
    addr_postal_code TEXT,
    addr_country     TEXT,
    deletion_flag    INTEGER NOT NULL,
    posting_block    INTEGER NOT NULL,
    last_changed     TEXT,
    seen_at          TEXT NOT NULL
);

-- No foreign key to customers: company-code and sales-area data are pulled on their own
-- schedule and may arrive before the general data of a new customer.
CREATE TABLE customer_company (
    customer               TEXT NOT NULL CHECK (customer <> ''),
    company_code           TEXT NOT NULL CHECK (company_code <> ''),
    payment_terms          TEXT,
    reconciliation_account TEXT,
    accounting_clerk       TEXT,
    dunning_procedure      TEXT,
    deletion_flag          INTEGER NOT NULL,
    posting_block          INTEGER NOT NULL,
    seen_at                TEXT NOT NULL,
    PRIMARY KEY (customer, company_code)
);

CREATE TABLE customer_sales_area (
    customer             TEXT NOT NULL CHECK (customer <> ''),
    sales_org            TEXT NOT NULL CHECK (sales_org <> ''),
    distribution_channel TEXT NOT NULL CHECK (distribution_channel <> ''),
    division             TEXT NOT NULL CHECK (division <> ''),
    payment_terms        TEXT,
    currency             TEXT,
    credit_control_area  TEXT,
    deletion_flag        INTEGER NOT NULL,
    seen_at              TEXT NOT NULL,
    PRIMARY KEY (customer, sales_org, distribution_channel, division)
);

-- Cleared items are kept (cleared_at set), never deleted: the history explains exposure.
CREATE TABLE open_items (
    company_code      TEXT NOT NULL CHECK (company_code <> ''),
    fiscal_year       TEXT NOT NULL CHECK (fiscal_year <> ''),
    document          TEXT NOT NULL CHECK (document <> ''),
    item              TEXT NOT NULL CHECK (item <> ''),
    customer          TEXT NOT NULL,
    document_date     TEXT NOT NULL,
    posting_date      TEXT NOT NULL,
    baseline_date     TEXT NOT NULL,
    payment_terms     TEXT,
    discount1_days    INTEGER,
    discount1_percent TEXT,
    discount2_days    INTEGER,
    discount2_percent TEXT,
    net_days          INTEGER,
    net_due_date      TEXT,
    amount            TEXT NOT NULL,
    currency          TEXT NOT NULL,
    dunning_level     INTEGER,
    dunning_block     TEXT,
    dispute_case      TEXT,
    seen_at           TEXT NOT NULL,
    cleared_at        TEXT,
    PRIMARY KEY (company_code, fiscal_year, document, item)
);
CREATE INDEX open_items_customer ON open_items (customer) WHERE cleared_at IS NULL;
CREATE INDEX open_items_seen ON open_items (seen_at) WHERE cleared_at IS NULL;

-- Contract ids are only unique within their source (ERP sales contracts vs a register file).
CREATE TABLE contracts (
    source               TEXT NOT NULL CHECK (source <> ''),
    id                   TEXT NOT NULL CHECK (id <> ''),
    customer             TEXT NOT NULL,
    company_code         TEXT,
    sales_org            TEXT,
    distribution_channel TEXT,
    division             TEXT,
    payment_terms        TEXT,
    credit_limit         TEXT,
    currency             TEXT,
    -- All billing columns are NULL when the contract names no billing address.
    billing_name         TEXT,
    billing_street       TEXT,
    billing_city         TEXT,
    billing_postal_code  TEXT,
    billing_country      TEXT,
    valid_from           TEXT,
    valid_to             TEXT,
    seen_at              TEXT NOT NULL,
    retired_at           TEXT,
    PRIMARY KEY (source, id)
);
CREATE INDEX contracts_customer ON contracts (customer) WHERE retired_at IS NULL;

CREATE TABLE payment_terms (
    key         TEXT PRIMARY KEY NOT NULL CHECK (key <> ''),
    description TEXT NOT NULL,
    -- The T052 rows of the key as JSON (serde of Vec<TermsRule>; percentages as strings).
    rules       TEXT NOT NULL
);

-- id is a surrogate key that stays stable across runs; the natural key is unique.
CREATE TABLE discrepancies (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    rule              TEXT NOT NULL,
    customer          TEXT NOT NULL,
    scope             TEXT NOT NULL,
    field             TEXT NOT NULL,
    severity          TEXT NOT NULL,
    contract_id       TEXT,
    contract_value    TEXT NOT NULL,
    master_value      TEXT NOT NULL,
    explanation       TEXT NOT NULL,
    exposure_amount   TEXT NOT NULL,
    -- Exposure amount in units of 1/10000, saturated to the i64 range: an exact-enough
    -- integer the review list can be ordered and indexed by (amount TEXT does not sort).
    exposure_sort     INTEGER NOT NULL,
    exposure_currency TEXT NOT NULL,
    exposure_items    INTEGER NOT NULL,
    exposure_days     INTEGER NOT NULL,
    status            TEXT NOT NULL
        CHECK (status IN ('open', 'acknowledged', 'resolved', 'waived', 'closed')),
    assignee          TEXT,
    waived_until      TEXT,
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (rule, customer, scope, field)
);
CREATE INDEX discrepancies_by_exposure ON discrepancies (exposure_sort DESC, id);
CREATE INDEX discrepancies_by_status ON discrepancies (status, exposure_sort DESC, id);
CREATE INDEX discrepancies_by_customer ON discrepancies (customer);

CREATE TABLE discrepancy_audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    discrepancy_id INTEGER NOT NULL REFERENCES discrepancies (id),
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    note           TEXT
);
CREATE INDEX discrepancy_audit_by_discrepancy ON discrepancy_audit (discrepancy_id, id);

CREATE TABLE notes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    customer        TEXT NOT NULL,
    -- The item columns are all NULL for a note on the customer as a whole.
    company_code    TEXT,
    fiscal_year     TEXT,
    document        TEXT,
    item            TEXT,
    author          TEXT NOT NULL,
    text            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE CHECK (idempotency_key <> '')
);
CREATE INDEX notes_customer ON notes (customer);

CREATE TABLE dispute_status_changes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         TEXT NOT NULL,
    status          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    note            TEXT,
    requested_at    TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE CHECK (idempotency_key <> '')
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('note', 'dispute_status')),
    idempotency_key TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_by_status ON outbox (status, id);

-- Incremental pulls: where each job continues from (written with the data it covers).
CREATE TABLE sync_cursors (
    name       TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
