//! `$metadata` (EDMX) for OData V2 and V4: entity types with their keys and property facets,
//! entity sets with SAP's `sap:` flags (V2) or the simple Capabilities annotations (V4).
//!
//! The reader streams: an S/4HANA service document can be several megabytes, and only the
//! facts erpsync checks are kept. A DOCTYPE is refused and entities are never expanded,
//! since metadata comes from outside and XML entity tricks are a known attack.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ODataVersion {
    /// SAP Gateway's classic dialect, and what a mapping file means unless it says otherwise.
    #[default]
    V2,
    V4,
}

/// `Scale` of an Edm.Decimal: a number of digits, or V4's `variable`/`floating`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Fixed(u32),
    Variable,
    Floating,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    /// `Edm.String`, `Edm.Decimal`, … as declared.
    pub edm_type: String,
    pub nullable: bool,
    pub max_length: Option<u32>,
    pub precision: Option<u32>,
    pub scale: Option<Scale>,
    /// `sap:filterable` (V2) or V4 `FilterRestrictions/NonFilterableProperties`; default true.
    pub filterable: bool,
    pub sortable: bool,
    pub creatable: bool,
    pub updatable: bool,
    /// `sap:label` (V2) or `Common.Label` (V4).
    pub label: Option<String>,
    /// `sap:display-format` (`Date`, `UpperCase`, `NonNegative`).
    pub display_format: Option<String>,
}

impl Property {
    fn new(name: String, edm_type: String) -> Self {
        Property {
            name,
            edm_type,
            nullable: true,
            max_length: None,
            precision: None,
            scale: None,
            filterable: true,
            sortable: true,
            creatable: true,
            updatable: true,
            label: None,
            display_format: None,
        }
    }

