-- Money-days and the cost of a due-date shift at the configured cost of capital.
ALTER TABLE discrepancies ADD COLUMN exposure_cash_days TEXT NOT NULL DEFAULT '0';
ALTER TABLE discrepancies ADD COLUMN exposure_cost TEXT NOT NULL DEFAULT '0';
