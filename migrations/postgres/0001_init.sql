-- erpsync schema, PostgreSQL flavour. Keep it table-for-table and column-for-column with
-- migrations/sqlite/0001_init.sql: one Rust implementation serves both.
--
-- Amounts are NUMERIC (exact, scale kept); timestamps TIMESTAMPTZ; counters BIGINT (the
-- Rust side binds i64 for every integer). Key and customer columns use the "C"
-- collation so they sort bytewise, exactly as in SQLite: paging by customer number and list
-- order must not depend on the server locale.

CREATE TABLE customers (
    customer         TEXT COLLATE "C" PRIMARY KEY CHECK (customer <> ''),
    name             TEXT NOT NULL,
    -- All address columns are NULL when the customer has no address.
    addr_name        TEXT,
    addr_street      TEXT,
    addr_city        TEXT,
    addr_postal_code TEXT,
    addr_country     TEXT,
    deletion_flag    BOOLEAN NOT NULL,
    posting_block    BOOLEAN NOT NULL,
    last_changed     TIMESTAMPTZ,
    seen_at          TIMESTAMPTZ NOT NULL
);

-- No foreign key to customers: company-code and sales-area data are pulled on their own
-- schedule and may arrive before the general data of a new customer.
CREATE TABLE customer_company (
    customer               TEXT COLLATE "C" NOT NULL CHECK (customer <> ''),
    company_code           TEXT COLLATE "C" NOT NULL CHECK (company_code <> ''),
    payment_terms          TEXT,
    reconciliation_account TEXT,
    accounting_clerk       TEXT,
    dunning_procedure      TEXT,
    deletion_flag          BOOLEAN NOT NULL,
    posting_block          BOOLEAN NOT NULL,
    seen_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer, company_code)
);

CREATE TABLE customer_sales_area (
    customer             TEXT COLLATE "C" NOT NULL CHECK (customer <> ''),
    sales_org            TEXT COLLATE "C" NOT NULL CHECK (sales_org <> ''),
    distribution_channel TEXT COLLATE "C" NOT NULL CHECK (distribution_channel <> ''),
    division             TEXT COLLATE "C" NOT NULL CHECK (division <> ''),
    payment_terms        TEXT,
    currency             TEXT,
    credit_control_area  TEXT,
    deletion_flag        BOOLEAN NOT NULL,
    seen_at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer, sales_org, distribution_channel, division)
);

-- Cleared items are kept (cleared_at set), never deleted: the history explains exposure.
CREATE TABLE open_items (
    company_code      TEXT COLLATE "C" NOT NULL CHECK (company_code <> ''),
    fiscal_year       TEXT COLLATE "C" NOT NULL CHECK (fiscal_year <> ''),
    document          TEXT COLLATE "C" NOT NULL CHECK (document <> ''),
    item              TEXT COLLATE "C" NOT NULL CHECK (item <> ''),
    customer          TEXT COLLATE "C" NOT NULL,
    document_date     DATE NOT NULL,
    posting_date      DATE NOT NULL,
    baseline_date     DATE NOT NULL,
    payment_terms     TEXT,
    discount1_days    BIGINT,
    discount1_percent NUMERIC,
    discount2_days    BIGINT,
    discount2_percent NUMERIC,
    net_days          BIGINT,
    net_due_date      DATE,
    amount            NUMERIC NOT NULL,
    currency          TEXT NOT NULL,
    dunning_level     BIGINT,
    dunning_block     TEXT,
    dispute_case      TEXT,
    seen_at           TIMESTAMPTZ NOT NULL,
    cleared_at        TIMESTAMPTZ,
    PRIMARY KEY (company_code, fiscal_year, document, item)
);
CREATE INDEX open_items_customer ON open_items (customer) WHERE cleared_at IS NULL;
CREATE INDEX open_items_seen ON open_items (seen_at) WHERE cleared_at IS NULL;

