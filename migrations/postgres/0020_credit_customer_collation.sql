-- customer_credit.customer in the "C" collation, as every other customer column: the
-- reconciliation's read joins it to customers.customer, and a comparison of two collations
-- cannot use the primary key's index (built in the database's collation), so each customer
-- of a page scanned the whole table (about 90 % of a full run's database time on
-- PostgreSQL). The index is rebuilt with the column.
ALTER TABLE customer_credit ALTER COLUMN customer TYPE TEXT COLLATE "C";
