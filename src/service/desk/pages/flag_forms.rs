//! The action forms on a flag's page. A refused post renders them again with everything
//! the user typed, so nothing has to be typed twice.

use super::super::actions::Action;
use super::super::api::Detail;
use super::super::auth::{Permission, Principal};
use super::super::DeskState;
use super::kit::{esc, hidden};
use crate::model::DiscrepancyStatus;
use chrono::{Days, Utc};
use serde::Deserialize;
use std::fmt::Write as _;

/// What an action form posts; kept to fill the form again when the action is refused.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct ActionForm {
    // A form without its token is refused by the CSRF check with a page, not by the parser.
    #[serde(default)]
    pub(super) csrf: String,
    pub(super) version: Option<String>,
    pub(super) note: Option<String>,
    pub(super) assignee: Option<String>,
    pub(super) until: Option<String>,
    /// The queue the user came from (its query string), to go back to.
    pub(super) from: Option<String>,
}

/// The refused action and what was typed into its form.
pub(super) type Kept<'a> = Option<(Action, &'a ActionForm)>;

fn typed<'a>(kept: Kept<'a>, action: Action) -> Option<&'a ActionForm> {
    kept.filter(|(a, _)| *a == action).map(|(_, f)| f)
}

/// The reason the waiver's proposer gave (the audit entry that moved the flag to waived).
pub(super) fn waiver_reason(detail: &Detail) -> Option<&str> {
    detail
        .audit
        .iter()
        .rev()
        .find(|a| a.to == DiscrepancyStatus::Waived)
        .and_then(|a| a.note.as_deref())
}

pub(super) fn action_forms(
    desk: &DeskState,
    who: &Principal,
    detail: &Detail,
    from: &str,
    kept: Kept<'_>,
) -> String {
    let d = &detail.flag.discrepancy;
    let csrf = who.csrf().unwrap_or("");
    let base =
        hidden("csrf", csrf) + &hidden("version", &detail.flag.version) + &hidden("from", from);
    let mut s = String::from("<div class=\"card actions\" id=\"actions\"><h2>Actions</h2>");
    let mut offered = 0;
    for action in Action::ALL {
        if !action.applies_to(d) || !who.role.may(action.permission()) {
            continue;
        }
        let kept_form = typed(kept, action);
        let note = esc(kept_form.and_then(|f| f.note.as_deref()).unwrap_or(""));
        let form = |inner: &str, label: &str| {
            format!(
                "<form method=\"post\" action=\"/flags/{}/{}\" id=\"form-{}\">{base}{inner}<button type=\"submit\" id=\"do-{}\">{label}</button></form>",
                d.id,
                action.as_str(),
                action.as_str(),
                action.as_str()
            )
        };
        let html = match action {
            Action::Acknowledge => {
                let chosen = kept_form
                    .and_then(|f| f.assignee.as_deref())
                    .unwrap_or(who.name.as_str());
                let mut opts = String::new();
                for u in desk.users.iter().filter(|u| u.role.may(Permission::Review)) {
                    let on = if u.name == chosen { " selected" } else { "" };
                    let _ = write!(opts, "<option value=\"{0}\"{on}>{0}</option>", esc(&u.name));
                }
                if !desk.users.iter().any(|u| u.name == who.name) {
                    let _ = write!(opts, "<option value=\"{0}\" selected>{0}</option>", esc(&who.name));
                }
                form(
                    &format!(
                        "<label>Assign to<select name=\"assignee\" id=\"assignee\">{opts}</select></label>\
                         <label>Note (optional)<textarea name=\"note\" id=\"ack-note\">{note}</textarea></label>"
                    ),
                    "Acknowledge",
                )
            }
            Action::Resolve => form(
                &format!("<label>What was done (required)<textarea name=\"note\" id=\"resolve-note\" required>{note}</textarea></label>"),
                "Resolve",
            ),
            Action::Waive => {
                let today = Utc::now().date_naive();
                let max = desk
                    .settings
                    .waiver_max_days
                    .map(|days| (days, today + Days::new(u64::from(days))));
                let mut default = today + Days::new(90);
                if let Some((_, max)) = max {
                    default = default.min(max);
                }
                let default = default.to_string();
                let (limit, max_attr) = match max {
                    Some((days, max)) => (format!(", at most {days} days"), format!(" max=\"{max}\"")),
                    None => (String::new(), String::new()),
                };
                let until = kept_form
                    .and_then(|f| f.until.as_deref())
                    .unwrap_or(&default);
                form(
                    &format!(
                        "<label>Reason (required)<textarea name=\"note\" id=\"waive-note\" required>{note}</textarea></label>\
                         <label>Waived until (required{limit})<input type=\"date\" name=\"until\" id=\"waive-until\" value=\"{}\" min=\"{today}\"{max_attr} required></label>",
                        esc(until)
                    ),
                    "Propose waiver",
                )
            }
            Action::Approve => {
                if d.waiver_by.as_deref() == Some(who.name.as_str()) {
                    s += "<p class=\"muted\" id=\"own-waiver\">You proposed this waiver: someone else must approve it.</p>";
                    continue;
                }
                form(
                    &format!(
                        "<p>Waiver proposed by <b>{}</b> until {}.</p><blockquote id=\"waiver-reason\">{}</blockquote>\
                         <label>Note (optional)<textarea name=\"note\" id=\"approve-note\">{note}</textarea></label>",
                        esc(d.waiver_by.as_deref().unwrap_or("?")),
                        d.waived_until.map(|u| u.to_string()).unwrap_or_default(),
                        esc(waiver_reason(detail).unwrap_or("(no reason given)"))
                    ),
                    "Approve waiver",
                )
            }
            Action::Reject => {
                if d.waiver_by.as_deref() == Some(who.name.as_str()) {
                    continue;
                }
                form(
                    &format!("<label>Why it goes back (required, the proposer reads it)<textarea name=\"note\" id=\"reject-note\" required>{note}</textarea></label>"),
                    "Return waiver",
                )
            }
            Action::Reopen => form(
                &format!("<label>Why (optional)<textarea name=\"note\" id=\"reopen-note\">{note}</textarea></label>"),
                "Reopen",
            ),
        };
        s += &html;
        offered += 1;
    }
    if offered == 0 && !s.contains("own-waiver") {
        let _ = write!(
            s,
            "<p class=\"muted\" id=\"no-actions\">Nothing your role ({}) can do to this flag in its state ({}).</p>",
            who.role,
            d.status
        );
    }
    s + "</div>"
}
