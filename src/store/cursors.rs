//! Incremental-sync cursors (watermarks, delta links), committed with the data they cover.
//!
//! A pull writes its pages first; the last page, the retirement of what a full pull did not
//! see, and the new cursor are then committed in one transaction. So a cursor never claims
//! data the store does not hold, and a full pull never leaves a cursor behind without its
//! retirement (the next, incremental, pull could not retire anything): a pull that dies
//! half-way starts again from the old cursor, and the upserts it repeats are idempotent.

use super::dialect::{sql_impl, Conn, SqlStore};
use super::masters::{encode_contract, encode_open_item};
use super::unchanged::{Found, StoredOpenItems};
use super::upsert::{key_text, CONTRACTS, DIGEST, OPEN_ITEMS, OPEN_ITEMS_PULLED};
use super::{packed, Result};
use crate::model::{Contract, OpenItem, OpenItemKey};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashSet;

/// The keys of the open items a pull read, for a full pull to tell at its end which stored
/// items it did not see (those were cleared in the ERP). One text holding every key and a
/// span per key: some 40 bytes an item, where a set of strings would take twice that.
#[derive(Debug, Default)]
pub struct SeenKeys {
    text: String,
    spans: Vec<(usize, usize)>,
    sorted: bool,
    /// Of the items read, the stored ones read as they are ([`SeenKeys::found_stored`]).
    found: Option<Found>,
}

impl SeenKeys {
    /// Adds the key of an item read.
    pub fn add(&mut self, key: &OpenItemKey) {
        let start = self.text.len();
        for (i, part) in [
            &key.company_code,
            &key.fiscal_year,
            &key.document,
            &key.item,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                self.text.push(packed::SEP);
            }
            self.text.push_str(part);
        }
        self.spans.push((start, self.text.len()));
        self.sorted = false;
    }

    /// Notes which of the items read were found stored as they are (and so not written
    /// again): when they are all that is left unwritten at the pull's end, there is
    /// nothing to clear, and the end need not read every open item's key to know it.
    pub fn found_stored(&mut self, found: Found) {
        self.found = Some(found);
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn key(&self, (start, end): (usize, usize)) -> &str {
        &self.text[start..end]
    }

    fn sort(&mut self) {
        if !self.sorted {
            let mut spans = std::mem::take(&mut self.spans);
            spans.sort_unstable_by(|a, b| self.key(*a).cmp(self.key(*b)));
            self.spans = spans;
            self.sorted = true;
        }
    }

    /// Whether `key` (parts joined by [`packed::SEP`]) was read; after [`Self::sort`].
    fn contains(&self, key: &str) -> bool {
        self.spans
            .binary_search_by(|span| self.key(*span).cmp(key))
            .is_ok()
    }
}

/// The open items a pull that began at `$1` may find stored (and clear, if it does not read
/// them): open, and not written since it began.
const OPEN_BEFORE: &str = "cleared_at IS NULL AND seen_at < $1";

/// Candidate keys read at a time when a full pull clears what it did not read.
const KEYS_CHUNK: usize = 50_000;

/// An item key as [`SeenKeys`] and the packed key read write it.
fn joined_key(key: &OpenItemKey) -> String {
    [
        key.company_code.as_str(),
        &key.fiscal_year,
        &key.document,
        &key.item,
    ]
    .join(&packed::SEP.to_string())
}

