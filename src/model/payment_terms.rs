//! Payment terms with their SAP T052 meaning, and the due-date engine.
//!
//! A key (ZTERM) names one or more rules; with day limits (ZTAGG) the rule is chosen by the
//! day of the baseline date. Each rule says where the baseline comes from (ZDART), may move it
//! to a fixed day (ZFAEL) some months later (ZMONA), and gives up to two cash-discount tiers
//! and the net term, each as a number of days or as a fixed day of a later month.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// ZDART: which date of the document the baseline date starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BaselineSource {
    #[default]
    DocumentDate,
    PostingDate,
    EntryDate,
}

/// How one tier's due date is found from the baseline date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayRule {
    /// ZTAGn: this many days after the baseline date.
    Days(u32),
    /// ZSTGn/ZSMNn: this calendar day of the month that lies `months` after the baseline's
    /// month (day 31, or any day past the month's end, means the last day of that month).
    FixedDay { day: u32, months: u32 },
}

/// A cash-discount tier: `percent` off when paid by the tier's due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountTier {
    pub percent: Decimal,
    pub due: DayRule,
}

/// One row of T052 for a key: the rule for baseline days up to `day_limit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsRule {
    /// ZTAGG: this rule applies to baseline days up to and including this day;
    /// `None` (ZTAGG 0) means "every day".
    pub day_limit: Option<u32>,
    pub baseline: BaselineSource,
    /// ZFAEL: the baseline date moves to this calendar day (31 = end of month).
    pub fixed_baseline_day: Option<u32>,
    /// ZMONA: months added to the baseline's month before applying the fixed day.
    pub extra_months: u32,
    /// ZTAG1/ZPRZ1 and ZTAG2/ZPRZ2 (at most two).
    pub discounts: Vec<DiscountTier>,
    /// ZTAG3 (or the last tier given, as SAP does): when the item is due net.
    pub net: Option<DayRule>,
}

impl TermsRule {
    /// A plain rule: net `days` after the document date, no discount.
    pub fn net_days(days: u32) -> Self {
        TermsRule {
            day_limit: None,
            baseline: BaselineSource::DocumentDate,
            fixed_baseline_day: None,
            extra_months: 0,
            discounts: Vec::new(),
            net: Some(DayRule::Days(days)),
        }
    }
}

/// A payment-terms key with its rules (rows sorted by day limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTerms {
    pub key: String,
    pub description: String,
    pub rules: Vec<TermsRule>,
}

/// The dates a document carries that a baseline date can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentDates {
    pub document: NaiveDate,
    pub posting: NaiveDate,
    pub entry: NaiveDate,
}

impl DocumentDates {
    /// The common case where all three dates are the same day.
    pub fn same_day(date: NaiveDate) -> Self {
        DocumentDates {
            document: date,
            posting: date,
            entry: date,
        }
    }
}

/// What terms give for one document: baseline, discount deadlines and net due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueDates {
    pub baseline: NaiveDate,
    /// (pay by, percent off), in tier order.
    pub discounts: Vec<(NaiveDate, Decimal)>,
    pub net: NaiveDate,
}

impl PaymentTerms {
    /// The rule that applies to a document, chosen by the day limit on the baseline day.
    ///
    /// SAP takes the row with the smallest day limit that is not below the day of the
    /// (unadjusted) date the row's baseline comes from; a row without a limit covers every day.
    /// Should no row cover the day (a key whose last limit is below 31, which SAP itself
    /// refuses), the row with the highest limit is used rather than none.
    pub fn rule_for(&self, dates: &DocumentDates) -> Option<&TermsRule> {
        let limit = |r: &TermsRule| r.day_limit.unwrap_or(31);
        self.rules
            .iter()
            .filter(|r| source_date(r.baseline, dates).day() <= limit(r))
            .min_by_key(|r| limit(r))
            .or_else(|| self.rules.iter().max_by_key(|r| limit(r)))
    }

    /// Due dates for a document under these terms. A credit memo not linked to an invoice
    /// is due at its baseline date, with no discount.
    pub fn due_dates(&self, dates: &DocumentDates, credit_memo: bool) -> DueDates {
        let Some(rule) = self.rule_for(dates) else {
            // No rule at all: due immediately, like a key without any days.
            return DueDates {
                baseline: dates.document,
                discounts: Vec::new(),
                net: dates.document,
            };
        };
        let baseline = baseline_date(rule, dates);
        if credit_memo {
            return DueDates {
                baseline,
                discounts: Vec::new(),
                net: baseline,
            };
        }
        let discounts: Vec<(NaiveDate, Decimal)> = rule
            .discounts
            .iter()
            .map(|t| (apply(t.due, baseline), t.percent))
            .collect();
        // SAP's net due date is the last term given: ZTAG3, else the last discount tier,
        // else the baseline itself.
        let net = match rule.net {
            Some(n) => apply(n, baseline),
            None => discounts.last().map(|d| d.0).unwrap_or(baseline),
        };
        DueDates {
            baseline,
            discounts,
            net,
        }
    }
}

fn source_date(source: BaselineSource, dates: &DocumentDates) -> NaiveDate {
    match source {
        BaselineSource::DocumentDate => dates.document,
        BaselineSource::PostingDate => dates.posting,
        BaselineSource::EntryDate => dates.entry,
    }
}

fn baseline_date(rule: &TermsRule, dates: &DocumentDates) -> NaiveDate {
    let start = source_date(rule.baseline, dates);
    match rule.fixed_baseline_day {
        Some(day) if day > 0 => day_of_month_after(start, rule.extra_months, day),
        _ if rule.extra_months > 0 => day_of_month_after(start, rule.extra_months, start.day()),
        _ => start,
    }
}

fn apply(rule: DayRule, baseline: NaiveDate) -> NaiveDate {
    match rule {
        DayRule::Days(d) => baseline + Duration::days(i64::from(d)),
        DayRule::FixedDay { day, months } => day_of_month_after(baseline, months, day),
    }
}

/// `day` of the month `months` after `date`'s month, clamped to that month's last day.
pub fn day_of_month_after(date: NaiveDate, months: u32, day: u32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    let last = last_day_of_month(year, month);
    NaiveDate::from_ymd_opt(year, month, day.clamp(1, last)).expect("valid clamped date")
}

pub fn last_day_of_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .expect("valid first of month")
        .pred_opt()
        .expect("valid previous day")
        .day()
}
