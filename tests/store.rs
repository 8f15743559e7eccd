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
#[path = "store/findings.rs"]
mod findings;
#[path = "store/masters.rs"]
mod masters;
#[path = "store/outbox.rs"]
mod outbox;

use findings::*;
use masters::*;
use outbox::*;

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
