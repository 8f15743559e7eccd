//! From a [`RawIdoc`] to model values: the control record (`EDI_DC40`), DEBMAS (customer
//! master at its three levels, contacts, message function codes) and INVOIC (an open item
//! carrying the payment terms actually billed).
//!
//! Every value is checked: a missing mandatory segment or field, an unreadable date or
//! number, an unknown IDoc type or function code is an [`IdocError`] naming the DOCNUM,
//! segment, field and reason, and the IDoc is rejected as a whole (never half-read).

use super::mapping::{children, IdocMapping, LevelMapping};
use super::reader::RawIdoc;
use crate::model::open_item::AppliedTerms;
use crate::model::{
    Address, CompanyCodeData, CreditLimit, CustomerGeneral, CustomerId, OpenItem, OpenItemKey,
    SalesArea, SalesAreaData,
};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::fmt;

/// Why one IDoc cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct IdocError {
    pub docnum: Option<String>,
    pub segment: Option<String>,
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for IdocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IDoc {}",
            self.docnum.as_deref().unwrap_or("(no DOCNUM)")
        )?;
        if let Some(s) = &self.segment {
            write!(f, ", segment {s}")?;
        }
        if let Some(x) = &self.field {
            write!(f, ", field {x}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

fn err(
    docnum: &str,
    segment: impl Into<Option<String>>,
    field: impl Into<Option<String>>,
    reason: impl Into<String>,
) -> IdocError {
    IdocError {
        docnum: Some(docnum.to_string()).filter(|d| !d.is_empty()),
        segment: segment.into(),
        field: field.into(),
        reason: reason.into(),
    }
}

/// The control record fields erpsync relies on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// IDoc number, 16 digits with leading zeros: the idempotency key.
    pub docnum: String,
    pub idoc_type: String,
    pub extension: Option<String>,
    pub message_type: String,
    /// CREDAT + CRETIM: which of two IDocs for the same object is newer.
    pub created: NaiveDateTime,
    pub sender: Option<String>,
}

impl Control {
    /// `YYYYMMDDHHMMSS` then DOCNUM: text order is supersession order.
    pub fn order_key(&self) -> String {
        format!("{}{}", self.created.format("%Y%m%d%H%M%S"), self.docnum)
    }
}

/// DOCNUM as SAP keeps it: 16 characters, numeric ones with leading zeros, so a resend
/// written as `182520` and `0000000000182520` is the same IDoc.
pub fn normalize_docnum(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 16 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        Some(format!("{s:0>16}"))
    } else {
        Some(s.to_ascii_uppercase())
    }
}

/// DEBMAS/INVOIC message function (MSGFN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFunction {
    /// 003: the record is deleted in the sender; erpsync flags it deleted (and keeps it).
    Delete,
    /// 004: change.
    Change,
    /// 005: replace.
    Replace,
    /// 009: original (create).
    Original,
    /// 018: resend of the original.
    Resend,
}

impl MessageFunction {
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(str::trim).unwrap_or("") {
            "" | "009" => Ok(MessageFunction::Original),
            "003" => Ok(MessageFunction::Delete),
            "004" => Ok(MessageFunction::Change),
            "005" => Ok(MessageFunction::Replace),
            "018" => Ok(MessageFunction::Resend),
            other => Err(format!(
                "unknown message function {other:?} (003 delete, 004 change, 005 replace, 009 original, 018 resend)"
            )),
        }
    }

    pub fn is_delete(self) -> bool {
        self == MessageFunction::Delete
    }
}

/// A contact person of a customer (E1KNVKM / KNVK): the model's.
pub use crate::model::Contact;

