//! The OData V4 face of the mock: the same services and data as the V2 one, under
//! `/sap/opu/odata4/sap/SERVICE/`, in V4 JSON (`value`, `@odata.nextLink`, `@odata.count`,
//! ISO dates, `@odata.etag`) with a V4 `$metadata` (Edm.Date, Capabilities annotations).
//!
//! Decimals (and the count) are strings when the client asks with `IEEE754Compatible=true`
//! and JSON numbers otherwise, as the V4 JSON format says; the mock can also be told to
//! ignore that parameter, as some servers do.

use super::odata::json_str;
use super::sets::{entity_type_body, Edm, Prop, Service, Set, Table, Val};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;

/// A `200` with a V4 JSON body.
pub(crate) fn json_ok(body: String) -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "application/json;odata.metadata=minimal",
            ),
            (header::HeaderName::from_static("odata-version"), "4.0"),
        ],
        body,
    )
        .into_response()
}

fn edm_name(ty: Edm) -> &'static str {
    match ty {
        Edm::String => "Edm.String",
        Edm::Boolean => "Edm.Boolean",
        Edm::Date => "Edm.Date",
        Edm::DateTimeOffset => "Edm.DateTimeOffset",
        Edm::Decimal => "Edm.Decimal",
    }
}

/// The V4 `$metadata` of a service: types, keys, facets; read-only sets and properties
/// and non-filterable properties as Capabilities/Core annotations.
pub(crate) fn edmx(service: Service) -> String {
    let ns = service.name();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    out.push_str("<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\"><edmx:DataServices>");
    let _ = write!(
        out,
        "<Schema Namespace=\"{ns}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">"
    );
    for set in service.sets() {
        let _ = write!(out, "<EntityType Name=\"{}\">", set.type_name());
        entity_type_body(&mut out, *set, edm_name, |_, _| {});
    }
    out.push_str("<EntityContainer Name=\"Container\">");
    for set in service.sets() {
        let _ = write!(
            out,
            "<EntitySet Name=\"{}\" EntityType=\"{ns}.{}\"/>",
            set.name(),
            set.type_name()
        );
    }
    out.push_str("</EntityContainer>");
    for set in service.sets() {
        let _ = write!(
            out,
            "<Annotations Target=\"{ns}.Container/{}\">",
            set.name()
        );
        if !set.is_text() {
            for (term, prop) in [
                ("InsertRestrictions", "Insertable"),
                ("UpdateRestrictions", "Updatable"),
                ("DeleteRestrictions", "Deletable"),
            ] {
                let _ = write!(
                    out,
                    "<Annotation Term=\"Org.OData.Capabilities.V1.{term}\"><Record><PropertyValue Property=\"{prop}\" Bool=\"false\"/></Record></Annotation>"
                );
            }
        }
        let opaque: Vec<&Prop> = set.props().iter().filter(|p| !p.filterable).collect();
        if !opaque.is_empty() {
            out.push_str("<Annotation Term=\"Org.OData.Capabilities.V1.FilterRestrictions\"><Record><PropertyValue Property=\"NonFilterableProperties\"><Collection>");
            for p in opaque {
                let _ = write!(out, "<PropertyPath>{}</PropertyPath>", p.name);
            }
            out.push_str("</Collection></PropertyValue></Record></Annotation>");
        }
        out.push_str("</Annotations>");
        for p in set.props().iter().filter(|p| !p.creatable && !p.updatable) {
            let _ = write!(
                out,
                "<Annotations Target=\"{ns}.{}/{}\"><Annotation Term=\"Org.OData.Core.V1.Computed\" Bool=\"true\"/></Annotations>",
                set.type_name(),
                p.name
            );
        }
    }
    out.push_str("</Schema></edmx:DataServices></edmx:Edmx>");
    out
}

