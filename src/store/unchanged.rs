//! Telling unchanged rows apart before the database is asked to write them.
//!
//! A full re-read of the open items brings every item again, most of them as they are
//! stored. The upsert leaves such a row alone (`ON CONFLICT … DO UPDATE … WHERE` a column
//! differs), but only after the database has been handed all its values, looked it up,
//! and compared them: most of a re-sync's cost. So every write of the table stores a
//! digest of the row beside it ([`row_digest`], see `Upsert::digest`), a full pull first
//! reads the digests of what is stored ([`StoredRows`]), and hands the store only the rows
//! whose digest is not among them.
//!
//! The digest is SHA-256 over every written value, tagged and length-prefixed, truncated
//! to 128 bits: two different rows share one by chance with a probability of about
//! 2^-128 per pair, and nobody can make one that passes for another. Skipping is only ever
//! a shortcut of what the `WHERE` would decide: a row whose digest is not found is written
//! and the database compares it as before.
//!
//! The digests are those stored when the pull began. A row another writer (an IDoc)
//! changes while the pull runs, and that the pull then reads as it was at the start, is
//! left as that writer wrote it, as if the writer had come after the pull.

use super::masters::encode_open_item;
use super::upsert::{Encoder, Sink, OPEN_ITEMS};
use crate::model::OpenItem;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::io::Write;

/// The digests of the rows of one table stored when a pull began (16 bytes a row, and 2
/// of directory: 18 MB for a million open items).
pub struct StoredRows<T> {
    /// Sorted.
    digests: Vec<u128>,
    /// Where the digests of each range of values (their top `bits` bits) start: digests
    /// are uniform, so a lookup is a jump and a scan of one or two, where a binary search
    /// took some 18 cache misses an item.
    starts: Vec<u32>,
    bits: u32,
    /// Keys (hashed) this pull has written: what is stored under them may no longer be
    /// what was read, so a later copy of such a row is written too.
    written: HashSet<u64>,
    hasher: RandomState,
    /// How the table's rows are written, and how many of the values written are its key.
    encode: Encoder<T>,
    key_fields: usize,
    skipped: u64,
    /// Which stored digests a pulled row matched (a bit each, by position), and what
    /// they add up to.
    matched: Vec<u64>,
    found: Found,
    scratch: Vec<u8>,
}

/// The open items stored when a full pull began.
pub type StoredOpenItems = StoredRows<OpenItem>;

impl StoredOpenItems {
    /// None stored: every row pulled is written.
    pub fn none() -> Self {
        Self::with_capacity(0)
    }

    /// Room for `n` open items' digests (read into it, then [`Self::seal`]ed).
    pub(super) fn with_capacity(n: usize) -> Self {
        StoredRows::new(encode_open_item, OPEN_ITEMS.key, n)
    }
}

impl<T> StoredRows<T> {
    fn new(encode: Encoder<T>, key_fields: usize, n: usize) -> Self {
        StoredRows {
            digests: Vec::with_capacity(n),
            starts: Vec::new(),
            bits: 0,
            written: HashSet::new(),
            hasher: RandomState::new(),
            encode,
            key_fields,
            skipped: 0,
            matched: Vec::new(),
            found: Found::default(),
            scratch: Vec::with_capacity(256),
        }
    }

    /// Notes a stored row's digest, its halves as [`row_digest`] writes them, read back as
    /// text (before [`Self::seal`]); false for anything else, such as a row stored without
    /// one (that row is then simply not taken as stored).
    pub(super) fn add_halves(&mut self, hi: &str, lo: &str) -> bool {
        match (hi.parse::<i64>(), lo.parse::<i64>()) {
            (Ok(hi), Ok(lo)) => {
                self.digests.push(join([hi, lo]));
                true
            }
            _ => false,
        }
    }

    /// Ready for lookups.
    pub(super) fn seal(mut self) -> Self {
        self.digests.sort_unstable();
        // About two digests a range: 4 bytes of directory for every 2 rows.
        self.bits = usize::BITS - (self.digests.len() / 2).max(1).leading_zeros();
        let ranges = 1usize << self.bits;
        self.starts = Vec::with_capacity(ranges + 1);
        let mut at = 0;
        for range in 0..ranges {
            while at < self.digests.len() && self.range(self.digests[at]) < range {
                at += 1;
            }
            self.starts.push(at as u32);
        }
        self.starts.push(self.digests.len() as u32);
        self.matched = vec![0; self.digests.len().div_ceil(64)];
        self
    }

