//! The store contract, checked against both backends with one suite: every test runs on a
//! fresh SQLite file and, when `ERPSYNC_TEST_POSTGRES_URL` names a server, in a fresh
//! PostgreSQL schema of its own (so the tests can run in parallel).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use erpsync::model::note::{CollectorNote, NoteDetails, PromiseToPay};
use erpsync::model::open_item::AppliedTerms;
use erpsync::model::{
    Address, CompanyCodeData, Contract, ContractScope, CustomerGeneral, CustomerId, DayRule,
    DiscountTier, DiscrepancyStatus, DisputeStatusChange, Exposure, Finding, Note, NoteChannel,
    OpenItem, OpenItemKey, PaymentTerms, Rule, SalesArea, SalesAreaData, Severity, TermsRule,
};
use erpsync::store::{
    Counts, DiscrepancyFilter, FindingsReport, OpenItemFilter, OutboxKind, OutboxStatus,
    SharedStore, StoreError,
};
use rust_decimal::Decimal;
use std::future::Future;
use std::str::FromStr;

mod common;

// ---------------------------------------------------------------- harness

async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path(), "store.db").await;
    assert_eq!(store.backend(), "sqlite");
    test(store).await;
}

async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    common::postgres::with_store("postgres store tests", "erpsync_test", |store| async move {
        assert_eq!(store.backend(), "postgres");
        test(store).await;
    })
    .await;
}

/// Declares every test once per backend.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::on_sqlite(super::$name).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::on_postgres(super::$name).await })*
        }
    };
}

suite!(
    migrate_twice_and_ping,
    customers_round_trip,
    reupsert_updates_in_place,
    customers_page_orders_and_pages,
    open_items_round_trip_and_filters,
    failing_row_rolls_back_whole_batch,
    retire_unseen_open_items_keeps_them,
    contracts_round_trip_and_retire,
    payment_terms_round_trip,
    counts_reflect_current_rows,
    findings_lifecycle,
    change_status_rules_and_audit,
    discrepancies_sorted_by_exposure,
    outbox_lifecycle,
    write_back_is_idempotent,
    large_batches_span_statements,
    waivers_need_a_second_person_and_expire,
    a_waiver_reopens_when_its_facts_change,
    customers_with_items_match_the_row_by_row_reads,
    separators_in_erp_values_do_not_break_reconciliation,
    changes_queue_customers_for_reconciliation,
    a_flag_version_is_taken_once,
    dead_letters_are_dropped_audited_and_kept,
    a_note_reads_back_with_every_collector_detail,
    retries_verification_and_requeues_are_recorded,
    what_the_desk_reads_of_notes_clerks_and_contract_sources,
);

// ---------------------------------------------------------------- data

fn cid(raw: &str) -> CustomerId {
    CustomerId::parse(raw).unwrap()
}

fn at(hours: i64) -> DateTime<Utc> {
    // Microseconds in the base instant check that sub-second precision survives.
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
        + Duration::microseconds(123_456)
        + Duration::hours(hours)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn general(id: &str, name: &str) -> CustomerGeneral {
    CustomerGeneral {
        customer: cid(id),
        name: name.to_string(),
        address: Some(Address {
            name: format!("{name} GmbH"),
            street: "Hauptstr. 1".into(),
            city: "Köln".into(),
            postal_code: "50667".into(),
            country: "DE".into(),
        }),
        deletion_flag: false,
        posting_block: true,
        last_changed: Some(at(-24)),
    }
}

fn company(id: &str, cc: &str, terms: Option<&str>) -> CompanyCodeData {
    CompanyCodeData {
        customer: cid(id),
        company_code: cc.to_string(),
        payment_terms: terms.map(str::to_string),
        reconciliation_account: Some("0012100000".into()),
        accounting_clerk: None,
        dunning_procedure: Some("0001".into()),
        deletion_flag: false,
        posting_block: false,
    }
}

fn sales_area(id: &str, org: &str, terms: Option<&str>) -> SalesAreaData {
    SalesAreaData {
        customer: cid(id),
        area: SalesArea {
            sales_org: org.to_string(),
            distribution_channel: "10".into(),
            division: "00".into(),
        },
        payment_terms: terms.map(str::to_string),
        currency: Some("EUR".into()),
        credit_control_area: None,
        deletion_flag: true,
    }
}

fn item(customer: &str, doc: &str, amount: &str, net_due: Option<NaiveDate>) -> OpenItem {
    OpenItem {
        key: OpenItemKey {
            company_code: "1010".into(),
            fiscal_year: "2026".into(),
            document: doc.to_string(),
            item: "1".into(),
        },
        customer: cid(customer),
        document_date: day(2026, 1, 15),
        posting_date: day(2026, 1, 16),
        baseline_date: day(2026, 1, 15),
        payment_terms: Some("Z215".into()),
        applied: AppliedTerms {
            discount1_days: Some(10),
            discount1_percent: Some(dec("2.000")),
            discount2_days: None,
            discount2_percent: None,
            net_days: Some(30),
        },
        net_due_date: net_due,
        amount: dec(amount),
        currency: "EUR".into(),
        dunning_level: Some(2),
        dunning_block: None,
        dispute_case: Some("CASE-1".into()),
    }
}

fn contract(id: &str, customer: &str, source: &str) -> Contract {
    Contract {
        id: id.to_string(),
        customer: cid(customer),
        scope: ContractScope {
            company_code: Some("1010".into()),
            ..ContractScope::default()
        },
        payment_terms: Some("2% 10 days, net 30".into()),
        credit_limit: Some(dec("-0.10")),
        currency: Some("EUR".into()),
        billing_address: None,
        valid_from: Some(day(2026, 1, 1)),
        valid_to: None,
        source: source.to_string(),
    }
}

fn finding(rule: Rule, customer: &str, scope: &str, amount: &str) -> Finding {
    Finding {
        rule,
        severity: Severity::High,
        customer: cid(customer),
        scope: scope.parse().unwrap(),
        field: "payment_terms".into(),
        contract_id: Some("C-1".into()),
        contract_value: "NT30".into(),
        master_value: "NT60".into(),
        explanation: "master gives 30 days more".into(),
        exposure: Exposure {
            amount: dec(amount),
            currency: "EUR".into(),
            items: 3,
            days: 30,
            ..Exposure::default()
        }
        .priced(dec("0.0730")),
    }
}

fn note(key: &str, at_: DateTime<Utc>) -> Note {
    Note {
        customer: cid("4711"),
        item: Some(OpenItemKey::parse("1010/2026/1800000012/1").unwrap()),
        author: "ana".into(),
        text: "promised to pay Friday".into(),
        channel: NoteChannel::Email,
        created_at: at_,
        idempotency_key: key.to_string(),
    }
}

/// A note queued the way the desk queues one: with no collector details.
fn without_details(note: &Note) -> CollectorNote {
    CollectorNote {
        note: note.clone(),
        details: NoteDetails::default(),
    }
}

fn dispute(key: &str, at_: DateTime<Utc>) -> DisputeStatusChange {
    DisputeStatusChange {
        case_id: "CASE-1".into(),
        status: "INPR".into(),
        requested_by: "ana".into(),
        note: None,
        requested_at: at_,
        idempotency_key: key.to_string(),
    }
}

// ---------------------------------------------------------------- tests

async fn migrate_twice_and_ping(store: SharedStore) {
    store.migrate().await.expect("migrating again is a no-op");
    store.ping().await.unwrap();
    assert_eq!(store.counts().await.unwrap(), Counts::default());
}

async fn customers_round_trip(store: SharedStore) {
    let full = general("4711", "Acme");
    let bare = CustomerGeneral {
        address: None,
        last_changed: None,
        deletion_flag: true,
        posting_block: false,
        ..general("CUST-A1", "Bare")
    };
    store
        .upsert_customers(&[full.clone(), bare.clone()], at(0))
        .await
        .unwrap();
    let companies = [
        company("4711", "1010", Some("NT30")),
        company("4711", "1710", None),
    ];
    store.upsert_company_codes(&companies, at(0)).await.unwrap();
    let areas = [
        sales_area("4711", "1010", Some("Z215")),
        sales_area("4711", "1710", None),
    ];
    store.upsert_sales_areas(&areas, at(0)).await.unwrap();

    let got = store
        .customer(&cid("0000004711"))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.general, full);
    assert_eq!(got.id().as_str(), "0000004711", "leading zeros kept");
    assert_eq!(got.company_codes, companies.to_vec());
    assert_eq!(got.sales_areas, areas.to_vec());

    let got = store
        .customer(&cid("cust-a1"))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.general, bare, "None fields stay None");
    assert!(got.company_codes.is_empty() && got.sales_areas.is_empty());

    assert!(store.customer(&cid("999")).await.unwrap().is_none());
}

