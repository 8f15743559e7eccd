//! The verdict table: contract text against master definitions.

use super::*;

// ---- the verdict table: contract text against master definitions ------------------------

/// Master keys beyond SAP's standard set, one per T052 feature the table exercises.
const TABLE_T052: &str = "\
ZTERM,ZTAGG,ZDART,ZFAEL,ZMONA,ZTAG1,ZPRZ1,ZSTG1,ZSMN1,ZTAG2,ZPRZ2,ZSTG2,ZSMN2,ZTAG3,ZSTG3,ZSMN3,TEXT1
TP30,00,D,00,00,000,0.000,00,00,000,0.000,00,00,030,00,00,Net 30 from posting date
TE30,00,C,00,00,000,0.000,00,00,000,0.000,00,00,030,00,00,Net 30 from entry date
TM60,00,B,31,00,000,0.000,00,00,000,0.000,00,00,060,00,00,60 days after end of month
T215,00,B,00,00,010,2.000,00,00,020,1.000,00,00,045,00,00,\"2% 10 days, 1% 20 days, net 45\"
TF15,00,B,15,01,000,0.000,00,00,000,0.000,00,00,000,00,00,Baseline the 15th of next month
TS15,00,B,00,00,000,0.000,00,00,000,0.000,00,00,000,15,01,Due the 15th of next month
TD10,00,B,00,00,000,2.000,10,01,000,0.000,00,00,000,31,01,\"2% until the 10th of next month, net end of next month\"
TN60,00,B,00,00,060,0.000,00,00,000,0.000,00,00,000,00,00,60 days as a single tier
TX45,00,B,00,00,000,0.000,00,00,000,0.000,00,00,045,00,00,Net 45 as net days
T2M0,00,B,00,02,000,0.000,00,00,000,0.000,00,00,030,00,00,Baseline two months on then net 30
TL15,15,B,00,00,000,0.000,00,00,000,0.000,00,00,030,00,00,Document day up to 15: net 30
TL15,31,B,00,00,000,0.000,00,00,000,0.000,00,00,045,00,00,Document day from 16: net 45
";

/// The three documents every pair is judged on (document date; posted 3 and entered 5 days
/// later): a month end, the 15th of a leap February, and a December date whose terms run
/// into the next year.
const TABLE_DATES: [(i32, u32, u32); 3] = [(2026, 1, 31), (2028, 2, 15), (2027, 12, 20)];

type Ymd = (i32, u32, u32);
/// (contract, master) net due dates for each of TABLE_DATES.
type NetDates = [(Ymd, Ymd); 3];
/// Discount deadlines and percentages for each of TABLE_DATES.
type Discounts = [&'static [(Ymd, &'static str)]; 3];

struct Pair {
    contract: &'static str,
    master: &'static str,
    same: bool,
    /// Net due dates (contract, master) for each of TABLE_DATES, worked out by hand.
    net: NetDates,
    /// Discount deadlines and percentages both sides give, where there are any.
    discounts: Option<Discounts>,
}

const fn both(d: Ymd) -> (Ymd, Ymd) {
    (d, d)
}

const NET30: NetDates = [both((2026, 3, 2)), both((2028, 3, 16)), both((2028, 1, 19))];
const NET45: NetDates = [both((2026, 3, 17)), both((2028, 3, 31)), both((2028, 2, 3))];
const NET60: NetDates = [both((2026, 4, 1)), both((2028, 4, 15)), both((2028, 2, 18))];
const EOM30: NetDates = [both((2026, 3, 2)), both((2028, 3, 30)), both((2028, 1, 30))];
const EOM60: NetDates = [both((2026, 4, 1)), both((2028, 4, 29)), both((2028, 2, 29))];
const AT_DOC: NetDates = [
    both((2026, 1, 31)),
    both((2028, 2, 15)),
    both((2027, 12, 20)),
];
const AT_EOM: NetDates = [
    both((2026, 1, 31)),
    both((2028, 2, 29)),
    both((2027, 12, 31)),
];
const TWO_TEN: Discounts = [
    &[((2026, 2, 10), "2")],
    &[((2028, 2, 25), "2")],
    &[((2027, 12, 30), "2")],
];

