-- Money-days and the cost of a due-date shift at the configured cost of capital.
ALTER TABLE discrepancies ADD COLUMN exposure_cash_days NUMERIC NOT NULL DEFAULT 0;
ALTER TABLE discrepancies ADD COLUMN exposure_cost NUMERIC NOT NULL DEFAULT 0;