async fn reupsert_updates_in_place(store: SharedStore) {
    store
        .upsert_customers(&[general("4711", "Acme")], at(0))
        .await
        .unwrap();
    store
        .upsert_company_codes(&[company("4711", "1010", Some("NT30"))], at(0))
        .await
        .unwrap();
    store
        .upsert_sales_areas(&[sales_area("4711", "1010", Some("NT30"))], at(0))
        .await
        .unwrap();
    store
        .upsert_open_items(&[item("4711", "18001", "10.00", None)], at(0))
        .await
        .unwrap();
    store
        .upsert_contracts(&[contract("C-1", "4711", "erp")], at(0))
        .await
        .unwrap();

    let renamed = CustomerGeneral {
        address: None,
        ..general("4711", "Acme Renamed")
    };
    store
        .upsert_customers(std::slice::from_ref(&renamed), at(1))
        .await
        .unwrap();
    store
        .upsert_company_codes(&[company("4711", "1010", None)], at(1))
        .await
        .unwrap();
    store
        .upsert_sales_areas(&[sales_area("4711", "1010", Some("NT60"))], at(1))
        .await
        .unwrap();
    store
        .upsert_open_items(&[item("4711", "18001", "-20.5", None)], at(1))
        .await
        .unwrap();
    let changed = Contract {
        payment_terms: Some("Net 45".into()),
        ..contract("C-1", "4711", "erp")
    };
    store
        .upsert_contracts(std::slice::from_ref(&changed), at(1))
        .await
        .unwrap();

    // The same key twice in one batch: the later row wins.
    let twice = [
        company("4711", "1010", Some("NT10")),
        company("4711", "1010", None),
    ];
    store.upsert_company_codes(&twice, at(1)).await.unwrap();

    let c = store.customer(&cid("4711")).await.unwrap().unwrap();
    assert_eq!(c.general, renamed);
    assert_eq!(c.company_codes, vec![company("4711", "1010", None)]);
    assert_eq!(
        c.sales_areas,
        vec![sales_area("4711", "1010", Some("NT60"))]
    );
    let items = store.open_items_for(&[cid("4711")]).await.unwrap();
    assert_eq!(items, vec![item("4711", "18001", "-20.5", None)]);
    assert_eq!(
        store.contracts_for(&[cid("4711")]).await.unwrap(),
        vec![changed]
    );
    let counts = store.counts().await.unwrap();
    assert_eq!(
        (
            counts.customers,
            counts.company_codes,
            counts.sales_areas,
            counts.open_items,
            counts.contracts
        ),
        (1, 1, 1, 1, 1),
        "updated, not duplicated"
    );
}

async fn customers_page_orders_and_pages(store: SharedStore) {
    // Inserted out of order; numeric ids are zero-padded, so they sort before letters.
    let ids = ["B-2", "42", "A-1", "7", "100000"];
    let rows: Vec<_> = ids.iter().map(|id| general(id, id)).collect();
    store.upsert_customers(&rows, at(0)).await.unwrap();
    store
        .upsert_company_codes(&[company("A-1", "1010", None)], at(0))
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut after: Option<CustomerId> = None;
    loop {
        let page = store.customers_page(after.as_ref(), 2).await.unwrap();
        assert!(page.len() <= 2);
        if page.is_empty() {
            break;
        }
        after = Some(page.last().unwrap().id().clone());
        seen.extend(page);
    }
    let order: Vec<&str> = seen.iter().map(|c| c.id().as_str()).collect();
    assert_eq!(
        order,
        ["0000000007", "0000000042", "0000100000", "A-1", "B-2"]
    );
    let a1 = seen.iter().find(|c| c.id().as_str() == "A-1").unwrap();
    assert_eq!(
        a1.company_codes,
        vec![company("A-1", "1010", None)],
        "levels come along"
    );
    assert_eq!(store.customers_page(None, 1).await.unwrap().len(), 1);
}

async fn open_items_round_trip_and_filters(store: SharedStore) {
    let mut big = item(
        "4711",
        "18002",
        "-1234567890123456.789012345678",
        Some(day(2026, 3, 1)),
    );
    big.applied = AppliedTerms::default();
    big.payment_terms = None;
    big.dunning_level = None;
    big.dispute_case = None;
    big.dunning_block = Some("A".into());
    let rows = vec![
        item("4711", "18001", "-1234.50", Some(day(2026, 2, 14))),
        big,
        item("4711", "18003", "99.999", None),
        item("815", "18004", "0.00", Some(day(2026, 1, 1))),
    ];
    store.upsert_open_items(&rows, at(0)).await.unwrap();

    let mine = store.open_items_for(&[cid("4711")]).await.unwrap();
    assert_eq!(mine, rows[..3].to_vec());
    assert_eq!(mine[0].amount.to_string(), "-1234.50", "scale kept");
    assert_eq!(
        mine[1].amount.to_string(),
        "-1234567890123456.789012345678",
        "28 digits kept"
    );
    assert_eq!(
        mine[2].applied.discount1_percent.unwrap().to_string(),
        "2.000"
    );

    let all = store
        .list_open_items(&OpenItemFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all[0].customer.as_str(),
        "0000000815",
        "ordered by customer"
    );
    let overdue = store
        .list_open_items(&OpenItemFilter {
            customer: Some(cid("4711")),
            overdue_on: Some(day(2026, 3, 1)),
        })
        .await
        .unwrap();
    assert_eq!(
        overdue,
        vec![rows[0].clone()],
        "due before the day, and only this customer's"
    );
    let none = store.open_items_for(&[]).await.unwrap();
    assert!(none.is_empty());
}

