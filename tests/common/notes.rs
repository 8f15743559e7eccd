//! Collector notes as the push tests queue them.

use chrono::Utc;
use erpsync::model::note::{CollectorNote, NoteDetails};
use erpsync::model::{CustomerId, Note, NoteChannel};

/// A note by the collector `ana` on `customer`, written now, with a fresh idempotency key.
pub fn by_ana(customer: &str, text: &str, channel: NoteChannel) -> Note {
    Note {
        customer: CustomerId::parse(customer).unwrap(),
        item: None,
        author: "ana".into(),
        text: text.into(),
        channel,
        created_at: Utc::now(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
    }
}

/// [`by_ana`] as a collector note without follow-up or promise.
pub fn collector(customer: &str, text: &str, channel: NoteChannel) -> CollectorNote {
    CollectorNote {
        note: by_ana(customer, text, channel),
        details: NoteDetails::default(),
    }
}
