//! Telling unchanged rows apart before the database is asked to write them.
//!
//! A full re-read of the open items brings every item again, most of them as they are
//! stored. The upsert leaves such a row alone (`ON CONFLICT … DO UPDATE … WHERE` a column
//! differs), but only after the database has been handed all its values, looked it up,
//! and compared them: most of a re-sync's cost. So a full pull first reads what is stored
//! ([`StoredRows`]: a digest of each open row, as the encoder that writes it would write
//! it) and hands the store only the rows whose digest is not among them.
//!
//! The digest is SHA-256 over every written value, length-prefixed (truncated to 128
//! bits): two different rows share one by chance with a probability of about 2^-128 per
//! pair, and nobody can make one that passes for another. Skipping is only ever a
//! shortcut of what the `WHERE` would decide: a row whose digest is not found is written
//! and the database compares it as before.

use super::masters::encode_open_item;
use super::upsert::{Encoder, Sink};
use crate::model::OpenItem;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// One stored row: a digest of its key (to find it) and of its whole content.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    row: [u8; 16],
    /// This pull wrote a row of this key: what is stored may no longer be `row`.
    written: bool,
}

/// The digests of the rows of one table stored when a pull began (24 bytes a row: 24 MB
/// for a million open items), sorted by key digest.
pub struct StoredRows<T> {
    entries: Vec<Entry>,
    /// How the table's rows are written, and how many of the values written are its key.
    encode: Encoder<T>,
    key_fields: usize,
    skipped: u64,
}

/// The open items stored when a full pull began.
pub type StoredOpenItems = StoredRows<OpenItem>;

impl StoredOpenItems {
    /// None stored: every row pulled is written.
    pub fn none() -> Self {
        Self::with_capacity(encode_open_item, 4, 0)
    }
}

impl<T> StoredRows<T> {
    pub(super) fn with_capacity(encode: Encoder<T>, key_fields: usize, n: usize) -> Self {
        StoredRows {
            entries: Vec::with_capacity(n),
            encode,
            key_fields,
            skipped: 0,
        }
    }

    /// Notes a stored row (before [`Self::seal`]).
    pub(super) fn add(&mut self, row: &T) {
        let (key, row) = digests(self.encode, self.key_fields, row);
        self.entries.push(Entry {
            key,
            row,
            written: false,
        });
    }

