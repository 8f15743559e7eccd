//! The reviewer's actions on one flag, shared by the pages and the API: the role check, the
//! stale-page check, the input rules, then the store's audited change.

use super::auth::{Permission, Principal};
use super::{version_of, DeskState};
use crate::model::{Discrepancy, DiscrepancyStatus};
use crate::store::StoreError;
use chrono::{NaiveDate, Utc};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Acknowledge,
    Resolve,
    Waive,
    Approve,
    /// An approver returns a proposed waiver with a reason: the flag is open again.
    Reject,
    Reopen,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Acknowledge,
        Action::Resolve,
        Action::Waive,
        Action::Approve,
        Action::Reject,
        Action::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledge",
            Action::Resolve => "resolve",
            Action::Waive => "waive",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Reopen => "reopen",
        }
    }

    pub fn permission(self) -> Permission {
        match self {
            Action::Approve | Action::Reject => Permission::Approve,
            _ => Permission::Review,
        }
    }

    /// Whether the action makes sense for a flag in this state (the pages offer only these).
    pub fn applies_to(self, d: &Discrepancy) -> bool {
        use DiscrepancyStatus::*;
        match self {
            Action::Acknowledge => d.status.reviewer_may_move_to(Acknowledged),
            Action::Resolve => d.status.reviewer_may_move_to(Resolved),
            Action::Waive => d.status.reviewer_may_move_to(Waived),
            Action::Approve | Action::Reject => {
                d.status == Waived && d.waiver_approved_by.is_none()
            }
            Action::Reopen => d.status.reviewer_may_move_to(Open),
        }
    }
}

impl FromStr for Action {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Action::ALL.into_iter().find(|a| a.as_str() == s).ok_or(())
    }
}

/// What comes with an action.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    /// The version the caller saw; when given, a flag changed since is not touched.
    pub version: Option<String>,
    pub note: Option<String>,
    /// Acknowledge: who takes the flag on (default: the caller).
    pub assignee: Option<String>,
    /// Waive: the last day the waiver holds.
    pub until: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{who} (role {role}) may not {action}")]
    Forbidden {
        who: String,
        role: String,
        action: &'static str,
    },
    #[error("discrepancy {0} not found")]
    NotFound(i64),
    #[error("discrepancy {id} changed since it was read (now {status}, version {current}): reload and decide again")]
    Stale {
        id: i64,
        current: String,
        status: DiscrepancyStatus,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Refused(String),
    #[error("store: {0}")]
    Store(StoreError),
}

impl ActionError {
    /// The HTTP status the API and the pages answer this refusal with.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            ActionError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ActionError::NotFound(_) => StatusCode::NOT_FOUND,
            ActionError::Stale { .. } | ActionError::Refused(_) => StatusCode::CONFLICT,
            ActionError::Invalid(_) => StatusCode::BAD_REQUEST,
            ActionError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { id, .. } => ActionError::NotFound(id.parse().unwrap_or(0)),
            StoreError::Refused(m) => ActionError::Refused(m),
            other => ActionError::Store(other),
        }
    }
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Runs `action` on flag `id` for `who`.
pub async fn perform(
    desk: &DeskState,
    who: &Principal,
    id: i64,
    action: Action,
    input: &ActionInput,
) -> Result<Discrepancy, ActionError> {
    if !who.role.may(action.permission()) {
        return Err(ActionError::Forbidden {
            who: who.name.clone(),
            role: who.role.to_string(),
            action: action.as_str(),
        });
    }
    let note = text(&input.note);
    match action {
        Action::Resolve if note.is_none() => {
            return Err(ActionError::Invalid(
                "resolving needs a note: what was done".into(),
            ))
        }
        Action::Waive if note.is_none() => {
            return Err(ActionError::Invalid("waiving needs a reason (note)".into()))
        }
        Action::Reject if note.is_none() => {
            return Err(ActionError::Invalid(
                "returning a waiver needs a reason (note) for the proposer".into(),
            ))
        }
        Action::Waive if input.until.is_none() => {
            return Err(ActionError::Invalid(
                "waiving needs an expiry date (until, YYYY-MM-DD)".into(),
            ))
        }
        _ => {}
    }
    let now = Utc::now();
    if let (Action::Waive, Some(until)) = (action, input.until) {
        if until < now.date_naive() {
            return Err(ActionError::Invalid(format!(
                "the waiver would already have ended ({until})"
            )));
        }
    }
    if let (Action::Waive, Some(until), Some(days)) =
        (action, input.until, desk.settings.waiver_max_days)
    {
        let max = now.date_naive() + chrono::Days::new(u64::from(days));
        if until > max {
            return Err(ActionError::Invalid(format!(
                "a waiver may run at most {days} days (until {max} at the latest), not until {until}"
            )));
        }
    }
    let assignee = text(&input.assignee).filter(|a| *a != who.name);
    if let (Action::Acknowledge, Some(a)) = (action, assignee) {
        if desk.user(a).is_none() {
            return Err(ActionError::Invalid(format!(
                "{a} is not a desk user (server.users)"
            )));
        }
    }

    let _one_at_a_time = desk.action_lock.lock().await;
    let current = desk
        .store
        .discrepancy(id)
        .await?
        .ok_or(ActionError::NotFound(id))?;
    if let Some(seen) = text(&input.version) {
        let now_version = version_of(&current);
        let stale = || ActionError::Stale {
            id,
            current: now_version.clone(),
            status: current.status,
        };
        if seen != now_version {
            return Err(stale());
        }
        // The lock above orders this instance's actions; the store's compare-and-set
        // orders them with other instances sharing the store.
        if !desk.store.take_version(id, current.updated_at, now).await? {
            return Err(stale());
        }
    }
    let store = desk.store.as_ref();
    let actor = who.name.as_str();
    let changed = match action {
        Action::Acknowledge => {
            let acked = store
                .change_status(id, DiscrepancyStatus::Acknowledged, actor, note, None, now)
                .await?;
            match assignee {
                Some(a) => store.reassign(id, a, actor, now).await?,
                None => acked,
            }
        }
        Action::Resolve => {
            store
                .change_status(id, DiscrepancyStatus::Resolved, actor, note, None, now)
                .await?
        }
        Action::Waive => {
            store
                .change_status(id, DiscrepancyStatus::Waived, actor, note, input.until, now)
                .await?
        }
        Action::Approve => store.approve_waiver(id, actor, note, now).await?,
        Action::Reject => {
            // Only a waiver still awaiting approval goes back; an approved one is reopened
            // by a reviewer, on the record, instead.
            if !Action::Reject.applies_to(&current) {
                return Err(ActionError::Refused(format!(
                    "discrepancy {id} has no waiver awaiting approval to return"
                )));
            }
            let reason = format!("waiver returned: {}", note.unwrap_or_default());
            store
                .change_status(id, DiscrepancyStatus::Open, actor, Some(&reason), None, now)
                .await?
        }
        Action::Reopen => {
            store
                .change_status(id, DiscrepancyStatus::Open, actor, note, None, now)
                .await?
        }
    };
    tracing::info!(
        discrepancy = id,
        action = action.as_str(),
        actor,
        status = %changed.status,
        "review desk action"
    );
    Ok(changed)
}