/// A DEBMAS IDoc: one customer with the levels it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerIdoc {
    pub function: MessageFunction,
    pub general: CustomerGeneral,
    pub company_codes: Vec<CompanyCodeData>,
    pub sales_areas: Vec<SalesAreaData>,
    /// Credit limits per credit control area (E1KNKKM / KNKK), when the mapping reads them.
    pub credit_limits: Vec<CreditLimit>,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdocContent {
    Customer(Box<CustomerIdoc>),
    Invoice(Box<OpenItem>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdocKind {
    Debmas,
    Invoic,
}

/// An IDoc ready to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedIdoc {
    pub control: Control,
    /// What a newer IDoc supersedes: `DEBMAS:<customer>` or `INVOIC:<cc>/<year>/<doc>`.
    pub object_key: String,
    pub content: IdocContent,
}

/// Fields each level must map (checked when a mapping is loaded).
pub const DEBMAS_REQUIRED: &[(&str, &[&str])] = &[
    ("general", &["customer", "name"]),
    ("company_code", &["company_code", "payment_terms"]),
    (
        "sales_area",
        &[
            "sales_org",
            "distribution_channel",
            "division",
            "payment_terms",
            "currency",
        ],
    ),
];
pub const INVOIC_REQUIRED: &[(&str, &[&str])] = &[(
    "invoice",
    &[
        "customer",
        "company_code",
        "document",
        "document_date",
        "amount",
        "currency",
    ],
)];

/// Translates IDocs with the DEBMAS and INVOIC mappings.
#[derive(Debug, Clone)]
pub struct Translator {
    pub debmas: IdocMapping,
    pub invoic: IdocMapping,
}

impl Translator {
    pub fn new(debmas: IdocMapping, invoic: IdocMapping) -> Self {
        Translator { debmas, invoic }
    }

    /// Loads `idoc-debmas.toml` and `idoc-invoic.toml` from a mappings folder.
    pub fn load(dir: &std::path::Path) -> Result<Self, super::IdocMappingError> {
        Ok(Translator {
            debmas: IdocMapping::load(&dir.join("idoc-debmas.toml"), DEBMAS_REQUIRED)?,
            invoic: IdocMapping::load(&dir.join("idoc-invoic.toml"), INVOIC_REQUIRED)?,
        })
    }

    /// The shipped mappings, compiled in: what `idoc import` uses when the config names no
    /// mappings folder with its own.
    pub fn builtin() -> Self {
        let debmas = IdocMapping::parse(
            include_str!("../../../mappings/idoc-debmas.toml"),
            std::path::Path::new("mappings/idoc-debmas.toml"),
            DEBMAS_REQUIRED,
        )
        .expect("the shipped DEBMAS mapping is valid");
        let invoic = IdocMapping::parse(
            include_str!("../../../mappings/idoc-invoic.toml"),
            std::path::Path::new("mappings/idoc-invoic.toml"),
            INVOIC_REQUIRED,
        )
        .expect("the shipped INVOIC mapping is valid");
        Translator { debmas, invoic }
    }

    /// The segments the reader must keep for both mappings.
    pub fn wanted_segments(&self) -> HashSet<String> {
        let mut s = self.debmas.segments();
        s.extend(self.invoic.segments());
        s
    }

    /// The control record alone: enough to acknowledge an IDoc whose data is bad.
    pub fn control(&self, idoc: &RawIdoc) -> Result<Control, IdocError> {
        let docnum_raw = idoc.control_field("DOCNUM").unwrap_or("");
        let seg = || Some("EDI_DC40".to_string());
        if let Some(p) = &idoc.problem {
            return Err(err(docnum_raw, seg(), None, p.clone()));
        }
        let docnum = normalize_docnum(docnum_raw).ok_or_else(|| {
            err(
                docnum_raw,
                seg(),
                Some("DOCNUM".into()),
                if docnum_raw.is_empty() {
                    "missing: DOCNUM is the IDoc's unique number".to_string()
                } else {
                    format!("{docnum_raw:?} is not an IDoc number")
                },
            )
        })?;
        let need = |f: &str| {
            idoc.control_field(f)
                .map(str::to_string)
                .ok_or_else(|| err(&docnum, seg(), Some(f.into()), "missing"))
        };
        let idoc_type = need("IDOCTYP")?;
        let message_type = need("MESTYP")?;
        let credat = need("CREDAT")?;
        let date = parse_date(&credat).ok_or_else(|| {
            err(
                &docnum,
                seg(),
                Some("CREDAT".into()),
                format!("{credat:?} is not a date (YYYYMMDD)"),
            )
        })?;
        let time = match idoc.control_field("CRETIM") {
            None => NaiveTime::MIN,
            Some(t) => NaiveTime::parse_from_str(t, "%H%M%S").map_err(|_| {
                err(
                    &docnum,
                    seg(),
                    Some("CRETIM".into()),
                    format!("{t:?} is not a time (HHMMSS)"),
                )
            })?,
        };
        Ok(Control {
            docnum,
            idoc_type,
            extension: idoc.control_field("CIMTYP").map(str::to_string),
            message_type,
            created: date.and_time(time),
            sender: idoc.control_field("SNDPRN").map(str::to_string),
        })
    }

    /// Which mapping handles an IDoc, by its control record.
    pub fn kind_of(&self, control: &Control) -> Result<IdocKind, IdocError> {
        let ext = control.extension.as_deref();
        if self
            .debmas
            .supports(&control.idoc_type, ext, &control.message_type)
        {
            Ok(IdocKind::Debmas)
        } else if self
            .invoic
            .supports(&control.idoc_type, ext, &control.message_type)
        {
            Ok(IdocKind::Invoic)
        } else {
            Err(err(
                &control.docnum,
                Some("EDI_DC40".into()),
                Some("IDOCTYP".into()),
                format!(
                    "IDoc type {} / message type {} is not supported by the mappings ({} for {}; {} for {})",
                    control.idoc_type,
                    control.message_type,
                    self.debmas.idoc_types.join(", "),
                    self.debmas.message_types.join(", "),
                    self.invoic.idoc_types.join(", "),
                    self.invoic.message_types.join(", "),
                ),
            ))
        }
    }

    /// Translates one IDoc.
    pub fn translate(&self, idoc: &RawIdoc) -> Result<ParsedIdoc, IdocError> {
        let control = self.control(idoc)?;
        match self.kind_of(&control)? {
            IdocKind::Debmas => debmas(&self.debmas, idoc, control),
            IdocKind::Invoic => invoic(&self.invoic, idoc, control),
        }
    }
}

/// Reads fields of one level at one segment, with errors naming the IDoc.
struct Fields<'a> {
    docnum: &'a str,
    level: &'a LevelMapping,
    idoc: &'a RawIdoc,
    at: Option<usize>,
}

