//! OData V2 query options as SAP Gateway reads them: `$filter` (comparison operators with
//! `and`/`or`/`not` and parentheses), `$select`, `$top`, `$skip`, `$orderby`,
//! `$inlinecount`, `$skiptoken`; and rendering entities as V2 JSON.

use super::sets::{key_predicate, Edm, Prop, Set, Table, Val};
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn flip(self) -> Op {
        match self {
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            o => o,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Null,
    Str(String),
    Bool(bool),
    DateTime(NaiveDateTime),
    Num(Decimal),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp {
        prop: &'static str,
        op: Op,
        lit: Lit,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Lit),
    Open,
    Close,
}

fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(d);
        }
    }
    None
}

fn parse_datetimeoffset(s: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc).naive_utc())
}

/// `YYYY-MM-DD` starts at `i`.
fn is_v4_date_at(chars: &[char], i: usize) -> bool {
    let pattern = "dddd-dd-dd";
    chars.len() >= i + pattern.len()
        && pattern.chars().zip(&chars[i..]).all(|(p, c)| match p {
            'd' => c.is_ascii_digit(),
            _ => *c == p,
        })
}

fn tokenize(input: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Reads a quoted literal starting at `chars[i] == '\''`, doubling rules applied.
    let read_quoted = |i: &mut usize| -> Result<String, String> {
        let mut s = String::new();
        *i += 1;
        loop {
            match chars.get(*i) {
                None => return Err("unterminated string literal".into()),
                Some('\'') if chars.get(*i + 1) == Some(&'\'') => {
                    s.push('\'');
                    *i += 2;
                }
                Some('\'') => {
                    *i += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(*c);
                    *i += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == '\'' {
            out.push(Tok::Lit(Lit::Str(read_quoted(&mut i)?)));
        } else if is_v4_date_at(&chars, i) {
            // V4 writes dates and timestamps bare: `2026-11-25`, `2026-11-25T00:30:00Z`.
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || "-:T.Z+".contains(chars[i])) {
                i += 1;
            }
            let raw: String = chars[start..i].iter().collect();
            let lit = if raw.len() == 10 {
                chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            } else {
                parse_datetimeoffset(&raw).or_else(|| parse_datetime(&raw))
            };
            out.push(Tok::Lit(Lit::DateTime(
                lit.ok_or_else(|| format!("invalid date literal {raw}"))?,
            )));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            // Type suffixes: M/m decimal, L/l int64, d/D double, f/F single.
            if i < chars.len() && "MmLlDdFf".contains(chars[i]) {
                i += 1;
            }
            let n = Decimal::from_str(&text).map_err(|_| format!("invalid number {text}"))?;
            out.push(Tok::Lit(Lit::Num(n)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'\'') {
                let raw = read_quoted(&mut i)?;
                let lit = match word.as_str() {
                    "datetime" => Lit::DateTime(
                        parse_datetime(&raw).ok_or_else(|| format!("invalid datetime '{raw}'"))?,
                    ),
                    "datetimeoffset" => Lit::DateTime(
                        parse_datetimeoffset(&raw)
                            .ok_or_else(|| format!("invalid datetimeoffset '{raw}'"))?,
                    ),
                    other => return Err(format!("unsupported literal type {other}")),
                };
                out.push(Tok::Lit(lit));
            } else {
                match word.as_str() {
                    "true" => out.push(Tok::Lit(Lit::Bool(true))),
                    "false" => out.push(Tok::Lit(Lit::Bool(false))),
                    "null" => out.push(Tok::Lit(Lit::Null)),
                    _ => out.push(Tok::Ident(word)),
                }
            }
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    set: Set,
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Ident(x)) if x == w)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_word("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.toks.get(self.pos) == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.or()?;
            if self.toks.get(self.pos) != Some(&Tok::Close) {
                return Err("missing ')'".into());
            }
            self.pos += 1;
            return Ok(e);
        }
        self.comparison()
    }

    fn operand(&mut self) -> Result<Tok, String> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or("unexpected end of expression")?;
        self.pos += 1;
        if let Tok::Ident(name) = &t {
            if self.toks.get(self.pos) == Some(&Tok::Open) {
                return Err(format!("function {name} is not supported"));
            }
        }
        Ok(t)
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.operand()?;
        let op = match self.toks.get(self.pos) {
            Some(Tok::Ident(w)) => match w.as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                other => return Err(format!("unknown operator {other}")),
            },
            _ => return Err("expected a comparison operator".into()),
        };
        self.pos += 1;
        let right = self.operand()?;
        let (name, op, lit) = match (left, right) {
            (Tok::Ident(n), Tok::Lit(l)) => (n, op, l),
            (Tok::Lit(l), Tok::Ident(n)) => (n, op.flip(), l),
            _ => return Err("a comparison needs a property and a literal".into()),
        };
        let prop = self
            .set
            .prop(&name)
            .ok_or_else(|| format!("property {name} not found in {}", self.set.type_name()))?;
        if !prop.filterable {
            return Err(format!("property {name} is not filterable"));
        }
        check_type(prop, &lit)?;
        Ok(Expr::Cmp {
            prop: prop.name,
            op,
            lit,
        })
    }
}

