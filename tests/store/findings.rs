//! Flags: their life, review, waivers, the queue's order and what reconciliation reads.

use super::*;

pub(super) async fn findings_lifecycle(store: SharedStore) {
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

pub(super) async fn change_status_rules_and_audit(store: SharedStore) {
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

pub(super) async fn discrepancies_sorted_by_exposure(store: SharedStore) {
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

pub(super) async fn waivers_need_a_second_person_and_expire(store: SharedStore) {
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

pub(super) async fn a_waiver_reopens_when_its_facts_change(store: SharedStore) {
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
pub(super) async fn customers_with_items_match_the_row_by_row_reads(store: SharedStore) {
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
pub(super) async fn separators_in_erp_values_do_not_break_reconciliation(store: SharedStore) {
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
pub(super) async fn changes_queue_customers_for_reconciliation(store: SharedStore) {
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
pub(super) async fn a_flag_version_is_taken_once(store: SharedStore) {
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
