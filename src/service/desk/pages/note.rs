//! The note form on a flag's page and its post (`/notes`): a note for the customer's file,
//! queued for the ERP through the same path as the API's.

use super::super::api::{self, Detail};
use super::super::auth::{Permission, Principal};
use super::super::DeskState;
use super::kit::{hidden, poster, see_other};
use crate::model::note_input::NoteInput;
use crate::model::NoteChannel;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::Arc;

pub(super) fn note_form(who: &Principal, detail: &Detail, back: &str) -> String {
    if !who.role.may(Permission::Collect) {
        return String::new();
    }
    let mut channels = String::new();
    for c in [
        NoteChannel::Phone,
        NoteChannel::Email,
        NoteChannel::Chat,
        NoteChannel::Meeting,
        NoteChannel::Letter,
    ] {
        let _ = write!(channels, "<option>{}</option>", c.as_str());
    }
    format!(
        "<div class=\"card actions\" id=\"note\"><h2>Note to the customer's file</h2>\
         <form method=\"post\" action=\"/notes\">{}{}{}\
         <label>Text<textarea name=\"text\" id=\"note-text\" required></textarea></label>\
         <label>Channel<select name=\"channel\" id=\"note-channel\">{channels}</select></label>\
         <label>Via (optional, e.g. WeChat)<input name=\"via\" id=\"note-via\"></label>\
         <label>Follow up on (optional)<input type=\"date\" name=\"follow_up\" id=\"note-follow-up\"></label>\
         <fieldset><legend>Promise to pay (optional: all three or none)</legend>\
         <label>Amount<input name=\"promise_amount\" id=\"note-promise-amount\" inputmode=\"decimal\" size=\"10\"></label>\
         <label>Currency<input name=\"promise_currency\" id=\"note-promise-currency\" size=\"3\" maxlength=\"3\"></label>\
         <label>By<input type=\"date\" name=\"promise_date\" id=\"note-promise-date\"></label></fieldset>\
         <button type=\"submit\" id=\"add-note\">Add note</button></form>\
         <p class=\"muted\">Written into the ERP's customer texts by the outbox.</p></div>",
        hidden("csrf", who.csrf().unwrap_or("")),
        hidden(
            "customer",
            detail.flag.discrepancy.finding.customer.as_str()
        ),
        hidden("back", back),
    )
}

#[derive(Deserialize)]
pub(super) struct NoteForm {
    csrf: String,
    customer: String,
    text: String,
    channel: Option<String>,
    via: Option<String>,
    follow_up: Option<String>,
    promise_amount: Option<String>,
    promise_currency: Option<String>,
    promise_date: Option<String>,
    back: Option<String>,
}

pub(super) async fn note(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Form(form): Form<NoteForm>,
) -> Response {
    let who = match poster(&desk, &headers, &form.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    // Only back to a page of this desk, never to another site.
    let back = form
        .back
        .filter(|b| (b.starts_with("/flags/") || b.starts_with("/ar/")) && !b.contains("//"))
        .unwrap_or_else(|| "/".into());
    let body = NoteInput {
        customer: form.customer,
        item: None,
        author: String::new(),
        text: form.text,
        channel: form.channel,
        via: form.via,
        follow_up: form.follow_up,
        promise_amount: form.promise_amount,
        promise_currency: form.promise_currency,
        promise_date: form.promise_date,
    };
    match api::queue_note(&desk, &who, body).await {
        Ok(_) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            see_other(&format!("{back}{sep}done=note"))
        }
        Err(r) => r,
    }
}
