//! An OData request that passed the Gateway, as the read and write handlers see it, and
//! what both need of the rows behind it: the table a set reads from and a text's ETag.

use super::data::TextRec;
use super::gateway::weak_etag;
use super::sets::{DsTable, Service, Set, Table, TextTable, Val};
use super::state::{lock, text_key, State};
use axum::http::HeaderMap;

pub(crate) struct Ctx<'a> {
    pub st: &'a State,
    pub service: Service,
    pub service_url: String,
    pub headers: &'a HeaderMap,
    pub pairs: Vec<(String, String)>,
    /// Reached under the V4 prefix: V4 JSON and `$metadata`.
    pub v4: bool,
}

/// Runs `f` against the set's rows: live texts for the text sets, the data set otherwise.
pub(crate) fn with_table<R>(ctx: &Ctx<'_>, set: Set, f: impl FnOnce(&dyn Table) -> R) -> R {
    if set.is_text() {
        let rows: Vec<TextRec> = lock(ctx.st.texts(set)).values().cloned().collect();
        f(&TextTable { rows: &rows })
    } else {
        let cleared = ctx.st.delta.cleared();
        f(&DsTable {
            ds: &ctx.st.ds,
            set,
            cleared: Some(&cleared),
        })
    }
}

/// A text's ETag: its key and content, so equal content gives an equal tag.
pub(crate) fn text_etag(t: &TextRec) -> String {
    weak_etag(&[&text_key(t), &t.long_text])
}

/// The ETag of a row, for the sets that have one (the texts).
pub(crate) fn etag_of(set: Set, table: &dyn Table, row: usize) -> Option<String> {
    if !set.is_text() {
        return None;
    }
    let s = |p: &str| match table.value(row, p) {
        Val::Str(s) => s.into_owned(),
        _ => String::new(),
    };
    let t = TextRec {
        customer: s("Customer"),
        company_code: (set == Set::CustomerCompanyText).then(|| s("CompanyCode")),
        language: s("Language"),
        long_text_id: s("LongTextID"),
        long_text: s("LongText"),
    };
    Some(text_etag(&t))
}