async fn failing_row_rolls_back_whole_batch(store: SharedStore) {
    let mut bad = item("4711", "18009", "1.00", None);
    bad.key.company_code = String::new(); // violates the non-empty key check
    let batch = vec![
        item("4711", "18001", "1.00", None),
        item("4711", "18002", "2.00", None),
        bad,
    ];
    assert!(store.upsert_open_items(&batch, at(0)).await.is_err());
    assert_eq!(
        store.counts().await.unwrap().open_items,
        0,
        "nothing of the batch landed"
    );

    // A failing re-upsert leaves the earlier values untouched, too.
    store.upsert_open_items(&batch[..1], at(0)).await.unwrap();
    let mut update = batch[..1].to_vec();
    update[0].amount = dec("5.00");
    let mut bad_terms = PaymentTerms {
        key: String::new(),
        description: "no key".into(),
        rules: vec![],
    };
    update.push(batch[2].clone());
    assert!(store.upsert_open_items(&update, at(1)).await.is_err());
    let items = store.open_items_for(&[cid("4711")]).await.unwrap();
    assert_eq!(items[0].amount, dec("1.00"));

    let good_terms = PaymentTerms {
        key: "NT30".into(),
        description: "30 days net".into(),
        rules: vec![TermsRule::net_days(30)],
    };
    bad_terms.rules = good_terms.rules.clone();
    assert!(store
        .upsert_payment_terms(&[good_terms, bad_terms])
        .await
        .is_err());
    assert!(store.payment_terms().await.unwrap().is_empty());
    let mut bad_company = company("4711", "1010", None);
    bad_company.company_code = String::new();
    assert!(store
        .upsert_company_codes(&[company("4711", "1710", None), bad_company], at(0))
        .await
        .is_err());
    assert_eq!(store.counts().await.unwrap().company_codes, 0);
}

async fn retire_unseen_open_items_keeps_them(store: SharedStore) {
    let rows = vec![
        item("4711", "18001", "1.00", None),
        item("4711", "18002", "2.00", None),
        item("4711", "18003", "3.00", None),
    ];
    store.upsert_open_items(&rows, at(0)).await.unwrap();
    // The next complete pull starts at at(1) and sees two of them.
    store.upsert_open_items(&rows[1..], at(1)).await.unwrap();
    assert_eq!(store.retire_unseen_open_items(at(1)).await.unwrap(), 1);
    assert_eq!(
        store.retire_unseen_open_items(at(1)).await.unwrap(),
        0,
        "already cleared"
    );
    let open = store
        .list_open_items(&OpenItemFilter::default())
        .await
        .unwrap();
    assert_eq!(open, rows[1..].to_vec());
    assert_eq!(store.open_items_for(&[cid("4711")]).await.unwrap().len(), 2);
    assert_eq!(store.counts().await.unwrap().open_items, 2);

    // Seen again (clearing reversed): listed again, nothing was lost.
    store.upsert_open_items(&rows[..1], at(2)).await.unwrap();
    assert_eq!(store.counts().await.unwrap().open_items, 3);
}