fn check_type(prop: &Prop, lit: &Lit) -> Result<(), String> {
    let ok = matches!(
        (prop.ty, lit),
        (_, Lit::Null)
            | (Edm::String, Lit::Str(_))
            | (Edm::Boolean, Lit::Bool(_))
            | (Edm::Date | Edm::DateTimeOffset, Lit::DateTime(_))
            | (Edm::Decimal, Lit::Num(_))
    );
    if ok {
        Ok(())
    } else {
        Err(format!(
            "literal {lit:?} does not fit property {} of type {:?}",
            prop.name, prop.ty
        ))
    }
}

pub(crate) fn parse_filter(input: &str, set: Set) -> Result<Expr, String> {
    let toks = tokenize(input)?;
    let mut p = Parser { toks, pos: 0, set };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected token after position {}", p.pos));
    }
    Ok(e)
}

fn to_naive(v: &Val<'_>) -> Option<NaiveDateTime> {
    match v {
        Val::Date(d) => d.and_hms_opt(0, 0, 0),
        Val::Dto(d) => Some(d.naive_utc()),
        _ => None,
    }
}

fn compare(v: &Val<'_>, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (Val::Str(a), Lit::Str(b)) => Some(a.as_ref().cmp(b.as_str())),
        (Val::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Val::Dec(a), Lit::Num(b)) => Some(a.cmp(b)),
        (Val::Date(_) | Val::Dto(_), Lit::DateTime(b)) => to_naive(v).map(|a| a.cmp(b)),
        _ => None,
    }
}

