//! Names and places customers get.

use super::rng::SplitMix64;

const WEST_A: [&str; 20] = [
    "Alpen",
    "Nordwind",
    "Rhein",
    "Falken",
    "Hansa",
    "Isar",
    "Elbe",
    "Sonnen",
    "Berg",
    "Linden",
    "Atlas",
    "Pioneer",
    "Summit",
    "Harbor",
    "Cedar",
    "Granite",
    "Lakeside",
    "Redwood",
    "Bluewater",
    "Ironbridge",
];
const WEST_B: [&str; 14] = [
    "Logistik",
    "Maschinenbau",
    "Handels",
    "Feinkost",
    "Elektro",
    "Textil",
    "Chemie",
    "Medical",
    "Foods",
    "Tools",
    "Components",
    "Systems",
    "Retail",
    "Packaging",
];
const CN_CITY: [&str; 8] = [
    "上海", "北京", "深圳", "广州", "杭州", "苏州", "成都", "天津",
];
const CN_WORD: [&str; 8] = [
    "恒达", "华信", "瑞丰", "金桥", "东方", "新源", "长城", "宏远",
];
const CN_TRADE: [&str; 6] = ["贸易", "科技", "电子", "机械", "物流", "化工"];

pub(super) struct Place {
    pub street: &'static [&'static str],
    pub cities: &'static [(&'static str, &'static str, &'static str)],
    pub language: &'static str,
}

pub(super) const DE: Place = Place {
    street: &[
        "Hauptstraße",
        "Bahnhofstraße",
        "Industriestraße",
        "Lindenweg",
        "Am Hafen",
    ],
    cities: &[
        ("Walldorf", "69190", "BW"),
        ("München", "80331", "BY"),
        ("Hamburg", "20095", "HH"),
        ("Köln", "50667", "NW"),
    ],
    language: "DE",
};
pub(super) const US: Place = Place {
    street: &[
        "Main Street",
        "Market Street",
        "Oak Avenue",
        "Industrial Parkway",
    ],
    cities: &[
        ("Newtown Square", "19073", "PA"),
        ("Chicago", "60601", "IL"),
        ("Austin", "73301", "TX"),
    ],
    language: "EN",
};
pub(super) const CN: Place = Place {
    street: &["南京路", "人民路", "建设路", "中山路"],
    cities: &[
        ("上海", "200000", "SH"),
        ("北京", "100000", "BJ"),
        ("深圳", "518000", "GD"),
    ],
    language: "ZH",
};

/// A company name fitting the customer's country.
pub(super) fn company_name(rng: &mut SplitMix64, i: usize, chinese: bool, country: &str) -> String {
    if i == 1 {
        // Exercises doubled quotes in $filter and '&' in URLs.
        return "O'Neill & Sons Ltd".to_string();
    }
    if chinese {
        return format!(
            "{}{}{}有限公司",
            rng.pick(&CN_CITY),
            rng.pick(&CN_WORD),
            rng.pick(&CN_TRADE)
        );
    }
    let suffix = if country == "US" {
        *rng.pick(&["Inc.", "LLC", "Corp."])
    } else {
        *rng.pick(&["GmbH", "AG", "GmbH & Co. KG"])
    };
    format!("{} {} {}", rng.pick(&WEST_A), rng.pick(&WEST_B), suffix)
}
