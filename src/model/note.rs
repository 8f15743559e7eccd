//! Collectors' notes, to be written into the ERP as customer long texts.

use super::{CustomerId, OpenItemKey};
use chrono::{DateTime, Utc};
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