pub(crate) fn eval(e: &Expr, table: &dyn Table, row: usize) -> bool {
    match e {
        Expr::And(a, b) => eval(a, table, row) && eval(b, table, row),
        Expr::Or(a, b) => eval(a, table, row) || eval(b, table, row),
        Expr::Not(a) => !eval(a, table, row),
        Expr::Cmp { prop, op, lit } => {
            let v = table.value(row, prop);
            if *lit == Lit::Null || v == Val::Null {
                let both = (*lit == Lit::Null) == (v == Val::Null);
                return match op {
                    Op::Eq => both,
                    Op::Ne => !both,
                    _ => false,
                };
            }
            match compare(&v, lit) {
                Some(o) => match op {
                    Op::Eq => o == Ordering::Equal,
                    Op::Ne => o != Ordering::Equal,
                    Op::Gt => o == Ordering::Greater,
                    Op::Ge => o != Ordering::Less,
                    Op::Lt => o == Ordering::Less,
                    Op::Le => o != Ordering::Greater,
                },
                None => false,
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub filter: Option<Expr>,
    pub select: Option<Vec<&'static Prop>>,
    pub top: Option<usize>,
    pub skip: usize,
    pub orderby: Vec<(&'static str, bool)>,
    pub inlinecount: bool,
    pub skiptoken: Option<usize>,
    /// Options to repeat in `__next` (everything but `$skip`, `$top`, `$skiptoken`).
    pub carry: Vec<(String, String)>,
}

pub(crate) fn parse_query(pairs: &[(String, String)], set: Set) -> Result<Query, String> {
    let mut q = Query::default();
    for (k, v) in pairs {
        match k.as_str() {
            "$filter" => q.filter = Some(parse_filter(v, set)?),
            "$select" => {
                let mut props = Vec::new();
                for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if name == "*" {
                        props.clear();
                        props.extend(set.props().iter());
                        break;
                    }
                    props.push(
                        set.prop(name)
                            .ok_or_else(|| format!("property {name} not found in $select"))?,
                    );
                }
                q.select = Some(props);
            }
            "$top" => q.top = Some(v.parse().map_err(|_| format!("invalid $top {v}"))?),
            "$skip" => q.skip = v.parse().map_err(|_| format!("invalid $skip {v}"))?,
            "$skiptoken" => {
                q.skiptoken = Some(v.parse().map_err(|_| format!("invalid $skiptoken {v}"))?)
            }
            "$count" => match v.as_str() {
                "true" => q.inlinecount = true,
                "false" => q.inlinecount = false,
                _ => return Err(format!("invalid $count {v}")),
            },
            "$inlinecount" => match v.as_str() {
                "allpages" => q.inlinecount = true,
                "none" => q.inlinecount = false,
                _ => return Err(format!("invalid $inlinecount {v}")),
            },
            "$orderby" => {
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let mut words = part.split_whitespace();
                    let name = words.next().unwrap_or_default();
                    let desc = match words.next() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(o) => return Err(format!("invalid sort order {o}")),
                    };
                    let prop = set
                        .prop(name)
                        .ok_or_else(|| format!("property {name} not found in $orderby"))?;
                    if !prop.sortable {
                        return Err(format!("property {name} is not sortable"));
                    }
                    q.orderby.push((prop.name, desc));
                }
            }
            "$format" if v.starts_with("json;") || v.starts_with("application/json") => {}
            "$format" if v != "json" && v != "atom" => {
                return Err(format!(
                    "$format={v} is not supported here; use json or atom"
                ))
            }
            "$format" => {}
            k if k.starts_with('$') => {
                return Err(format!("system query option {k} is not supported"))
            }
            _ => {}
        }
        if !matches!(k.as_str(), "$skip" | "$top" | "$skiptoken") {
            q.carry.push((k.clone(), v.clone()));
        }
    }
    Ok(q)
}

/// Whether `$orderby` asks for the order the rows are stored in: a prefix of the key
/// properties, all ascending.
pub(crate) fn is_key_order(set: Set, orderby: &[(&'static str, bool)]) -> bool {
    !orderby.is_empty()
        && orderby.len() <= set.keys().count()
        && orderby
            .iter()
            .zip(set.keys())
            .all(|((name, desc), key)| !desc && *name == key.name)
}

pub(crate) struct Page {
    pub rows: Vec<usize>,
    /// `$skiptoken` of the next page, if there is one.
    pub next: Option<usize>,
    /// `$top` left for the next page.
    pub top_left: Option<usize>,
    pub count: Option<usize>,
}

fn cmp_vals(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Less,
        (_, Val::Null) => Ordering::Greater,
        (Val::Str(x), Val::Str(y)) => x.cmp(y),
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        (Val::Dec(x), Val::Dec(y)) => x.cmp(y),
        _ => to_naive(a).cmp(&to_naive(b)),
    }
}

/// Runs a query: without `$orderby` the skip token is a row position in the set (rows
/// are kept in key order, as SAP pages them), so each page costs only what it scans; with
/// `$orderby` the token is an offset into the sorted result.
///
/// `natural` says the rows are stored in key order, so an `$orderby` on a prefix of the
/// key (ascending) is served by position too: that is what sync jobs send, page after
/// page, and sorting a million items per page would not do.
///
/// `first_key` names the set's leading key when rows are stored in key order: a filter
/// that pins it (`Customer eq 'A' or Customer eq 'B'`, as lookups by key send) is served
/// from those rows alone, as SAP's database serves it from the primary index, instead of
/// scanning the set.
pub(crate) fn run(
    table: &dyn Table,
    q: &Query,
    page_size: usize,
    natural: bool,
    first_key: Option<&str>,
) -> Page {
    let matches = |row: usize| q.filter.as_ref().is_none_or(|f| eval(f, table, row));
    let candidates: Option<Vec<usize>> = first_key.and_then(|key| {
        let values = pinned_values(q.filter.as_ref()?, key)?;
        Some(rows_with_key(table, key, &values))
    });
    // Rows from `start` on (a row position) that may match, in stored order.
    let scan = |start: usize| -> Box<dyn Iterator<Item = usize> + '_> {
        match &candidates {
            Some(rows) => {
                let from = rows.partition_point(|&r| r < start);
                Box::new(rows[from..].iter().copied())
            }
            None => Box::new(start..table.len()),
        }
    };
    let limit = page_size.min(q.top.unwrap_or(usize::MAX));
    let count = q
        .inlinecount
        .then(|| scan(0).filter(|&r| matches(r)).count());
    let mut rows = Vec::new();
    let mut next = None;
    if q.orderby.is_empty() || natural {
        let mut to_skip = if q.skiptoken.is_none() { q.skip } else { 0 };
        for r in scan(q.skiptoken.unwrap_or(0)) {
            if matches(r) {
                if to_skip > 0 {
                    to_skip -= 1;
                } else if rows.len() < limit {
                    rows.push(r);
                } else {
                    next = Some(r);
                    break;
                }
            }
        }
    } else {
        let mut all: Vec<usize> = scan(0).filter(|&r| matches(r)).collect();
        all.sort_by(|&a, &b| {
            for (prop, desc) in &q.orderby {
                let o = cmp_vals(&table.value(a, prop), &table.value(b, prop));
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.cmp(&b)
        });
        let offset = q.skiptoken.unwrap_or(q.skip).min(all.len());
        let end = (offset + limit).min(all.len());
        rows.extend_from_slice(&all[offset..end]);
        if end < all.len() {
            next = Some(end);
        }
    }
    let top_left = q.top.map(|t| t.saturating_sub(rows.len()));
    if top_left == Some(0) {
        next = None;
    }
    Page {
        rows,
        next,
        top_left,
        count,
    }
}

/// The string values a filter pins `prop` to: `prop eq 'v'`, a disjunction of those, or
/// either side of a conjunction that is one. `None` when rows with other values could match.
fn pinned_values<'e>(e: &'e Expr, prop: &str) -> Option<Vec<&'e str>> {
    match e {
        Expr::Cmp {
            prop: p,
            op: Op::Eq,
            lit: Lit::Str(v),
        } if *p == prop => Some(vec![v.as_str()]),
        Expr::Or(a, b) => {
            let mut values = pinned_values(a, prop)?;
            values.extend(pinned_values(b, prop)?);
            Some(values)
        }
        Expr::And(a, b) => pinned_values(a, prop).or_else(|| pinned_values(b, prop)),
        _ => None,
    }
}

