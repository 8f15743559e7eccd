-- PostgreSQL's 0020 puts customer_credit.customer in the "C" collation, so that the
-- reconciliation's read finds a customer's credit limits through the index. SQLite compares
-- text bytewise (BINARY) everywhere already: nothing to change, the number is kept in step.
SELECT 1;
