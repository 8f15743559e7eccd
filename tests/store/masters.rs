//! Masters, open items, contracts and payment terms: written, read back, replaced, retired.

use super::*;

pub(super) async fn migrate_twice_and_ping(store: SharedStore) {
    store.migrate().await.expect("migrating again is a no-op");
    store.ping().await.unwrap();
    assert_eq!(store.counts().await.unwrap(), Counts::default());
}

pub(super) async fn customers_round_trip(store: SharedStore) {
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

pub(super) async fn reupsert_updates_in_place(store: SharedStore) {
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

pub(super) async fn customers_page_orders_and_pages(store: SharedStore) {
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

pub(super) async fn open_items_round_trip_and_filters(store: SharedStore) {
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

pub(super) async fn failing_row_rolls_back_whole_batch(store: SharedStore) {
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

pub(super) async fn retire_unseen_open_items_keeps_them(store: SharedStore) {
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

pub(super) async fn contracts_round_trip_and_retire(store: SharedStore) {
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

pub(super) async fn payment_terms_round_trip(store: SharedStore) {
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

pub(super) async fn counts_reflect_current_rows(store: SharedStore) {
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