    fn range(&self, digest: u128) -> usize {
        // Before `seal` (no bits, no directory) every digest is in range 0, which has no
        // entry: nothing is found.
        digest.checked_shr(u128::BITS - self.bits).unwrap_or(0) as usize
    }

    /// Where `digest` is among the stored ones. Each is there once: a digest covers the
    /// row's key, and the table holds a key once.
    fn position(&self, digest: u128) -> Option<usize> {
        let range = self.range(digest);
        match (self.starts.get(range), self.starts.get(range + 1)) {
            (Some(&start), Some(&end)) => {
                (start as usize..end as usize).find(|&at| self.digests[at] == digest)
            }
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// How many rows [`Self::changed`] found stored as they are.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The stored rows [`Self::changed`] found as they are, each counted once.
    pub fn found(&self) -> Found {
        self.found
    }

    /// Whether a row of this key and digest is stored exactly so, and this pull has not
    /// written its key since it began; otherwise notes its key written, so that a later
    /// copy of the same row (a key read twice, as paging over changing data may) is not
    /// taken for the stored one.
    fn is_stored(&mut self, key: u64, digest: u128) -> bool {
        if !self.written.contains(&key) {
            if let Some(at) = self.position(digest) {
                let (word, bit) = (at / 64, 1u64 << (at % 64));
                if self.matched[word] & bit == 0 {
                    self.matched[word] |= bit;
                    self.found.add(digest as u64 as i64);
                }
                return true;
            }
        }
        // Different keys may share a hash: then both are written from here on (never
        // wrongly skipped).
        self.written.insert(key);
        false
    }

    /// The rows of `rows` that are not stored as they are: the ones to write.
    pub fn changed(&mut self, rows: Vec<T>) -> Vec<T> {
        if self.digests.is_empty() {
            return rows;
        }
        let before = rows.len();
        let (encode, key_fields) = (self.encode, self.key_fields);
        let mut scratch = std::mem::take(&mut self.scratch);
        let changed: Vec<T> = rows
            .into_iter()
            .filter(|r| {
                let key_end = encoded(encode, key_fields, r, &mut scratch);
                let key = self.hasher.hash_one(&scratch[..key_end]);
                !self.is_stored(key, digest_of(&scratch))
            })
            .collect();
        self.scratch = scratch;
        self.skipped += (before - changed.len()) as u64;
        changed
    }
}

/// Stored rows a pull read as they are: how many, and the sum of the low 32 bits of their
/// digests' low halves (`digest_lo`). At a full pull's end, the rows it did not write are
/// the ones it found and those it did not read; when those add up to this, they are the
/// ones it found (but for a chance of about 2^-32, and only if another writer changed
/// the table at the same time), and none is left to clear. Below 2^53 for a million rows:
/// every store sums it exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub rows: u64,
    pub sum: u64,
}

impl Found {
    /// The SQL of [`Found::sum`] over a set of rows, column named `sum`.
    pub(super) const SUM_SQL: &'static str =
        "CAST(coalesce(sum(digest_lo & 4294967295), 0) AS BIGINT) AS sum";

    fn add(&mut self, lo: i64) {
        self.rows += 1;
        self.sum += lo as u64 & 0xFFFF_FFFF;
    }
}

/// A row's digest as stored beside it: its two 64-bit halves, high first.
pub(super) fn row_digest<T>(encode: Encoder<T>, row: &T) -> [i64; 2] {
    let mut bytes = Vec::with_capacity(256);
    encoded(encode, 0, row, &mut bytes);
    let d = digest_of(&bytes);
    [(d >> 64) as u64 as i64, d as u64 as i64]
}

/// The digest whose halves these are.
fn join([hi, lo]: [i64; 2]) -> u128 {
    (u128::from(hi as u64) << 64) | u128::from(lo as u64)
}

/// Writes `row`'s values into `bytes` (cleared first); answers where its first
/// `key_fields` values end.
fn encoded<T>(encode: Encoder<T>, key_fields: usize, row: &T, bytes: &mut Vec<u8>) -> usize {
    bytes.clear();
    let mut sink = DigestSink {
        bytes: std::mem::take(bytes),
        fields: 0,
        key_fields,
        key_end: None,
    };
    encode(row, &mut sink);
    let key_end = sink.key_end.unwrap_or(sink.bytes.len());
    *bytes = sink.bytes;
    key_end
}

/// The first 128 bits of the SHA-256 of `bytes`.
fn digest_of(bytes: &[u8]) -> u128 {
    let all = Sha256::digest(bytes);
    let mut d = [0u8; 16];
    d.copy_from_slice(&all[..16]);
    u128::from_be_bytes(d)
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
        self.end_field();
    }

