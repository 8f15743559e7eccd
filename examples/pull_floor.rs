//! The floor a pull is measured against (benches/pull_vs_pyodata.sh): the pages of the
//! pulled sets are fetched once from a running mock ERP, with the URLs a pull asks for
//! (the mapping's `$select`, `$filter` and `$orderby`), and kept in memory; then, timed,
//! with no HTTP: each page parsed straight into typed rows (serde structs borrowing from
//! the page, dates and decimals converted) and written to a fresh SQLite store (the real
//! schema, triggers included) by multi-row upserts of 5,000 rows per transaction, one
//! statement text per batch shape. Prints entities, wall and CPU time (user + system, of
//! the whole process, from `getrusage`); and before that what a full re-read cannot do
//! without, whatever the store: the time to fetch every page (untimed for the floor
//! itself) and to decode them all into typed rows, without writing.
//!
//!     cargo run --release --example pull_floor -- BASE_URL USER PASSWORD SQLITE_FILE

use chrono::{DateTime, NaiveDate};
use erpsync::erp::mapping::Mapping;
use erpsync::erp::metadata::ODataVersion;
use erpsync::erp::odata::query::{entity_set_url, Query};
use erpsync::store::Store;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::borrow::Cow;
use std::path::Path;
use std::time::Instant;
use url::Url;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Rows per transaction, as a pull batches them.
const BATCH: usize = 5_000;
/// Bound parameters per statement, as the store's upserts use.
const MAX_PARAMS: usize = 30_000;

#[derive(Deserialize)]
struct Doc<T> {
    d: Results<T>,
}

#[derive(Deserialize)]
struct Results<T> {
    results: Vec<T>,
}

#[derive(Deserialize)]
struct Next {
    d: NextOnly,
}

#[derive(Deserialize)]
struct NextOnly {
    #[serde(rename = "__next")]
    next: Option<String>,
}

type S<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Customer<'a> {
    #[serde(borrow)]
    Customer: S<'a>,
    #[serde(borrow)]
    CustomerName: S<'a>,
    DeletionIndicator: Option<bool>,
    PostingIsBlocked: Option<bool>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct CompanyCode<'a> {
    #[serde(borrow)]
    Customer: S<'a>,
    #[serde(borrow)]
    CompanyCode: S<'a>,
    #[serde(borrow)]
    PaymentTerms: S<'a>,
    #[serde(borrow)]
    ReconciliationAccount: S<'a>,
    #[serde(borrow)]
    AccountingClerk: S<'a>,
    DeletionIndicator: Option<bool>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct SalesArea<'a> {
    #[serde(borrow)]
    Customer: S<'a>,
    #[serde(borrow)]
    SalesOrganization: S<'a>,
    #[serde(borrow)]
    DistributionChannel: S<'a>,
    #[serde(borrow)]
    Division: S<'a>,
    #[serde(borrow)]
    CustomerPaymentTerms: S<'a>,
    #[serde(borrow)]
    Currency: S<'a>,
    #[serde(borrow)]
    CreditControlArea: S<'a>,
    DeletionIndicator: Option<bool>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Item<'a> {
    #[serde(borrow)]
    CompanyCode: S<'a>,
    #[serde(borrow)]
    FiscalYear: S<'a>,
    #[serde(borrow)]
    AccountingDocument: S<'a>,
    #[serde(borrow)]
    AccountingDocumentItem: S<'a>,
    #[serde(borrow)]
    Customer: S<'a>,
    #[serde(borrow)]
    DocumentDate: S<'a>,
    #[serde(borrow)]
    PostingDate: S<'a>,
    #[serde(borrow)]
    DueCalculationBaseDate: S<'a>,
    #[serde(borrow)]
    PaymentTerms: S<'a>,
    #[serde(borrow)]
    CashDiscount1Days: S<'a>,
    #[serde(borrow)]
    CashDiscount1Percent: S<'a>,
    #[serde(borrow)]
    CashDiscount2Days: S<'a>,
    #[serde(borrow)]
    CashDiscount2Percent: S<'a>,
    #[serde(borrow)]
    NetPaymentDays: S<'a>,
    #[serde(borrow)]
    NetDueDate: S<'a>,
    #[serde(borrow)]
    AmountInTransactionCurrency: S<'a>,
    #[serde(borrow)]
    TransactionCurrency: S<'a>,
    #[serde(borrow)]
    DunningLevel: S<'a>,
    #[serde(borrow)]
    DunningBlockingReason: S<'a>,
}

fn text<'a>(s: &'a S<'_>) -> Option<&'a str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn date(s: &S<'_>) -> Result<Option<NaiveDate>, Error> {
    let Some(s) = text(s) else { return Ok(None) };
    let inner = s
        .strip_prefix("/Date(")
        .and_then(|r| r.strip_suffix(")/"))
        .ok_or("not a /Date()/")?;
    let end = inner[1..]
        .find(['+', '-'])
        .map(|i| i + 1)
        .unwrap_or(inner.len());
    let ms: i64 = inner[..end].parse()?;
    Ok(Some(
        DateTime::from_timestamp_millis(ms)
            .ok_or("out of range")?
            .date_naive(),
    ))
}

