//! Payment terms as the generator uses them to compute item due dates. These are the
//! meanings of SAP's standard keys as erpsync ships them; `ZX98`/`ZX99` are the "unknown"
//! keys planted on the master, and items posted with them carry net 30 (posted before the
//! key went away).

use super::records::{ymd, OpenItemRec};
use chrono::{Datelike, Duration, NaiveDate};

struct TermsDef {
    cd1: (u16, u16),
    cd2: (u16, u16),
    net: u16,
    /// Baseline moves to the end of the document's month (ZFAEL 31).
    eom: bool,
}

fn terms_def(key: &str) -> TermsDef {
    let t = |cd1, cd2, net, eom| TermsDef { cd1, cd2, net, eom };
    match key {
        "0001" | "NT00" => t((0, 0), (0, 0), 0, false),
        "NT30" | "Z030" => t((0, 0), (0, 0), 30, false),
        "NT45" => t((0, 0), (0, 0), 45, false),
        "NT60" => t((0, 0), (0, 0), 60, false),
        "0002" | "ZB10" => t((10, 2000), (0, 0), 30, false),
        "0003" => t((14, 3000), (30, 2000), 45, false),
        "EM30" => t((0, 0), (0, 0), 30, true),
        "EOM" => t((0, 0), (0, 0), 0, true),
        _ => t((0, 0), (0, 0), 30, false),
    }
}

/// Keys random (non-scenario) customers get, weighted by repetition.
pub(super) const COMMON_KEYS: [&str; 20] = [
    "NT30", "NT30", "NT30", "NT30", "NT30", "NT30", "Z030", "Z030", "0001", "0001", "NT00", "NT45",
    "NT45", "NT60", "NT60", "0002", "0002", "ZB10", "0003", "EM30",
];

fn end_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    ymd(y, m, 1) - Duration::days(1)
}

/// Applies payment terms to a posting the way FI does: baseline (moved to the month's end
/// for EOM keys), discount tiers, net due date.
pub(super) fn apply_terms(item: &mut OpenItemRec) {
    let t = terms_def(item.payment_terms);
    item.baseline_date = if t.eom {
        end_of_month(item.document_date)
    } else {
        item.document_date
    };
    item.cd1_days = t.cd1.0;
    item.cd1_pct_milli = t.cd1.1;
    item.cd2_days = t.cd2.0;
    item.cd2_pct_milli = t.cd2.1;
    item.net_days = t.net;
    let last_days = if t.net > 0 {
        t.net
    } else {
        t.cd2.0.max(t.cd1.0)
    };
    item.net_due_date = item.baseline_date + Duration::days(i64::from(last_days));
}
