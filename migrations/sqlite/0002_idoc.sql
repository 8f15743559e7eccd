-- IDoc inbound bookkeeping, SQLite flavour (kept column-for-column with the PostgreSQL file).

-- Every IDoc applied, by DOCNUM: an IDoc sent twice is applied once. Written in the same
-- transaction as the data it carried. status is the ALE status given (53); note says when
-- the IDoc was older than the data already held and so changed nothing.
CREATE TABLE idoc_received (
    docnum       TEXT PRIMARY KEY NOT NULL CHECK (docnum <> ''),
    idoc_type    TEXT NOT NULL,
    message_type TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    order_key    TEXT NOT NULL,
    status       TEXT NOT NULL,
    note         TEXT,
    source       TEXT NOT NULL,
    received_at  TEXT NOT NULL
);

-- Per object (a customer, an invoice): which IDoc's data the store holds. order_key is
-- CREDAT || CRETIM || DOCNUM, so text order is "newer" order.
CREATE TABLE idoc_current (
    object_key TEXT PRIMARY KEY NOT NULL,
    order_key  TEXT NOT NULL,
    docnum     TEXT NOT NULL
);

-- Contact persons (KNVK) as DEBMAS carries them; a deleted contact is flagged, not removed.
CREATE TABLE customer_contacts (
    customer   TEXT NOT NULL CHECK (customer <> ''),
    contact    TEXT NOT NULL CHECK (contact <> ''),
    first_name TEXT,
    last_name  TEXT,
    department TEXT,
    function   TEXT,
    phone      TEXT,
    email      TEXT,
    deleted    INTEGER NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (customer, contact)
);