impl Fields<'_> {
    fn opt(&self, field: &str) -> Option<String> {
        self.level
            .find(field, self.idoc, self.at)
            .map(|f| f.value.to_string())
    }

    fn where_(&self, field: &str) -> (Option<String>, Option<String>) {
        let (s, f) = self.level.describe(field);
        (Some(s), Some(f))
    }

    fn fail(&self, field: &str, reason: impl Into<String>) -> IdocError {
        let (s, f) = self.where_(field);
        err(self.docnum, s, f, reason)
    }

    fn required(&self, field: &str) -> Result<String, IdocError> {
        self.opt(field)
            .ok_or_else(|| self.fail(field, format!("missing ({field} is mandatory)")))
    }

    fn customer(&self, field: &str) -> Result<CustomerId, IdocError> {
        let raw = self.required(field)?;
        CustomerId::parse(&raw).map_err(|e| self.fail(field, e.to_string()))
    }

    fn flag(&self, field: &str) -> Result<bool, IdocError> {
        match self.opt(field).as_deref() {
            None => Ok(false),
            Some("X") | Some("x") => Ok(true),
            Some(other) => Err(self.fail(field, format!("{other:?} is not a flag (X or empty)"))),
        }
    }

    fn date(&self, field: &str) -> Result<Option<NaiveDate>, IdocError> {
        match self.opt(field) {
            None => Ok(None),
            Some(raw) if raw.chars().all(|c| c == '0') => Ok(None),
            Some(raw) => parse_date(&raw)
                .map(Some)
                .ok_or_else(|| self.fail(field, format!("{raw:?} is not a date (YYYYMMDD)"))),
        }
    }

    fn decimal(&self, field: &str) -> Result<Option<Decimal>, IdocError> {
        self.opt(field)
            .map(|raw| parse_decimal(&raw).map_err(|r| self.fail(field, r)))
            .transpose()
    }

    fn days(&self, field: &str) -> Result<Option<u32>, IdocError> {
        self.opt(field)
            .map(|raw| {
                raw.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|d| *d <= 9999)
                    .ok_or_else(|| self.fail(field, format!("{raw:?} is not a number of days")))
            })
            .transpose()
    }

    fn function(&self) -> Result<MessageFunction, IdocError> {
        MessageFunction::parse(self.opt("function").as_deref())
            .map_err(|r| self.fail("function", r))
    }
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.len() != 8 {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y%m%d").ok()
}

/// SAP writes amounts with a decimal point and, in some exports, a trailing minus.
/// A value with more digits than a Decimal holds is refused, never rounded.
pub fn parse_decimal(raw: &str) -> Result<Decimal, String> {
    let s = raw.trim();
    let (negative, digits) = match s.strip_suffix('-') {
        Some(d) => (true, d.trim()),
        None => (false, s),
    };
    if digits.is_empty()
        || !digits
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
    {
        return Err(format!("{raw:?} is not a number"));
    }
    let value = Decimal::from_str_exact(digits).map_err(|e| format!("{raw:?}: {e}"))?;
    Ok(if negative { -value } else { value })
}

fn level<'a>(mapping: &'a IdocMapping, name: &str) -> &'a LevelMapping {
    mapping
        .level(name)
        .expect("required levels are checked when the mapping is loaded")
}

