//! Building OData query URLs: `$select`, `$filter`, `$orderby`, `$format`, `sap-client`.
//!
//! Values are percent-encoded with `%20` for spaces (not `+`, which some SAP Gateway
//! versions read literally), and string literals in filters double their single quotes.

use url::Url;

/// An OData string literal: `O'Neil` → `'O''Neil'`.
pub fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `prop eq 'a' or prop eq 'b' …`, grouped in parentheses.
pub fn any_of(property: &str, values: &[&str]) -> String {
    let terms: Vec<String> = values
        .iter()
        .map(|v| format!("{property} eq {}", string_literal(v)))
        .collect();
    format!("({})", terms.join(" or "))
}

/// A point in time as a `$filter` literal for a property of `edm_type`, in UTC: V2
/// The `$filter` term for records of `mapping` changed at or after `from`: its watermark
/// property compared with a literal of the property's type (from `$metadata`; without it,
/// SAP's usual Edm.DateTime in V2, Edm.DateTimeOffset in V4). `None` without a watermark.
pub fn changed_since(
    mapping: &crate::erp::mapping::EntityMapping,
    from: chrono::DateTime<chrono::Utc>,
) -> Option<String> {
    use crate::erp::metadata::ODataVersion;
    let property = mapping.watermark.as_ref()?;
    let (ty, version) = mapping.watermark_type.clone().unwrap_or_else(|| {
        let ty = match mapping.version {
            ODataVersion::V2 => "Edm.DateTime",
            ODataVersion::V4 => "Edm.DateTimeOffset",
        };
        (ty.into(), mapping.version)
    });
    Some(format!(
        "{property} ge {}",
        datetime_literal(from, &ty, version)
    ))
}

/// `datetime'…'` for Edm.DateTime (which SAP reads as UTC) and `datetimeoffset'…Z'`; V4
/// plain ISO (`…Z` for DateTimeOffset, the bare date for Edm.Date). A DATS string
/// (`Edm.String` holding a date) gets `'YYYYMMDD'`.
pub fn datetime_literal(
    at: chrono::DateTime<chrono::Utc>,
    edm_type: &str,
    version: crate::erp::metadata::ODataVersion,
) -> String {
    use crate::erp::metadata::ODataVersion;
    match (version, edm_type) {
        (_, "Edm.String") => string_literal(&at.format("%Y%m%d").to_string()),
        (_, "Edm.Date") => at.format("%Y-%m-%d").to_string(),
        (ODataVersion::V2, "Edm.DateTimeOffset") => {
            format!("datetimeoffset'{}'", at.format("%Y-%m-%dT%H:%M:%SZ"))
        }
        (ODataVersion::V2, _) => format!("datetime'{}'", at.format("%Y-%m-%dT%H:%M:%S")),
        (ODataVersion::V4, _) => at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

/// The query options of one entity-set read.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub select: Vec<String>,
    pub filter: Option<String>,
    pub order_by: Vec<String>,
    pub top: Option<u32>,
    pub skip: Option<u64>,
    pub inline_count: bool,
    /// V2 asks for JSON with `$format=json` and counts with `$inlinecount=allpages`; V4
    /// asks through `Accept` and counts with `$count=true`.
    pub version: crate::erp::metadata::ODataVersion,
}

impl Query {
    /// Adds a filter term, joined with `and` to what is there.
    pub fn and_filter(mut self, term: String) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(f) => format!("({f}) and {term}"),
            None => term,
        });
        self
    }
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'\''
            | b'('
            | b')'
            | b','
            | b':'
            | b'/'
            | b'$' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `service_root/entity_set?$format=json&…&sap-client=…`.
///
/// Query options written on the service root itself (`[erp.services] NAME =
/// "https://HOST/data/?cross-company=true"`) go with every read of its sets: Dynamics 365
/// F&O reads only the user's default company without `cross-company=true`.
pub fn entity_set_url(
    service_root: &Url,
    entity_set: &str,
    query: &Query,
    sap_client: Option<&str>,
) -> Url {
    let mut url = service_root
        .join(entity_set)
        .expect("entity set names are valid URL segments");
    use crate::erp::metadata::ODataVersion;
    let v4 = query.version == ODataVersion::V4;
    let root_options: Vec<String> = service_root
        .query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut params: Vec<(&str, String)> = Vec::new();
    if !v4 {
        params.push(("$format", "json".to_string()));
    }
    if !query.select.is_empty() {
        params.push(("$select", query.select.join(",")));
    }
    if let Some(f) = &query.filter {
        params.push(("$filter", f.clone()));
    }
    if !query.order_by.is_empty() {
        params.push(("$orderby", query.order_by.join(",")));
    }
    if let Some(skip) = query.skip.filter(|s| *s > 0) {
        params.push(("$skip", skip.to_string()));
    }
    if let Some(top) = query.top {
        params.push(("$top", top.to_string()));
    }
    if query.inline_count {
        if v4 {
            params.push(("$count", "true".to_string()));
        } else {
            params.push(("$inlinecount", "allpages".to_string()));
        }
    }
    if let Some(c) = sap_client {
        params.push(("sap-client", c.to_string()));
    }
    let q: Vec<String> = root_options
        .into_iter()
        .chain(params.iter().map(|(k, v)| format!("{k}={}", encode(v))))
        .collect();
    url.set_query(Some(&q.join("&")));
    url
}