async fn contracts_round_trip_and_retire(store: SharedStore) {
    store
        .upsert_customers(&[general("4711", "Acme")], at(0))
        .await
        .unwrap();
    let billed = Contract {
        billing_address: Some(Address {
            name: "Acme Billing".into(),
            street: String::new(),
            city: "Köln".into(),
            postal_code: "50667".into(),
            country: "DE".into(),
        }),
        scope: ContractScope {
            company_code: None,
            sales_org: Some("1010".into()),
            distribution_channel: Some("10".into()),
            division: None,
        },
        credit_limit: Some(dec("1000000.00")),
        valid_to: Some(day(2027, 12, 31)),
        ..contract("C-2", "4711", "register.csv")
    };
    let erp = vec![
        contract("C-1", "4711", "erp"),
        contract("C-9", "999", "erp"),
    ];
    store.upsert_contracts(&erp, at(0)).await.unwrap();
    store
        .upsert_contracts(std::slice::from_ref(&billed), at(0))
        .await
        .unwrap();
    // The same id from another source is another contract.
    store
        .upsert_contracts(&[contract("C-1", "4711", "register.csv")], at(0))
        .await
        .unwrap();

    let got = store.contracts_for(&[cid("4711")]).await.unwrap();
    assert_eq!(
        got,
        vec![
            erp[0].clone(),
            contract("C-1", "4711", "register.csv"),
            billed.clone()
        ]
    );
    assert_eq!(got[0].credit_limit.unwrap().to_string(), "-0.10");
    assert_eq!(
        store.contracts_without_customer().await.unwrap(),
        vec![erp[1].clone()]
    );

    // A complete ERP load at at(1) no longer has C-9; the register is untouched.
    store.upsert_contracts(&erp[..1], at(1)).await.unwrap();
    assert_eq!(
        store.retire_unseen_contracts("erp", at(1)).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .retire_unseen_contracts("register.csv", at(0))
            .await
            .unwrap(),
        0
    );
    assert!(store.contracts_without_customer().await.unwrap().is_empty());
    assert_eq!(
        store
            .contracts_for(&[cid("4711"), cid("999")])
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(store.counts().await.unwrap().contracts, 3);

    // Loaded again: current again.
    store.upsert_contracts(&erp[1..], at(2)).await.unwrap();
    assert_eq!(
        store.contracts_for(&[cid("999")]).await.unwrap(),
        vec![erp[1].clone()]
    );
}

async fn payment_terms_round_trip(store: SharedStore) {
    let z215 = PaymentTerms {
        key: "Z215".into(),
        description: "2% 15 days, net 30".into(),
        rules: vec![TermsRule {
            day_limit: Some(15),
            discounts: vec![DiscountTier {
                percent: dec("2.50"),
                due: DayRule::Days(15),
            }],
            net: Some(DayRule::FixedDay { day: 31, months: 1 }),
            ..TermsRule::net_days(30)
        }],
    };
    let nt30 = PaymentTerms {
        key: "NT30".into(),
        description: "30 days net".into(),
        rules: vec![TermsRule::net_days(30)],
    };
    store
        .upsert_payment_terms(&[z215.clone(), nt30.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.payment_terms().await.unwrap(),
        vec![nt30.clone(), z215.clone()]
    );

    let redefined = PaymentTerms {
        description: "60 days net".into(),
        rules: vec![TermsRule::net_days(60)],
        ..nt30
    };
    store
        .upsert_payment_terms(std::slice::from_ref(&redefined))
        .await
        .unwrap();
    assert_eq!(store.payment_terms().await.unwrap(), vec![redefined, z215]);
}

async fn counts_reflect_current_rows(store: SharedStore) {
    store
        .upsert_customers(&[general("1", "a"), general("2", "b")], at(0))
        .await
        .unwrap();
    store
        .upsert_company_codes(&[company("1", "1010", None)], at(0))
        .await
        .unwrap();
    store
        .upsert_sales_areas(
            &[sales_area("1", "1010", None), sales_area("2", "1010", None)],
            at(0),
        )
        .await
        .unwrap();
    store
        .upsert_open_items(
            &[item("1", "1", "1", None), item("1", "2", "1", None)],
            at(0),
        )
        .await
        .unwrap();
    store
        .upsert_open_items(&[item("1", "2", "1", None)], at(1))
        .await
        .unwrap();
    store.retire_unseen_open_items(at(1)).await.unwrap();
    store
        .upsert_contracts(&[contract("C-1", "1", "erp")], at(0))
        .await
        .unwrap();
    store
        .upsert_payment_terms(&[PaymentTerms {
            key: "NT30".into(),
            description: String::new(),
            rules: vec![],
        }])
        .await
        .unwrap();
    assert_eq!(
        store.counts().await.unwrap(),
        Counts {
            customers: 2,
            company_codes: 1,
            sales_areas: 2,
            open_items: 1,
            contracts: 1,
            payment_terms: 1,
        }
    );
}

async fn findings_lifecycle(store: SharedStore) {
    use DiscrepancyStatus::*;
    let a = finding(Rule::PaymentTermsCompanyCode, "4711", "CC 1010", "-1234.50");
    let b = finding(Rule::PaymentTermsCompanyCode, "4711", "CC 1710", "10");
    let c = finding(Rule::Currency, "815", "SA 1010/10/00", "0");

    let report = store
        .record_findings(&[a.clone(), b.clone(), c.clone()], at(0))
        .await
        .unwrap();
    assert_eq!(
        report,
        FindingsReport {
            new: 3,
            reopened: 0,
            still_open: 0
        }
    );
    let all = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap();
    let id_of = |f: &Finding| all.iter().find(|d| d.finding == *f).unwrap().id;
    let (ida, idb, idc) = (id_of(&a), id_of(&b), id_of(&c));
    let da = store.discrepancy(ida).await.unwrap().unwrap();
    assert_eq!(da.status, Open);
    assert_eq!(da.finding, a);
    assert_eq!(da.finding.exposure.amount.to_string(), "-1234.50");
    assert_eq!(
        (da.first_seen, da.last_seen, da.updated_at),
        (at(0), at(0), at(0))
    );
    let log = store.audit_log(ida).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].from, log[0].to, log[0].actor.as_str()),
        (None, Open, "erpsync")
    );
    assert_eq!(log[0].at, at(0));

    // Waive c; found again at at(1) along with a (changed values); b is not found.
    store
        .change_status(idc, Waived, "mia", Some("agreed"), None, at(0))
        .await
        .unwrap();
    let mut a2 = a.clone();
    a2.master_value = "NT90".into();
    let report = store
        .record_findings(&[a2.clone(), c.clone()], at(1))
        .await
        .unwrap();
    assert_eq!(
        report,
        FindingsReport {
            new: 0,
            reopened: 0,
            still_open: 2
        }
    );
    let da = store.discrepancy(ida).await.unwrap().unwrap();
    assert_eq!(
        (da.id, da.status, da.first_seen, da.last_seen),
        (ida, Open, at(0), at(1))
    );
    assert_eq!(da.finding.master_value, "NT90", "values refreshed");
    assert_eq!(
        store.discrepancy(idc).await.unwrap().unwrap().status,
        Waived,
        "stays waived"
    );

    // b was not found again: closed (audited); a and c were found, so they stay.
    let rules = [Rule::PaymentTermsCompanyCode, Rule::Currency];
    assert_eq!(store.close_unseen_findings(&rules, at(1)).await.unwrap(), 1);
    assert_eq!(
        store.close_unseen_findings(&rules, at(1)).await.unwrap(),
        0,
        "idempotent"
    );
    let db = store.discrepancy(idb).await.unwrap().unwrap();
    assert_eq!(db.status, Closed);
    let log = store.audit_log(idb).await.unwrap();
    assert_eq!(
        (log[1].from, log[1].to, log[1].actor.as_str()),
        (Some(Open), Closed, "erpsync")
    );
    assert_eq!(log[1].at, at(1));
    // Rules not named are left alone even when unseen.
    assert_eq!(
        store
            .close_unseen_findings(&[Rule::Currency], at(5))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.discrepancy(ida).await.unwrap().unwrap().status, Open);
    assert_eq!(store.close_unseen_findings(&[], at(5)).await.unwrap(), 0);

    // b comes back: reopened with the same id, audited.
    let report = store
        .record_findings(std::slice::from_ref(&b), at(2))
        .await
        .unwrap();
    assert_eq!(
        report,
        FindingsReport {
            new: 0,
            reopened: 1,
            still_open: 0
        }
    );
    let db = store.discrepancy(idb).await.unwrap().unwrap();
    assert_eq!(
        (db.id, db.status, db.first_seen, db.last_seen),
        (idb, Open, at(0), at(2))
    );
    let log = store.audit_log(idb).await.unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!((log[2].from, log[2].to), (Some(Closed), Open));

    // A resolved one that is found again reopens too.
    store
        .change_status(ida, Resolved, "mia", None, None, at(2))
        .await
        .unwrap();
    let report = store.record_findings(&[a2], at(3)).await.unwrap();
    assert_eq!(report.reopened, 1);
    assert_eq!(store.discrepancy(ida).await.unwrap().unwrap().status, Open);

    let counts = store.discrepancy_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![
            (Rule::PaymentTermsCompanyCode, Open, 2),
            (Rule::Currency, Closed, 1)
        ]
    );
}

async fn change_status_rules_and_audit(store: SharedStore) {
    use DiscrepancyStatus::*;
    let f = finding(Rule::PaymentTermsSalesArea, "4711", "SA 1010/10/00", "5");
    store.record_findings(&[f], at(0)).await.unwrap();
    let id = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap()[0]
        .id;

    let d = store
        .change_status(id, Acknowledged, "ana", Some("looking"), None, at(1))
        .await
        .unwrap();
    assert_eq!((d.status, d.updated_at), (Acknowledged, at(1)));
    assert_eq!(d.assignee.as_deref(), Some("ana"));
    let until = day(2026, 12, 31);
    let d = store
        .change_status(id, Waived, "bob", Some("one-off deal"), Some(until), at(2))
        .await
        .unwrap();
    assert_eq!((d.status, d.waived_until), (Waived, Some(until)));

    let err = store
        .change_status(id, Acknowledged, "bob", None, None, at(3))
        .await
        .unwrap_err();
    match err {
        StoreError::Refused(msg) => {
            assert!(
                msg.contains("waived") && msg.contains("acknowledged"),
                "names both: {msg}"
            )
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    let err = store
        .change_status(id, Closed, "bob", None, None, at(3))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Refused(_)),
        "reviewers do not close"
    );
    let err = store
        .change_status(id + 1000, Resolved, "bob", None, None, at(3))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::NotFound {
            what: "discrepancy",
            ..
        }
    ));

    let log = store.audit_log(id).await.unwrap();
    let steps: Vec<_> = log
        .iter()
        .map(|c| (c.from, c.to, c.actor.as_str(), c.note.as_deref(), c.at))
        .collect();
    assert_eq!(
        steps,
        vec![
            (None, Open, "erpsync", None, at(0)),
            (Some(Open), Acknowledged, "ana", Some("looking"), at(1)),
            (
                Some(Acknowledged),
                Waived,
                "bob",
                Some("one-off deal"),
                at(2)
            ),
        ],
        "refused moves leave no trace"
    );
    assert!(log.iter().all(|c| c.discrepancy_id == id));
    assert_eq!(store.discrepancy(id).await.unwrap().unwrap().status, Waived);
    assert!(store.audit_log(id + 1000).await.unwrap().is_empty());
}

