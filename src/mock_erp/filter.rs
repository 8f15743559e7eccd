//! OData `$filter` as SAP Gateway reads it: comparison operators joined by `and`/`or`/`not`
//! and parentheses, literals of every type the sets use, checked against the property's
//! type; and evaluating it against a row.

use super::sets::{Edm, Prop, Set, Table, Val};
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use std::cmp::Ordering;
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
        self.joined("or", Self::and, Expr::Or)
    }

    fn and(&mut self) -> Result<Expr, String> {
        self.joined("and", Self::unary, Expr::And)
    }

    /// Operands of `next` joined by `word`, left-associative.
    fn joined(
        &mut self,
        word: &str,
        next: fn(&mut Self) -> Result<Expr, String>,
        join: fn(Box<Expr>, Box<Expr>) -> Expr,
    ) -> Result<Expr, String> {
        let mut left = next(self)?;
        while self.peek_word(word) {
            self.pos += 1;
            let right = next(self)?;
            left = join(Box::new(left), Box::new(right));
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

pub(crate) fn to_naive(v: &Val<'_>) -> Option<NaiveDateTime> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
