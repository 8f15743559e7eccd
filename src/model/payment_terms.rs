//! Payment terms with their SAP T052 meaning, and the due-date engine.
//!
//! A key (ZTERM) names one or more rules; with day limits (ZTAGG) the rule is chosen by the
//! day of the date the baseline comes from, before any fixed day moves it. Each rule says
//! where the baseline comes from (ZDART), may move it to a fixed day (ZFAEL) some months
//! later (ZMONA), and gives up to two cash-discount tiers and the net term, each as a number
//! of days or as a fixed day of a later month.
//!
//! Two keys can mean the same thing, so terms are compared by what they produce
//! ([`compare`]) and shown to people in plain words ([`describe`]), never by their names.

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
        DayRule::Days(d) => days_after(baseline, d),
        DayRule::FixedDay { day, months } => day_of_month_after(baseline, months, day),
    }
}

/// `days` after `date`. Terms from an ERP can name any 32-bit day count, far past the
/// calendar's end (year 262142); such a term means "never due" in practice, so the date
/// saturates at [`NaiveDate::MAX`] instead of panicking, and the comparison goes on with it.
pub fn days_after(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_signed(Duration::days(i64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// `day` of the month `months` after `date`'s month, clamped to that month's last day;
/// [`NaiveDate::MAX`] when that month lies past the calendar's end (see [`days_after`]).
pub fn day_of_month_after(date: NaiveDate, months: u32, day: u32) -> NaiveDate {
    let total = i64::from(date.year()) * 12 + i64::from(date.month0()) + i64::from(months);
    let Ok(year) = i32::try_from(total.div_euclid(12)) else {
        return NaiveDate::MAX;
    };
    let month = total.rem_euclid(12) as u32 + 1;
    last_day_of_month(year, month)
        .and_then(|last| NaiveDate::from_ymd_opt(year, month, day.clamp(1, last)))
        .unwrap_or(NaiveDate::MAX)
}

/// The last day of `month` in `year`; `None` outside the calendar's range.
pub fn last_day_of_month(year: i32, month: u32) -> Option<u32> {
    let (ny, nm) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    match NaiveDate::from_ymd_opt(ny, nm, 1) {
        Some(first) => first.pred_opt().map(|d| d.day()),
        // December of the calendar's last year: the next month does not exist.
        None => NaiveDate::from_ymd_opt(year, month, 31).map(|d| d.day()),
    }
}

/// How two payment-terms definitions differ in what they produce for documents.
///
/// Shifts are "master minus contract" in days: negative means the master makes items due
/// earlier than agreed, positive later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermsDifference {
    /// The first document date (in the compared range) for which the results differ.
    pub first_differing_date: NaiveDate,
    /// How many of the compared document dates give different results.
    pub differing_dates: u32,
    /// How many document dates were compared.
    pub compared_dates: u32,
    pub min_net_shift_days: i64,
    pub max_net_shift_days: i64,
    /// Whether the net due date differs for at least one document date.
    pub net_differs: bool,
    /// Whether discount deadlines or percentages differ for at least one document date.
    pub discounts_differ: bool,
    /// Whether the baseline date differs for at least one document date.
    pub baseline_differs: bool,
    /// Whether the terms start from different dates of the document (document, posting or
    /// entry date); this only shows when those dates are not the same day.
    pub baseline_source_differs: bool,
    /// Plain words for a person, e.g. "contract: net 45 from document date; master NT30:
    /// net 30 from document date → due 15 days early".
    pub summary: String,
}

/// First day of the compared range: a leap year followed by a common year, so that
/// February 29th, month ends of every length and day limits on every day are all seen.
const COMPARE_FROM: (i32, u32, u32) = (2028, 1, 1);
const COMPARE_TO: (i32, u32, u32) = (2029, 12, 31);

/// Compares two terms by meaning: the baseline, discount deadlines with percentages and net
/// due date they give for every document date of 2028 (a leap year) and 2029.
///
/// Returns `None` when they agree everywhere. Document, posting and entry dates are first
/// taken as the same day (the usual case, which gives the shifts); only if that shows no
/// difference are they spread apart to see whether the terms start from different dates.
pub fn compare(contract: &PaymentTerms, master: &PaymentTerms) -> Option<TermsDifference> {
    let from = ymd(COMPARE_FROM);
    let to = ymd(COMPARE_TO);
    let same_day = scan(contract, master, from, to, DocumentDates::same_day);
    let (scan, source_differs) = if same_day.differing > 0 {
        (same_day, false)
    } else {
        // Posting and entry dates a few days after the document date, as happens when an
        // invoice is booked late; a difference now can only come from the baseline source.
        let spread = scan(contract, master, from, to, |d| DocumentDates {
            document: d,
            posting: d + Duration::days(3),
            entry: d + Duration::days(5),
        });
        if spread.differing == 0 {
            return None;
        }
        (spread, true)
    };
    let first = scan.first?;
    let summary = summarize(contract, master, &scan, source_differs);
    Some(TermsDifference {
        first_differing_date: first,
        differing_dates: scan.differing,
        compared_dates: scan.compared,
        min_net_shift_days: scan.min_shift,
        max_net_shift_days: scan.max_shift,
        net_differs: scan.net_differs,
        discounts_differ: scan.discounts_differ,
        baseline_differs: scan.baseline_differs,
        baseline_source_differs: source_differs,
        summary,
    })
}

#[derive(Debug, Default)]
struct Scan {
    compared: u32,
    differing: u32,
    first: Option<NaiveDate>,
    min_shift: i64,
    max_shift: i64,
    net_differs: bool,
    discounts_differ: bool,
    baseline_differs: bool,
}

fn scan(
    contract: &PaymentTerms,
    master: &PaymentTerms,
    from: NaiveDate,
    to: NaiveDate,
    dates_for: impl Fn(NaiveDate) -> DocumentDates,
) -> Scan {
    let mut s = Scan::default();
    let mut shifts: Option<(i64, i64)> = None;
    for day in from.iter_days().take_while(|d| *d <= to) {
        let dates = dates_for(day);
        let c = contract.due_dates(&dates, false);
        let m = master.due_dates(&dates, false);
        s.compared += 1;
        let shift = (m.net - c.net).num_days();
        shifts = Some(match shifts {
            None => (shift, shift),
            Some((lo, hi)) => (lo.min(shift), hi.max(shift)),
        });
        // Meaning is what the customer experiences: due dates and discounts. Two ways of
        // reaching the same dates (a baseline moved to month end, or a fixed-day net term)
        // are the same terms.
        if c.net == m.net && c.discounts == m.discounts {
            continue;
        }
        s.differing += 1;
        s.first.get_or_insert(day);
        s.net_differs |= c.net != m.net;
        s.discounts_differ |= c.discounts != m.discounts;
        s.baseline_differs |= c.baseline != m.baseline;
    }
    let (lo, hi) = shifts.unwrap_or((0, 0));
    s.min_shift = lo;
    s.max_shift = hi;
    s
}

fn summarize(contract: &PaymentTerms, master: &PaymentTerms, s: &Scan, source: bool) -> String {
    let mut effect = Vec::new();
    if s.net_differs {
        effect.push(shift_words(s.min_shift, s.max_shift));
    }
    if s.discounts_differ {
        effect.push("discounts differ".to_string());
    }
    if s.baseline_differs && !s.net_differs && !s.discounts_differ {
        effect.push("same due dates, baseline date differs".to_string());
    }
    if source {
        effect.push("baseline taken from a different date of the document".to_string());
    }
    format!(
        "contract: {}; master {}: {} → {}",
        describe(contract),
        master.key,
        describe(master),
        effect.join("; ")
    )
}

fn shift_words(lo: i64, hi: i64) -> String {
    let days = |n: i64| {
        if n.abs() == 1 {
            "1 day".to_string()
        } else {
            format!("{} days", n.abs())
        }
    };
    let side = |n: i64| if n < 0 { "early" } else { "late" };
    if lo == hi {
        format!("due {} {}", days(lo), side(lo))
    } else if lo == 0 {
        format!("due up to {} late", days(hi))
    } else if hi == 0 {
        format!("due up to {} early", days(lo))
    } else if lo > 0 {
        format!("due {} to {} late", lo, days(hi))
    } else if hi < 0 {
        format!("due {} to {} early", -hi, days(lo))
    } else {
        format!("due between {} early and {} late", days(lo), days(hi))
    }
}

fn ymd((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid constant date")
}

/// Plain words for terms, e.g. "2% within 10 days, net 30 from document date",
/// "net 30 after end of month", "due immediately".
pub fn describe(terms: &PaymentTerms) -> String {
    match terms.rules.as_slice() {
        [] => "due immediately".to_string(),
        [only] => describe_rule(only),
        rules => {
            let mut sorted: Vec<&TermsRule> = rules.iter().collect();
            sorted.sort_by_key(|r| r.day_limit.unwrap_or(31));
            let mut from = 1;
            let mut parts = Vec::new();
            for r in sorted {
                let limit = r.day_limit.unwrap_or(31);
                let source = source_words(r.baseline);
                let range = if from == 1 {
                    format!("{source} day up to {limit}")
                } else if limit >= 31 {
                    format!("{source} day from {from}")
                } else {
                    format!("{source} day {from} to {limit}")
                };
                parts.push(format!("{range}: {}", describe_rule(r)));
                from = limit + 1;
            }
            parts.join("; ")
        }
    }
}

fn source_words(source: BaselineSource) -> &'static str {
    match source {
        BaselineSource::DocumentDate => "document",
        BaselineSource::PostingDate => "posting",
        BaselineSource::EntryDate => "entry",
    }
}

/// Where the periods count from: "from document date", "after end of month", ...
fn baseline_words(rule: &TermsRule) -> String {
    let source = format!("{} date", source_words(rule.baseline));
    match (rule.fixed_baseline_day, rule.extra_months) {
        (Some(day), months) if day > 0 => {
            let when = day_of_later_month(day, months);
            if day >= 31 {
                format!("after {when}")
            } else {
                format!("from {when}")
            }
        }
        (_, 0) => format!("from {source}"),
        (_, 1) => format!("from {source} plus 1 month"),
        (_, m) => format!("from {source} plus {m} months"),
    }
}

/// "end of month", "end of next month", "the 15th of next month", "the 10th, 2 months later".
fn day_of_later_month(day: u32, months: u32) -> String {
    let day_words = if day >= 31 {
        "end".to_string()
    } else {
        format!("the {}", ordinal(day))
    };
    match months {
        0 if day >= 31 => "end of month".to_string(),
        0 => format!("{day_words} of the month"),
        1 => format!("{day_words} of next month"),
        m => format!("{day_words} of the month {m} months later"),
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn describe_rule(rule: &TermsRule) -> String {
    let base = baseline_words(rule);
    let plain = rule.baseline == BaselineSource::DocumentDate
        && rule.fixed_baseline_day.unwrap_or(0) == 0
        && rule.extra_months == 0;
    let mut parts: Vec<String> = rule
        .discounts
        .iter()
        .map(|t| match t.due {
            DayRule::Days(n) => format!("{}% within {}", t.percent.normalize(), days_words(n)),
            DayRule::FixedDay { day, months } => format!(
                "{}% until {}",
                t.percent.normalize(),
                day_of_later_month(day, months)
            ),
        })
        .collect();
    let mut base_said = false;
    match rule.net {
        Some(DayRule::Days(n)) if n > 0 => {
            parts.push(format!("net {n} {base}"));
            base_said = true;
        }
        Some(DayRule::FixedDay { day, months }) => {
            parts.push(format!("due {}", at_day_of_later_month(day, months)));
        }
        None if !rule.discounts.is_empty() => {
            parts.push("due net at the last discount deadline".to_string());
        }
        // No days at all: due at the baseline date itself.
        _ => {
            let due = match (rule.fixed_baseline_day, rule.extra_months) {
                (Some(day), months) if day > 0 => {
                    format!("due {}", at_day_of_later_month(day, months))
                }
                _ if plain => "due immediately".to_string(),
                _ => format!("due at the baseline date ({base})"),
            };
            parts.push(due);
            base_said = true;
        }
    }
    if !base_said && !plain {
        // Fixed-day and discount periods count from a moved baseline: say so.
        parts.push(format!("periods {base}"));
    }
    parts.join(", ")
}

/// "at end of month", "on the 15th of next month".
fn at_day_of_later_month(day: u32, months: u32) -> String {
    let when = day_of_later_month(day, months);
    if day >= 31 {
        format!("at {when}")
    } else {
        format!("on {when}")
    }
}

fn days_words(n: u32) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn limited(limit: u32, net: u32) -> TermsRule {
        TermsRule {
            day_limit: Some(limit),
            ..TermsRule::net_days(net)
        }
    }

    #[test]
    fn day_counts_past_the_calendar_end_saturate_instead_of_panicking() {
        let terms = |net: DayRule, extra_months: u32| PaymentTerms {
            key: "ZBIG".into(),
            description: String::new(),
            rules: vec![TermsRule {
                extra_months,
                fixed_baseline_day: Some(31),
                net: Some(net),
                ..TermsRule::net_days(0)
            }],
        };
        let doc = DocumentDates::same_day(date(2026, 3, 10));
        for t in [
            terms(DayRule::Days(u32::MAX), 0),
            terms(
                DayRule::FixedDay {
                    day: 31,
                    months: u32::MAX,
                },
                0,
            ),
            terms(DayRule::Days(30), u32::MAX),
        ] {
            assert_eq!(t.due_dates(&doc, false).net, NaiveDate::MAX, "{t:?}");
            let d = compare(
                &t,
                &PaymentTerms {
                    key: "NT30".into(),
                    description: String::new(),
                    rules: vec![TermsRule::net_days(30)],
                },
            )
            .expect("differs");
            assert!(d.min_net_shift_days < -90_000_000, "{d:?}");
        }
        assert_eq!(last_day_of_month(262_142, 12), Some(31));
        assert_eq!(last_day_of_month(262_143, 1), None);
    }

    #[test]
    fn rule_for_takes_the_smallest_limit_not_below_the_day() {
        // Rows out of order on purpose: the choice must not depend on it.
        let t = PaymentTerms {
            key: "X".into(),
            description: String::new(),
            rules: vec![limited(31, 3), limited(10, 1), limited(20, 2)],
        };
        let net = |d: u32| {
            t.rule_for(&DocumentDates::same_day(date(2029, 1, d)))
                .unwrap()
                .net
        };
        assert_eq!(net(1), Some(DayRule::Days(1)));
        assert_eq!(net(10), Some(DayRule::Days(1)));
        assert_eq!(net(11), Some(DayRule::Days(2)));
        assert_eq!(net(20), Some(DayRule::Days(2)));
        assert_eq!(net(21), Some(DayRule::Days(3)));
        assert_eq!(net(31), Some(DayRule::Days(3)));
    }

    #[test]
    fn describes_in_plain_words() {
        let t = |rules| PaymentTerms {
            key: "X".into(),
            description: String::new(),
            rules,
        };
        assert_eq!(describe(&t(vec![])), "due immediately");
        assert_eq!(
            describe(&t(vec![TermsRule::net_days(30)])),
            "net 30 from document date"
        );
        let posting = TermsRule {
            baseline: BaselineSource::PostingDate,
            ..TermsRule::net_days(14)
        };
        assert_eq!(describe(&t(vec![posting])), "net 14 from posting date");
        let fixed = TermsRule {
            net: Some(DayRule::FixedDay { day: 15, months: 1 }),
            ..TermsRule::net_days(0)
        };
        assert_eq!(describe(&t(vec![fixed])), "due on the 15th of next month");
        let shifted = TermsRule {
            fixed_baseline_day: Some(10),
            extra_months: 1,
            ..TermsRule::net_days(30)
        };
        assert_eq!(
            describe(&t(vec![shifted])),
            "net 30 from the 10th of next month"
        );
        let tiers = TermsRule {
            discounts: vec![
                DiscountTier {
                    percent: Decimal::new(3000, 3),
                    due: DayRule::Days(14),
                },
                DiscountTier {
                    percent: Decimal::new(15, 1),
                    due: DayRule::Days(30),
                },
            ],
            ..TermsRule::net_days(45)
        };
        assert_eq!(
            describe(&t(vec![tiers])),
            "3% within 14 days, 1.5% within 30 days, net 45 from document date"
        );
    }

    #[test]
    fn compare_reports_shifts() {
        let t = |key: &str, days| PaymentTerms {
            key: key.into(),
            description: String::new(),
            rules: vec![TermsRule::net_days(days)],
        };
        let d = compare(&t("Net 45", 45), &t("NT30", 30)).unwrap();
        assert_eq!((d.min_net_shift_days, d.max_net_shift_days), (-15, -15));
        assert_eq!(d.first_differing_date, date(2028, 1, 1));
        assert_eq!(d.compared_dates, 731);
        assert_eq!(
            d.summary,
            "contract: net 45 from document date; master NT30: net 30 from document date \
             → due 15 days early"
        );
        assert_eq!(compare(&t("A", 30), &t("B", 30)), None);
        assert_eq!(shift_words(-1, 1), "due between 1 day early and 1 day late");
        assert_eq!(shift_words(2, 5), "due 2 to 5 days late");
        assert_eq!(shift_words(-5, -2), "due 2 to 5 days early");
    }
}
