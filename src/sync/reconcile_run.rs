//! A reconciliation run over what the store holds: customers page by page, each with its
//! levels, contracts and open items, through the pure rules; findings recorded per page;
//! flags whose cause disappeared closed at the end.
//!
//! A run is full or incremental. The store queues every customer whose data changed
//! (triggers on the tables the rules read). When the rules, their settings, the
//! payment-terms definitions and the day are those the last run judged by (its
//! fingerprint), only the queued customers can have different findings, and only they are
//! judged again. Anything else, or `full`, judges everyone.

use crate::model::{CustomerId, PaymentTerms, Rule};
use crate::reconcile::{check_customer, check_orphan_contracts, RuleSettings, TermsBook};
use crate::store::{CustomerSelection, FindingsReport, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Customers per page: bounds memory and keeps each findings write one transaction.
const PAGE: u32 = 500;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ReconcileReport {
    /// `true` when every customer was judged, `false` for an incremental run.
    pub full: bool,
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

/// Runs every rule with default settings as of `today`, stamping what it finds with `now`.
pub async fn run(
    store: &dyn Store,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ReconcileReport, StoreError> {
    run_with(store, &RuleSettings::default(), today, now).await
}

/// Runs the enabled rules with their settings as of `today`: incrementally when nothing
/// but customer data changed since the last run, else in full.
pub async fn run_with(
    store: &dyn Store,
    settings: &RuleSettings,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ReconcileReport, StoreError> {
    run_mode(store, settings, today, now, false).await
}

/// Judges every customer, whatever changed.
pub async fn run_full(
    store: &dyn Store,
    settings: &RuleSettings,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ReconcileReport, StoreError> {
    run_mode(store, settings, today, now, true).await
}

/// What a run judges by; a change in any of it can change any customer's findings.
fn fingerprint(settings: &RuleSettings, terms: &[PaymentTerms], today: NaiveDate) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // The release too: new rules or new wording need everyone judged again.
    env!("CARGO_PKG_VERSION").hash(&mut h);
    format!("{settings:?}").hash(&mut h);
    format!("{terms:?}").hash(&mut h);
    today.hash(&mut h);
    format!("{:016x}", h.finish())
}

async fn run_mode(
    store: &dyn Store,
    settings: &RuleSettings,
    today: NaiveDate,
    now: DateTime<Utc>,
    force_full: bool,
) -> Result<ReconcileReport, StoreError> {
    let definitions = store.payment_terms().await?;
    let print = fingerprint(settings, &definitions, today);
    // Read the queue before any data: a change that lands during the run either is read
    // by it or stays queued (its entry's version moves on) for the next one.
    let queued = store.reconcile_queue().await?;
    let full = force_full || store.reconcile_fingerprint().await?.as_deref() != Some(&print);
    let (book, unknown) =
        TermsBook::new(definitions).with_standard(&settings.standard_payment_terms);
    if !unknown.is_empty() {
        tracing::warn!(
            keys = %unknown.join(", "),
            "rules.standard_payment_terms names keys without a definition; they are ignored"
        );
    }
    let mut report = ReconcileReport {
        full,
        waivers_expired: store.expire_waivers(today, now).await?,
        ..ReconcileReport::default()
    };
    let judge = Judge {
        store,
        settings,
        book: &book,
        today,
        now,
    };
    let mut orphan_rules: Vec<Rule> = Vec::new();
    let mut customer_rules = settings.enabled_rules();
    if let Some(i) = customer_rules
        .iter()
        .position(|r| *r == Rule::CustomerMissing)
    {
        orphan_rules.push(customer_rules.remove(i));
    }
    if full {
        // A full run follows a first pull or a new day: the reads below are planned by
        // the statistics of what was just stored.
        store.refresh_statistics().await?;
        let mut page = store
            .customers_with_items(CustomerSelection::After {
                after: None,
                limit: PAGE,
            })
            .await?;
        // The next page is read while this one is judged and recorded: the database works
        // on its own threads meanwhile.
        while let Some((last, _)) = page.last() {
            let after = last.id().clone();
            let next = store.customers_with_items(CustomerSelection::After {
                after: Some(&after),
                limit: PAGE,
            });
            let (next, judged) = tokio::join!(next, judge.page(page, &mut report));
            judged?;
            page = next?;
        }
        report.closed += store.close_unseen_findings(&customer_rules, now).await?;
    } else {
        let ids: Vec<CustomerId> = queued.iter().map(|q| q.customer.clone()).collect();
        for chunk in ids.chunks(PAGE as usize) {
            let page = store
                .customers_with_items(CustomerSelection::Ids(chunk))
                .await?;
            judge.page(page, &mut report).await?;
        }
        // Only the judged customers' flags can have lost their cause (a queued customer
        // that left the master loses all of them).
        report.closed += store
            .close_unseen_findings_of(&customer_rules, &ids, now)
            .await?;
    }
    // Contracts without a customer are few: judged in full every time.
    let orphans = settings.apply(check_orphan_contracts(
        &store.contracts_without_customer().await?,
        today,
    ));
    report.findings += orphans.len() as u64;
    report.add(store.record_findings(&orphans, now).await?);
    // Flags of a rule switched off are left as they are, not closed as if fixed.
    report.closed += store.close_unseen_findings(&orphan_rules, now).await?;
    store.dequeue_reconciled(&queued).await?;
    store.set_reconcile_fingerprint(&print, now).await?;
    tracing::info!(
        full = report.full,
        customers = report.customers,
        findings = report.findings,
        new = report.new,
        closed = report.closed,
        "reconciled"
    );
    Ok(report)
}

/// Judges pages of customers and records what it finds.
struct Judge<'a> {
    store: &'a dyn Store,
    settings: &'a RuleSettings,
    book: &'a TermsBook,
    today: NaiveDate,
    now: DateTime<Utc>,
}

impl Judge<'_> {
    async fn page(
        &self,
        page: Vec<crate::store::CustomerItems>,
        report: &mut ReconcileReport,
    ) -> Result<(), StoreError> {
        let ids: Vec<CustomerId> = page.iter().map(|(c, _)| c.id().clone()).collect();
        let mut contracts: HashMap<CustomerId, Vec<_>> = HashMap::new();
        for c in self.store.contracts_for(&ids).await? {
            contracts.entry(c.customer.clone()).or_default().push(c);
        }
        let mut findings = Vec::new();
        for (customer, items) in &page {
            findings.extend(check_customer(
                customer,
                contracts
                    .get(customer.id())
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                items,
                self.book,
                self.today,
            ));
        }
        let findings = self.settings.apply(findings);
        report.customers += page.len() as u64;
        report.findings += findings.len() as u64;
        report.add(self.store.record_findings(&findings, self.now).await?);
        Ok(())
    }
}
