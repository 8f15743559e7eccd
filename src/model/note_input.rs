//! A collector's note as a person types it — `erpsync notes add`, the desk's note form or
//! `POST /api/v1/notes` — checked in one place, so every way in stores the same note.

use super::note::{CollectorNote, Note, NoteDetails, PromiseToPay};
use super::{CustomerId, NoteChannel, OpenItemKey};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

/// What the fields are called where the note was typed, so an error names what the person
/// filled in (`--promise-date` on the command line, `promise_date` in a form or body).
#[derive(Debug, Clone, Copy)]
pub struct FieldNames {
    pub author: &'static str,
    pub text: &'static str,
    pub follow_up: &'static str,
    pub promise_amount: &'static str,
    pub promise_currency: &'static str,
    pub promise_date: &'static str,
}

impl FieldNames {
    /// `erpsync notes add`'s flags.
    pub const CLI: FieldNames = FieldNames {
        author: "--by",
        text: "--text",
        follow_up: "--follow-up",
        promise_amount: "--promise-amount",
        promise_currency: "--promise-currency",
        promise_date: "--promise-date",
    };

    /// The desk form's and the API body's fields.
    pub const FORM: FieldNames = FieldNames {
        author: "author",
        text: "text",
        follow_up: "follow_up",
        promise_amount: "promise_amount",
        promise_currency: "promise_currency",
        promise_date: "promise_date",
    };
}

/// Why typed note fields do not make a note; the message names the field as typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoteInputError(pub String);

/// The fields of a note as typed, every one text: also the body of `POST /api/v1/notes`,
/// which takes the author from the credentials, never from the body. An absent optional
/// field is `None` (callers drop the blank fields a form sends).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    pub customer: String,
    /// `COMPANY/YEAR/DOC/ITEM`, for a note on one open item.
    pub item: Option<String>,
    #[serde(skip)]
    pub author: String,
    pub text: String,
    /// phone (when absent), email, chat, meeting, letter.
    pub channel: Option<String>,
    /// The medium within the channel, e.g. `WeChat`.
    pub via: Option<String>,
    /// `YYYY-MM-DD`.
    pub follow_up: Option<String>,
    pub promise_amount: Option<String>,
    pub promise_currency: Option<String>,
    pub promise_date: Option<String>,
}

impl NoteInput {
    /// The note these fields make, written at `created_at` under `idempotency_key`.
    pub fn check(
        self,
        names: &FieldNames,
        created_at: DateTime<Utc>,
        idempotency_key: String,
    ) -> Result<CollectorNote, NoteInputError> {
        let bad = |e: super::ModelError| NoteInputError(e.to_string());
        let details = NoteDetails {
            via: self
                .via
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
            follow_up: self
                .follow_up
                .as_deref()
                .map(|d| date(names.follow_up, d))
                .transpose()?,
            promise: promise(
                names,
                self.promise_amount,
                self.promise_currency,
                self.promise_date,
            )?,
        };
        let note = Note {
            customer: CustomerId::parse(&self.customer).map_err(bad)?,
            item: self
                .item
                .as_deref()
                .map(OpenItemKey::parse)
                .transpose()
                .map_err(bad)?,
            author: required(names.author, &self.author)?,
            text: required(names.text, &self.text)?,
            channel: self
                .channel
                .as_deref()
                .map(str::parse::<NoteChannel>)
                .transpose()
                .map_err(bad)?
                .unwrap_or_default(),
            created_at,
            idempotency_key,
        };
        Ok(CollectorNote { note, details })
    }
}

fn required(name: &str, value: &str) -> Result<String, NoteInputError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(NoteInputError(format!("{name} must not be empty")));
    }
    Ok(v.to_string())
}

/// A `YYYY-MM-DD` date.
pub fn date(name: &str, raw: &str) -> Result<NaiveDate, NoteInputError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| NoteInputError(format!("{name} {raw:?} is not a date (YYYY-MM-DD)")))
}

/// A promise to pay needs all three of amount, currency and date, or none of them.
fn promise(
    names: &FieldNames,
    amount: Option<String>,
    currency: Option<String>,
    date_raw: Option<String>,
) -> Result<Option<PromiseToPay>, NoteInputError> {
    match (amount, currency, date_raw) {
        (None, None, None) => Ok(None),
        (Some(a), Some(c), Some(d)) => {
            let amount: Decimal = a.trim().parse().map_err(|_| {
                NoteInputError(format!(
                    "{} {a:?} is not a decimal amount",
                    names.promise_amount
                ))
            })?;
            if amount <= Decimal::ZERO {
                return Err(NoteInputError(format!(
                    "{} {a:?} must be more than zero",
                    names.promise_amount
                )));
            }
            let currency = c.trim().to_ascii_uppercase();
            if currency.len() != 3 || !currency.chars().all(|ch| ch.is_ascii_alphabetic()) {
                return Err(NoteInputError(format!(
                    "{} {c:?} is not an ISO currency code (e.g. EUR, CNY)",
                    names.promise_currency
                )));
            }
            Ok(Some(PromiseToPay {
                amount,
                currency,
                date: date(names.promise_date, &d)?,
            }))
        }
        _ => Err(NoteInputError(format!(
            "a promise to pay needs {}, {} and {} together",
            names.promise_amount, names.promise_currency, names.promise_date
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NoteInput {
        NoteInput {
            customer: "4711".into(),
            author: " ana ".into(),
            text: "will pay next week".into(),
            ..NoteInput::default()
        }
    }

    fn check(i: NoteInput) -> Result<CollectorNote, NoteInputError> {
        i.check(&FieldNames::CLI, Utc::now(), "k".into())
    }

    #[test]
    fn every_collector_field_is_read() {
        let n = check(NoteInput {
            channel: Some("chat".into()),
            via: Some(" WeChat ".into()),
            follow_up: Some("2026-12-01".into()),
            promise_amount: Some("1250.50".into()),
            promise_currency: Some("cny".into()),
            promise_date: Some("2026-12-05".into()),
            ..input()
        })
        .unwrap();
        assert_eq!(n.note.author, "ana");
        assert_eq!(n.note.channel, NoteChannel::Chat);
        assert_eq!(n.details.via.as_deref(), Some("WeChat"));
        let p = n.details.promise.unwrap();
        assert_eq!(
            (p.amount.to_string().as_str(), p.currency.as_str()),
            ("1250.50", "CNY")
        );
        assert_eq!(check(input()).unwrap().note.channel, NoteChannel::Phone);
    }

    #[test]
    fn errors_name_the_field_as_typed() {
        let half = NoteInput {
            promise_amount: Some("10".into()),
            ..input()
        };
        assert_eq!(
            check(half.clone()).unwrap_err().0,
            "a promise to pay needs --promise-amount, --promise-currency and --promise-date together"
        );
        let e = half
            .check(&FieldNames::FORM, Utc::now(), "k".into())
            .unwrap_err();
        assert!(
            e.0.contains("promise_amount, promise_currency and promise_date"),
            "{e}"
        );
        let e = check(NoteInput {
            follow_up: Some("next week".into()),
            ..input()
        })
        .unwrap_err();
        assert_eq!(e.0, "--follow-up \"next week\" is not a date (YYYY-MM-DD)");
        let e = check(NoteInput {
            text: "  ".into(),
            ..input()
        })
        .unwrap_err();
        assert_eq!(e.0, "--text must not be empty");
    }
}