    /// The precision and fixed scale of a decimal, where declared.
    pub fn decimal_facets(&self) -> Option<(u32, Option<u32>)> {
        if self.edm_type != "Edm.Decimal" {
            return None;
        }
        let scale = match self.scale {
            Some(Scale::Fixed(s)) => Some(s),
            // V2 and V4 both default an absent scale to 0.
            None => Some(0),
            Some(Scale::Variable) | Some(Scale::Floating) => None,
        };
        self.precision.map(|p| (p, scale))
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntityType {
    pub name: String,
    pub namespace: String,
    pub keys: Vec<String>,
    pub properties: Vec<Property>,
}

impl EntityType {
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntitySet {
    pub name: String,
    /// The entity type's name without namespace or alias.
    pub entity_type: String,
    pub creatable: bool,
    pub updatable: bool,
    pub deletable: bool,
    pub pageable: bool,
    pub addressable: bool,
    /// V4 `FilterRestrictions/Filterable`.
    pub filterable: bool,
    /// V4 `FilterRestrictions/NonFilterableProperties`.
    pub non_filterable: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub version: ODataVersion,
    pub namespaces: Vec<String>,
    pub entity_types: BTreeMap<String, EntityType>,
    pub entity_sets: BTreeMap<String, EntitySet>,
}

impl Metadata {
    pub fn entity_set(&self, name: &str) -> Option<&EntitySet> {
        self.entity_sets.get(name)
    }

    pub fn entity_type_of(&self, set: &str) -> Option<&EntityType> {
        self.entity_sets
            .get(set)
            .and_then(|s| self.entity_types.get(&s.entity_type))
    }

    /// A property of an entity set's type, with the set's V4 filter restrictions applied.
    pub fn property(&self, set: &str, property: &str) -> Option<Property> {
        let s = self.entity_sets.get(set)?;
        let mut p = self.entity_type_of(set)?.property(property)?.clone();
        if !s.filterable || s.non_filterable.contains(property) {
            p.filterable = false;
        }
        Some(p)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("$metadata: {0}")]
pub struct MetadataError(pub String);

fn local(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn attrs(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, MetadataError> {
    e.attributes()
        .map(|a| {
            let a = a.map_err(|e| MetadataError(e.to_string()))?;
            let key = a.key.as_ref().to_string();
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| MetadataError(format!("attribute {key}: {e}")))?
                .into_owned();
            Ok((key, value))
        })
        .collect()
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn flag(attrs: &[(String, String)], key: &str) -> bool {
    get(attrs, key) != Some("false")
}

fn number(attrs: &[(String, String)], key: &str) -> Result<Option<u32>, MetadataError> {
    match get(attrs, key) {
        None | Some("max") | Some("Max") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| MetadataError(format!("{key}={v:?} is not a number"))),
    }
}

/// One V4 annotation seen inside `<Annotations Target=…>`.
struct PendingAnnotation {
    target: String,
    term: String,
    /// `Property` of the `PropertyValue` (empty for the annotation's own value).
    property: String,
    value: String,
}

/// Parses a `$metadata` document.
pub fn parse(edmx: &str) -> Result<Metadata, MetadataError> {
    let mut reader = Reader::from_str(edmx);
    let mut version = None;
    let mut namespaces = Vec::new();
    let mut entity_types: BTreeMap<String, EntityType> = BTreeMap::new();
    let mut entity_sets: BTreeMap<String, EntitySet> = BTreeMap::new();
    let mut current_ns = String::new();
    let mut current_type: Option<EntityType> = None;
    let mut in_key = false;
    // V4 annotations: where we are (target, term, property value name) and what we saw.
    let mut target: Option<String> = None;
    let mut term: Option<(String, usize)> = None;
    let mut prop_value: Option<(String, usize)> = None;
    let mut pending: Vec<PendingAnnotation> = Vec::new();
    let mut depth = 0usize;
    let mut text_target: Option<(String, String, String)> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| MetadataError(format!("not well-formed XML: {e}")))?;
        let (e, empty) = match &event {
            Event::DocType(_) => {
                return Err(MetadataError("a DOCTYPE is not accepted".into()));
            }
            Event::Start(e) => (e.clone(), false),
            Event::Empty(e) => (e.clone(), true),
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    "EntityType" => {
                        if let Some(t) = current_type.take() {
                            entity_types.insert(t.name.clone(), t);
                        }
                    }
                    "Key" => in_key = false,
                    "Annotations" => target = None,
                    _ => {}
                }
                if term.as_ref().is_some_and(|(_, d)| *d == depth) {
                    term = None;
                }
                if prop_value.as_ref().is_some_and(|(_, d)| *d == depth) {
                    prop_value = None;
                }
                text_target = None;
                continue;
            }
            Event::Text(t) => {
                if let Some((tg, tm, pv)) = &text_target {
                    let v = t.xml10_content().trim().to_string();
                    if !v.is_empty() {
                        pending.push(PendingAnnotation {
                            target: tg.clone(),
                            term: tm.clone(),
                            property: pv.clone(),
                            value: v,
                        });
                    }
                }
                continue;
            }
            Event::GeneralRef(r) => {
                // Only character references and XML's five predefined entities; anything
                // else would need a DTD, which is refused.
                if r.resolve_char_ref()
                    .map_err(|e| MetadataError(e.to_string()))?
                    .is_none()
                    && quick_xml::escape::resolve_predefined_entity(r).is_none()
                {
                    return Err(MetadataError(format!("unknown entity &{};", &**r)));
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = e.local_name();
        let a = attrs(&e)?;
        match name.as_ref() {
            "Edmx" => {
                version = Some(match get(&a, "Version") {
                    Some(v) if v.starts_with('4') => ODataVersion::V4,
                    _ => ODataVersion::V2,
                });
            }
            "Schema" => {
                current_ns = get(&a, "Namespace").unwrap_or_default().to_string();
                namespaces.push(current_ns.clone());
            }
            "EntityType" => {
                let t = EntityType {
                    name: get(&a, "Name").unwrap_or_default().to_string(),
                    namespace: current_ns.clone(),
                    ..EntityType::default()
                };
                if empty {
                    entity_types.insert(t.name.clone(), t);
                } else {
                    current_type = Some(t);
                }
            }
            "Key" => in_key = !empty,
            "PropertyRef" if in_key => {
                if let (Some(t), Some(n)) = (current_type.as_mut(), get(&a, "Name")) {
                    t.keys.push(n.to_string());
                }
            }
            "Property" => {
                if let Some(t) = current_type.as_mut() {
                    let mut p = Property::new(
                        get(&a, "Name").unwrap_or_default().to_string(),
                        get(&a, "Type").unwrap_or_default().to_string(),
                    );
                    p.nullable = flag(&a, "Nullable");
                    p.max_length = number(&a, "MaxLength")?;
                    p.precision = number(&a, "Precision")?;
                    p.scale = match get(&a, "Scale") {
                        None => None,
                        Some("variable") => Some(Scale::Variable),
                        Some("floating") => Some(Scale::Floating),
                        Some(v) => Some(Scale::Fixed(v.parse().map_err(|_| {
                            MetadataError(format!("{}: Scale={v:?} is not a number", p.name))
                        })?)),
                    };
                    p.filterable = flag(&a, "sap:filterable");
                    p.sortable = flag(&a, "sap:sortable");
                    p.creatable = flag(&a, "sap:creatable");
                    p.updatable = flag(&a, "sap:updatable");
                    p.label = get(&a, "sap:label").map(str::to_string);
                    p.display_format = get(&a, "sap:display-format").map(str::to_string);
                    t.properties.push(p);
                }
            }
            "EntitySet" => {
                let set = EntitySet {
                    name: get(&a, "Name").unwrap_or_default().to_string(),
                    entity_type: local(get(&a, "EntityType").unwrap_or_default()).to_string(),
                    creatable: flag(&a, "sap:creatable"),
                    updatable: flag(&a, "sap:updatable"),
                    deletable: flag(&a, "sap:deletable"),
                    pageable: flag(&a, "sap:pageable"),
                    addressable: flag(&a, "sap:addressable"),
                    filterable: true,
                    non_filterable: BTreeSet::new(),
                };
                entity_sets.insert(set.name.clone(), set);
            }
            "Annotations" if !empty => target = get(&a, "Target").map(str::to_string),
            "Annotation" if target.is_some() => {
                let t = local(get(&a, "Term").unwrap_or_default()).to_string();
                if let Some(s) = get(&a, "String").or(get(&a, "Bool")) {
                    pending.push(PendingAnnotation {
                        target: target.clone().unwrap_or_default(),
                        term: t.clone(),
                        property: String::new(),
                        value: s.to_string(),
                    });
                } else if empty {
                    // A bare term (`Core.Computed`) means true.
                    pending.push(PendingAnnotation {
                        target: target.clone().unwrap_or_default(),
                        term: t.clone(),
                        property: String::new(),
                        value: "true".into(),
                    });
                }
                if !empty && term.is_none() {
                    term = Some((t, depth));
                }
            }
            "PropertyValue" if term.is_some() => {
                let p = get(&a, "Property").unwrap_or_default().to_string();
                // Only the annotation's own record (depth: Annotation > Record > PropertyValue),
                // not records nested under NavigationRestrictions and the like.
                let (tm, tdepth) = term.clone().expect("checked");
                if depth == tdepth + 2 {
                    if let Some(v) = get(&a, "Bool") {
                        pending.push(PendingAnnotation {
                            target: target.clone().unwrap_or_default(),
                            term: tm,
                            property: p.clone(),
                            value: v.to_string(),
                        });
                    }
                    if !empty {
                        prop_value = Some((p, depth));
                    }
                }
            }
            "PropertyPath" if !empty => {
                if let (Some((tm, _)), Some((pv, _))) = (&term, &prop_value) {
                    text_target =
                        Some((target.clone().unwrap_or_default(), tm.clone(), pv.clone()));
                }
            }
            _ => {}
        }
        if !empty {
            depth += 1;
        }
    }
    let version = version.ok_or_else(|| MetadataError("no edmx:Edmx root element".into()))?;
    if entity_types.is_empty() && entity_sets.is_empty() {
        return Err(MetadataError("no entity types or entity sets".into()));
    }
    apply_annotations(&mut entity_types, &mut entity_sets, pending);
    Ok(Metadata {
        version,
        namespaces,
        entity_types,
        entity_sets,
    })
}

/// Applies the V4 annotations erpsync understands: labels and computed properties on
/// `Type/Property` targets, insert/update/delete/filter restrictions on `Container/Set`.
fn apply_annotations(
    types: &mut BTreeMap<String, EntityType>,
    sets: &mut BTreeMap<String, EntitySet>,
    pending: Vec<PendingAnnotation>,
) {
    for ann in pending {
        let Some((owner, member)) = ann.target.split_once('/') else {
            continue;
        };
        let owner = local(owner);
        let yes = ann.value == "true";
        if let Some(t) = types.get_mut(owner) {
            let Some(p) = t.properties.iter_mut().find(|p| p.name == member) else {
                continue;
            };
            match (ann.term.as_str(), ann.property.as_str()) {
                ("Label", "") => p.label = Some(ann.value),
                ("Computed", "") if yes => {
                    p.creatable = false;
                    p.updatable = false;
                }
                ("Immutable", "") if yes => p.updatable = false,
                _ => {}
            }
        } else if let Some(s) = sets.get_mut(member) {
            match (ann.term.as_str(), ann.property.as_str()) {
                ("InsertRestrictions", "Insertable") => s.creatable = yes,
                ("UpdateRestrictions", "Updatable") => s.updatable = yes,
                ("DeleteRestrictions", "Deletable") => s.deletable = yes,
                ("FilterRestrictions", "Filterable") => s.filterable = yes,
                ("FilterRestrictions", "NonFilterableProperties") => {
                    s.non_filterable.insert(ann.value);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = r#"<?xml version="1.0"?><edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" xmlns:sap="http://www.sap.com/Protocols/SAPData"><edmx:DataServices><Schema Namespace="S" xmlns="http://schemas.microsoft.com/ado/2008/09/edm">
<EntityType Name="A_T"><Key><PropertyRef Name="K"/></Key>
<Property Name="K" Type="Edm.String" Nullable="false" MaxLength="10" sap:label="Key &amp; more"/>
<Property Name="Amt" Type="Edm.Decimal" Precision="13" Scale="2" sap:filterable="false" sap:updatable="false"/>
</EntityType><EntityContainer Name="C"><EntitySet Name="A_Set" EntityType="S.A_T" sap:creatable="false" sap:pageable="false"/></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"#;

    #[test]
    fn v2_facets_and_sap_flags() {
        let m = parse(V2).unwrap();
        assert_eq!(m.version, ODataVersion::V2);
        let t = m.entity_type_of("A_Set").unwrap();
        assert_eq!(t.keys, vec!["K"]);
        let k = t.property("K").unwrap();
        assert!(!k.nullable);
        assert_eq!(k.max_length, Some(10));
        assert_eq!(k.label.as_deref(), Some("Key & more"));
        let amt = m.property("A_Set", "Amt").unwrap();
        assert_eq!(amt.decimal_facets(), Some((13, Some(2))));
        assert!(!amt.filterable && !amt.updatable && amt.creatable);
        let s = m.entity_set("A_Set").unwrap();
        assert!(!s.creatable && s.updatable && !s.pageable && s.addressable);
    }

    #[test]
    fn doctype_and_unknown_entities_are_refused() {
        let evil = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]>{}",
            &V2[V2.find("<edmx:Edmx").unwrap()..]
        );
        assert!(parse(&evil).unwrap_err().to_string().contains("DOCTYPE"));
        assert!(parse("<edmx:Edmx Version=\"1.0\"><x>&e;</x></edmx:Edmx>").is_err());
        assert!(parse("<edmx:Edmx Version=\"1.0\">").is_err());
    }
}
