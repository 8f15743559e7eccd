//! Mapping files: which ERP entity set and property feeds each model field.
//!
//! A mapping is data, not code, so a customer's own fields (or another OData ERP) can be
//! wired without a release. Loading checks that every field the model needs is mapped and
//! names the file, the entry and the field when one is missing.

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

/// The pulls erpsync knows, with the model fields each one must map.
pub const ENTITIES: &[(&str, &[&str])] = &[
    ("customers", &["customer", "name"]),
    ("addresses", &["customer"]),
    (
        "company_codes",
        &["customer", "company_code", "payment_terms"],
    ),
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
    (
        "open_items",
        &[
            "company_code",
            "fiscal_year",
            "document",
            "item",
            "customer",
            "document_date",
            "posting_date",
            "amount",
            "currency",
        ],
    ),
    ("contracts", &["id", "customer"]),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityMapping {
    pub service: String,
    pub entity_set: String,
    #[serde(default)]
    pub order_by: Vec<String>,
    /// An OData `$filter` expression the ERP applies (e.g. only uncleared customer items).
    pub filter: Option<String>,
    /// model field → ERP property.
    pub fields: BTreeMap<String, String>,
}

impl EntityMapping {
    /// The ERP property for a model field, if mapped.
    pub fn property(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotesTarget {
    pub service: String,
    pub entity_set: String,
    pub language: String,
    pub long_text_id: String,
    /// The ERP's limit on one long text; longer entries are refused, never cut.
    pub max_length: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeTarget {
    /// Path of the SOAP endpoint on the ERP host.
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
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
    pub entities: BTreeMap<String, EntityMapping>,
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
        for name in mapping.entities.keys() {
            if !ENTITIES.iter().any(|(n, _)| n == name) {
                let known: Vec<&str> = ENTITIES.iter().map(|(n, _)| *n).collect();
                return Err(invalid(format!(
                    "[entities.{name}] is not an entity erpsync pulls (known: {})",
                    known.join(", ")
                )));
            }
        }
        for (name, required) in ENTITIES {
            let Some(entity) = mapping.entities.get(*name) else {
                return Err(invalid(format!("[entities.{name}] is missing")));
            };
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
    fn unknown_entity_is_refused() {
        let text = format!("{SHIPPED}\n[entities.vendors]\nservice = \"X\"\nentity_set = \"Y\"\n[entities.vendors.fields]\n");
        let err = Mapping::parse(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("vendors"), "{err}");
    }
}
