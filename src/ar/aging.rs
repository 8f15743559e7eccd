//! Days past due and the aging buckets (README, "AR definitions").

use chrono::NaiveDate;
use serde::Serialize;

/// As-of date − net due date, in days: negative or zero while not yet due.
pub fn days_past_due(as_of: NaiveDate, net_due: NaiveDate) -> i64 {
    (as_of - net_due).num_days()
}

/// The seven aging buckets by days past due. The edges belong to the lower bucket:
/// 30 days is `1_30`, 31 is `31_60`, 360 is `181_360`, 361 is `over_360`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Bucket {
    #[serde(rename = "not_due")]
    NotDue,
    #[serde(rename = "1_30")]
    D1To30,
    #[serde(rename = "31_60")]
    D31To60,
    #[serde(rename = "61_90")]
    D61To90,
    #[serde(rename = "91_180")]
    D91To180,
    #[serde(rename = "181_360")]
    D181To360,
    #[serde(rename = "over_360")]
    Over360,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::NotDue,
        Bucket::D1To30,
        Bucket::D31To60,
        Bucket::D61To90,
        Bucket::D91To180,
        Bucket::D181To360,
        Bucket::Over360,
    ];

    pub fn of(days_past_due: i64) -> Bucket {
        match days_past_due {
            d if d <= 0 => Bucket::NotDue,
            1..=30 => Bucket::D1To30,
            31..=60 => Bucket::D31To60,
            61..=90 => Bucket::D61To90,
            91..=180 => Bucket::D91To180,
            181..=360 => Bucket::D181To360,
            _ => Bucket::Over360,
        }
    }

    /// The name used in JSON, CSV headers and the snapshot table.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::NotDue => "not_due",
            Bucket::D1To30 => "1_30",
            Bucket::D31To60 => "31_60",
            Bucket::D61To90 => "61_90",
            Bucket::D91To180 => "91_180",
            Bucket::D181To360 => "181_360",
            Bucket::Over360 => "over_360",
        }
    }

    /// Position in [`Bucket::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// How much older money weighs in the call list's ranking (see `worklist`): the bucket's
    /// position, so not-due money weighs nothing and money over 360 days weighs six times
    /// money 1–30 days late.
    pub fn rank_weight(self) -> u32 {
        self as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn days_past_due_counts_from_the_net_due_date() {
        assert_eq!(days_past_due(d("2026-12-03"), d("2026-12-03")), 0);
        assert_eq!(days_past_due(d("2026-12-03"), d("2026-12-02")), 1);
        assert_eq!(days_past_due(d("2026-12-03"), d("2026-12-10")), -7);
        // Across a leap day.
        assert_eq!(days_past_due(d("2028-03-01"), d("2028-02-28")), 2);
    }

    #[test]
    fn buckets_at_their_edges() {
        let cases = [
            (-30, Bucket::NotDue),
            (0, Bucket::NotDue),
            (1, Bucket::D1To30),
            (30, Bucket::D1To30),
            (31, Bucket::D31To60),
            (60, Bucket::D31To60),
            (61, Bucket::D61To90),
            (90, Bucket::D61To90),
            (91, Bucket::D91To180),
            (180, Bucket::D91To180),
            (181, Bucket::D181To360),
            (360, Bucket::D181To360),
            (361, Bucket::Over360),
            (10_000, Bucket::Over360),
        ];
        for (days, bucket) in cases {
            assert_eq!(Bucket::of(days), bucket, "{days} days");
        }
        let names: Vec<&str> = Bucket::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(
            names,
            ["not_due", "1_30", "31_60", "61_90", "91_180", "181_360", "over_360"]
        );
        for (i, b) in Bucket::ALL.iter().enumerate() {
            assert_eq!(b.index(), i);
        }
    }
}
