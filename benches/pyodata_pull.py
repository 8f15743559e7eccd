"""The same pull as erpsync's, by pyodata (SAP's Python OData client), for a side-by-side
figure: reads every entity set erpsync reads from a running mock ERP, page by page
(following the server's next links), with the same $select and $filter, and prints the
entities per second. Used by benches/pull_vs_pyodata.sh; needs `pip install pyodata`.

    python3 benches/pyodata_pull.py http://127.0.0.1:PORT/sap/opu/odata/sap/ USER PASSWORD
"""
import sys
import time

import pyodata
import requests

# (service, entity set, $select, $filter): as mappings/s4hana-odata-v2.toml reads them.
PULLS = [
    ("API_BUSINESS_PARTNER", "A_Customer",
     "Customer,CustomerName,DeletionIndicator,PostingIsBlocked", None),
    ("API_BUSINESS_PARTNER", "A_CustomerCompany",
     "Customer,CompanyCode,PaymentTerms,ReconciliationAccount,AccountingClerk,DeletionIndicator", None),
    ("API_BUSINESS_PARTNER", "A_CustomerSalesArea",
     "Customer,SalesOrganization,DistributionChannel,Division,CustomerPaymentTerms,Currency,CreditControlArea,DeletionIndicator", None),
    ("API_OPLACCTGDOCITEMCUBE_SRV", "A_OperationalAcctgDocItemCube",
     "CompanyCode,FiscalYear,AccountingDocument,AccountingDocumentItem,Customer,DocumentDate,"
     "PostingDate,DueCalculationBaseDate,PaymentTerms,CashDiscount1Days,CashDiscount1Percent,"
     "CashDiscount2Days,CashDiscount2Percent,NetPaymentDays,NetDueDate,"
     "AmountInTransactionCurrency,TransactionCurrency",
     "FinancialAccountType eq 'D' and IsCleared eq false"),
]


class ClientSession(requests.Session):
    """Adds `sap-client` to every request: pyodata passes its own query parameters, which
    replace a session's defaults."""

    def request(self, method, url, params=None, **kwargs):
        if "sap-client=" not in url and "sap-client=" not in str(params or ""):
            if isinstance(params, str):
                params = params + "&sap-client=100" if params else "sap-client=100"
            else:
                params = {**dict(params or {}), "sap-client": "100"}
        return super().request(method, url, params=params, **kwargs)


def main():
    base, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
    session = ClientSession()
    session.auth = (user, password)
    total = 0
    started = time.perf_counter()
    for service, entity_set, select, flt in PULLS:
        client = pyodata.Client(base + service, session)
        n = 0
        request = getattr(client.entity_sets, entity_set).get_entities().select(select)
        if flt:
            request = request.filter(flt)
        page = request.execute()
        while True:
            n += len(page)
            if not getattr(page, "next_url", None):
                break
            page = getattr(client.entity_sets, entity_set).get_entities().next_url(page.next_url).execute()
        total += n
        print(f"pyodata {entity_set}: {n}", flush=True)
    secs = time.perf_counter() - started
    print(f"pyodata pull: {total} entities in {secs:.1f} s ({total / secs:.0f} entities/s)")


if __name__ == "__main__":
    main()
