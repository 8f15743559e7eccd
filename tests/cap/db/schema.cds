// The S/4HANA entity sets erpsync reads, with SAP's names and types (a subset of the
// properties of API_BUSINESS_PARTNER, API_OPLACCTGDOCITEMCUBE_SRV and API_SALES_CONTRACT_SRV).
// Seed rows are written into db/data by tests/cap_conformance.rs before the server starts.
namespace s4;

entity A_Customer {
  key Customer : String(10);
  CustomerName : String(80);
  CustomerFullName : String(220);
  CustomerAccountGroup : String(4);
  CreationDate : Date;
  OrderIsBlockedForCustomer : String(2);
  PostingIsBlocked : Boolean;
  DeletionIndicator : Boolean;
}

entity A_CustomerCompany {
  key Customer : String(10);
  key CompanyCode : String(4);
  AccountingClerk : String(2);
  PaymentTerms : String(4);
  ReconciliationAccount : String(10);
  PhysicalInventoryBlockInd : Boolean;
  DeletionIndicator : Boolean;
  CustomerAccountGroup : String(4);
}

entity A_CustomerSalesArea {
  key Customer : String(10);
  key SalesOrganization : String(4);
  key DistributionChannel : String(2);
  key Division : String(2);
  CreditControlArea : String(4);
  Currency : String(5);
  CustomerPaymentTerms : String(4);
  DeletionIndicator : Boolean;
  CustomerAccountGroup : String(4);
}

entity A_BusinessPartnerAddress {
  key BusinessPartner : String(10);
  key AddressID : String(10);
  ValidityStartDate : Timestamp;
  ValidityEndDate : Timestamp;
  CityName : String(40);
  Country : String(3);
  FullName : String(80);
  HouseNumber : String(10);
  Language : String(2);
  PostalCode : String(10);
  Region : String(3);
  StreetName : String(60);
}

entity A_CustomerText {
  key Customer : String(10);
  key Language : String(2);
  key LongTextID : String(4);
  LongText : LargeString;
}

entity A_CustomerCompanyText {
  key Customer : String(10);
  key CompanyCode : String(4);
  key Language : String(2);
  key LongTextID : String(4);
  LongText : LargeString;
}

entity A_OperationalAcctgDocItemCube {
  key CompanyCode : String(4);
  key FiscalYear : String(4);
  key AccountingDocument : String(10);
  key AccountingDocumentItem : String(3);
  ClearingDate : Date;
  ClearingAccountingDocument : String(10);
  IsCleared : Boolean;
  FinancialAccountType : String(1);
  DebitCreditCode : String(1);
  Customer : String(10);
  CustomerName : String(80);
  Supplier : String(10);
  DueCalculationBaseDate : Date;
  PaymentTerms : String(4);
  CashDiscount1Days : Decimal(3, 0);
  CashDiscount2Days : Decimal(3, 0);
  NetPaymentDays : Decimal(3, 0);
  CashDiscount1Percent : Decimal(5, 3);
  CashDiscount2Percent : Decimal(5, 3);
  InvoiceReference : String(10);
  DunningBlockingReason : String(1);
  DunningLevel : String(1);
  PostingDate : Date;
  DocumentDate : Date;
  AccountingDocumentType : String(2);
  NetDueDate : Date;
  TransactionCurrency : String(5);
  AmountInTransactionCurrency : Decimal(24, 3);
  LastChangeDate : Date;
}

entity A_SalesContract {
  key SalesContract : String(10);
  SalesContractType : String(4);
  SalesOrganization : String(4);
  DistributionChannel : String(2);
  OrganizationDivision : String(2);
  SoldToParty : String(10);
  CreationDate : Date;
  LastChangeDateTime : Timestamp;
  PurchaseOrderByCustomer : String(35);
  SalesContractDate : Date;
  TotalNetAmount : Decimal(16, 3);
  TransactionCurrency : String(5);
  CustomerPaymentTerms : String(4);
  SalesContractValidityStartDate : Date;
  SalesContractValidityEndDate : Date;
}

// S/4HANA credit management (API_CRDTMBUSINESSPARTNER): the limit per credit segment.
entity CreditManagementAccount {
  key BusinessPartner : String(10);
  key CreditSegment : String(10);
  CreditLimitAmount : Decimal(15, 2);
  CreditSegmentCurrency : String(5);
}