/// The service document: the entity sets by name and URL.
pub(crate) fn service_document(service: Service) -> String {
    let mut out = String::from("{\"@odata.context\":\"$metadata\",\"value\":[");
    for (i, s) in service.sets().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        json_str(&mut out, s.name());
        out.push_str(",\"kind\":\"EntitySet\",\"url\":");
        json_str(&mut out, s.name());
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// Whether the request asks for IEEE754-compatible numbers (decimals as strings).
pub(crate) fn wants_ieee754(accept: Option<&str>, format: Option<&str>) -> bool {
    [accept, format]
        .into_iter()
        .flatten()
        .any(|v| v.to_ascii_lowercase().contains("ieee754compatible=true"))
}

fn value(out: &mut String, v: &Val<'_>, decimals_as_strings: bool) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Str(s) => json_str(out, s),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Date(d) => {
            let _ = write!(out, "\"{}\"", d.format("%Y-%m-%d"));
        }
        Val::Dto(d) => {
            let _ = write!(out, "\"{}\"", d.format("%Y-%m-%dT%H:%M:%SZ"));
        }
        Val::Dec(d) if decimals_as_strings => {
            let _ = write!(out, "\"{d}\"");
        }
        Val::Dec(d) => {
            let _ = write!(out, "{d}");
        }
    }
}

/// One entity as V4 JSON (minimal metadata: the ETag only).
pub(crate) fn render_entity(
    out: &mut String,
    set: Set,
    table: &dyn Table,
    row: usize,
    select: Option<&[&'static Prop]>,
    etag: Option<&str>,
    decimals_as_strings: bool,
) {
    out.push('{');
    let mut first = true;
    if let Some(e) = etag {
        out.push_str("\"@odata.etag\":");
        json_str(out, e);
        first = false;
    }
    let all = set.props();
    let props: Box<dyn Iterator<Item = &Prop>> = match select {
        Some(sel) if !sel.is_empty() => Box::new(sel.iter().copied()),
        _ => Box::new(all.iter()),
    };
    for p in props {
        if !first {
            out.push(',');
        }
        first = false;
        json_str(out, p.name);
        out.push(':');
        value(out, &table.value(row, p.name), decimals_as_strings);
    }
    out.push('}');
}

/// A collection page: context, count (a string under IEEE754Compatible), the entities and
/// the next link.
pub(crate) struct PageParts<'a> {
    pub service_url: &'a str,
    pub set: Set,
    pub count: Option<usize>,
    pub next: Option<String>,
    /// `@odata.deltaLink` on the last page of a tracked read.
    pub delta: Option<String>,
    pub decimals_as_strings: bool,
}

pub(crate) fn render_page(
    parts: &PageParts<'_>,
    rows: &[usize],
    mut entity: impl FnMut(&mut String, usize),
) -> String {
    let mut out = String::from("{\"@odata.context\":");
    json_str(
        &mut out,
        &format!("{}/$metadata#{}", parts.service_url, parts.set.name()),
    );
    if let Some(c) = parts.count {
        if parts.decimals_as_strings {
            let _ = write!(out, ",\"@odata.count\":\"{c}\"");
        } else {
            let _ = write!(out, ",\"@odata.count\":{c}");
        }
    }
    out.push_str(",\"value\":[");
    for (i, &row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        entity(&mut out, row);
    }
    out.push(']');
    if let Some(n) = &parts.next {
        out.push_str(",\"@odata.nextLink\":");
        json_str(&mut out, n);
    }
    if let Some(d) = &parts.delta {
        out.push_str(",\"@odata.deltaLink\":");
        json_str(&mut out, d);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_reads_back_as_v4_with_its_restrictions() {
        let md = crate::erp::metadata::parse(&edmx(Service::BusinessPartner)).unwrap();
        assert_eq!(md.version, crate::erp::metadata::ODataVersion::V4);
        let text = md.property("A_CustomerText", "LongText").unwrap();
        assert!(!text.filterable);
        let set = md.entity_set("A_Customer").unwrap();
        assert!(!set.creatable && !set.updatable);
        assert!(md.entity_set("A_CustomerText").unwrap().creatable);
        let md = crate::erp::metadata::parse(&edmx(Service::OpenItems)).unwrap();
        let d = md
            .property("A_OperationalAcctgDocItemCube", "NetDueDate")
            .unwrap();
        assert_eq!(d.edm_type, "Edm.Date");
    }

    #[test]
    fn ieee754_is_read_from_accept_or_format() {
        assert!(wants_ieee754(
            Some("application/json;odata.metadata=minimal;IEEE754Compatible=true"),
            None
        ));
        assert!(wants_ieee754(None, Some("json;IEEE754Compatible=true")));
        assert!(!wants_ieee754(Some("application/json"), Some("json")));
    }
}
