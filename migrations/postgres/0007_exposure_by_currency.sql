-- The affected open items per currency, as JSON ([{"currency","amount","items"}]):
-- amounts in different currencies are listed side by side, never added together.
ALTER TABLE discrepancies ADD COLUMN exposure_by_currency TEXT NOT NULL DEFAULT '[]';
