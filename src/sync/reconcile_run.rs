//! A reconciliation run over what the store holds: customers page by page, each with its
//! contracts and open items, through the pure rules; findings recorded per page; flags
//! whose cause disappeared closed at the end.

use crate::model::CustomerId;
use crate::reconcile::{check_customer, check_orphan_contracts, RuleSettings, TermsBook};
use crate::store::{FindingsReport, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Customers per page: bounds memory and keeps each findings write one transaction.
const PAGE: u32 = 500;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ReconcileReport {
    pub customers: u64,
    pub findings: u64,
    pub new: u64,
    pub reopened: u64,
    pub closed: u64,
    pub waivers_expired: u64,
}

impl ReconcileReport {
    fn add(&mut self, r: FindingsReport) {
        self.new += r.new;
        self.reopened += r.reopened;
    }
}

/// Runs every rule as of `today`, stamping what it finds with `now`.
pub async fn run(
    store: &dyn Store,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ReconcileReport, StoreError> {
    run_with(store, &RuleSettings::default(), today, now).await
}

/// Runs the enabled rules with their settings as of `today`, stamping findings with `now`.
pub async fn run_with(
    store: &dyn Store,
    settings: &RuleSettings,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ReconcileReport, StoreError> {
    let (book, unknown) = TermsBook::new(store.payment_terms().await?)
        .with_standard(&settings.standard_payment_terms);
    if !unknown.is_empty() {
        tracing::warn!(
            keys = %unknown.join(", "),
            "rules.standard_payment_terms names keys without a definition; they are ignored"
        );
    }
    let mut report = ReconcileReport {
        waivers_expired: store.expire_waivers(today, now).await?,
        ..ReconcileReport::default()
    };
    let mut after: Option<CustomerId> = None;
    loop {
        let customers = store.customers_page(after.as_ref(), PAGE).await?;
        let Some(last) = customers.last() else { break };
        after = Some(last.id().clone());
        let ids: Vec<CustomerId> = customers.iter().map(|c| c.id().clone()).collect();
        let mut contracts: HashMap<CustomerId, Vec<_>> = HashMap::new();
        for c in store.contracts_for(&ids).await? {
            contracts.entry(c.customer.clone()).or_default().push(c);
        }
        let mut items: HashMap<CustomerId, Vec<_>> = HashMap::new();
        for i in store.open_items_for(&ids).await? {
            items.entry(i.customer.clone()).or_default().push(i);
        }
        let mut findings = Vec::new();
        for customer in &customers {
            findings.extend(check_customer(
                customer,
                contracts
                    .get(customer.id())
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                items
                    .get(customer.id())
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                &book,
                today,
            ));
        }
        let findings = settings.apply(findings);
        report.customers += customers.len() as u64;
        report.findings += findings.len() as u64;
        report.add(store.record_findings(&findings, now).await?);
    }
    let orphans = settings.apply(check_orphan_contracts(
        &store.contracts_without_customer().await?,
        today,
    ));
    report.findings += orphans.len() as u64;
    report.add(store.record_findings(&orphans, now).await?);
    // Flags of a rule switched off are left as they are, not closed as if fixed.
    report.closed = store
        .close_unseen_findings(&settings.enabled_rules(), now)
        .await?;
    tracing::info!(
        customers = report.customers,
        findings = report.findings,
        new = report.new,
        closed = report.closed,
        "reconciled"
    );
    Ok(report)
}
