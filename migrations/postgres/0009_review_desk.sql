-- The review desk filters the queue by assignee, rule or severity and pages it in exposure
-- order: each filter gets an index that ends in that order, so the next page after a cursor
-- is read from an index range, not sorted from every matching row. (Status has one since
-- 0001.)
CREATE INDEX discrepancies_by_assignee ON discrepancies (assignee, exposure_sort DESC, id);
CREATE INDEX discrepancies_by_rule ON discrepancies (rule, exposure_sort DESC, id);
CREATE INDEX discrepancies_by_severity ON discrepancies (severity, exposure_sort DESC, id);
