// The four S/4HANA services erpsync reads, under SAP's service names. CAP serves them as
// OData V4 at /odata/v4/<name>/ and, through the V2 adapter, as V2 at /odata/v2/<name>/.
// A small page limit makes the server page (next links) as S/4HANA does on large sets.
using s4 from '../db/schema';

@path: 'API_BUSINESS_PARTNER'
@cds.query.limit: { default: 40, max: 40 }
service API_BUSINESS_PARTNER {
  entity A_Customer as projection on s4.A_Customer;
  entity A_CustomerCompany as projection on s4.A_CustomerCompany;
  entity A_CustomerSalesArea as projection on s4.A_CustomerSalesArea;
  entity A_BusinessPartnerAddress as projection on s4.A_BusinessPartnerAddress;
  entity A_CustomerText as projection on s4.A_CustomerText;
  entity A_CustomerCompanyText as projection on s4.A_CustomerCompanyText;
}

@path: 'API_OPLACCTGDOCITEMCUBE_SRV'
@cds.query.limit: { default: 40, max: 40 }
service API_OPLACCTGDOCITEMCUBE_SRV {
  @readonly entity A_OperationalAcctgDocItemCube as projection on s4.A_OperationalAcctgDocItemCube;
}

@path: 'API_SALES_CONTRACT_SRV'
@cds.query.limit: { default: 40, max: 40 }
service API_SALES_CONTRACT_SRV {
  @readonly entity A_SalesContract as projection on s4.A_SalesContract;
}

@path: 'API_CRDTMBUSINESSPARTNER'
@cds.query.limit: { default: 40, max: 40 }
service API_CRDTMBUSINESSPARTNER {
  @readonly entity CreditManagementAccount as projection on s4.CreditManagementAccount;
}
