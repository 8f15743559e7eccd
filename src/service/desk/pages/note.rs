//! The note form on a flag's page and its post (`/notes`): a note for the customer's file,
//! queued for the ERP through the same path as the API's.

use super::super::api::Detail;
use super::super::auth::{Permission, Principal};
use super::super::collect_api;
use super::super::DeskState;
use super::kit::{esc, hidden, page, see_other, Poster};
use crate::model::note_input::NoteInput;
use crate::model::{CustomerId, NoteChannel};
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::Arc;

pub(super) fn note_form(who: &Principal, detail: &Detail, back: &str, max_chars: usize) -> String {
    note_form_for(
        who,
        detail.flag.discrepancy.finding.customer.as_str(),
        back,
        &NoteForm::default(),
        max_chars,
    )
}

/// The note form on a customer's page.
pub(super) fn customer_note_form(
    who: &Principal,
    customer: &CustomerId,
    back: &str,
    max_chars: usize,
) -> String {
    note_form_for(
        who,
        customer.as_str(),
        back,
        &NoteForm::default(),
        max_chars,
    )
}

/// The note form for `customer`, filled with what `kept` holds (a refused note's fields).
fn note_form_for(
    who: &Principal,
    customer: &str,
    back: &str,
    kept: &NoteForm,
    max_chars: usize,
) -> String {
    if !who.role.may(Permission::Collect) {
        return String::new();
    }
    format!(
        "<div class=\"card actions\" id=\"note\"><h2>Note to the customer's file</h2>\
         <form method=\"post\" action=\"/notes\">{}{}{}{}\
         <button type=\"submit\" id=\"add-note\">Add note</button></form>\
         <p class=\"muted\">Written into the ERP's customer texts by the outbox.</p></div>",
        hidden("csrf", who.csrf().unwrap_or("")),
        hidden("customer", customer),
        hidden("back", back),
        kept.note.inputs("note", "Text", max_chars),
    )
}

/// What a collector types for a note, in the note form and the log-a-call form alike.
#[derive(Debug, Deserialize, Default, Clone)]
pub(super) struct NoteFields {
    // Missing fields are refused by the note's checks with a page, not by the form parser.
    #[serde(default)]
    pub(super) text: String,
    pub(super) channel: Option<String>,
    pub(super) via: Option<String>,
    pub(super) follow_up: Option<String>,
    pub(super) promise_amount: Option<String>,
    pub(super) promise_currency: Option<String>,
    pub(super) promise_date: Option<String>,
}

impl NoteFields {
    /// The note for `customer`, checked by `collect_api::queue_note` as the API's is.
    pub(super) fn input(self, customer: String) -> NoteInput {
        NoteInput {
            customer,
            item: None,
            author: String::new(),
            text: self.text,
            channel: self.channel,
            via: self.via,
            follow_up: self.follow_up,
            promise_amount: self.promise_amount,
            promise_currency: self.promise_currency,
            promise_date: self.promise_date,
        }
    }

    /// The note's inputs, filled with these values; element ids start with `prefix`.
    pub(super) fn inputs(&self, prefix: &str, text_label: &str, max_chars: usize) -> String {
        let v = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
        let mut channels = String::new();
        for c in [
            NoteChannel::Phone,
            NoteChannel::Email,
            NoteChannel::Chat,
            NoteChannel::Meeting,
            NoteChannel::Letter,
        ] {
            let on = if self.channel.as_deref() == Some(c.as_str()) {
                " selected"
            } else {
                ""
            };
            let _ = write!(channels, "<option{on}>{}</option>", c.as_str());
        }
        format!(
            "<label>{text_label}<textarea name=\"text\" id=\"{p}-text\" required maxlength=\"{max_chars}\">{}</textarea></label>\
             <label>Channel<select name=\"channel\" id=\"{p}-channel\">{channels}</select></label>\
             <label>Via (optional, e.g. WeChat)<input name=\"via\" id=\"{p}-via\" value=\"{}\"></label>\
             <label>Follow up on (optional)<input type=\"date\" name=\"follow_up\" id=\"{p}-follow-up\" value=\"{}\"></label>\
             <fieldset><legend>Promise to pay (optional: all three or none)</legend>\
             <label>Amount<input name=\"promise_amount\" id=\"{p}-promise-amount\" inputmode=\"decimal\" size=\"10\" value=\"{}\"></label>\
             <label>Currency<input name=\"promise_currency\" id=\"{p}-promise-currency\" size=\"3\" maxlength=\"3\" value=\"{}\"></label>\
             <label>By<input type=\"date\" name=\"promise_date\" id=\"{p}-promise-date\" value=\"{}\"></label></fieldset>",
            esc(&self.text),
            v(&self.via),
            v(&self.follow_up),
            v(&self.promise_amount),
            v(&self.promise_currency),
            v(&self.promise_date),
            p = prefix,
        )
    }
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct NoteForm {
    // Missing fields are refused by the checks below with a page, not by the form parser.
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    customer: String,
    #[serde(flatten)]
    note: NoteFields,
    back: Option<String>,
}

pub(super) async fn note(
    State(desk): State<Arc<DeskState>>,
    poster: Poster,
    Form(form): Form<NoteForm>,
) -> Response {
    let who = match poster.with_token(&form.csrf) {
        Ok(w) => w,
        Err(r) => return r,
    };
    // Only back to a page of this desk, never to another site.
    let kept = form.clone();
    let back = form
        .back
        .filter(|b| {
            (b.starts_with("/flags/") || b.starts_with("/ar/") || b.starts_with("/customers/"))
                && !b.contains("//")
        })
        .unwrap_or_else(|| "/".into());
    let body = form.note.input(form.customer);
    match collect_api::queue_note(&desk, &who, body).await {
        Ok(_) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            see_other(&format!("{back}{sep}done=note"))
        }
        // The API's refusal is JSON; a person gets a page with the form as they filled it.
        Err(r) => {
            let (status, reason) = json_reason(r, "the note was not accepted").await;
            let body = format!(
                "<div class=\"msg err\" id=\"error\" role=\"alert\">The note was not queued: {}. What you typed is kept below.</div><p><a href=\"{}\">← Back</a></p>{}",
                esc(&reason),
                esc(&back),
                note_form_for(&who, &kept.customer, &back, &kept, desk.settings.note_max_chars)
            );
            page(&who, status, "Note refused", &body)
        }
    }
}

/// The status and the `error` text of a JSON refusal from the API's functions, which the
/// pages turn into a page with the form kept.
pub(super) async fn json_reason(r: Response, fallback: &str) -> (StatusCode, String) {
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let reason = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| fallback.into());
    (status, reason)
}
