//! A customer's notes with where each stands on its way to the ERP: queued, sent, failed
//! with SAP's message, or given up (dead letter). Drawn on the customer page and on a
//! flag's page; any page listing notes can use [`notes_list`].

use super::super::format;
use super::kit::esc;
use crate::store::{NoteWithStatus, OutboxStatus};
use std::fmt::Write as _;

/// The status word (also the `data-status` value) and, for the reader, what it means
/// (HTML: SAP's message is escaped here).
pub(super) fn status_words(n: &NoteWithStatus) -> (&'static str, String) {
    let error = |e: &Option<String>| {
        e.as_deref()
            .map(|m| format!(": SAP said \u{201c}{}\u{201d}", esc(m)))
            .unwrap_or_default()
    };
    match n.status {
        Some(OutboxStatus::Pending) if n.attempts == 0 => {
            ("queued", "queued: not sent to SAP yet".into())
        }
        Some(OutboxStatus::Pending) => (
            "queued",
            format!(
                "queued: {} attempt{} so far, will be tried again{}",
                n.attempts,
                if n.attempts == 1 { "" } else { "s" },
                error(&n.last_error)
            ),
        ),
        Some(OutboxStatus::Sent) => (
            "sent",
            match n.sent_at {
                Some(at) => format!("sent to SAP {}", format::time(at)),
                None => "sent to SAP".into(),
            },
        ),
        Some(OutboxStatus::Failed) => (
            "failed",
            format!(
                "failed: SAP refused it{}. An administrator can retry it (erpsync outbox retry)",
                error(&n.last_error)
            ),
        ),
        Some(OutboxStatus::Dead) => (
            "dead",
            format!(
                "dead letter: given up after {} attempts{}. An administrator can retry it (erpsync outbox retry)",
                n.attempts,
                error(&n.last_error)
            ),
        ),
        Some(OutboxStatus::Dropped) => (
            "dropped",
            "dropped: an administrator gave it up; it was not written to SAP".into(),
        ),
        None => ("unknown", "not in the outbox".into()),
    }
}

/// The notes as a list, newest first; a line saying so when there are none.
pub(super) fn notes_list(notes: &[NoteWithStatus]) -> String {
    if notes.is_empty() {
        return "<p class=\"muted\" id=\"no-notes\">No notes yet.</p>".into();
    }
    let mut s = String::from("<ul class=\"notes\" id=\"notes\">");
    for n in notes {
        let (word, meaning) = status_words(n);
        let about = n
            .item
            .as_ref()
            .map(|i| format!(" · item {}", esc(&i.to_string())))
            .unwrap_or_default();
        let _ = write!(
            s,
            "<li class=\"note\" data-status=\"{word}\"><div class=\"note-head\">{} · {} · {}{about} \
             <span class=\"badge note-status st-{word}\">{word}</span></div>\
             <div class=\"note-text\">{}</div><div class=\"muted note-outbox\">{meaning}</div></li>",
            format::time(n.at),
            esc(&n.author),
            esc(&n.channel),
            esc(&n.text),
        );
    }
    s + "</ul>"
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn note(status: Option<OutboxStatus>, attempts: u32, error: Option<&str>) -> NoteWithStatus {
        NoteWithStatus {
            at: Utc::now(),
            author: "ana".into(),
            channel: "phone".into(),
            text: "<b>called</b>".into(),
            item: None,
            outbox_id: Some(1),
            status,
            last_error: error.map(str::to_string),
            attempts,
            sent_at: None,
        }
    }

    #[test]
    fn each_outbox_state_reads_as_words_with_sap_s_message() {
        let failed = note(
            Some(OutboxStatus::Failed),
            1,
            Some("Customer 9999999 does not exist"),
        );
        let (w, m) = status_words(&failed);
        assert_eq!(w, "failed");
        assert!(m.contains("SAP said \u{201c}Customer 9999999 does not exist\u{201d}"));
        let (w, m) = status_words(&note(Some(OutboxStatus::Dead), 8, Some("timeout")));
        assert_eq!(w, "dead");
        assert!(m.contains("dead letter") && m.contains("8 attempts") && m.contains("timeout"));
        assert_eq!(
            status_words(&note(Some(OutboxStatus::Pending), 0, None)).0,
            "queued"
        );
        let (w, m) = status_words(&note(Some(OutboxStatus::Pending), 2, Some("503")));
        assert_eq!(w, "queued");
        assert!(m.contains("2 attempts") && m.contains("503"));
        assert_eq!(
            status_words(&note(Some(OutboxStatus::Sent), 1, None)).0,
            "sent"
        );
    }

    #[test]
    fn notes_are_escaped() {
        let html = notes_list(&[note(Some(OutboxStatus::Failed), 1, Some("<x>"))]);
        assert!(html.contains("&lt;b&gt;called&lt;/b&gt;") && html.contains("&lt;x&gt;"));
        assert!(!html.contains("<b>called"));
    }
}