async fn discrepancies_sorted_by_exposure(store: SharedStore) {
    let findings = vec![
        finding(Rule::Currency, "1", "-", "10.00"),
        finding(Rule::Currency, "2", "-", "99999999999.99"),
        finding(Rule::Currency, "3", "-", "-5"),
        finding(Rule::Currency, "4", "-", "10.00"),
        finding(Rule::UnknownPaymentTerms, "5", "CC 1010", "10.0001"),
        finding(Rule::Currency, "6", "-", "9.9999"),
    ];
    store.record_findings(&findings, at(0)).await.unwrap();
    let list = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap();
    let customers: Vec<&str> = list.iter().map(|d| d.finding.customer.as_str()).collect();
    assert_eq!(
        customers,
        [
            "0000000002",
            "0000000005",
            "0000000001",
            "0000000004",
            "0000000006",
            "0000000003"
        ],
        "largest exposure first, ties by id"
    );
    assert!(list[2].id < list[3].id);

    let limited = store
        .list_discrepancies(&DiscrepancyFilter {
            rule: Some(Rule::Currency),
            limit: Some(2),
            ..DiscrepancyFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    assert_eq!(limited[1].finding.customer.as_str(), "0000000001");
    let by_customer = store
        .list_discrepancies(&DiscrepancyFilter {
            customer: Some(cid("5")),
            status: Some(DiscrepancyStatus::Open),
            ..DiscrepancyFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_customer.len(), 1);
    assert_eq!(by_customer[0].finding.rule, Rule::UnknownPaymentTerms);
    let closed = DiscrepancyFilter {
        status: Some(DiscrepancyStatus::Closed),
        ..DiscrepancyFilter::default()
    };
    assert!(store.list_discrepancies(&closed).await.unwrap().is_empty());
}

async fn outbox_lifecycle(store: SharedStore) {
    let n = note("note-1", at(0));
    let entry = store.add_note(&without_details(&n)).await.unwrap();
    assert_eq!(entry.kind, OutboxKind::Note);
    assert_eq!(entry.idempotency_key, "note-1");
    assert_eq!(entry.status, OutboxStatus::Pending);
    assert_eq!(
        (entry.attempts, entry.last_error.as_deref(), entry.sent_at),
        (0, None, None)
    );
    assert_eq!(
        serde_json::from_value::<Note>(entry.payload.clone()).unwrap(),
        n
    );
    let d = dispute("dispute-1", at(1));
    let second = store.add_dispute_status(&d).await.unwrap();
    assert_eq!(second.kind, OutboxKind::DisputeStatus);
    assert_eq!(
        serde_json::from_value::<DisputeStatusChange>(second.payload.clone()).unwrap(),
        d
    );
    let third = store
        .add_note(&without_details(&note("note-2", at(2))))
        .await
        .unwrap();

    let due = store.outbox_due(10).await.unwrap();
    assert_eq!(
        due.iter().map(|e| e.id).collect::<Vec<_>>(),
        [entry.id, second.id, third.id]
    );
    assert_eq!(due[0], entry);
    assert_eq!(store.outbox_due(1).await.unwrap().len(), 1);

    // A transient failure: still pending, attempt and error recorded.
    store
        .outbox_mark_failed(entry.id, "503 from ERP", at(3), None)
        .await
        .unwrap();
    let e = &store.outbox_due(10).await.unwrap()[0];
    assert_eq!(
        (e.id, e.status, e.attempts),
        (entry.id, OutboxStatus::Pending, 1)
    );
    assert_eq!(
        (e.last_error.as_deref(), e.updated_at),
        (Some("503 from ERP"), at(3))
    );

    store
        .outbox_mark_failed(entry.id, "gave up", at(4), Some(OutboxStatus::Dead))
        .await
        .unwrap();
    store
        .outbox_mark_failed(second.id, "case unknown", at(4), Some(OutboxStatus::Failed))
        .await
        .unwrap();
    store.outbox_mark_sent(third.id, at(5)).await.unwrap();
    assert!(store.outbox_due(10).await.unwrap().is_empty());

    let dead = store.outbox_list(Some(OutboxStatus::Dead)).await.unwrap();
    assert_eq!((dead.len(), dead[0].attempts), (1, 2));
    let sent = store.outbox_list(Some(OutboxStatus::Sent)).await.unwrap();
    assert_eq!((sent[0].id, sent[0].sent_at), (third.id, Some(at(5))));
    assert_eq!(
        store.outbox_list(Some(OutboxStatus::Failed)).await.unwrap()[0].id,
        second.id
    );
    assert_eq!(store.outbox_list(None).await.unwrap().len(), 3);

    // Retry: failed/dead back to pending; sent and unknown entries are refused.
    store.outbox_retry(entry.id, at(6)).await.unwrap();
    store.outbox_retry(second.id, at(6)).await.unwrap();
    let due = store.outbox_due(10).await.unwrap();
    assert_eq!(
        due.iter().map(|e| e.id).collect::<Vec<_>>(),
        [entry.id, second.id]
    );
    assert_eq!(
        due[0].last_error.as_deref(),
        Some("gave up"),
        "history kept"
    );
    assert!(matches!(
        store.outbox_retry(third.id, at(6)).await,
        Err(StoreError::Refused(_))
    ));
    assert!(matches!(
        store.outbox_retry(third.id + 100, at(6)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.outbox_mark_sent(third.id + 100, at(6)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .outbox_mark_failed(third.id + 100, "x", at(6), None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn write_back_is_idempotent(store: SharedStore) {
    let first = store
        .add_note(&without_details(&note("k-1", at(0))))
        .await
        .unwrap();
    // A retried request (same key) queues nothing new.
    let again = store
        .add_note(&without_details(&note("k-1", at(1))))
        .await
        .unwrap();
    assert_eq!(again, first);
    let d = store
        .add_dispute_status(&dispute("k-2", at(0)))
        .await
        .unwrap();
    assert_eq!(
        store
            .add_dispute_status(&dispute("k-2", at(0)))
            .await
            .unwrap(),
        d
    );
    assert_eq!(store.outbox_list(None).await.unwrap().len(), 2);

    // The same key for a different kind of record is refused, and nothing is stored.
    let err = store
        .add_dispute_status(&dispute("k-1", at(2)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");
    assert_eq!(store.outbox_list(None).await.unwrap().len(), 2);
    let err = store
        .add_note(&without_details(&note("k-2", at(2))))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");

    // A note without an item round-trips through the payload.
    let mut plain = note("k-3", at(3));
    plain.item = None;
    let entry = store.add_note(&without_details(&plain)).await.unwrap();
    assert_eq!(
        serde_json::from_value::<Note>(entry.payload).unwrap(),
        plain
    );
}

async fn large_batches_span_statements(store: SharedStore) {
    // More rows than one multi-row statement carries, and more customers than one IN list.
    let customers: Vec<_> = (1..=1500).map(|i| general(&i.to_string(), "c")).collect();
    let items: Vec<_> = (0..3000)
        .map(|i| {
            item(
                &(i % 1500 + 1).to_string(),
                &format!("{i:010}"),
                "1.01",
                None,
            )
        })
        .collect();
    store.upsert_customers(&customers, at(0)).await.unwrap();
    store.upsert_open_items(&items, at(0)).await.unwrap();
    let ids: Vec<_> = customers.iter().map(|c| c.customer.clone()).collect();
    let found = store.open_items_for(&ids).await.unwrap();
    assert_eq!(found.len(), 3000);
    let total: Decimal = found.iter().map(|i| i.amount).sum();
    assert_eq!(total, dec("3030.00"));
    let page = store.customers_page(None, 2000).await.unwrap();
    assert_eq!(page.len(), 1500);
    assert_eq!(page.last().unwrap().id().as_str(), "0000001500");
}

async fn waivers_need_a_second_person_and_expire(store: SharedStore) {
    use DiscrepancyStatus::*;
    let f = finding(Rule::Currency, "4711", "SA 1010/10/00", "5");
    store.record_findings(&[f], at(0)).await.unwrap();
    let id = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap()[0]
        .id;
    let until = day(2026, 12, 31);
    let d = store
        .change_status(
            id,
            Waived,
            "ana",
            Some("agreed exception"),
            Some(until),
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(
        (d.waiver_by.as_deref(), d.waiver_approved_by.as_deref()),
        (Some("ana"), None)
    );

    let err = store
        .approve_waiver(id, "ana", None, at(2))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Refused(m) if m.contains("cannot also approve")),
        "{err}"
    );
    let d = store
        .approve_waiver(id, "ben", Some("ok by finance"), at(3))
        .await
        .unwrap();
    assert_eq!(d.waiver_approved_by.as_deref(), Some("ben"));
    let err = store
        .approve_waiver(id, "cleo", None, at(4))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Refused(m) if m.contains("already approved")),
        "{err}"
    );

    // Not yet expired on its last day; reopened the day after.
    assert_eq!(store.expire_waivers(until, at(5)).await.unwrap(), 0);
    assert_eq!(
        store
            .expire_waivers(until.succ_opt().unwrap(), at(6))
            .await
            .unwrap(),
        1
    );
    let d = store.discrepancy(id).await.unwrap().unwrap();
    assert_eq!(
        (d.status, d.waived_until, d.waiver_by, d.waiver_approved_by),
        (Open, None, None, None)
    );
    let log = store.audit_log(id).await.unwrap();
    let steps: Vec<_> = log
        .iter()
        .map(|c| (c.actor.as_str(), c.from, c.to, c.note.clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("erpsync", None, Open, None),
            ("ana", Some(Open), Waived, Some("agreed exception".into())),
            (
                "ben",
                Some(Waived),
                Waived,
                Some("waiver approved: ok by finance".into())
            ),
            ("erpsync", Some(Waived), Open, Some("waiver expired".into())),
        ]
    );
}

async fn a_waiver_reopens_when_its_facts_change(store: SharedStore) {
    use DiscrepancyStatus::*;
    let mut f = finding(Rule::Currency, "4711", "SA 1010/10/00", "5");
    store
        .record_findings(std::slice::from_ref(&f), at(0))
        .await
        .unwrap();
    let id = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap()[0]
        .id;
    store
        .change_status(id, Waived, "ana", Some("fine"), None, at(1))
        .await
        .unwrap();
    store
        .record_findings(std::slice::from_ref(&f), at(2))
        .await
        .unwrap();
    assert_eq!(
        store.discrepancy(id).await.unwrap().unwrap().status,
        Waived,
        "same facts: stays waived"
    );
    f.master_value = "CHANGED".into();
    let r = store
        .record_findings(std::slice::from_ref(&f), at(3))
        .await
        .unwrap();
    assert_eq!(r.reopened, 1);
    let d = store.discrepancy(id).await.unwrap().unwrap();
    assert_eq!((d.id, d.status, d.waiver_by), (id, Open, None));
}

// ---------------------------------------------------------------- reconciliation reads

/// The packed read reconciliation uses gives exactly what the row-by-row reads give.
async fn customers_with_items_match_the_row_by_row_reads(store: SharedStore) {
    use erpsync::store::CustomerSelection;
    let mut g = general("17100001", "Ärger & Söhne GmbH");
    g.posting_block = true;
    store
        .upsert_customers(
            &[
                g,
                general("17100002", "北京贸易有限公司"),
                general("17100003", "Bare"),
            ],
            at(0),
        )
        .await
        .unwrap();
    store
        .upsert_company_codes(
            &[
                company("17100001", "1710", None),
                company("17100001", "1010", Some("NT30")),
                company("17100002", "1010", Some("0002")),
            ],
            at(0),
        )
        .await
        .unwrap();
    store
        .upsert_sales_areas(&[sales_area("17100001", "1010", Some("NT30"))], at(0))
        .await
        .unwrap();
    let mut applied = item("17100001", "1800000002", "-12.50", None);
    applied.applied = AppliedTerms {
        discount1_days: Some(10),
        discount1_percent: Some(dec("2.000")),
        discount2_days: None,
        discount2_percent: None,
        net_days: Some(30),
    };
    applied.dispute_case = Some("CASE-1".into());
    store
        .upsert_open_items(
            &[
                item("17100001", "1800000001", "1190.00", Some(day(2026, 4, 9))),
                applied,
                item("17100002", "1800000003", "5.00", None),
            ],
            at(0),
        )
        .await
        .unwrap();
    let ids = [cid("17100001"), cid("17100002"), cid("17100003")];
    let expected: Vec<_> = {
        let customers = store.customers_page(None, 10).await.unwrap();
        let items = store.open_items_for(&ids).await.unwrap();
        customers
            .into_iter()
            .map(|c| {
                let mine = items
                    .iter()
                    .filter(|i| i.customer == *c.id())
                    .cloned()
                    .collect::<Vec<_>>();
                (c, mine)
            })
            .collect()
    };
    assert_eq!(expected.len(), 3);
    assert_eq!(expected[0].1.len(), 2);
    let paged = store
        .customers_with_items(CustomerSelection::After {
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(paged, expected);
    let second = store
        .customers_with_items(CustomerSelection::After {
            after: Some(&ids[0]),
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(second, expected[1..2].to_vec());
    let chosen = store
        .customers_with_items(CustomerSelection::Ids(&[ids[2].clone(), cid("99999999")]))
        .await
        .unwrap();
    assert_eq!(chosen, expected[2..].to_vec());
}

/// ERP values holding the packed read's separators (unit `\x1f`, record `\x1e`) read back
/// exactly, and a reconciliation over them runs, judging every customer.
async fn separators_in_erp_values_do_not_break_reconciliation(store: SharedStore) {
    use erpsync::store::CustomerSelection;
    use erpsync::sync::reconcile_run;
    let mut odd = general("17100001", "Name\u{1f}with\u{1e}separators");
    odd.address = Some(Address {
        name: "A\u{1e}B".into(),
        street: "Main St\u{1f}1".into(),
        city: "Berlin".into(),
        postal_code: "10115".into(),
        country: "DE".into(),
    });
    store
        .upsert_customers(&[odd, general("17100002", "Plain")], at(0))
        .await
        .unwrap();
    let mut cc = company("17100001", "1010", Some("NT60"));
    cc.accounting_clerk = Some("0\u{1f}1".into());
    store
        .upsert_company_codes(&[cc, company("17100002", "1010", Some("NT60"))], at(0))
        .await
        .unwrap();
    let mut sa = sales_area("17100001", "1010", Some("NT30"));
    sa.credit_control_area = Some("\u{1e}".into());
    store.upsert_sales_areas(&[sa], at(0)).await.unwrap();
    // A dispute case that would read as a second, made-up item if taken at face value.
    let made_up = [
        "1010",
        "2026",
        "1899999999",
        "1",
        "17100001",
        "2026-03-10",
        "2026-03-10",
        "2026-03-10",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "1.00",
        "EUR",
        "",
        "",
        "",
    ];
    let mut forged = item("17100001", "1800000001", "10.00", None);
    forged.dispute_case = Some(format!("CASE\u{1e}{}", made_up.join("\u{1f}")));
    store
        .upsert_open_items(
            &[forged.clone(), item("17100002", "1800000002", "5.00", None)],
            at(0),
        )
        .await
        .unwrap();
    let one = |c: &str| OpenItemFilter {
        customer: Some(cid(c)),
        ..OpenItemFilter::default()
    };
    let items = store.list_open_items(&one("17100001")).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].dispute_case, forged.dispute_case);
    let plain = store.list_open_items(&one("17100002")).await.unwrap();
    let customers = store.customers_page(None, 10).await.unwrap();
    assert_eq!(customers[0].general.name, "Name\u{1f}with\u{1e}separators");
    // Both ways of selecting customers go through the same decoding.
    let ids = [cid("17100001"), cid("17100002")];
    let read = store.customers_with_items(CustomerSelection::Ids(&ids));
    let expected = vec![
        (customers[0].clone(), items.clone()),
        (customers[1].clone(), plain),
    ];
    assert_eq!(read.await.unwrap(), expected);
    let page = CustomerSelection::After {
        after: None,
        limit: 10,
    };
    assert_eq!(store.customers_with_items(page).await.unwrap(), expected);
    assert_eq!(
        store.open_items_for(&[cid("17100001")]).await.unwrap(),
        items
    );
    store
        .upsert_contracts(&[contract("C-1", "17100001", "reg")], at(0))
        .await
        .unwrap();
    let report = reconcile_run::run(store.as_ref(), day(2026, 6, 1), at(1))
        .await
        .expect("the run goes through");
    assert_eq!(report.customers, 2);
    assert!(report.findings > 0, "{report:?}");
}

/// Triggers queue a customer when data the rules read changes, not when a pull only
/// stamps it as seen; an entry judged while it changed again stays queued.
async fn changes_queue_customers_for_reconciliation(store: SharedStore) {
    let queued = |store: SharedStore| async move {
        store
            .reconcile_queue()
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.customer.as_str().to_string())
            .collect::<Vec<_>>()
    };
    store
        .upsert_customers(&[general("17100001", "A"), general("17100002", "B")], at(0))
        .await
        .unwrap();
    store
        .upsert_open_items(&[item("17100002", "1800000001", "10.00", None)], at(0))
        .await
        .unwrap();
    assert_eq!(
        queued(store.clone()).await,
        vec!["0017100001", "0017100002"]
    );
    let all = store.reconcile_queue().await.unwrap();
    store.dequeue_reconciled(&all).await.unwrap();
    assert!(queued(store.clone()).await.is_empty());

    // Seen again, unchanged: nothing to judge.
    store
        .upsert_customers(&[general("17100001", "A"), general("17100002", "B")], at(1))
        .await
        .unwrap();
    store
        .upsert_open_items(&[item("17100002", "1800000001", "10.00", None)], at(1))
        .await
        .unwrap();
    assert!(queued(store.clone()).await.is_empty());

    // A new amount, new terms on a company code, a cleared item: each queues its customer.
    store
        .upsert_open_items(&[item("17100002", "1800000001", "11.00", None)], at(2))
        .await
        .unwrap();
    store
        .upsert_company_codes(&[company("17100001", "1010", Some("NT45"))], at(2))
        .await
        .unwrap();
    assert_eq!(
        queued(store.clone()).await,
        vec!["0017100001", "0017100002"]
    );
    let snapshot = store.reconcile_queue().await.unwrap();
    // The customer changes again while the run judges the snapshot: it stays queued.
    store
        .upsert_company_codes(&[company("17100001", "1010", Some("NT60"))], at(3))
        .await
        .unwrap();
    store.dequeue_reconciled(&snapshot).await.unwrap();
    assert_eq!(queued(store.clone()).await, vec!["0017100001"]);
    store.retire_unseen_open_items(at(4)).await.unwrap();
    assert_eq!(
        queued(store.clone()).await,
        vec!["0017100001", "0017100002"]
    );

    assert_eq!(store.reconcile_fingerprint().await.unwrap(), None);
    store.set_reconcile_fingerprint("abc", at(5)).await.unwrap();
    store.set_reconcile_fingerprint("def", at(6)).await.unwrap();
    assert_eq!(
        store.reconcile_fingerprint().await.unwrap().as_deref(),
        Some("def")
    );
}

/// The review desk's compare-and-set: of two pages showing the same version, one acts.
async fn a_flag_version_is_taken_once(store: SharedStore) {
    let f = finding(Rule::Currency, "815", "SA 1010/10/00", "10");
    store.record_findings(&[f], at(0)).await.unwrap();
    let d = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(d.updated_at, at(0));
    assert!(store.take_version(d.id, at(0), at(1)).await.unwrap());
    assert!(
        !store.take_version(d.id, at(0), at(2)).await.unwrap(),
        "the old version is gone"
    );
    assert!(store.take_version(d.id, at(1), at(3)).await.unwrap());
    assert_eq!(
        store.discrepancy(d.id).await.unwrap().unwrap().updated_at,
        at(3)
    );
}

// ---------------------------------------------------------------- write-back records

fn minute(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, minute, 0).unwrap()
}

fn collector_note(key: &str) -> CollectorNote {
    CollectorNote {
        note: Note {
            customer: CustomerId::parse("4711").unwrap(),
            item: None,
            author: "ana".into(),
            text: "客户承诺周五付款".into(),
            channel: NoteChannel::Chat,
            created_at: minute(0),
            idempotency_key: key.into(),
        },
        details: NoteDetails {
            via: Some("WeChat".into()),
            follow_up: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
            promise: Some(PromiseToPay {
                amount: "12345678901234567890.12".parse().unwrap(),
                currency: "CNY".into(),
                date: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            }),
        },
    }
}

async fn a_note_reads_back_with_every_collector_detail(store: SharedStore) {
    let n = collector_note("k-details");
    let entry = store.add_note(&n).await.unwrap();
    // Read back from the store, not from what adding it returned.
    let stored = store.outbox_entry(entry.id).await.unwrap();
    let due = store.outbox_due(10).await.unwrap();
    assert_eq!(due.len(), 1);
    for payload in [stored.payload, due[0].payload.clone()] {
        let back: CollectorNote = serde_json::from_value(payload).unwrap();
        assert_eq!(back.note.channel, NoteChannel::Chat);
        assert_eq!(back.details.via.as_deref(), Some("WeChat"));
        assert_eq!(
            back.details.follow_up,
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        );
        let promise = back.details.promise.as_ref().unwrap();
        assert_eq!(promise.amount.to_string(), "12345678901234567890.12");
        assert_eq!(
            (promise.currency.as_str(), promise.date),
            ("CNY", chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap())
        );
        assert_eq!(back, n);
    }

    // A note without details (as the desk sends today) is queued the same way, and its
    // payload carries no detail fields: it reads as the plain note it always was.
    let mut plain = n.clone();
    plain.note.idempotency_key = "k-plain".into();
    plain.details = NoteDetails::default();
    let entry = store.add_note(&plain).await.unwrap();
    let stored = store.outbox_entry(entry.id).await.unwrap();
    for field in ["via", "follow_up", "promise"] {
        assert!(
            stored.payload.get(field).is_none(),
            "{field} in {}",
            stored.payload
        );
    }
    assert_eq!(
        serde_json::from_value::<Note>(stored.payload.clone()).unwrap(),
        plain.note
    );
    assert_eq!(
        serde_json::from_value::<CollectorNote>(stored.payload).unwrap(),
        plain
    );
}

async fn dead_letters_are_dropped_audited_and_kept(store: SharedStore) {
    let n = collector_note("k-drop");
    let entry = store.add_note(&n).await.unwrap();
    // Queued twice (a client retry): one entry, and the payload keeps every detail.
    assert_eq!(store.add_note(&n).await.unwrap().id, entry.id);
    let back: CollectorNote = serde_json::from_value(entry.payload.clone()).unwrap();
    assert_eq!(back, n);

    let refused = store.outbox_drop(entry.id, "ana", "why", minute(1)).await;
    assert!(matches!(refused, Err(StoreError::Refused(m)) if m.contains("pending")));
    store
        .outbox_mark_failed(
            entry.id,
            "HTTP 400: no such customer",
            minute(2),
            Some(OutboxStatus::Failed),
        )
        .await
        .unwrap();
    store
        .outbox_drop(entry.id, "ana", "customer merged", minute(3))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!(e.status, OutboxStatus::Dropped);
    assert_eq!(e.dropped_by.as_deref(), Some("ana"));
    assert_eq!(e.dropped_at, Some(minute(3)));
    assert_eq!(e.drop_reason.as_deref(), Some("customer merged"));
    assert_eq!(e.last_error.as_deref(), Some("HTTP 400: no such customer"));
    assert!(store.outbox_due(10).await.unwrap().is_empty(), "never sent");
    assert!(store
        .outbox_retry_by(entry.id, "ben", minute(4))
        .await
        .is_err());
    let audit = store.outbox_audit(entry.id).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (
            audit[0].action.as_str(),
            audit[0].actor.as_str(),
            audit[0].at
        ),
        ("drop", "ana", minute(3))
    );
    assert_eq!(
        (audit[0].from_status, audit[0].to_status),
        (OutboxStatus::Failed, OutboxStatus::Dropped)
    );
    assert_eq!(
        store
            .outbox_list(Some(OutboxStatus::Dropped))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn retries_verification_and_requeues_are_recorded(store: SharedStore) {
    let entry = store.add_note(&collector_note("k-verify")).await.unwrap();
    store
        .outbox_mark_failed(entry.id, "timeout", minute(1), Some(OutboxStatus::Dead))
        .await
        .unwrap();
    store
        .outbox_retry_by(entry.id, "ben", minute(2))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!((e.status, e.attempts), (OutboxStatus::Pending, 0));
    assert!(store
        .outbox_mark_verified(entry.id, "ref", minute(3))
        .await
        .is_err());
    store.outbox_mark_sent(entry.id, minute(3)).await.unwrap();
    let key = "A_CustomerText(Customer='0000004711',Language='EN',LongTextID='Z001')";
    store
        .outbox_mark_verified(entry.id, key, minute(4))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!(
        (e.erp_ref.as_deref(), e.verified_at),
        (Some(key), Some(minute(4)))
    );
    assert_eq!(store.outbox_sent_after(0, 10).await.unwrap().len(), 1);
    assert!(store
        .outbox_sent_after(entry.id, 10)
        .await
        .unwrap()
        .is_empty());

    store
        .outbox_requeue(entry.id, "read-back: not in the text", minute(5))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!(e.status, OutboxStatus::Pending);
    assert_eq!((e.sent_at, e.verified_at), (None, None));
    assert_eq!(e.last_error.as_deref(), Some("read-back: not in the text"));
    let actions: Vec<(String, String)> = store
        .outbox_audit(entry.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.actor))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("retry".to_string(), "ben".to_string()),
            ("requeue".to_string(), "erpsync".to_string())
        ]
    );
    assert!(
        store
            .outbox_requeue(entry.id, "again", minute(6))
            .await
            .is_err(),
        "only sent ones"
    );
}

/// The desk's reads: a customer's notes with their outbox state, a collector's customers
/// by accounting clerk, and the contracts of sources no longer configured retired.
async fn what_the_desk_reads_of_notes_clerks_and_contract_sources(store: SharedStore) {
    // Notes, newest first, each with its entry's state and SAP's message.
    let older = store
        .add_note(&without_details(&note("n-1", at(-2))))
        .await
        .unwrap();
    let newer = store
        .add_note(&without_details(&note("n-2", at(-1))))
        .await
        .unwrap();
    store.outbox_mark_sent(older.id, at(-1)).await.unwrap();
    store
        .outbox_mark_failed(
            newer.id,
            "Text ID ZCOL unknown",
            at(0),
            Some(OutboxStatus::Failed),
        )
        .await
        .unwrap();
    let notes = store.notes_with_status(&cid("4711"), 10).await.unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].outbox_id, Some(newer.id));
    assert_eq!(notes[0].status, Some(OutboxStatus::Failed));
    assert_eq!(notes[0].last_error.as_deref(), Some("Text ID ZCOL unknown"));
    assert_eq!(notes[1].status, Some(OutboxStatus::Sent));
    assert_eq!(notes[1].sent_at, Some(at(-1)));
    assert_eq!(
        notes[1].item,
        Some(OpenItemKey::parse("1010/2026/1800000012/1").unwrap())
    );
    assert_eq!(
        store
            .notes_with_status(&cid("4711"), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .notes_with_status(&cid("4712"), 10)
        .await
        .unwrap()
        .is_empty());

    // Customers by accounting clerk.
    let now = at(0);
    store
        .upsert_customers(
            &[
                general("100", "A"),
                general("200", "B"),
                general("300", "C"),
            ],
            now,
        )
        .await
        .unwrap();
    let clerk = |id: &str, cc: &str, c: &str| CompanyCodeData {
        accounting_clerk: Some(c.to_string()),
        ..company(id, cc, Some("NT30"))
    };
    store
        .upsert_company_codes(
            &[
                clerk("100", "1010", "01"),
                clerk("100", "1710", "02"),
                clerk("200", "1010", "02"),
                clerk("300", "1010", "03"),
            ],
            now,
        )
        .await
        .unwrap();
    let mine = store
        .customers_of_clerks(&["02".to_string(), "09".to_string()])
        .await
        .unwrap();
    assert_eq!(mine, vec![cid("100"), cid("200")]);
    assert!(store.customers_of_clerks(&[]).await.unwrap().is_empty());

    // Contracts of sources no longer configured end; the configured ones stay.
    store
        .upsert_contracts(
            &[
                contract("K-1", "100", "clm"),
                contract("K-1", "100", "/srv/erpsync/contracts.csv"),
                contract("K-2", "200", "erp"),
            ],
            now,
        )
        .await
        .unwrap();
    let ended = store
        .retire_contracts_of_other_sources(&["clm".to_string(), "erp".to_string()], at(1))
        .await
        .unwrap();
    assert_eq!(ended, 1);
    let mut left: Vec<(String, String)> = store
        .contracts_for(&[cid("100"), cid("200")])
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.source, c.id))
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec![("clm".into(), "K-1".into()), ("erp".into(), "K-2".into())]
    );
}
