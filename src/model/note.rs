//! Collectors' notes, to be written into the ERP as customer long texts.

use super::{CustomerId, OpenItemKey};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NoteChannel {
    #[default]
    Phone,
    Email,
    Chat,
    Meeting,
    Letter,
}

impl NoteChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteChannel::Phone => "phone",
            NoteChannel::Email => "email",
            NoteChannel::Chat => "chat",
            NoteChannel::Meeting => "meeting",
            NoteChannel::Letter => "letter",
        }
    }
}

impl FromStr for NoteChannel {
    type Err = super::ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "phone" => Ok(NoteChannel::Phone),
            "email" => Ok(NoteChannel::Email),
            "chat" => Ok(NoteChannel::Chat),
            "meeting" => Ok(NoteChannel::Meeting),
            "letter" => Ok(NoteChannel::Letter),
            _ => Err(super::ModelError::invalid(
                "channel",
                s,
                "expected phone, email, chat, meeting or letter",
            )),
        }
    }
}

/// A customer's promise to pay: how much, in which currency, by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseToPay {
    pub amount: Decimal,
    pub currency: String,
    pub date: NaiveDate,
}

/// What a collector records beside the text: the chat or other medium used, when to follow
/// up, and a promise to pay. All optional; a note without them reads as before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDetails {
    /// The medium within the channel, e.g. `WeChat` for `chat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise: Option<PromiseToPay>,
}

/// A note with the collector's details, as queued for the ERP. Serialised flat, so an
/// outbox payload written before the details existed still reads as one without them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectorNote {
    #[serde(flatten)]
    pub note: Note,
    #[serde(flatten)]
    pub details: NoteDetails,
}

/// Why a note cannot be written into a text of the given length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a note entry needs at least {needed} characters for its heading and marker; the target allows {max}")]
pub struct TooShort {
    pub needed: usize,
    pub max: usize,
}

impl CollectorNote {
    /// The heading every entry of this note starts with: when, who, how, about what.
    fn heading(&self) -> String {
        let n = &self.note;
        let mut h = format!(
            "{} {} ({}",
            n.created_at.format("%Y-%m-%d %H:%M UTC"),
            n.author,
            n.channel.as_str()
        );
        if let Some(via) = &self.details.via {
            h.push_str(": ");
            h.push_str(via);
        }
        h.push(')');
        if let Some(i) = &n.item {
            h.push_str(&format!(" [item {i}]"));
        }
        if let Some(d) = self.details.follow_up {
            h.push_str(&format!(" [follow-up {d}]"));
        }
        if let Some(p) = &self.details.promise {
            h.push_str(&format!(
                " [promise to pay {} {} by {}]",
                p.amount, p.currency, p.date
            ));
        }
        h
    }

    /// The marker of part `index` (1-based) of `count`: the note's own marker when it fits
    /// in one entry, `[erpsync:KEY#i/n]` otherwise, so each part is found on its own.
    pub fn part_marker(&self, index: usize, count: usize) -> String {
        if count == 1 {
            self.note.marker()
        } else {
            format!("[erpsync:{}#{index}/{count}]", self.note.idempotency_key)
        }
    }

    /// The entries to append to the ERP text, each at most `max_chars` characters (Unicode
    /// scalar values, as SAP counts them), each with the heading and its own marker. The
    /// text is cut only between characters, so the parts' texts joined give it back whole,
    /// Chinese and other multi-byte text included; a cut prefers a space near the limit.
    pub fn erp_parts(&self, max_chars: usize) -> Result<Vec<String>, TooShort> {
        let heading = self.heading();
        let text: Vec<char> = self.note.text.chars().collect();
        let whole = format!("{heading}: {} {}", self.note.text, self.note.marker());
        if whole.chars().count() <= max_chars {
            return Ok(vec![whole]);
        }
        // Room for text in one part, assuming the longest marker this note can have.
        let overhead = |count: usize| {
            heading.chars().count() + 2 + 1 + self.part_marker(count, count).chars().count()
        };
        let mut count = 2;
        loop {
            let room = max_chars.saturating_sub(overhead(count));
            if room == 0 {
                return Err(TooShort {
                    needed: overhead(count) + 1,
                    max: max_chars,
                });
            }
            let chunks = split_chars(&text, room);
            if chunks.len() <= count {
                // Fewer chunks than assumed only makes markers shorter: still fits.
                let n = chunks.len();
                return Ok(chunks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{heading}: {c} {}", self.part_marker(i + 1, n)))
                    .collect());
            }
            count = chunks.len();
        }
    }
}