/// Segments named `segment` below `parent` (or anywhere at the top when `None`).
fn instances<'a>(
    idoc: &'a RawIdoc,
    parent: Option<usize>,
    segment: &'a str,
) -> impl Iterator<Item = usize> + 'a {
    children(idoc, parent).filter(move |&i| idoc.segments[i].name == segment)
}

fn debmas(
    mapping: &IdocMapping,
    idoc: &RawIdoc,
    control: Control,
) -> Result<ParsedIdoc, IdocError> {
    let docnum = control.docnum.clone();
    let gen_level = level(mapping, "general");
    let general_at = instances(idoc, None, &gen_level.segment)
        .next()
        .ok_or_else(|| {
            err(
                &docnum,
                Some(gen_level.segment.clone()),
                None,
                "missing mandatory segment (general customer data)",
            )
        })?;
    let g = Fields {
        docnum: &docnum,
        level: gen_level,
        idoc,
        at: Some(general_at),
    };
    let function = g.function()?;
    let customer = g.customer("customer")?;
    let name = g.required("name")?;
    let address = if ["street", "city", "postal_code", "country"]
        .iter()
        .any(|f| g.opt(f).is_some())
    {
        let street = match (g.opt("street"), g.opt("house_number")) {
            (Some(s), Some(h)) => format!("{s} {h}"),
            (Some(s), None) => s,
            (None, _) => String::new(),
        };
        Some(Address {
            name: name.clone(),
            street,
            city: g.opt("city").unwrap_or_default(),
            postal_code: g.opt("postal_code").unwrap_or_default(),
            country: g.opt("country").unwrap_or_default(),
        })
    } else {
        None
    };
    let general = CustomerGeneral {
        customer: customer.clone(),
        name,
        address,
        deletion_flag: g.flag("deletion_flag")? || function.is_delete(),
        posting_block: g.flag("posting_block")?,
        last_changed: Some(control.created.and_utc()),
    };

    let cc_level = level(mapping, "company_code");
    let mut company_codes = Vec::new();
    for at in instances(idoc, Some(general_at), &cc_level.segment) {
        let f = Fields {
            docnum: &docnum,
            level: cc_level,
            idoc,
            at: Some(at),
        };
        let fun = f.function()?;
        company_codes.push(CompanyCodeData {
            customer: customer.clone(),
            company_code: f.required("company_code")?,
            payment_terms: f.opt("payment_terms"),
            reconciliation_account: f.opt("reconciliation_account"),
            accounting_clerk: f.opt("accounting_clerk"),
            dunning_procedure: f.opt("dunning_procedure"),
            deletion_flag: f.flag("deletion_flag")? || fun.is_delete() || function.is_delete(),
            posting_block: f.flag("posting_block")?,
        });
    }

    let sa_level = level(mapping, "sales_area");
    let mut sales_areas = Vec::new();
    for at in instances(idoc, Some(general_at), &sa_level.segment) {
        let f = Fields {
            docnum: &docnum,
            level: sa_level,
            idoc,
            at: Some(at),
        };
        let fun = f.function()?;
        sales_areas.push(SalesAreaData {
            customer: customer.clone(),
            area: SalesArea {
                sales_org: f.required("sales_org")?,
                distribution_channel: f.required("distribution_channel")?,
                division: f.required("division")?,
            },
            payment_terms: f.opt("payment_terms"),
            currency: f.opt("currency"),
            credit_control_area: f.opt("credit_control_area"),
            deletion_flag: f.flag("deletion_flag")? || fun.is_delete() || function.is_delete(),
        });
    }

    let mut credit_limits = Vec::new();
    if let Some(cr_level) = mapping.level("credit") {
        for at in instances(idoc, Some(general_at), &cr_level.segment) {
            let f = Fields {
                docnum: &docnum,
                level: cr_level,
                idoc,
                at: Some(at),
            };
            // A deleted control area no longer limits anything: it is left out.
            if f.function()?.is_delete() || function.is_delete() {
                continue;
            }
            let segment = f.required("segment")?;
            // A control area without a limit field states no limit.
            let Some(amount) = f.decimal("amount")? else {
                continue;
            };
            // KNKK states no currency (it is the control area's); a mapping may add one.
            credit_limits.push(CreditLimit {
                customer: customer.clone(),
                segment,
                amount,
                currency: f.opt("currency"),
            });
        }
    }

    let mut contacts = Vec::new();
    if let Some(ct_level) = mapping.level("contact") {
        for at in instances(idoc, Some(general_at), &ct_level.segment) {
            let f = Fields {
                docnum: &docnum,
                level: ct_level,
                idoc,
                at: Some(at),
            };
            let fun = f.function()?;
            contacts.push(Contact {
                customer: customer.clone(),
                contact: f.required("contact")?,
                first_name: f.opt("first_name"),
                last_name: f.opt("last_name"),
                department: f.opt("department"),
                function: f.opt("function_code"),
                phone: f.opt("phone"),
                email: f.opt("email"),
                deleted: fun.is_delete() || function.is_delete(),
            });
        }
    }

    Ok(ParsedIdoc {
        object_key: format!("DEBMAS:{customer}"),
        control,
        content: IdocContent::Customer(Box::new(CustomerIdoc {
            function,
            general,
            company_codes,
            sales_areas,
            credit_limits,
            contacts,
        })),
    })
}