#[async_trait]
pub trait CursorStore: Send + Sync {
    /// The stored value of cursor `name` (e.g. `open_items.watermark`), if any.
    async fn get_cursor(&self, name: &str) -> Result<Option<String>>;
    /// Sets cursor `name` to `value` (inserted or replaced), stamped `at`.
    async fn set_cursor(&self, name: &str, value: &str, at: DateTime<Utc>) -> Result<()>;
    /// Forgets cursor `name`, so the next pull is a full one.
    async fn clear_cursor(&self, name: &str) -> Result<()>;
    /// Writes a batch of an open-items pull in one transaction: new and changed items (and
    /// cleared ones seen again, open again) are upserted stamped `seen_at`, when the pull
    /// started; an item that arrives as it is stored is left alone. What a full pull saw is
    /// told at its end by its keys ([`Self::finish_open_items_pull`]).
    async fn write_pulled_open_items(
        &self,
        rows: &[OpenItem],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Stores a page of an open-items pull in one transaction: writes `rows` as
    /// [`Self::write_pulled_open_items`] does, marks cleared the items a delta answer
    /// reported `removed`, and, on a full pull's last page (`retire`: the keys of every
    /// item the pull read), the open items it did not see and nobody wrote since it began
    /// (`seen_at`), and sets `cursor` (name, value) when given. Returns how many items
    /// were marked cleared. When the items left unwritten are the ones the pull found
    /// stored as they are ([`SeenKeys::found_stored`]), none is cleared and no key is read.
    async fn finish_open_items_pull(
        &self,
        rows: &[OpenItem],
        removed: &[OpenItemKey],
        seen_at: DateTime<Utc>,
        retire: Option<&mut SeenKeys>,
        cursor: Option<(&str, &str)>,
    ) -> Result<u64>;
    /// The open items stored now, as digests ([`StoredOpenItems`]): what a full pull that
    /// begins at `before` need not write again. An item stored without a digest is left
    /// out (the pull writes it, as it would without this).
    async fn stored_open_items(&self, before: DateTime<Utc>) -> Result<StoredOpenItems>;
    /// Ends an ERP contracts pull the same way: its last page `rows`, the contracts of
    /// `source` a full pull (`retire`) did not see marked ended, and `cursor`, in one
    /// transaction.
    async fn finish_contracts_pull(
        &self,
        rows: &[Contract],
        source: &str,
        seen_at: DateTime<Utc>,
        retire: bool,
        cursor: Option<(&str, &str)>,
    ) -> Result<u64>;
}

sql_impl! {
    impl<D> SqlStore<D> {
        /// Sets a cursor inside the caller's transaction, stamped `at`.
        pub(super) async fn write_cursor(
            conn: &mut Conn<D>,
            name: &str,
            value: &str,
            at: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query::<D::DB>(
                "INSERT INTO sync_cursors (name, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(name.to_string())
            .bind(value.to_string())
            .bind(Some(D::stamp(at)))
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        /// Marks cleared, at `at`, the open items of these keys (parts joined by
        /// [`packed::SEP`]), in the caller's transaction: one statement over arrays in
        /// PostgreSQL, one prepared statement per key in SQLite. Answers how many it marked.
        async fn clear_open_items(
            conn: &mut Conn<D>,
            keys: &[&str],
            at: DateTime<Utc>,
        ) -> Result<u64> {
            let cols = &OPEN_ITEMS.cols[..4];
            let mut cleared = 0;
            if D::SET_WRITES {
                let sql = format!(
                    "UPDATE open_items SET cleared_at = $5 \
                     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS u({all}) \
                     WHERE open_items.cleared_at IS NULL AND {matched}",
                    all = cols.join(", "),
                    matched = cols
                        .iter()
                        .map(|c| format!("open_items.{c} = u.{c}"))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                );
                for chunk in keys.chunks(10_000) {
                    let mut columns: Vec<Vec<Option<String>>> =
                        (0..4).map(|_| Vec::with_capacity(chunk.len())).collect();
                    for key in chunk {
                        for (column, part) in columns.iter_mut().zip(key.split(packed::SEP)) {
                            column.push(Some(part.to_string()));
                        }
                    }
                    cleared += D::write_set(&mut *conn, &sql, columns, Some(D::stamp(at))).await?;
                }
                return Ok(cleared);
            }
            let by_key = format!(
                "UPDATE open_items SET cleared_at = $1 WHERE cleared_at IS NULL AND {} = $2 \
                 AND {} = $3 AND {} = $4 AND {} = $5",
                cols[0], cols[1], cols[2], cols[3]
            );
            for key in keys {
                let mut query = sqlx::query::<D::DB>(&by_key).bind(D::stamp(at));
                for part in key.split(packed::SEP) {
                    query = query.bind(part.to_string());
                }
                cleared += D::rows_affected(&query.execute(&mut *conn).await?);
            }
            Ok(cleared)
        }

        /// The open items a pull that began at `before` has not written (nor anyone since),
        /// as [`Found`] counts them.
        async fn left_unwritten(conn: &mut Conn<D>, before: DateTime<Utc>) -> Result<Found> {
            let row = sqlx::query::<D::DB>(&format!(
                "SELECT count(*) AS n, {} FROM open_items WHERE {OPEN_BEFORE}",
                Found::SUM_SQL
            ))
            .bind(D::stamp(before))
            .fetch_one(&mut *conn)
            .await?;
            let rows: i64 = Self::get(&row, "n")?;
            let sum: i64 = Self::get(&row, "sum")?;
            Ok(Found {
                rows: rows as u64,
                sum: sum as u64,
            })
        }

        /// One chunk of the open items not seen since `before`, in key order after the key
        /// `after` (parts joined by [`packed::SEP`]): each item's `fields` (the key columns
        /// first) packed, [`KEYS_CHUNK`] items at most, as [`packed::records`] reads them.
        async fn open_items_chunk(
            conn: &mut Conn<D>,
            fields: &[&str],
            before: DateTime<Utc>,
            after: Option<&str>,
        ) -> Result<String> {
            let cols = OPEN_ITEMS.cols[..4].join(", ");
            let sql = format!(
                "SELECT coalesce({}, '') AS packed FROM (SELECT {} FROM open_items \
                 WHERE {OPEN_BEFORE}{} ORDER BY {cols} \
                 LIMIT {KEYS_CHUNK}) AS chunk",
                D::group_concat(&packed::pack_expr(fields, D::as_text, D::SEP_SQL)),
                fields.join(", "),
                if after.is_some() { format!(" AND ({cols}) > ($2, $3, $4, $5)") } else { String::new() },
            );
            let mut query = sqlx::query::<D::DB>(&sql).bind(D::stamp(before));
            for part in after.iter().flat_map(|k| k.split(packed::SEP)) {
                query = query.bind(part.to_string());
            }
            let row = query.fetch_one(&mut *conn).await?;
            Self::get(&row, "packed")
        }

        /// Marks cleared, at `seen_at`, the open items a full pull that began at `seen_at`
        /// did not read (`seen`, and the `last` rows it writes with them) and that nobody
        /// wrote since it began: the items it wrote carry its stamp, the others it read are
        /// among its keys. The candidates' keys are read [`KEYS_CHUNK`] at a time in key
        /// order (memory stays flat however many items there are), and compared here.
        async fn retire_unread_open_items(
            conn: &mut Conn<D>,
            seen: &mut SeenKeys,
            last: &[OpenItem],
            seen_at: DateTime<Utc>,
        ) -> Result<u64> {
            if let Some(found) = seen.found {
                if Self::left_unwritten(conn, seen_at).await? == found {
                    return Ok(0);
                }
            }
            seen.sort();
            let last: HashSet<String> = last.iter().map(|r| joined_key(&r.key)).collect();
            let mut after: Option<String> = None;
            let mut cleared = 0;
            loop {
                let text =
                    Self::open_items_chunk(conn, &OPEN_ITEMS.cols[..4], seen_at, after.as_deref())
                        .await?;
                let keys = packed::records(&text)?;
                let gone: Vec<&str> = keys
                    .iter()
                    .copied()
                    .filter(|k| !seen.contains(k) && !last.contains(*k))
                    .collect();
                cleared += Self::clear_open_items(conn, &gone, seen_at).await?;
                match next_after(&keys) {
                    Some(key) => after = Some(key),
                    None => return Ok(cleared),
                }
            }
        }
    }
}

/// Where the chunk after these packed open items starts: the largest key among them
/// (each record's first four fields), none after a chunk that was not full (the last).
/// Keys compare as their parts do: the separator sorts below any character a key holds,
/// and both stores order these columns bytewise.
fn next_after(records: &[&str]) -> Option<String> {
    if records.len() < KEYS_CHUNK {
        return None;
    }
    fn key(record: &str) -> &str {
        match record.match_indices(packed::SEP).nth(3) {
            Some((at, _)) => &record[..at],
            None => record,
        }
    }
    records.iter().map(|r| key(r)).max().map(str::to_string)
}

sql_impl! {
    #[async_trait]
    impl<D> CursorStore for SqlStore<D> {
        async fn get_cursor(&self, name: &str) -> Result<Option<String>> {
            let mut conn = self.pool().acquire().await?;
            let row = sqlx::query::<D::DB>("SELECT value FROM sync_cursors WHERE name = $1")
                .bind(name.to_string())
                .fetch_optional(&mut *conn)
                .await?;
            Ok(match row {
                Some(r) => Some(r.try_get::<String, _>("value")?),
                None => None,
            })
        }

        async fn set_cursor(&self, name: &str, value: &str, at: DateTime<Utc>) -> Result<()> {
            let mut conn = self.pool().acquire().await?;
            Self::write_cursor(&mut conn, name, value, at).await
        }

        async fn write_pulled_open_items(
            &self,
            rows: &[OpenItem],
            seen_at: DateTime<Utc>,
        ) -> Result<()> {
            let key = |r: &OpenItem| r.key.to_string();
            self.upsert_batch(&OPEN_ITEMS_PULLED, rows, key, encode_open_item, seen_at)
                .await
        }

        async fn stored_open_items(&self, before: DateTime<Utc>) -> Result<StoredOpenItems> {
            let mut conn = self.pool().acquire().await?;
            // Grown chunk by chunk: counting first took PostgreSQL a scan of the table.
            let mut stored = StoredOpenItems::with_capacity(KEYS_CHUNK);
            // The key (to read the next chunk after), then the digest's halves.
            let fields = [&OPEN_ITEMS.cols[..OPEN_ITEMS.key], &DIGEST[..]].concat();
            let mut after: Option<String> = None;
            loop {
                let text =
                    Self::open_items_chunk(&mut conn, &fields, before, after.as_deref()).await?;
                let rows = packed::records(&text)?;
                for row in &rows {
                    // An item without a digest (written before they were kept) is not
                    // taken as stored: the pull writes it, with one.
                    let mut halves = row.rsplitn(3, packed::SEP);
                    if let (Some(lo), Some(hi)) = (halves.next(), halves.next()) {
                        stored.add_halves(hi, lo);
                    }
                }
                match next_after(&rows) {
                    Some(key) => after = Some(key),
                    None => return Ok(stored.seal()),
                }
            }
        }

        async fn finish_open_items_pull(
            &self,
            rows: &[OpenItem],
            removed: &[OpenItemKey],
            seen_at: DateTime<Utc>,
            retire: Option<&mut SeenKeys>,
            cursor: Option<(&str, &str)>,
        ) -> Result<u64> {
            let mut tx = self.pool().begin().await?;
            let key = |r: &OpenItem| r.key.to_string();
            Self::upsert_rows(&mut tx, &OPEN_ITEMS_PULLED, rows, key, encode_open_item, seen_at)
                .await?;
            let removed: Vec<String> = removed.iter().map(joined_key).collect();
            let removed: Vec<&str> = removed.iter().map(String::as_str).collect();
            let mut retired = Self::clear_open_items(&mut tx, &removed, seen_at).await?;
            if let Some(seen) = retire {
                retired += Self::retire_unread_open_items(&mut tx, seen, rows, seen_at).await?;
            }
            if let Some((name, value)) = cursor {
                Self::write_cursor(&mut tx, name, value, Utc::now()).await?;
            }
            tx.commit().await?;
            Ok(retired)
        }

        async fn finish_contracts_pull(
            &self,
            rows: &[Contract],
            source: &str,
            seen_at: DateTime<Utc>,
            retire: bool,
            cursor: Option<(&str, &str)>,
        ) -> Result<u64> {
            let key = |r: &Contract| key_text(&[&r.source, &r.id]);
            let mut tx = self.pool().begin().await?;
            Self::upsert_rows(&mut tx, &CONTRACTS, rows, key, encode_contract, seen_at).await?;
            let mut retired = 0;
            if retire {
                retired = Self::retire_contracts(&mut tx, source, seen_at).await?;
            }
            if let Some((name, value)) = cursor {
                Self::write_cursor(&mut tx, name, value, Utc::now()).await?;
            }
            tx.commit().await?;
            Ok(retired)
        }

        async fn clear_cursor(&self, name: &str) -> Result<()> {
            let mut conn = self.pool().acquire().await?;
            sqlx::query::<D::DB>("DELETE FROM sync_cursors WHERE name = $1")
                .bind(name.to_string())
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(doc: &str, item: &str) -> OpenItemKey {
        OpenItemKey {
            company_code: "1010".into(),
            fiscal_year: "2026".into(),
            document: doc.into(),
            item: item.into(),
        }
    }

    #[test]
    fn seen_keys_tell_exactly_the_keys_read() {
        let mut seen = SeenKeys::default();
        for (doc, item) in [
            ("0100000009", "1"),
            ("0100000001", "10"),
            ("0100000001", "2"),
        ] {
            seen.add(&key(doc, item));
        }
        assert_eq!(seen.len(), 3);
        seen.sort();
        for (doc, item) in [
            ("0100000009", "1"),
            ("0100000001", "10"),
            ("0100000001", "2"),
        ] {
            assert!(seen.contains(&joined_key(&key(doc, item))), "{doc}/{item}");
        }
        // Neighbours and prefixes are not read.
        for (doc, item) in [
            ("0100000001", "1"),
            ("0100000009", "10"),
            ("010000000", "1"),
        ] {
            assert!(!seen.contains(&joined_key(&key(doc, item))), "{doc}/{item}");
        }
        assert_eq!(joined_key(&key("7", "8")), "1010\u{1f}2026\u{1f}7\u{1f}8");
    }
}