/// Cuts `text` into pieces of at most `room` characters; a piece ends after the last
/// whitespace in its final fifth when there is one, so words stay whole where they can.
fn split_chars(text: &[char], room: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + room).min(text.len());
        if end < text.len() {
            let floor = start + room - room / 5;
            if let Some(ws) = (floor.max(start + 1)..end)
                .rev()
                .find(|&i| text[i - 1].is_whitespace())
            {
                end = ws;
            }
        }
        out.push(text[start..end].iter().collect());
        start = end;
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub customer: CustomerId,
    pub item: Option<OpenItemKey>,
    pub author: String,
    pub text: String,
    pub channel: NoteChannel,
    pub created_at: DateTime<Utc>,
    /// Unique per note; written into the ERP text so a retry can tell it already arrived.
    pub idempotency_key: String,
}

impl Note {
    /// The marker that ends every entry of this note in the ERP text: the idempotency key,
    /// so a re-send can tell the note already arrived.
    pub fn marker(&self) -> String {
        format!("[erpsync:{}]", self.idempotency_key)
    }

    /// The dated, signed entry appended to the customer's long text in the ERP.
    /// The trailing marker carries the idempotency key, so a re-send can find it.
    pub fn erp_text(&self) -> String {
        let item = self
            .item
            .as_ref()
            .map(|i| format!(" [item {i}]"))
            .unwrap_or_default();
        format!(
            "{} {} ({}){}: {} [erpsync:{}]",
            self.created_at.format("%Y-%m-%d %H:%M UTC"),
            self.author,
            self.channel.as_str(),
            item,
            self.text,
            self.idempotency_key
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn note(text: &str) -> CollectorNote {
        CollectorNote {
            note: Note {
                customer: CustomerId::parse("4711").unwrap(),
                item: None,
                author: "ana".into(),
                text: text.into(),
                channel: NoteChannel::Chat,
                created_at: Utc.with_ymd_and_hms(2026, 11, 25, 10, 15, 0).unwrap(),
                idempotency_key: "k1".into(),
            },
            details: NoteDetails {
                via: Some("WeChat".into()),
                follow_up: NaiveDate::from_ymd_opt(2026, 12, 1),
                promise: Some(PromiseToPay {
                    amount: "1250.50".parse().unwrap(),
                    currency: "CNY".into(),
                    date: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
                }),
            },
        }
    }

    /// The text of a part: between the heading's `: ` and the marker's space.
    fn body<'a>(part: &'a str, heading: &str) -> &'a str {
        let rest = &part[heading.len() + 2..];
        &rest[..rest.rfind(" [erpsync:").unwrap()]
    }

    #[test]
    fn a_short_note_is_one_entry_with_every_detail() {
        let n = note("will pay on Friday");
        let parts = n.erp_parts(1000).unwrap();
        assert_eq!(
            parts,
            vec![
                "2026-11-25 10:15 UTC ana (chat: WeChat) [follow-up 2026-12-01] \
                  [promise to pay 1250.50 CNY by 2026-12-05]: will pay on Friday [erpsync:k1]"
                    .to_string()
            ]
        );
    }

    #[test]
    fn a_long_chinese_note_is_split_without_losing_a_character() {
        let text = "客户承诺在月底前付款，但要求先核对发票金额。".repeat(12);
        let n = note(&text);
        let max = 160;
        let parts = n.erp_parts(max).unwrap();
        assert!(parts.len() > 1, "{parts:?}");
        let heading = n.heading();
        let mut joined = String::new();
        for (i, p) in parts.iter().enumerate() {
            assert!(p.chars().count() <= max, "part {i} too long: {p}");
            assert!(p.ends_with(&format!("[erpsync:k1#{}/{}]", i + 1, parts.len())));
            joined.push_str(body(p, &heading));
        }
        assert_eq!(joined, text);
    }

    #[test]
    fn splits_at_spaces_when_it_can_and_refuses_a_target_too_short() {
        let text = "word ".repeat(60);
        let n = note(text.trim_end());
        let parts = n.erp_parts(150).unwrap();
        let heading = n.heading();
        let joined: String = parts.iter().map(|p| body(p, &heading)).collect();
        assert_eq!(joined, text.trim_end());
        for p in &parts[..parts.len() - 1] {
            assert!(body(p, &heading).ends_with(' '), "{p}");
        }
        let err = n.erp_parts(40).unwrap_err();
        assert_eq!(err.max, 40);
    }

    #[test]
    fn payloads_without_details_still_read() {
        let plain = serde_json::to_value(&note("x").note).unwrap();
        let read: CollectorNote = serde_json::from_value(plain).unwrap();
        assert_eq!(read.details, NoteDetails::default());
        let full = note("x");
        let again: CollectorNote =
            serde_json::from_value(serde_json::to_value(&full).unwrap()).unwrap();
        assert_eq!(again, full);
    }
}
