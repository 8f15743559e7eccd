-- A flag's scope in columns of its own, so the queue filters by company code and sales
-- organisation through indexes instead of matching the scope text. The text stays: it is
-- the natural key and what JSON and exports show. New rows get the columns from the typed
-- scope; existing rows are filled from their text here (`CC 1010`, `SA 1010/10/00`,
-- `contract C-1`, `customer`, `credit`, `-`).
ALTER TABLE discrepancies ADD COLUMN scope_kind TEXT;
ALTER TABLE discrepancies ADD COLUMN company_code TEXT;
ALTER TABLE discrepancies ADD COLUMN sales_org TEXT;
ALTER TABLE discrepancies ADD COLUMN distribution_channel TEXT;
ALTER TABLE discrepancies ADD COLUMN division TEXT;

UPDATE discrepancies SET
    scope_kind = CASE
        WHEN scope = 'customer' THEN 'customer'
        WHEN scope = 'credit' THEN 'credit'
        WHEN scope = '-' THEN 'unstated'
        WHEN substr(scope, 1, 3) = 'CC ' THEN 'company_code'
        WHEN substr(scope, 1, 3) = 'SA ' THEN 'sales_area'
        WHEN substr(scope, 1, 9) = 'contract ' THEN 'contract'
    END,
    company_code = CASE WHEN substr(scope, 1, 3) = 'CC ' THEN substr(scope, 4) END;

-- `SA org/channel/division`: the part before the first slash, the one between, the rest.
UPDATE discrepancies SET
    sales_org = substr(scope, 4, instr(substr(scope, 4), '/') - 1),
    distribution_channel = substr(
        substr(scope, 4 + instr(substr(scope, 4), '/')),
        1,
        instr(substr(scope, 4 + instr(substr(scope, 4), '/')), '/') - 1
    ),
    division = substr(
        substr(scope, 4 + instr(substr(scope, 4), '/')),
        instr(substr(scope, 4 + instr(substr(scope, 4), '/')), '/') + 1
    )
WHERE scope_kind = 'sales_area';

CREATE INDEX discrepancies_by_company_code ON discrepancies (company_code, exposure_sort DESC, id);
CREATE INDEX discrepancies_by_sales_org ON discrepancies (sales_org, exposure_sort DESC, id);