/// The rows whose `key` (the leading key, by which rows are sorted) is one of `values`,
/// found by binary search, in stored order.
fn rows_with_key(table: &dyn Table, key: &str, values: &[&str]) -> Vec<usize> {
    let at = |r: usize| match table.value(r, key) {
        Val::Str(s) => s.into_owned(),
        _ => String::new(),
    };
    // Binary search over row positions: the table is not a slice.
    let first_not_below = |v: &str, strict: bool| {
        let (mut lo, mut hi) = (0, table.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let below = if strict {
                at(mid).as_str() <= v
            } else {
                at(mid).as_str() < v
            };
            if below {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let mut rows: Vec<usize> = values
        .iter()
        .flat_map(|v| first_not_below(v, false)..first_not_below(v, true))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// Appends a JSON string literal. Written in place: pages are rendered value by value, and
/// an allocation per value would make the mock, not the client, the slow side of a pull.
pub(crate) fn json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escaped);
        }
        plain = i + c.len_utf8();
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

fn ms(d: NaiveDateTime) -> i64 {
    d.and_utc().timestamp_millis()
}

pub(crate) fn json_val(out: &mut String, v: &Val<'_>) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Str(s) => json_str(out, s),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Date(d) => {
            let _ = write!(
                out,
                "\"/Date({})/\"",
                ms(d.and_hms_opt(0, 0, 0).unwrap_or_default())
            );
        }
        Val::Dto(d) => {
            let _ = write!(out, "\"/Date({}+0000)/\"", d.timestamp_millis());
        }
        Val::Dec(d) => {
            let _ = write!(out, "\"{d}\"");
        }
    }
}

