//! Mapping files: which ERP entity set and property feeds each model field.
//!
//! A mapping is data, not code, so a customer's own fields (or another OData ERP) can be
//! wired without a release. Loading checks that every field the model needs is mapped and
//! names the file, the entry and the field when one is missing.

use crate::erp::metadata::{Metadata, ODataVersion, Property};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("cannot read mapping file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("mapping file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The fields an entity read as open items must map. `fiscal_year` may be left out where
/// the ERP keys items without one (Dynamics 365 vouchers are unique per legal entity): the
/// posting date's year stands in.
const OPEN_ITEM_FIELDS: &[&str] = &[
    "company_code",
    "document",
    "item",
    "customer",
    "document_date",
    "posting_date",
    "amount",
    "currency",
];

/// The pulls erpsync knows, with the model fields each one must map.
pub const ENTITIES: &[(&str, &[&str])] = &[
    ("customers", &["customer", "name"]),
    (
        "company_codes",
        &["customer", "company_code", "payment_terms"],
    ),
    ("open_items", OPEN_ITEM_FIELDS),
];

/// Pulls a mapping may leave out, with the fields each must map when present. Not every
/// ERP has them: credit management is a separate SAP component that not every system
/// runs, and an ERP without SAP's sales areas (Dynamics 365 keeps terms per company and
/// customer), addresses of their own, or sales contracts is still reconciled on the rest.
pub const OPTIONAL_ENTITIES: &[(&str, &[&str])] = &[
    ("addresses", &["customer"]),
    (
        "sales_areas",
        &[
            "customer",
            "sales_org",
            "distribution_channel",
            "division",
            "payment_terms",
            "currency",
        ],
    ),
    ("contracts", &["id", "customer"]),
    // The sales history DSO counts back over: customer items by posting date, cleared or
    // not (`sync::sales_items`). Read with the open-item record, so the same fields.
    ("sales_items", OPEN_ITEM_FIELDS),
    ("credit_limits", &["customer", "segment", "amount"]),
    // Payment-terms definitions read from the ERP itself (Dynamics 365 F&O terms of payment
    // and cash discounts, see `erp::dynamics_terms`) instead of a T052 export.
    ("payment_terms", &["key", "method"]),
    ("cash_discounts", &["code", "method", "percent"]),
];

/// Optional pulls a system may lack the service for (a component not installed, or no
/// authorisation for it), and what goes unjudged then: `sync` reports it and syncs the
/// rest, and `check` warns rather than fails.
pub fn unjudged_without(entity: &str) -> Option<&'static str> {
    match entity {
        "credit_limits" => {
            Some("credit limits are not read, so the credit_limit rule has nothing to judge")
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityMapping {
    pub service: String,
    pub entity_set: String,
    #[serde(default)]
    pub order_by: Vec<String>,
    /// An OData `$filter` expression the ERP applies (e.g. only uncleared customer items).
    pub filter: Option<String>,
    /// A last-changed property for incremental pulls (e.g. `LastChangeDateTime`); without
    /// it the entity is always pulled in full.
    pub watermark: Option<String>,
    /// How far before the stored watermark the next incremental pull starts, in seconds
    /// (default one day): covers the ERP's clock, date-only fields and late commits.
    /// Items read twice are upserted twice, which changes nothing.
    pub watermark_overlap_seconds: Option<u64>,
    /// Use the service's change tracking (open items only): the first pull asks for a
    /// delta link (`Prefer: odata.track-changes`), later pulls read it for what changed,
    /// including what left the query (cleared items), instead of a watermark.
    #[serde(default)]
    pub delta: bool,
    /// model field → ERP property.
    pub fields: BTreeMap<String, String>,
    /// Flags an ERP keeps as a status of several values: model field → the values that
    /// mean "set" (Dynamics 365's `OnHoldStatus` `All` for a posting block). Any other
    /// value, or none, means "not set".
    #[serde(default)]
    pub flags: BTreeMap<String, Vec<String>>,
    /// ERP property → declared (precision, scale) of its Edm.Decimal, from `$metadata` when
    /// it was read; decimals are checked against it so no digit is silently lost.
    #[serde(skip)]
    pub decimal_facets: BTreeMap<String, (u32, Option<u32>)>,
    /// The watermark property's declared type and the service's OData version, from
    /// `$metadata`, which decide how its filter literal is written.
    #[serde(skip)]
    pub watermark_type: Option<(String, ODataVersion)>,
    /// The protocol version the mapping file declares (`version = 4`), which decides the
    /// query options sent (`$inlinecount` or `$count`) and how the answer is asked for.
    #[serde(skip)]
    pub version: ODataVersion,
}

impl EntityMapping {
    /// Takes the decimal facets of the mapped properties from the service's metadata.
    pub fn apply_metadata(&mut self, md: &Metadata) {
        for prop in self.fields.values() {
            if let Some(f) = md
                .property(&self.entity_set, prop)
                .and_then(|p| p.decimal_facets())
            {
                self.decimal_facets.insert(prop.clone(), f);
            }
        }
        if let Some(w) = &self.watermark {
            self.watermark_type = md
                .property(&self.entity_set, w)
                .map(|p| (p.edm_type, md.version));
        }
    }

    /// The ERP property for a model field, if mapped.
    pub fn property(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

/// What a model field holds, so its ERP property's declared type can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Date,
    Decimal,
    Count,
    Flag,
}

impl FieldKind {
    pub fn of(field: &str) -> FieldKind {
        match field {
            "document_date" | "posting_date" | "baseline_date" | "net_due_date" | "valid_from"
            | "valid_to" => FieldKind::Date,
            "amount" | "discount1_percent" | "discount2_percent" | "credit_limit" | "percent" => {
                FieldKind::Decimal
            }
            "discount1_days" | "discount2_days" | "net_days" | "dunning_level" | "days"
            | "months" | "cutoff_day" => FieldKind::Count,
            "deletion_flag" | "posting_block" => FieldKind::Flag,
            _ => FieldKind::Text,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Date => "a date",
            FieldKind::Decimal => "an exact decimal",
            FieldKind::Count => "a whole number",
            FieldKind::Flag => "a flag",
        }
    }

    /// Whether a property of this declared type can feed the model field. SAP sends some
    /// values as strings (NUMC counts, `X` flags, DATS dates marked `sap:display-format="Date"`).
    pub fn accepts(self, p: &Property) -> bool {
        let integer = matches!(
            p.edm_type.as_str(),
            "Edm.Byte" | "Edm.SByte" | "Edm.Int16" | "Edm.Int32" | "Edm.Int64"
        );
        // A type outside `Edm.` is one the service declares itself: an enumeration (F&O
        // sends enum members by name, e.g. `"PaymentMethodType": "Net"`).
        let own_type = !p.edm_type.starts_with("Edm.");
        match self {
            FieldKind::Text => {
                p.edm_type == "Edm.String" || p.edm_type == "Edm.Guid" || integer || own_type
            }
            FieldKind::Date => {
                matches!(
                    p.edm_type.as_str(),
                    "Edm.DateTime" | "Edm.DateTimeOffset" | "Edm.Date"
                ) || (p.edm_type == "Edm.String" && p.display_format.as_deref() == Some("Date"))
            }
            FieldKind::Decimal => p.edm_type == "Edm.Decimal" || integer,
            FieldKind::Count => {
                integer
                    || p.edm_type == "Edm.String"
                    || (p.edm_type == "Edm.Decimal"
                        && matches!(p.decimal_facets(), Some((_, Some(0)))))
            }
            FieldKind::Flag => {
                p.edm_type == "Edm.Boolean"
                    || (p.edm_type == "Edm.String" && p.max_length == Some(1))
            }
        }
    }
}

/// OData words that are not property names in a `$filter`.
const FILTER_WORDS: &[&str] = &[
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "and",
    "or",
    "not",
    "true",
    "false",
    "null",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "datetime",
    "datetimeoffset",
    "time",
    "guid",
    "binary",
    "X",
];

/// The property names a `$filter` expression refers to (identifiers outside string
/// literals that are not operators, literals' type prefixes or function names).
pub fn filter_properties(filter: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = filter.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let is_call = chars.get(i) == Some(&'(') || chars.get(i) == Some(&'\'');
            if !is_call && !FILTER_WORDS.contains(&word.as_str()) && !out.contains(&word) {
                out.push(word);
            }
        } else {
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotesTarget {
    pub service: String,
    pub entity_set: String,
    pub language: String,
    pub long_text_id: String,
    /// The length one appended entry may take (SAP declares no limit on the long text
    /// itself): a longer note is split into marked parts that join back to its exact text.
    pub max_length: usize,
    /// `customer` (default: the customer's general text, `A_CustomerText`) or
    /// `company_code` (the text of one company code, `A_CustomerCompanyText`, keyed also by
    /// `CompanyCode`: the company code of the note's open item).
    #[serde(default)]
    pub level: TextLevel,
    /// At the company-code level: the company code of notes that name no open item.
    #[serde(default)]
    pub company_code: Option<String>,
    /// Whether the service honours `Repeatability-Request-ID` on `$batch` parts, so a batch
    /// whose answer was lost may be sent again as it was: `true` (known to), `false` (never
    /// send again; the markers decide at the next drain) or unset (learnt from the
    /// service's `Repeatability-Result` answers).
    #[serde(default)]
    pub repeatability: Option<bool>,
}

/// Which of the customer's long texts notes are appended to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextLevel {
    #[default]
    Customer,
    CompanyCode,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeTarget {
    /// Path of the SOAP endpoint on the ERP host.
    pub path: String,
}

/// Where notes and dispute statuses are written. A mapping without `[targets]` (an ERP
/// erpsync only reads, such as Dynamics 365 F&O today) has empty ones: see
/// [`Mapping::writes_back`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub notes: NotesTarget,
    pub dispute_status: DisputeTarget,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(skip)]
    pub path: PathBuf,
    /// OData protocol version of the services: 2 (default) or 4.
    #[serde(default)]
    pub version: Option<u8>,
    pub entities: BTreeMap<String, EntityMapping>,
    #[serde(default)]
    pub targets: Targets,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Mapping::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Mapping, MappingError> {
        let invalid = |message: String| MappingError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut mapping: Mapping = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        mapping.path = path.to_path_buf();
        let version = match mapping.version {
            None | Some(2) => ODataVersion::V2,
            Some(4) => ODataVersion::V4,
            Some(other) => {
                return Err(invalid(format!(
                    "version = {other}: erpsync speaks OData version 2 or 4"
                )))
            }
        };
        for entity in mapping.entities.values_mut() {
            entity.version = version;
        }
        let all = || ENTITIES.iter().chain(OPTIONAL_ENTITIES);
        for name in mapping.entities.keys() {
            if !all().any(|(n, _)| n == name) {
                let known: Vec<&str> = all().map(|(n, _)| *n).collect();
                return Err(invalid(format!(
                    "[entities.{name}] is not an entity erpsync pulls (known: {})",
                    known.join(", ")
                )));
            }
        }
        for (name, required) in all() {
            let Some(entity) = mapping.entities.get(*name) else {
                if OPTIONAL_ENTITIES.iter().any(|(n, _)| n == name) {
                    continue;
                }
                return Err(invalid(format!("[entities.{name}] is missing")));
            };
            if let Some(field) = entity.flags.keys().find(|f| entity.property(f).is_none()) {
                return Err(invalid(format!(
                    "[entities.{name}.flags] names `{field}`, which [entities.{name}.fields] does not map"
                )));
            }
            for field in *required {
                if entity.property(field).is_none_or(str::is_empty) {
                    return Err(invalid(format!(
                        "[entities.{name}.fields] must map the model field `{field}`"
                    )));
                }
            }
        }
        Ok(mapping)
    }

    pub fn entity(&self, name: &str) -> &EntityMapping {
        // Presence of every known entity is checked at load time.
        &self.entities[name]
    }

    /// Whether the mapping names write-back targets (`[targets]`); without them erpsync
    /// only reads from this ERP.
    pub fn writes_back(&self) -> bool {
        !self.targets.notes.service.trim().is_empty()
    }

    /// One of [`OPTIONAL_ENTITIES`], when the mapping has it.
    pub fn optional_entity(&self, name: &str) -> Option<&EntityMapping> {
        self.entities.get(name)
    }

    /// Takes what the pulls need from the services' metadata (by service name).
    pub fn apply_metadata(&mut self, metadata: &BTreeMap<String, Metadata>) {
        for entity in self.entities.values_mut() {
            if let Some(md) = metadata.get(&entity.service) {
                entity.apply_metadata(md);
            }
        }
    }

    /// Checks every pull and the notes target against the services' `$metadata` (by
    /// service name). Each problem names the mapping file, the entry and the reason.
    pub fn check_against(&self, metadata: &BTreeMap<String, Metadata>) -> Vec<String> {
        let file = self.path.display();
        let mut problems = Vec::new();
        for (name, entity) in &self.entities {
            let mut problem = |what: String| {
                problems.push(format!("mapping file {file}: [entities.{name}] {what}"))
            };
            let Some(md) = metadata.get(&entity.service) else {
                problem(format!("service {}: no $metadata", entity.service));
                continue;
            };
            if md.entity_set(&entity.entity_set).is_none() {
                problem(format!(
                    "entity_set {}: not in service {}",
                    entity.entity_set, entity.service
                ));
                continue;
            }
            let set = entity.entity_set.as_str();
            for (field, prop) in &entity.fields {
                // A flag read from a status holds the status's values (text or enum members).
                let kind = if entity.flags.contains_key(field) {
                    FieldKind::Text
                } else {
                    FieldKind::of(field)
                };
                match md.property(set, prop) {
                    None => problem(format!(
                        "fields.{field} = {prop:?}: {set} has no property {prop}"
                    )),
                    Some(p) if !kind.accepts(&p) => problem(format!(
                        "fields.{field} = {prop:?}: {set}.{prop} is {}{}, which cannot hold {}",
                        p.edm_type,
                        p.display_format
                            .as_deref()
                            .map(|f| format!(" (display format {f})"))
                            .unwrap_or_default(),
                        kind.describe()
                    )),
                    Some(_) => {}
                }
            }
            for prop in &entity.order_by {
                match md.property(set, prop) {
                    None => problem(format!("order_by {prop:?}: {set} has no property {prop}")),
                    Some(p) if !p.sortable => {
                        problem(format!("order_by {prop:?}: {set}.{prop} is not sortable"))
                    }
                    Some(_) => {}
                }
            }
            if let Some(filter) = &entity.filter {
                for prop in filter_properties(filter) {
                    match md.property(set, &prop) {
                        None => problem(format!("filter: {set} has no property {prop}")),
                        Some(p) if !p.filterable => {
                            problem(format!("filter: {set}.{prop} is not filterable"))
                        }
                        Some(_) => {}
                    }
                }
            }
            if let Some(prop) = &entity.watermark {
                match md.property(set, prop) {
                    None => problem(format!("watermark {prop:?}: {set} has no property {prop}")),
                    Some(p) if !p.filterable => problem(format!(
                        "watermark {prop:?}: {set}.{prop} is not filterable, so changes cannot be asked for"
                    )),
                    Some(p) if !FieldKind::Date.accepts(&p) => problem(format!(
                        "watermark {prop:?}: {set}.{prop} is {}, not a date or timestamp",
                        p.edm_type
                    )),
                    Some(_) => {}
                }
            }
        }
        if !self.writes_back() {
            return problems;
        }
        let notes = &self.targets.notes;
        match metadata.get(&notes.service) {
            None => problems.push(format!(
                "mapping file {file}: [targets.notes] service {}: no $metadata",
                notes.service
            )),
            Some(md) => match md.entity_set(&notes.entity_set) {
                None => problems.push(format!(
                    "mapping file {file}: [targets.notes] entity_set {}: not in service {}",
                    notes.entity_set, notes.service
                )),
                Some(s) => {
                    if !s.creatable || !s.updatable {
                        problems.push(format!(
                            "mapping file {file}: [targets.notes] entity_set {}: the service does not allow creating and updating it",
                            notes.entity_set
                        ));
                    }
                    for prop in ["Customer", "Language", "LongTextID", "LongText"] {
                        if md.property(&notes.entity_set, prop).is_none() {
                            problems.push(format!(
                                "mapping file {file}: [targets.notes] {} has no property {prop}",
                                notes.entity_set
                            ));
                        }
                    }
                }
            },
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../mappings/s4hana-odata-v2.toml");

    #[test]
    fn shipped_mapping_loads() {
        let m = Mapping::parse(SHIPPED, Path::new("s4hana-odata-v2.toml")).unwrap();
        assert_eq!(m.entity("customers").entity_set, "A_Customer");
        assert_eq!(
            m.entity("open_items").filter.as_deref(),
            Some("FinancialAccountType eq 'D' and IsCleared eq false")
        );
    }

    #[test]
    fn missing_required_field_names_file_entry_and_field() {
        let text = SHIPPED.replace("payment_terms = \"CustomerPaymentTerms\"\n", "");
        let err = Mapping::parse(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("m.toml"), "{err}");
        assert!(err.contains("[entities.sales_areas.fields]"), "{err}");
        assert!(err.contains("payment_terms"), "{err}");
    }

    #[test]
    fn filter_properties_skip_literals_keywords_and_functions() {
        assert_eq!(
            filter_properties("FinancialAccountType eq 'D' and IsCleared eq false"),
            vec!["FinancialAccountType", "IsCleared"]
        );
        assert_eq!(
            filter_properties(
                "substringof('O''Neil and Sons', Name) or LastChangeDate ge datetime'2026-01-01T00:00:00'"
            ),
            vec!["Name", "LastChangeDate"]
        );
    }

    #[test]
    fn a_watermark_or_filter_on_a_non_filterable_property_is_a_problem() {
        let edmx = r#"<edmx:Edmx Version="1.0" xmlns:edmx="e" xmlns:sap="s"><edmx:DataServices><Schema Namespace="N">
<EntityType Name="T"><Key><PropertyRef Name="Customer"/></Key>
<Property Name="Customer" Type="Edm.String" MaxLength="10"/>
<Property Name="CustomerName" Type="Edm.String" MaxLength="80"/>
<Property Name="Changed" Type="Edm.DateTimeOffset" sap:filterable="false"/>
</EntityType><EntityContainer Name="C"><EntitySet Name="A_Customer" EntityType="N.T"/></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"#;
        let md = crate::erp::metadata::parse(edmx).unwrap();
        let text = SHIPPED
            .replace(
                "entity_set = \"A_Customer\"\n",
                "entity_set = \"A_Customer\"\nwatermark = \"Changed\"\nfilter = \"Changed ne null\"\n",
            )
            .replace("deletion_flag = \"DeletionIndicator\"\nposting_block = \"PostingIsBlocked\"\n", "");
        let m = Mapping::parse(&text, Path::new("m.toml")).unwrap();
        let all: BTreeMap<String, Metadata> = [("API_BUSINESS_PARTNER".to_string(), md)].into();
        let problems: Vec<String> = m
            .check_against(&all)
            .into_iter()
            .filter(|p| p.contains("[entities.customers]"))
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("filter: A_Customer.Changed is not filterable"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("watermark \"Changed\": A_Customer.Changed is not filterable"),
            "{problems:?}"
        );
    }

    #[test]
    fn version_four_applies_to_every_entity_and_other_versions_are_refused() {
        let v4 = include_str!("../../mappings/s4hana-odata-v4.toml");
        let m = Mapping::parse(v4, Path::new("v4.toml")).unwrap();
        assert!(m.entities.values().all(|e| e.version == ODataVersion::V4));
        let m = Mapping::parse(SHIPPED, Path::new("v2.toml")).unwrap();
        assert!(m.entities.values().all(|e| e.version == ODataVersion::V2));
        let err = Mapping::parse(&format!("version = 3\n{SHIPPED}"), Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m.toml") && err.contains("version = 3"),
            "{err}"
        );
    }

    #[test]
    fn the_dynamics_mapping_loads_reads_only_and_checks_flags() {
        let fo = include_str!("../../mappings/dynamics365-fo-odata-v4.toml");
        let m = Mapping::parse(fo, Path::new("fo.toml")).unwrap();
        assert!(!m.writes_back(), "no [targets]: nothing is pushed to F&O");
        assert!(m.optional_entity("sales_areas").is_none());
        assert!(m.optional_entity("payment_terms").is_some());
        assert_eq!(m.entity("open_items").property("fiscal_year"), None);
        assert_eq!(
            m.entity("customers").flags.get("posting_block"),
            Some(&vec!["All".to_string()])
        );
        assert!(Mapping::parse(SHIPPED, Path::new("v2.toml"))
            .unwrap()
            .writes_back());
        let unmapped = fo.replace("posting_block = \"OnHoldStatus\"\n", "");
        let err = Mapping::parse(&unmapped, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[entities.customers.flags] names `posting_block`"),
            "{err}"
        );
    }

    #[test]
    fn enum_typed_properties_feed_text_and_flags_read_from_a_status() {
        let edmx = r#"<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="N" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="T"><Key><PropertyRef Name="CustomerAccount"/></Key>
<Property Name="dataAreaId" Type="Edm.String"/>
<Property Name="CustomerAccount" Type="Edm.String"/>
<Property Name="OnHoldStatus" Type="N.CustVendorBlocked"/>
</EntityType><EnumType Name="CustVendorBlocked"><Member Name="No" Value="0"/><Member Name="All" Value="2"/></EnumType>
<EntityContainer Name="C"><EntitySet Name="CustomersV3" EntityType="N.T"/></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"#;
        let md = crate::erp::metadata::parse(edmx).unwrap();
        let status = md.property("CustomersV3", "OnHoldStatus").unwrap();
        assert!(FieldKind::Text.accepts(&status));
        assert!(!FieldKind::Flag.accepts(&status));
        let fo = include_str!("../../mappings/dynamics365-fo-odata-v4.toml");
        let m = Mapping::parse(fo, Path::new("fo.toml")).unwrap();
        let all: BTreeMap<String, Metadata> = [("data".to_string(), md)].into();
        let customers: Vec<String> = m
            .check_against(&all)
            .into_iter()
            .filter(|p| p.contains("[entities.customers]"))
            .collect();
        // The name is missing from this cut-down metadata; the status-as-flag is fine.
        assert_eq!(customers.len(), 1, "{customers:?}");
        assert!(customers[0].contains("OrganizationName"), "{customers:?}");
    }

    #[test]
    fn unknown_entity_is_refused() {
        let text = format!("{SHIPPED}\n[entities.vendors]\nservice = \"X\"\nentity_set = \"Y\"\n[entities.vendors.fields]\n");
        let err = Mapping::parse(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("vendors"), "{err}");
    }
}