/// Makes sure a URL (e.g. a server's `__next` link) carries `sap-client`, which SAP
/// Gateway does not always repeat in next links.
pub fn with_sap_client(mut url: Url, sap_client: Option<&str>) -> Url {
    if let Some(c) = sap_client {
        if !url.query_pairs().any(|(k, _)| k == "sap-client") {
            url.query_pairs_mut().append_pair("sap-client", c);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_single_quotes() {
        assert_eq!(string_literal("O'Neil"), "'O''Neil'");
        assert_eq!(
            any_of("Customer", &["1", "2"]),
            "(Customer eq '1' or Customer eq '2')"
        );
    }

    #[test]
    fn urls_are_encoded_with_percent_twenty() {
        let root = Url::parse("https://h/sap/opu/odata/sap/API_BUSINESS_PARTNER/").unwrap();
        let q = Query {
            select: vec!["Customer".into(), "CustomerName".into()],
            filter: Some("Customer eq 'A&B'".into()),
            order_by: vec!["Customer".into()],
            inline_count: true,
            ..Query::default()
        };
        let u = entity_set_url(&root, "A_Customer", &q, Some("100"));
        assert_eq!(
            u.as_str(),
            "https://h/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Customer?$format=json&$select=Customer,CustomerName&$filter=Customer%20eq%20%27A%26B%27&$orderby=Customer&$inlinecount=allpages&sap-client=100"
        );
    }

    #[test]
    fn v4_counts_with_dollar_count_and_asks_for_json_by_header() {
        let root = Url::parse("https://h/sap/opu/odata4/sap/S/").unwrap();
        let q = Query {
            order_by: vec!["Customer".into()],
            top: Some(50),
            skip: Some(100),
            inline_count: true,
            version: crate::erp::metadata::ODataVersion::V4,
            ..Query::default()
        };
        let u = entity_set_url(&root, "A_Customer", &q, None);
        assert_eq!(
            u.as_str(),
            "https://h/sap/opu/odata4/sap/S/A_Customer?$orderby=Customer&$skip=100&$top=50&$count=true"
        );
    }

    #[test]
    fn watermark_literals_are_utc_in_each_dialect() {
        use crate::erp::metadata::ODataVersion::{V2, V4};
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-25T01:30:00+01:00")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            datetime_literal(at, "Edm.DateTime", V2),
            "datetime'2026-11-25T00:30:00'"
        );
        assert_eq!(
            datetime_literal(at, "Edm.DateTimeOffset", V2),
            "datetimeoffset'2026-11-25T00:30:00Z'"
        );
        assert_eq!(
            datetime_literal(at, "Edm.DateTimeOffset", V4),
            "2026-11-25T00:30:00Z"
        );
        assert_eq!(datetime_literal(at, "Edm.Date", V4), "2026-11-25");
        assert_eq!(datetime_literal(at, "Edm.String", V2), "'20261125'");
    }

    #[test]
    fn next_links_keep_the_client() {
        let u = Url::parse("https://h/s/A_Customer?$skiptoken=5").unwrap();
        assert!(with_sap_client(u, Some("100"))
            .as_str()
            .ends_with("sap-client=100"));
    }

    #[test]
    fn options_on_the_service_root_go_with_every_read() {
        let root = Url::parse("https://fo.example.com/data/?cross-company=true").unwrap();
        let q = Query {
            order_by: vec!["dataAreaId".into()],
            version: crate::erp::metadata::ODataVersion::V4,
            ..Query::default()
        };
        let u = entity_set_url(&root, "CustomersV3", &q, None);
        assert_eq!(
            u.as_str(),
            "https://fo.example.com/data/CustomersV3?cross-company=true&$orderby=dataAreaId"
        );
    }
}