/// The canonical URI of an entity.
pub(crate) fn entity_uri(service_url: &str, set: Set, table: &dyn Table, row: usize) -> String {
    format!(
        "{service_url}/{}{}",
        set.name(),
        key_predicate(set, table, row)
    )
}

/// Writes one entity as a V2 Atom `<entry>`: `m:properties` with `d:` values, `m:type` on
/// what is not a string and `m:null` for nulls, as SAP Gateway does.
pub(crate) fn render_atom_entry(
    out: &mut String,
    service_url: &str,
    set: Set,
    table: &dyn Table,
    row: usize,
    select: Option<&[&'static Prop]>,
    etag: Option<&str>,
) {
    let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
    let uri = entity_uri(service_url, set, table, row);
    out.push_str("<entry");
    if let Some(e) = etag {
        let _ = write!(out, " m:etag=\"{}\"", esc(e));
    }
    let _ = write!(
        out,
        "><id>{}</id><title type=\"text\">{}</title><updated>2026-01-01T00:00:00Z</updated><category term=\"{}.{}\" scheme=\"http://schemas.microsoft.com/ado/2007/08/dataservices/scheme\"/><link href=\"{}\" rel=\"self\"/><content type=\"application/xml\"><m:properties>",
        esc(&uri),
        set.name(),
        set.service().name(),
        set.type_name(),
        esc(&uri)
    );
    let all = set.props();
    let props: Box<dyn Iterator<Item = &Prop>> = match select {
        Some(sel) if !sel.is_empty() => Box::new(sel.iter().copied()),
        _ => Box::new(all.iter()),
    };
    for p in props {
        let name = p.name;
        match table.value(row, p.name) {
            Val::Null => {
                let _ = write!(out, "<d:{name} m:null=\"true\"/>");
            }
            Val::Str(v) => {
                let _ = write!(out, "<d:{name}>{}</d:{name}>", esc(&v));
            }
            Val::Bool(b) => {
                let _ = write!(out, "<d:{name} m:type=\"Edm.Boolean\">{b}</d:{name}>");
            }
            Val::Date(d) => {
                let _ = write!(
                    out,
                    "<d:{name} m:type=\"Edm.DateTime\">{}T00:00:00</d:{name}>",
                    d.format("%Y-%m-%d")
                );
            }
            Val::Dto(d) => {
                let _ = write!(
                    out,
                    "<d:{name} m:type=\"Edm.DateTimeOffset\">{}</d:{name}>",
                    d.format("%Y-%m-%dT%H:%M:%S%.7fZ")
                );
            }
            Val::Dec(d) => {
                let _ = write!(out, "<d:{name} m:type=\"Edm.Decimal\">{d}</d:{name}>");
            }
        }
    }
    out.push_str("</m:properties></content></entry>");
}

/// Writes one entity as V2 JSON with its `__metadata`.
pub(crate) fn render_entity(
    out: &mut String,
    service_url: &str,
    set: Set,
    table: &dyn Table,
    row: usize,
    select: Option<&[&'static Prop]>,
    etag: Option<&str>,
) {
    let uri = entity_uri(service_url, set, table, row);
    out.push_str("{\"__metadata\":{\"id\":");
    json_str(out, &uri);
    out.push_str(",\"uri\":");
    json_str(out, &uri);
    let _ = write!(
        out,
        ",\"type\":\"{}.{}\"",
        set.service().name(),
        set.type_name()
    );
    if let Some(e) = etag {
        out.push_str(",\"etag\":");
        json_str(out, e);
    }
    out.push('}');
    let all = set.props();
    let props: Box<dyn Iterator<Item = &Prop>> = match select {
        Some(sel) if !sel.is_empty() => Box::new(sel.iter().copied()),
        _ => Box::new(all.iter()),
    };
    for p in props {
        out.push(',');
        json_str(out, p.name);
        out.push(':');
        json_val(out, &table.value(row, p.name));
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_as_serde_does() {
        for s in [
            "",
            "plain",
            "O'Neill \"q\" \\ back",
            "tab\tnl\ncr\r\u{1}\u{1f}",
            "月结30天 €",
        ] {
            let mut out = String::new();
            json_str(&mut out, s);
            assert_eq!(
                out,
                serde_json::Value::String(s.into()).to_string(),
                "{s:?}"
            );
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
        }
    }

    #[test]
    fn key_lookups_find_what_a_scan_finds() {
        let ds = super::super::data::Dataset::generate(&super::super::MockErpConfig::default());
        for set in [
            Set::Customer,
            Set::CustomerCompany,
            Set::CustomerSalesArea,
            Set::BpAddress,
            Set::OpenItem,
            Set::SalesContract,
            Set::CreditAccount,
        ] {
            let table = super::super::sets::DsTable {
                ds: &ds,
                set,
                cleared: None,
            };
            let key = set.keys().next().unwrap().name;
            // Values that are there (first, middle, last rows) and one that is not.
            let mut wanted: Vec<String> = [0, table.len() / 2, table.len() - 1]
                .iter()
                .map(|&r| match table.value(r, key) {
                    Val::Str(s) => s.into_owned(),
                    other => panic!("{other:?}"),
                })
                .collect();
            wanted.push("NO-SUCH-KEY".into());
            let filter = wanted
                .iter()
                .map(|v| format!("{key} eq '{v}'"))
                .collect::<Vec<_>>()
                .join(" or ");
            let q = Query {
                filter: Some(parse_filter(&format!("({filter}) and {key} ne 'X'"), set).unwrap()),
                inlinecount: true,
                ..Query::default()
            };
            let indexed = run(&table, &q, 7, false, Some(key));
            let scanned = run(&table, &q, 7, false, None);
            assert!(!indexed.rows.is_empty(), "{}", set.name());
            assert_eq!(indexed.rows, scanned.rows, "{}", set.name());
            assert_eq!(indexed.count, scanned.count, "{}", set.name());
            assert_eq!(indexed.next, scanned.next, "{}", set.name());
            // Stored in key order, which the lookup relies on.
            let keys: Vec<String> = (0..table.len())
                .map(|r| match table.value(r, key) {
                    Val::Str(s) => s.into_owned(),
                    _ => String::new(),
                })
                .collect();
            assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{}", set.name());
        }
    }

    #[test]
    fn parses_nested_filters_and_doubled_quotes() {
        let e = parse_filter(
            "(FinancialAccountType eq 'D' and IsCleared eq false) or CustomerName eq 'O''Neill'",
            Set::OpenItem,
        )
        .unwrap();
        match e {
            Expr::Or(_, r) => assert_eq!(
                *r,
                Expr::Cmp {
                    prop: "CustomerName",
                    op: Op::Eq,
                    lit: Lit::Str("O'Neill".into())
                }
            ),
            other => panic!("{other:?}"),
        }
        assert!(parse_filter("NetDueDate lt datetime'2026-11-25T00:00:00'", Set::OpenItem).is_ok());
        assert!(parse_filter(
            "LastChangeDateTime ge datetimeoffset'2024-01-01T00:00:00Z'",
            Set::SalesContract
        )
        .is_ok());
        // V4: bare literals.
        assert!(parse_filter(
            "LastChangeDateTime ge 2024-01-01T00:00:00Z",
            Set::SalesContract
        )
        .is_ok());
        assert!(parse_filter(
            "NetDueDate lt 2026-11-25 and IsCleared eq false",
            Set::OpenItem
        )
        .is_ok());
    }

    #[test]
    fn refuses_bad_filters() {
        for bad in [
            "Customer eq",
            "Customer eq 'x",
            "Nope eq 'x'",
            "IsCleared eq 'false'",
            "substringof('a',CustomerName)",
            "Customer eq 'a' and",
            "(Customer eq 'a'",
            "Customer xx 'a'",
        ] {
            assert!(parse_filter(bad, Set::OpenItem).is_err(), "{bad}");
        }
    }
}