fn invoic(
    mapping: &IdocMapping,
    idoc: &RawIdoc,
    control: Control,
) -> Result<ParsedIdoc, IdocError> {
    let docnum = control.docnum.clone();
    let lv = level(mapping, "invoice");
    if lv.segment != "IDOC" && instances(idoc, None, &lv.segment).next().is_none() {
        return Err(err(
            &docnum,
            Some(lv.segment.clone()),
            None,
            "missing mandatory segment (document header)",
        ));
    }
    let f = Fields {
        docnum: &docnum,
        level: lv,
        idoc,
        at: None,
    };
    let customer = f.customer("customer")?;
    let company_code = f.required("company_code")?;
    let document = f.required("document")?;
    let document_date = f
        .date("document_date")?
        .ok_or_else(|| f.fail("document_date", "missing (document_date is mandatory)"))?;
    let posting_date = f.date("posting_date")?.unwrap_or(document_date);
    let baseline_date = f.date("baseline_date")?.unwrap_or(document_date);
    let fiscal_year = f
        .opt("fiscal_year")
        .unwrap_or_else(|| document_date.year().to_string());
    let currency = f.required("currency")?;
    let amount = f
        .decimal("amount")?
        .ok_or_else(|| f.fail("amount", "missing (amount is mandatory)"))?;
    let credit = f.opt("document_type").is_some_and(|t| {
        mapping
            .credit_memo_types
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&t))
    });
    let amount = if credit { -amount.abs() } else { amount };
    let applied = AppliedTerms {
        discount1_days: f.days("discount1_days")?,
        discount1_percent: f.decimal("discount1_percent")?,
        discount2_days: f.days("discount2_days")?,
        discount2_percent: f.decimal("discount2_percent")?,
        net_days: f.days("net_days")?,
    };
    // As FI does for an item: net due = baseline + the last period given (net, else tier 2,
    // else tier 1); a credit memo without terms is due at its baseline. A due date the
    // invoice states itself (E1EDK03 IDDAT 028) wins.
    let last_period = applied
        .net_days
        .or(applied.discount2_days)
        .or(applied.discount1_days);
    let net_due_date = match f.date("net_due_date")? {
        Some(d) => Some(d),
        None => match last_period {
            Some(days) => Some(baseline_date + Duration::days(i64::from(days))),
            None if credit => Some(baseline_date),
            None => None,
        },
    };
    let item = OpenItem {
        key: OpenItemKey {
            company_code,
            fiscal_year,
            document,
            item: f.opt("item").unwrap_or_else(|| "001".into()),
        },
        customer,
        document_date,
        posting_date,
        baseline_date,
        payment_terms: f.opt("payment_terms"),
        applied,
        net_due_date,
        amount,
        currency,
        dunning_level: None,
        dunning_block: None,
        dispute_case: None,
    };
    Ok(ParsedIdoc {
        object_key: format!("INVOIC:{}", item.key),
        control,
        content: IdocContent::Invoice(Box::new(item)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_take_sap_trailing_minus_and_refuse_garbage() {
        assert_eq!(parse_decimal("2416.95").unwrap().to_string(), "2416.95");
        assert_eq!(parse_decimal("12.50-").unwrap().to_string(), "-12.50");
        assert!(parse_decimal("1,5").is_err());
        assert!(parse_decimal("12a").is_err());
        assert!(parse_decimal("99999999999999999999999999999999.5").is_err());
    }

    #[test]
    fn docnums_are_padded_like_sap() {
        assert_eq!(normalize_docnum("182520").unwrap(), "0000000000182520");
        assert!(normalize_docnum("").is_none());
        assert!(normalize_docnum("12345678901234567").is_none());
    }

    #[test]
    fn message_functions() {
        assert_eq!(
            MessageFunction::parse(Some("003")).unwrap(),
            MessageFunction::Delete
        );
        assert_eq!(
            MessageFunction::parse(None).unwrap(),
            MessageFunction::Original
        );
        assert!(MessageFunction::parse(Some("777")).is_err());
    }
}