-- Contract ids are only unique within their source (ERP sales contracts vs a register file).
CREATE TABLE contracts (
    source               TEXT COLLATE "C" NOT NULL CHECK (source <> ''),
    id                   TEXT COLLATE "C" NOT NULL CHECK (id <> ''),
    customer             TEXT COLLATE "C" NOT NULL,
    company_code         TEXT COLLATE "C",
    sales_org            TEXT COLLATE "C",
    distribution_channel TEXT COLLATE "C",
    division             TEXT COLLATE "C",
    payment_terms        TEXT,
    credit_limit         NUMERIC,
    currency             TEXT,
    -- All billing columns are NULL when the contract names no billing address.
    billing_name         TEXT,
    billing_street       TEXT,
    billing_city         TEXT,
    billing_postal_code  TEXT,
    billing_country      TEXT,
    valid_from           DATE,
    valid_to             DATE,
    seen_at              TIMESTAMPTZ NOT NULL,
    retired_at           TIMESTAMPTZ,
    PRIMARY KEY (source, id)
);
CREATE INDEX contracts_customer ON contracts (customer) WHERE retired_at IS NULL;

CREATE TABLE payment_terms (
    key         TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''),
    description TEXT NOT NULL,
    -- The T052 rows of the key as JSON (serde of Vec<TermsRule>; percentages as strings).
    rules       TEXT NOT NULL
);

-- id is a surrogate key that stays stable across runs; the natural key is unique.
CREATE TABLE discrepancies (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule              TEXT NOT NULL,
    customer          TEXT COLLATE "C" NOT NULL,
    scope             TEXT NOT NULL,
    field             TEXT NOT NULL,
    severity          TEXT NOT NULL,
    contract_id       TEXT,
    contract_value    TEXT NOT NULL,
    master_value      TEXT NOT NULL,
    explanation       TEXT NOT NULL,
    exposure_amount   NUMERIC NOT NULL,
    -- Exposure amount in units of 1/10000, saturated to the i64 range. NUMERIC would sort
    -- by itself; the integer keeps the ordering SQL identical to SQLite's.
    exposure_sort     BIGINT NOT NULL,
    exposure_currency TEXT NOT NULL,
    exposure_items    BIGINT NOT NULL,
    exposure_days     BIGINT NOT NULL,
    status            TEXT NOT NULL
        CHECK (status IN ('open', 'acknowledged', 'resolved', 'waived', 'closed')),
    assignee          TEXT,
    waived_until      DATE,
    first_seen        TIMESTAMPTZ NOT NULL,
    last_seen         TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (rule, customer, scope, field)
);
CREATE INDEX discrepancies_by_exposure ON discrepancies (exposure_sort DESC, id);
CREATE INDEX discrepancies_by_status ON discrepancies (status, exposure_sort DESC, id);
CREATE INDEX discrepancies_by_customer ON discrepancies (customer);

CREATE TABLE discrepancy_audit (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    discrepancy_id BIGINT NOT NULL REFERENCES discrepancies (id),
    at             TIMESTAMPTZ NOT NULL,
    actor          TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    note           TEXT
);
CREATE INDEX discrepancy_audit_by_discrepancy ON discrepancy_audit (discrepancy_id, id);

CREATE TABLE notes (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer        TEXT COLLATE "C" NOT NULL,
    -- The item columns are all NULL for a note on the customer as a whole.
    company_code    TEXT COLLATE "C",
    fiscal_year     TEXT COLLATE "C",
    document        TEXT COLLATE "C",
    item            TEXT COLLATE "C",
    author          TEXT NOT NULL,
    text            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE CHECK (idempotency_key <> '')
);
CREATE INDEX notes_customer ON notes (customer);

CREATE TABLE dispute_status_changes (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         TEXT NOT NULL,
    status          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    note            TEXT,
    requested_at    TIMESTAMPTZ NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE CHECK (idempotency_key <> '')
);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('note', 'dispute_status')),
    idempotency_key TEXT NOT NULL UNIQUE,
    -- JSON as text, not JSONB: the payload is opaque to SQL and both backends bind a string.
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX outbox_by_status ON outbox (status, id);

-- Incremental pulls: where each job continues from (written with the data it covers).
CREATE TABLE sync_cursors (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