    fn end_field(&mut self) {
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
        // Written in place, length after.
        let Some(d) = v else {
            return self.value(None);
        };
        let at = self.bytes.len();
        self.bytes.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let _ = write!(self.bytes, "{d}");
        let len = (self.bytes.len() - at - 9) as u64;
        self.bytes[at + 1..at + 9].copy_from_slice(&len.to_le_bytes());
        self.end_field();
    }
    fn stamp(&mut self, v: Option<DateTime<Utc>>) {
        let micros = v.map(|t| t.timestamp_micros().to_le_bytes());
        self.value(micros.as_ref().map(|b| &b[..]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn item(doc: &str, amount: &str) -> OpenItem {
        let mut item = super::super::upsert::tests::item(doc);
        item.amount = Decimal::from_str(amount).unwrap();
        item
    }

    fn stored(rows: &[OpenItem]) -> StoredOpenItems {
        let mut s = StoredOpenItems::with_capacity(rows.len());
        for r in rows {
            let [hi, lo] = row_digest(encode_open_item, r);
            assert!(s.add_halves(&hi.to_string(), &lo.to_string()));
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
    fn each_stored_row_found_counts_once() {
        let rows = [item("1", "1.00"), item("2", "2.00"), item("3", "3.00")];
        let mut s = stored(&rows);
        assert_eq!(s.found(), Found::default());
        // "1" twice (paging over shifting data), "2" changed, "3" as stored.
        let pulled = vec![rows[0].clone(), item("2", "2.50"), rows[2].clone()];
        assert_eq!(s.changed(pulled).len(), 1);
        assert_eq!(s.changed(vec![rows[0].clone()]).len(), 0);
        let low = |r: &OpenItem| row_digest(encode_open_item, r)[1] as u64 & 0xFFFF_FFFF;
        assert_eq!(
            s.found(),
            Found {
                rows: 2,
                sum: low(&rows[0]) + low(&rows[2]),
            }
        );
    }

    #[test]
    fn absent_and_empty_values_differ() {
        let mut a = item("1", "1");
        a.dunning_block = Some(String::new());
        let mut s = stored(&[a.clone()]);
        let b = item("1", "1"); // dunning_block None
        assert_eq!(s.changed(vec![b]).len(), 1);
        assert!(stored(&[a.clone()]).changed(vec![a]).is_empty());
    }

    #[test]
    fn a_digest_is_two_halves_and_nothing_else_is_taken_for_one() {
        let d = row_digest(encode_open_item, &item("1", "1"));
        assert_eq!(
            row_digest(encode_open_item, &item("1", "1")),
            d,
            "the same every time"
        );
        assert_ne!(d, row_digest(encode_open_item, &item("1", "2")));
        assert_eq!(join([-1, 1]), (u128::from(u64::MAX) << 64) | 1);
        let mut s = StoredOpenItems::none();
        assert!(!s.add_halves("", ""), "stored without one");
        assert!(!s.add_halves("1", "x"));
        assert!(s.add_halves(&d[0].to_string(), &d[1].to_string()));
    }

    #[test]
    fn digests_not_yet_sealed_find_nothing() {
        let mut s = StoredOpenItems::with_capacity(1);
        let [hi, lo] = row_digest(encode_open_item, &item("1", "1"));
        assert!(s.add_halves(&hi.to_string(), &lo.to_string()));
        assert_eq!(s.changed(vec![item("1", "1")]).len(), 1);
    }

    #[test]
    fn lookups_find_every_stored_row_of_many() {
        let rows: Vec<OpenItem> = (0..5_000).map(|i| item(&i.to_string(), "1.00")).collect();
        let mut s = stored(&rows);
        assert!(s.changed(rows.clone()).is_empty());
        let new: Vec<OpenItem> = (5_000..6_000)
            .map(|i| item(&i.to_string(), "1.00"))
            .collect();
        assert_eq!(s.changed(new).len(), 1_000);
    }
}