    /// Ready for lookups.
    pub(super) fn seal(mut self) -> Self {
        self.entries.sort_unstable_by_key(|e| e.key);
        self
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `row` is stored exactly so and this pull has not written its key since it
    /// began; otherwise notes its key written, so that a later copy of the same row (a
    /// key read twice, as paging over changing data may) is not taken for the stored one.
    fn is_stored(&mut self, key: u64, row: &[u8; 16]) -> bool {
        let start = self.entries.partition_point(|e| e.key < key);
        let end = start + self.entries[start..].partition_point(|e| e.key == key);
        let same = &mut self.entries[start..end];
        if same.iter().any(|e| !e.written && e.row == *row) {
            return true;
        }
        // Different keys may share a key digest: every row under it counts as written.
        for e in same {
            e.written = true;
        }
        false
    }

    /// How many rows [`Self::changed`] found stored as they are.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The rows of `rows` that are not stored as they are: the ones to write.
    pub fn changed(&mut self, rows: Vec<T>) -> Vec<T> {
        if self.entries.is_empty() {
            return rows;
        }
        let before = rows.len();
        let (encode, key_fields) = (self.encode, self.key_fields);
        let changed: Vec<T> = rows
            .into_iter()
            .filter(|r| {
                let (key, row) = digests(encode, key_fields, r);
                !self.is_stored(key, &row)
            })
            .collect();
        self.skipped += (before - changed.len()) as u64;
        changed
    }
}

/// The digests of a row's key (its first `key_fields` values) and of all its values.
fn digests<T>(encode: Encoder<T>, key_fields: usize, row: &T) -> (u64, [u8; 16]) {
    let mut sink = DigestSink {
        bytes: Vec::with_capacity(256),
        fields: 0,
        key_fields,
        key_end: None,
    };
    encode(row, &mut sink);
    let key_end = sink.key_end.unwrap_or(sink.bytes.len());
    let key = Sha256::digest(&sink.bytes[..key_end]);
    let all = Sha256::digest(&sink.bytes);
    let mut k = [0u8; 8];
    k.copy_from_slice(&key[..8]);
    let mut r = [0u8; 16];
    r.copy_from_slice(&all[..16]);
    (u64::from_le_bytes(k), r)
}

/// Writes each value as a tag (absent, present) and its bytes, texts length-prefixed, so
/// that no two different rows write the same bytes.
struct DigestSink {
    bytes: Vec<u8>,
    fields: usize,
    key_fields: usize,
    key_end: Option<usize>,
}

impl DigestSink {
    fn value(&mut self, v: Option<&[u8]>) {
        match v {
            None => self.bytes.push(0),
            Some(v) => {
                self.bytes.push(1);
                self.bytes
                    .extend_from_slice(&(v.len() as u64).to_le_bytes());
                self.bytes.extend_from_slice(v);
            }
        }
        self.fields += 1;
        if self.fields == self.key_fields {
            self.key_end = Some(self.bytes.len());
        }
    }
}

impl<'r> Sink<'r> for DigestSink {
    fn text(&mut self, v: Option<&'r str>) {
        self.value(v.map(str::as_bytes));
    }
    fn flag(&mut self, v: bool) {
        self.value(Some(&[u8::from(v)]));
    }
    fn int(&mut self, v: Option<i64>) {
        self.value(v.map(i64::to_le_bytes).as_ref().map(|b| &b[..]));
    }
    fn date(&mut self, v: Option<NaiveDate>) {
        let days = v.map(|d| d.num_days_from_ce().to_le_bytes());
        self.value(days.as_ref().map(|b| &b[..]));
    }
    fn amount(&mut self, v: Option<Decimal>) {
        // The text keeps the scale, as SQLite stores it: 1.50 and 1.5 are different rows
        // here (PostgreSQL's NUMERIC compares them equal; its `WHERE` then skips the write).
        let text = v.map(|d| d.to_string());
        self.value(text.as_deref().map(str::as_bytes));
    }
    fn stamp(&mut self, v: Option<DateTime<Utc>>) {
        let micros = v.map(|t| t.timestamp_micros().to_le_bytes());
        self.value(micros.as_ref().map(|b| &b[..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::open_item::AppliedTerms;
    use crate::model::{CustomerId, OpenItemKey};
    use std::str::FromStr;

    fn item(doc: &str, amount: &str) -> OpenItem {
        let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        OpenItem {
            key: OpenItemKey {
                company_code: "1010".into(),
                fiscal_year: "2026".into(),
                document: doc.into(),
                item: "1".into(),
            },
            customer: CustomerId::parse("17100001").unwrap(),
            document_date: day,
            posting_date: day,
            baseline_date: day,
            payment_terms: Some("0001".into()),
            applied: AppliedTerms::default(),
            net_due_date: Some(day),
            amount: Decimal::from_str(amount).unwrap(),
            currency: "EUR".into(),
            dunning_level: None,
            dunning_block: None,
            dispute_case: None,
        }
    }

    fn stored(rows: &[OpenItem]) -> StoredOpenItems {
        let mut s = StoredRows::with_capacity(encode_open_item, 4, rows.len());
        for r in rows {
            s.add(r);
        }
        s.seal()
    }

    fn docs(rows: &[OpenItem]) -> Vec<String> {
        rows.iter().map(|r| r.key.document.clone()).collect()
    }

    #[test]
    fn only_rows_not_stored_as_they_are_are_written() {
        let mut s = stored(&[item("1", "10.00"), item("2", "20.00"), item("3", "30.00")]);
        let pulled = vec![
            item("1", "10.00"), // as stored
            item("2", "20.01"), // changed
            item("3", "30.0"),  // same amount, other scale: written (SQLite keeps the text)
            item("4", "40.00"), // new
        ];
        assert_eq!(docs(&s.changed(pulled)), ["2", "3", "4"]);
        // Nothing stored: everything is written, nothing is hashed.
        let mut none = StoredOpenItems::none();
        assert_eq!(none.changed(vec![item("1", "1")]).len(), 1);
    }

    #[test]
    fn a_key_written_once_in_a_pull_is_never_skipped_again() {
        // Read twice in one pull: first changed, then as it was stored. The second copy is
        // the ERP's last word and must reach the store (which keeps the last of a key).
        let mut s = stored(&[item("1", "10.00")]);
        let first = s.changed(vec![item("1", "11.00"), item("1", "10.00")]);
        assert_eq!(first.len(), 2);
        let again = s.changed(vec![item("1", "10.00")]);
        assert_eq!(again.len(), 1, "a later batch too");
    }

    #[test]
    fn absent_and_empty_values_differ() {
        let mut a = item("1", "1");
        a.dunning_block = Some(String::new());
        let mut s = stored(&[a]);
        let b = item("1", "1"); // dunning_block None
        assert_eq!(s.changed(vec![b]).len(), 1);
    }

    #[test]
    fn rows_sharing_a_key_digest_are_never_confused() {
        // Forced: two entries under one key digest, as colliding keys would give.
        let (k, r1) = digests(encode_open_item, 4, &item("1", "1"));
        let (_, r2) = digests(encode_open_item, 4, &item("2", "2"));
        let mut s = StoredOpenItems::none();
        s.entries = vec![
            Entry {
                key: k,
                row: r1,
                written: false,
            },
            Entry {
                key: k,
                row: r2,
                written: false,
            },
        ];
        assert!(s.is_stored(k, &r2));
        let other = [7u8; 16];
        assert!(!s.is_stored(k, &other));
        // Once a row under that digest was written, neither is taken as stored.
        assert!(!s.is_stored(k, &r1));
        assert!(!s.is_stored(k, &r2));
    }
}
