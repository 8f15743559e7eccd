-- IDoc inbound bookkeeping, PostgreSQL flavour (kept column-for-column with the SQLite file).

CREATE TABLE idoc_received (
    docnum       TEXT COLLATE "C" PRIMARY KEY CHECK (docnum <> ''),
    idoc_type    TEXT NOT NULL,
    message_type TEXT NOT NULL,
    object_key   TEXT COLLATE "C" NOT NULL,
    order_key    TEXT COLLATE "C" NOT NULL,
    status       TEXT NOT NULL,
    note         TEXT,
    source       TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL
);

-- order_key compares bytewise ("C"), exactly as in SQLite.
CREATE TABLE idoc_current (
    object_key TEXT COLLATE "C" PRIMARY KEY,
    order_key  TEXT COLLATE "C" NOT NULL,
    docnum     TEXT COLLATE "C" NOT NULL
);

CREATE TABLE customer_contacts (
    customer   TEXT COLLATE "C" NOT NULL CHECK (customer <> ''),
    contact    TEXT COLLATE "C" NOT NULL CHECK (contact <> ''),
    first_name TEXT,
    last_name  TEXT,
    department TEXT,
    function   TEXT,
    phone      TEXT,
    email      TEXT,
    deleted    BOOLEAN NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer, contact)
);