/// Mixes the contract side of `a` with the master side of `b`.
const fn cross(a: NetDates, b: NetDates) -> NetDates {
    [(a[0].0, b[0].1), (a[1].0, b[1].1), (a[2].0, b[2].1)]
}

const PAIRS: [Pair; 26] = [
    Pair {
        contract: "Net 30",
        master: "NT30",
        same: true,
        net: NET30,
        discounts: None,
    },
    Pair {
        contract: "net30",
        master: "Z030",
        same: true,
        net: NET30,
        discounts: None,
    },
    // Same days, but counted from the posting / entry date.
    Pair {
        contract: "Net 30",
        master: "TP30",
        same: false,
        net: cross(
            NET30,
            [both((2026, 3, 5)), both((2028, 3, 19)), both((2028, 1, 22))],
        ),
        discounts: None,
    },
    Pair {
        contract: "Net 30",
        master: "TE30",
        same: false,
        net: cross(
            NET30,
            [both((2026, 3, 7)), both((2028, 3, 21)), both((2028, 1, 24))],
        ),
        discounts: None,
    },
    Pair {
        contract: "Net 30",
        master: "NT45",
        same: false,
        net: cross(NET30, NET45),
        discounts: None,
    },
    Pair {
        contract: "N45",
        master: "TX45",
        same: true,
        net: NET45,
        discounts: None,
    },
    // Day limits: net 30 up to the 15th, net 45 from the 16th.
    Pair {
        contract: "N45",
        master: "TL15",
        same: false,
        net: cross(
            NET45,
            [both((2026, 3, 17)), both((2028, 3, 16)), both((2028, 2, 3))],
        ),
        discounts: None,
    },
    Pair {
        contract: "2/10 net 30",
        master: "0002",
        same: true,
        net: NET30,
        discounts: Some(TWO_TEN),
    },
    Pair {
        contract: "2/10 net 30",
        master: "ZB10",
        same: true,
        net: NET30,
        discounts: Some(TWO_TEN),
    },
    // The master grants no discount: same net date, different terms.
    Pair {
        contract: "2/10 net 30",
        master: "NT30",
        same: false,
        net: NET30,
        discounts: None,
    },
    Pair {
        contract: "2% 10 days, 1% 20 days, net 45",
        master: "T215",
        same: true,
        net: NET45,
        discounts: Some([
            &[((2026, 2, 10), "2"), ((2026, 2, 20), "1")],
            &[((2028, 2, 25), "2"), ((2028, 3, 6), "1")],
            &[((2027, 12, 30), "2"), ((2028, 1, 9), "1")],
        ]),
    },
    Pair {
        contract: "2% 10 days, 1% 20 days, net 45",
        master: "0003",
        same: false,
        net: NET45,
        discounts: None,
    },
    Pair {
        contract: "30 days end of month",
        master: "EM30",
        same: true,
        net: EOM30,
        discounts: None,
    },
    Pair {
        contract: "30 days end of month",
        master: "NT30",
        same: false,
        net: cross(EOM30, NET30),
        discounts: None,
    },
    Pair {
        contract: "60 days EOM",
        master: "TM60",
        same: true,
        net: EOM60,
        discounts: None,
    },
    Pair {
        contract: "60 days EOM",
        master: "NT60",
        same: false,
        net: cross(EOM60, NET60),
        discounts: None,
    },
    Pair {
        contract: "due on receipt",
        master: "NT00",
        same: true,
        net: AT_DOC,
        discounts: None,
    },
    Pair {
        contract: "货到付款",
        master: "0001",
        same: true,
        net: AT_DOC,
        discounts: None,
    },
    Pair {
        contract: "见票即付",
        master: "EOM",
        same: false,
        net: cross(AT_DOC, AT_EOM),
        discounts: None,
    },
    Pair {
        contract: "月结30天",
        master: "EM30",
        same: true,
        net: EOM30,
        discounts: None,
    },
    Pair {
        contract: "发票后60天付款",
        master: "TN60",
        same: true,
        net: NET60,
        discounts: None,
    },
    Pair {
        contract: "发票后60天付款",
        master: "TM60",
        same: false,
        net: cross(NET60, EOM60),
        discounts: None,
    },
    // Up to the 15th: end of this month; from the 16th: end of next month.
    Pair {
        contract: "end of month",
        master: "Z015",
        same: false,
        net: cross(
            AT_EOM,
            [
                both((2026, 2, 28)),
                both((2028, 2, 29)),
                both((2028, 1, 31)),
            ],
        ),
        discounts: None,
    },
    // A fixed baseline day and a fixed due day give the same due dates: the same terms.
    Pair {
        contract: "TF15",
        master: "TS15",
        same: true,
        net: [
            both((2026, 2, 15)),
            both((2028, 3, 15)),
            both((2028, 1, 15)),
        ],
        discounts: None,
    },
    // Extra months on the baseline (ZMONA), then 30 days.
    Pair {
        contract: "Net 60",
        master: "T2M0",
        same: false,
        net: cross(
            NET60,
            [
                both((2026, 4, 30)),
                both((2028, 5, 15)),
                both((2028, 3, 21)),
            ],
        ),
        discounts: None,
    },
    // Discount and net as fixed days of the next month.
    Pair {
        contract: "immediately",
        master: "TD10",
        same: false,
        net: cross(
            AT_DOC,
            [
                both((2026, 2, 28)),
                both((2028, 3, 31)),
                both((2028, 1, 31)),
            ],
        ),
        discounts: None,
    },
];