fn decimal(s: &S<'_>) -> Result<Option<Decimal>, Error> {
    text(s)
        .map(Decimal::from_str_exact)
        .transpose()
        .map_err(Into::into)
}

fn number(s: &S<'_>) -> Result<Option<i64>, Error> {
    text(s).map(str::parse).transpose().map_err(Into::into)
}

type Q<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// `INSERT INTO table (cols) VALUES (?…)×rows ON CONFLICT (key) DO UPDATE SET rest`.
fn upsert_sql(table: &str, cols: &[&str], key: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; cols.len()].join(", "));
    let set = cols[key..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {set}",
        cols.join(", "),
        vec![one; rows].join(", "),
        cols[..key].join(", ")
    )
}

/// Writes `rows` in batches of [`BATCH`], one transaction each.
async fn write<T: Sync>(
    pool: &sqlx::SqlitePool,
    table: &str,
    cols: &[&str],
    key: usize,
    rows: &[T],
    bind: impl for<'q> Fn(Q<'q>, &'q T) -> Q<'q>,
) -> Result<(), Error> {
    let per_statement = MAX_PARAMS / cols.len();
    let full = upsert_sql(table, cols, key, per_statement);
    for batch in rows.chunks(BATCH) {
        let mut tx = pool.begin().await?;
        for chunk in batch.chunks(per_statement) {
            let partial;
            let sql = if chunk.len() == per_statement {
                &full
            } else {
                partial = upsert_sql(table, cols, key, chunk.len());
                &partial
            };
            let mut q = sqlx::query(sql).persistent(chunk.len() == per_statement);
            for row in chunk {
                q = bind(q, row);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Every page of one mapped set, as the server sends them.
async fn fetch(
    http: &reqwest::Client,
    base: &Url,
    mapping: &Mapping,
    entity: &str,
    auth: (&str, &str),
) -> Result<Vec<Vec<u8>>, Error> {
    let m = mapping.entity(entity);
    let mut select: Vec<String> = m.fields.values().cloned().collect();
    select.sort();
    let query = Query {
        select,
        filter: m.filter.clone(),
        order_by: m.order_by.clone(),
        top: None,
        skip: None,
        inline_count: true,
        version: ODataVersion::V2,
    };
    let root = base.join(&format!("{}/", m.service))?;
    let mut url = entity_set_url(&root, &m.entity_set, &query, Some("100"));
    let mut pages = Vec::new();
    loop {
        let body = http
            .get(url.clone())
            .basic_auth(auth.0, Some(auth.1))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?
            .to_vec();
        let next: Next = serde_json::from_slice(&body)?;
        pages.push(body);
        match next.d.next {
            Some(n) => url = url.join(&n)?,
            None => return Ok(pages),
        }
    }
}

fn parse<'a, T: Deserialize<'a>>(pages: &'a [Vec<u8>]) -> Result<Vec<T>, Error> {
    let mut rows = Vec::new();
    for page in pages {
        let doc: Doc<T> = serde_json::from_slice(page)?;
        rows.extend(doc.d.results);
    }
    Ok(rows)
}

/// An open item's values in the store's column order, converted.
struct Typed<'a> {
    raw: &'a Item<'a>,
    dates: [Option<NaiveDate>; 4],
    percents: [Option<String>; 2],
    days: [Option<i64>; 3],
    amount: String,
    dunning_level: Option<i64>,
}

fn typed<'a>(raw: &'a [Item<'a>]) -> Result<Vec<Typed<'a>>, Error> {
    raw.iter()
        .map(|r| {
            Ok(Typed {
                raw: r,
                dates: [
                    date(&r.DocumentDate)?,
                    date(&r.PostingDate)?,
                    date(&r.DueCalculationBaseDate)?.or(date(&r.DocumentDate)?),
                    date(&r.NetDueDate)?,
                ],
                percents: [
                    decimal(&r.CashDiscount1Percent)?.map(|d| d.to_string()),
                    decimal(&r.CashDiscount2Percent)?.map(|d| d.to_string()),
                ],
                days: [
                    number(&r.CashDiscount1Days)?,
                    number(&r.CashDiscount2Days)?,
                    number(&r.NetPaymentDays)?,
                ],
                amount: decimal(&r.AmountInTransactionCurrency)?
                    .ok_or("no amount")?
                    .to_string(),
                dunning_level: number(&r.DunningLevel)?,
            })
        })
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, user, password, db] = args.as_slice() else {
        return Err("usage: pull_floor BASE_URL USER PASSWORD SQLITE_FILE".into());
    };
    let base = Url::parse(base)?;
    let mapping = Mapping::parse(
        include_str!("../mappings/s4hana-odata-v2.toml"),
        Path::new("s4hana-odata-v2.toml"),
    )?;
    let http = reqwest::Client::new();
    let auth = (user.as_str(), password.as_str());
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let customers = fetch(&http, &base, &mapping, "customers", auth).await?;
    let company = fetch(&http, &base, &mapping, "company_codes", auth).await?;
    let areas = fetch(&http, &base, &mapping, "sales_areas", auth).await?;
    let items = fetch(&http, &base, &mapping, "open_items", auth).await?;
    let bytes: usize = [&customers, &company, &areas, &items]
        .iter()
        .flat_map(|p| p.iter().map(Vec::len))
        .sum();
    // What no store can save a full re-read: every page fetched (one at a time, the mock
    // serving them) and decoded into typed rows.
    let (fetch_wall, fetch_cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let decoded = parse::<Customer>(&customers)?.len()
        + parse::<CompanyCode>(&company)?.len()
        + parse::<SalesArea>(&areas)?.len()
        + typed(&parse::<Item>(&items)?)?.len();
    let (decode_wall, decode_cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    println!(
        "floor, reading: fetching every page {fetch_wall:.2} s wall, {fetch_cpu:.2} s CPU (client); \
         decoding {decoded} entities into typed rows {decode_wall:.2} s wall, {decode_cpu:.2} s CPU"
    );
    let store = erpsync::store::open_sqlite(&format!("sqlite://{db}")).await?;
    store.migrate().await?;
    let pool = store.pool();
    let seen = "2026-01-01T00:00:00.000000Z";

    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let mut n = 0;

    let rows: Vec<Customer> = parse(&customers)?;
    n += rows.len();
    let cols = [
        "customer",
        "name",
        "deletion_flag",
        "posting_block",
        "seen_at",
    ];
    write(pool, "customers", &cols, 1, &rows, |q, r| {
        q.bind(text(&r.Customer))
            .bind(text(&r.CustomerName).unwrap_or_default())
            .bind(r.DeletionIndicator.unwrap_or(false))
            .bind(r.PostingIsBlocked.unwrap_or(false))
            .bind(seen)
    })
    .await?;

    let rows: Vec<CompanyCode> = parse(&company)?;
    n += rows.len();
    let cols = [
        "customer",
        "company_code",
        "payment_terms",
        "reconciliation_account",
        "accounting_clerk",
        "deletion_flag",
        "posting_block",
        "seen_at",
    ];
    write(pool, "customer_company", &cols, 2, &rows, |q, r| {
        q.bind(text(&r.Customer))
            .bind(text(&r.CompanyCode))
            .bind(text(&r.PaymentTerms))
            .bind(text(&r.ReconciliationAccount))
            .bind(text(&r.AccountingClerk))
            .bind(r.DeletionIndicator.unwrap_or(false))
            .bind(false)
            .bind(seen)
    })
    .await?;

    let rows: Vec<SalesArea> = parse(&areas)?;
    n += rows.len();
    let cols = [
        "customer",
        "sales_org",
        "distribution_channel",
        "division",
        "payment_terms",
        "currency",
        "credit_control_area",
        "deletion_flag",
        "seen_at",
    ];
    write(pool, "customer_sales_area", &cols, 4, &rows, |q, r| {
        q.bind(text(&r.Customer))
            .bind(text(&r.SalesOrganization))
            .bind(text(&r.DistributionChannel))
            .bind(text(&r.Division))
            .bind(text(&r.CustomerPaymentTerms))
            .bind(text(&r.Currency))
            .bind(text(&r.CreditControlArea))
            .bind(r.DeletionIndicator.unwrap_or(false))
            .bind(seen)
    })
    .await?;

    let raw: Vec<Item> = parse(&items)?;
    n += raw.len();
    let rows = typed(&raw)?;
    let cols = [
        "company_code",
        "fiscal_year",
        "document",
        "item",
        "customer",
        "document_date",
        "posting_date",
        "baseline_date",
        "payment_terms",
        "discount1_days",
        "discount1_percent",
        "discount2_days",
        "discount2_percent",
        "net_days",
        "net_due_date",
        "amount",
        "currency",
        "dunning_level",
        "dunning_block",
        "seen_at",
        "cleared_at",
    ];
    write(pool, "open_items", &cols, 4, &rows, |q, t| {
        let r = t.raw;
        q.bind(text(&r.CompanyCode))
            .bind(text(&r.FiscalYear))
            .bind(text(&r.AccountingDocument))
            .bind(text(&r.AccountingDocumentItem))
            .bind(text(&r.Customer))
            .bind(t.dates[0])
            .bind(t.dates[1])
            .bind(t.dates[2])
            .bind(text(&r.PaymentTerms))
            .bind(t.days[0])
            .bind(t.percents[0].as_deref())
            .bind(t.days[1])
            .bind(t.percents[1].as_deref())
            .bind(t.days[2])
            .bind(t.dates[3])
            .bind(t.amount.as_str())
            .bind(text(&r.TransactionCurrency))
            .bind(t.dunning_level)
            .bind(text(&r.DunningBlockingReason))
            .bind(seen)
            .bind(None::<&str>)
    })
    .await?;

    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "floor: {n} entities ({:.1} MB of pages) in {wall:.2} s wall, {cpu:.2} s CPU ({:.0} entities per CPU-second)",
        bytes as f64 / 1e6,
        n as f64 / cpu
    );
    Ok(())
}