#[test]
fn verdict_table_of_contract_text_against_master_definitions() {
    let mut defs = t052::standard_terms();
    defs.extend(t052::parse(TABLE_T052.as_bytes()).expect("the table's T052 rows parse"));
    let key = |k: &str| defs.iter().find(|t| t.key == k).unwrap().clone();
    let ymd = |(y, m, d): (i32, u32, u32)| date(y, m, d);
    let mut rows = 0;
    for pair in &PAIRS {
        let contract = terms_text::resolve(pair.contract, &defs)
            .unwrap_or_else(|e| panic!("{:?} reads: {e}", pair.contract));
        let master = key(pair.master);
        let verdict = compare(&contract, &master);
        assert_eq!(
            verdict.is_none(),
            pair.same,
            "{:?} vs {}: {verdict:?}",
            pair.contract,
            pair.master
        );
        // The verdict is symmetric.
        assert_eq!(compare(&master, &contract).is_none(), pair.same);
        for (i, &(y, m, d)) in TABLE_DATES.iter().enumerate() {
            let doc = date(y, m, d);
            let dates = DocumentDates {
                document: doc,
                posting: doc + Duration::days(3),
                entry: doc + Duration::days(5),
            };
            let c = contract.due_dates(&dates, false);
            let s = master.due_dates(&dates, false);
            let (want_c, want_m) = pair.net[i];
            assert_eq!(
                (c.net, s.net),
                (ymd(want_c), ymd(want_m)),
                "{:?} vs {} on {doc}",
                pair.contract,
                pair.master
            );
            if let Some(expected) = pair.discounts {
                let want: Vec<(NaiveDate, Decimal)> = expected[i]
                    .iter()
                    .map(|&(d, p)| (ymd(d), p.parse().unwrap()))
                    .collect();
                let norm = |v: &[(NaiveDate, Decimal)]| {
                    v.iter()
                        .filter(|(_, p)| !p.is_zero())
                        .map(|(d, p)| (*d, p.normalize()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(norm(&c.discounts), want, "{:?} on {doc}", pair.contract);
                assert_eq!(norm(&s.discounts), want, "{} on {doc}", pair.master);
            }
            // Where the net dates differ in the compared years, the stated shift covers it.
            if let Some(v) = &verdict {
                if y >= 2028 {
                    let shift = (s.net - c.net).num_days();
                    assert!(
                        v.min_net_shift_days <= shift && shift <= v.max_net_shift_days,
                        "{:?} vs {} on {doc}: shift {shift} outside {v:?}",
                        pair.contract,
                        pair.master
                    );
                }
            }
            rows += 1;
        }
    }
    assert!(rows >= 60, "{rows} table rows");
}
