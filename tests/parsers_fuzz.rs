//! Every parser of outside input survives arbitrary bytes: random input and mutations of a
//! valid sample end in a value or an error with a message, never a panic, and within memory
//! proportional to the input (a counting allocator measures each parse on its own thread).
//! The number of cases is bounded so the file stays fast in a debug build.

use erpsync::contracts::{register, terms_text};
use erpsync::erp::idoc::{IdocReader, Translator};
use erpsync::erp::metadata;
use erpsync::erp::odata::{atom, batch, json};
use erpsync::erp::soap::dispute_case::{
    self, LogItem, ReadResponse, Severity, SoapVersion, UpdateResponse,
};
use erpsync::erp::t052;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::BufReader;

/// Counts the bytes each thread holds, so a parse is measured alone even while the other
/// tests of this file run on other threads.
struct PerThreadCount;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    /// Allocations (and reallocations) made, for the tests that count them.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count_allocation() {
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

fn account(delta: isize) {
    // `try_with`: during a thread's teardown its counters may already be gone.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for PerThreadCount {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
            count_allocation();
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
            count_allocation();
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: PerThreadCount = PerThreadCount;

/// The most a parse may hold at once beyond what was held before it: a fixed allowance
/// (buffers, a schema) plus a constant factor of the input. A parser that expands entities,
/// copies per nesting level or grows without bound breaks it.
const FIXED_ALLOWANCE: isize = 2 << 20;
const PER_INPUT_BYTE: isize = 64;

fn bounded<R>(input: &[u8], parse: impl FnOnce() -> R) -> R {
    let before = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(before));
    let out = parse();
    let used = PEAK.with(Cell::get) - before;
    let limit = FIXED_ALLOWANCE + PER_INPUT_BYTE * input.len() as isize;
    assert!(
        used <= limit,
        "parsing {} bytes held {used} bytes at its peak (limit {limit})",
        input.len()
    );
    out
}

const IDOC: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DEBMAS07><IDOC BEGIN=\"1\">\
<EDI_DC40 SEGMENT=\"1\"><TABNAM>EDI_DC40</TABNAM><MANDT>100</MANDT><DOCNUM>0000000000000001</DOCNUM>\
<DIRECT>2</DIRECT><IDOCTYP>DEBMAS07</IDOCTYP><MESTYP>DEBMAS</MESTYP><SNDPOR>SAPECC</SNDPOR>\
<SNDPRT>LS</SNDPRT><SNDPRN>ECCCLNT100</SNDPRN><CREDAT>20261101</CREDAT><CRETIM>100000</CRETIM></EDI_DC40>\
<E1KNA1M SEGMENT=\"1\"><MSGFN>009</MSGFN><KUNNR>0000000001</KUNNR><NAME1>Acme GmbH</NAME1>\
<LAND1>DE</LAND1><E1KNB1M SEGMENT=\"1\"><MSGFN>009</MSGFN><BUKRS>1010</BUKRS><ZTERM>NT30</ZTERM>\
</E1KNB1M><E1KNVVM SEGMENT=\"1\"><MSGFN>009</MSGFN><VKORG>1010</VKORG><VTWEG>10</VTWEG>\
<SPART>00</SPART><WAERS>EUR</WAERS><ZTERM>NT30</ZTERM></E1KNVVM></E1KNA1M></IDOC>\
<IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><TABNAM>EDI_DC40</TABNAM><MANDT>100</MANDT>\
<DOCNUM>0000000000000002</DOCNUM><DIRECT>2</DIRECT><IDOCTYP>INVOIC02</IDOCTYP><MESTYP>INVOIC</MESTYP>\
<SNDPOR>SAPS4H</SNDPOR><SNDPRT>LS</SNDPRT><SNDPRN>S4HCLNT100</SNDPRN><CREDAT>20261102</CREDAT>\
<CRETIM>120000</CRETIM></EDI_DC40><E1EDK01 SEGMENT=\"1\"><CURCY>EUR</CURCY><ZTERM>NT30</ZTERM>\
<BSART>INVO</BSART><BELNR>0090001234</BELNR></E1EDK01>\
<E1EDKA1 SEGMENT=\"1\"><PARVW>RG</PARVW><PARTN>0000000001</PARTN></E1EDKA1>\
<E1EDK02 SEGMENT=\"1\"><QUALF>009</QUALF><BELNR>0090001234</BELNR><DATUM>20261015</DATUM></E1EDK02>\
<E1EDK03 SEGMENT=\"1\"><IDDAT>026</IDDAT><DATUM>20261015</DATUM></E1EDK03>\
<E1EDK14 SEGMENT=\"1\"><QUALF>011</QUALF><ORGID>1010</ORGID></E1EDK14>\
<E1EDK18 SEGMENT=\"1\"><QUALF>001</QUALF><TAGE>10</TAGE><PRZNT>2.000</PRZNT></E1EDK18>\
<E1EDK18 SEGMENT=\"1\"><QUALF>003</QUALF><TAGE>30</TAGE></E1EDK18>\
<E1EDS01 SEGMENT=\"1\"><SUMID>011</SUMID><SUMME>1190.00</SUMME><WAERQ>EUR</WAERQ></E1EDS01>\
</IDOC></DEBMAS07>\n";

const V2: &str = r#"{"d":{"results":[{"__metadata":{"etag":"W/\"1\""},"Customer":"0000000001","CreationDate":"/Date(1700000000000)/","Amount":"12.50","Flag":true}],"__count":"1","__next":"https://erp.example/sap/opu/odata/sap/API/A_Customer?$skiptoken=2","__delta":"https://erp.example/delta"}}"#;

const V4: &str = r#"{"@odata.context":"$metadata#Customers","@odata.count":1,"value":[{"@odata.etag":"W/\"2\"","Customer":"0000000001","Date":"2026-01-31","Amount":12.5}],"@odata.nextLink":"https://erp.example/next","@odata.deltaLink":"https://erp.example/delta"}"#;

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices"><m:count>1</m:count><entry m:etag="W/&quot;1&quot;"><content type="application/xml"><m:properties><d:Customer>0000000001</d:Customer><d:Blocked m:type="Edm.Boolean">false</d:Blocked></m:properties></content></entry><link rel="next" href="https://erp.example/next"/></feed>"#;

/// The properties of the page samples, so mutated values reach the value readers.
fn layout() -> std::sync::Arc<erpsync::erp::odata::Layout> {
    std::sync::Arc::new(erpsync::erp::odata::Layout::of([
        "Customer",
        "CreationDate",
        "Amount",
        "Flag",
        "Date",
        "Blocked",
        "Name",
    ]))
}

const METADATA: &str = r#"<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx"><edmx:DataServices><Schema Namespace="API_BUSINESS_PARTNER" xmlns="http://schemas.microsoft.com/ado/2008/09/edm"><EntityType Name="A_CustomerType"><Key><PropertyRef Name="Customer"/></Key><Property Name="Customer" Type="Edm.String" MaxLength="10" Nullable="false"/><Property Name="CreationDate" Type="Edm.DateTime"/><NavigationProperty Name="to_CustomerCompany" Relationship="x" FromRole="a" ToRole="b"/></EntityType><EntityContainer Name="C" m:IsDefaultEntityContainer="true" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><EntitySet Name="A_Customer" EntityType="API_BUSINESS_PARTNER.A_CustomerType"/></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"#;

const BATCH_TYPE: &str = "multipart/mixed; boundary=batch_1";
const BATCH: &str = "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n\
--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nETag: W/\"3\"\r\n\r\n{\"d\":{\"Note\":\"1\"}}\r\n\
--changeset_1--\r\n\r\n--batch_1\r\nContent-Type: application/http\r\n\r\n\
HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nRetry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n\r\n\
{\"error\":{\"code\":\"X/1\",\"message\":{\"value\":\"bad\"}}}\r\n--batch_1--\r\n";

/// SOAP answers as the dispute-case service sends them (built by the same module the
/// mock ERP answers with).
fn soap_read_answer() -> String {
    dispute_case::build_read_response(
        SoapVersion::V11,
        &ReadResponse {
            case: None,
            log: vec![LogItem::new("FDM/001", Severity::Warning, "case not found")],
        },
    )
}

fn soap_update_answer() -> String {
    dispute_case::build_update_response(
        SoapVersion::V12,
        &UpdateResponse {
            case_id: Some("100000001".into()),
            change_state_id: Some("20260131100000.0000000".into()),
            status_code: Some("OPEN".into()),
            log: vec![LogItem::new("FDM/002", Severity::Information, "updated")],
        },
        false,
    )
}

const T052: &str = "\
ZTERM,ZTAGG,ZDART,ZFAEL,ZMONA,ZTAG1,ZPRZ1,ZSTG1,ZSMN1,ZTAG2,ZPRZ2,ZSTG2,ZSMN2,ZTAG3,ZSTG3,ZSMN3,TEXT1
NT30,00,B,00,00,000,0.000,00,00,000,0.000,00,00,030,00,00,Net 30
ZB01,00,B,00,00,014,3.000,00,00,030,2.000,00,00,045,00,00,3% 14 / 2% 30 / net 45
";

const REGISTER: &str = "\
contract_id,customer,company_code,sales_org,distribution_channel,division,payment_terms,credit_limit,currency,billing_name,billing_street,billing_city,billing_postal_code,billing_country,valid_from,valid_to
K-1,0000004711,1010,,,,NT60,50000.00,EUR,Acme,Hauptstr. 5,Köln,50667,DE,2026-01-01,2030-12-31
K-2,0000004712,1010,1010,10,00,2% 10 days net 30,,EUR,,,,,,2026-01-01,
";

const TERMS: &[&str] = &[
    "2% 10 days, net 30",
    "2% 10 days, 1% 20 days, net 45",
    "2% within 10 days, net 30 from document date",
    "net 30 after end of month",
    "发票后60天付款",
];

/// Random bytes, or a valid sample with a few bytes changed, cut, repeated or dropped.
fn input(sample: impl Into<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let sample: Vec<u8> = sample.into();
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..5), 1..8);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        edits.prop_map(move |edits| mutate(&sample, &edits)),
    ]
}

fn mutate(sample: &[u8], edits: &[(prop::sample::Index, u8, u8)]) -> Vec<u8> {
    let mut out = sample.to_vec();
    for (at, byte, op) in edits {
        if out.is_empty() {
            out.push(*byte);
            continue;
        }
        let i = at.index(out.len());
        match op {
            0 => out[i] = *byte,
            1 => out.insert(i, *byte),
            2 => {
                out.remove(i);
            }
            3 => out.truncate(i),
            _ => {
                // A stretch repeated: deeper nesting, longer values, doubled elements.
                let end = (i + 1 + *byte as usize).min(out.len());
                let piece = out[i..end].to_vec();
                out.splice(i..i, piece);
            }
        }
    }
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An error must say something.
fn clear<T, E: std::fmt::Display>(r: Result<T, E>) {
    if let Err(e) = r {
        assert!(
            !e.to_string().trim().is_empty(),
            "an error without a message"
        );
    }
}

fn idoc(bytes: &[u8], translator: &Translator) {
    let mut reader = IdocReader::new(BufReader::new(bytes), translator.wanted_segments());
    loop {
        match reader.next_idoc() {
            Ok(Some(raw)) => clear(translator.translate(&raw)),
            Ok(None) => break,
            Err(fault) => {
                assert!(!fault.to_string().is_empty());
                break;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_idoc_reader_and_translator(bytes in input(IDOC.as_bytes())) {
        bounded(&bytes, || idoc(&bytes, &Translator::builtin()));
    }

    #[test]
    fn odata_v2_json_pages(bytes in input(V2.as_bytes())) {
        let l = layout();
        bounded(&bytes, || clear(json::parse_page(&bytes, &l)));
    }

    #[test]
    fn odata_v4_json_pages(bytes in input(V4.as_bytes())) {
        let l = layout();
        bounded(&bytes, || clear(json::parse_page(&bytes, &l)));
    }

    #[test]
    fn atom_pages(bytes in input(ATOM.as_bytes())) {
        let l = layout();
        bounded(&bytes, || clear(atom::parse_feed(&bytes, &l)));
    }

    #[test]
    fn metadata_documents(bytes in input(METADATA.as_bytes())) {
        bounded(&bytes, || clear(metadata::parse(&text(&bytes))));
    }

    #[test]
    fn batch_answers(bytes in input(BATCH.as_bytes()), writes in 0usize..4) {
        bounded(&bytes, || clear(batch::parse_response(BATCH_TYPE, &text(&bytes), writes)));
    }

    #[test]
    fn soap_read_answers(bytes in input(soap_read_answer())) {
        bounded(&bytes, || clear(dispute_case::parse_read_response(&text(&bytes))));
    }

    #[test]
    fn soap_update_answers(bytes in input(soap_update_answer())) {
        bounded(&bytes, || clear(dispute_case::parse_update_response(&text(&bytes))));
    }

    #[test]
    fn t052_csv(bytes in input(T052.as_bytes())) {
        bounded(&bytes, || clear(t052::parse(bytes.as_slice())));
    }

    #[test]
    fn contract_csv(bytes in input(REGISTER.as_bytes())) {
        bounded(&bytes, || clear(register::read(bytes.as_slice(), "fuzz.csv")));
    }

    #[test]
    fn payment_terms_text(pick in 0..TERMS.len(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..5), 1..8), random in ".{0,64}") {
        let mutated = mutate(TERMS[pick].as_bytes(), &edits);
        bounded(&mutated, || clear(terms_text::parse(&text(&mutated))));
        bounded(random.as_bytes(), || clear(terms_text::parse(&random)));
    }
}

/// The samples are read as they are, so their mutations reach deep into each parser.
#[test]
fn the_samples_are_valid() {
    json::parse_page(V2.as_bytes(), &layout()).unwrap();
    json::parse_page(V4.as_bytes(), &layout()).unwrap();
    atom::parse_feed(ATOM.as_bytes(), &layout()).unwrap();
    metadata::parse(METADATA).unwrap();
    batch::parse_response(BATCH_TYPE, BATCH, 2).unwrap();
    dispute_case::parse_read_response(&soap_read_answer()).unwrap();
    dispute_case::parse_update_response(&soap_update_answer()).unwrap();
    t052::parse(T052.as_bytes()).unwrap();
    register::read(REGISTER.as_bytes(), "sample.csv").unwrap();
    for t in TERMS {
        terms_text::parse(t).unwrap();
    }
    let translator = Translator::builtin();
    let mut reader = IdocReader::new(
        BufReader::new(IDOC.as_bytes()),
        translator.wanted_segments(),
    );
    while let Some(raw) = reader.next_idoc().unwrap() {
        translator.translate(&raw).unwrap();
    }
}

/// Entity expansion ("billion laughs"), deep nesting and one huge value: each a few
/// kilobytes that a careless parser turns into gigabytes or a stack overflow.
#[test]
fn crafted_bombs_stay_small() {
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    laughs.push_str("]>");
    let idoc_bomb = format!(
        "{laughs}<DEBMAS07><IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><DOCNUM>1</DOCNUM></EDI_DC40><E1KNA1M SEGMENT=\"1\"><KUNNR>1</KUNNR><NAME1>&lol9;</NAME1></E1KNA1M></IDOC></DEBMAS07>"
    );
    bounded(idoc_bomb.as_bytes(), || {
        idoc(idoc_bomb.as_bytes(), &Translator::builtin())
    });
    let atom_bomb = format!(
        "{laughs}<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><content><m:properties xmlns:m=\"m\" xmlns:d=\"d\"><d:Name>&lol9;</d:Name></m:properties></content></entry></feed>"
    );
    let l = layout();
    bounded(atom_bomb.as_bytes(), || {
        clear(atom::parse_feed(atom_bomb.as_bytes(), &l))
    });
    let metadata_bomb = format!(
        "{laughs}{}",
        &METADATA[METADATA.find("<edmx:Edmx").unwrap()..]
    )
    .replace("Name=\"A_Customer\"", "Name=\"&lol9;\"");
    bounded(metadata_bomb.as_bytes(), || {
        clear(metadata::parse(&metadata_bomb))
    });
    let soap_bomb = format!(
        "{laughs}{}",
        soap_read_answer().replace("case not found", "&lol9;")
    );
    bounded(soap_bomb.as_bytes(), || {
        clear(dispute_case::parse_read_response(&soap_bomb))
    });

    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let l = layout();
    bounded(deep_json.as_bytes(), || {
        clear(json::parse_page(deep_json.as_bytes(), &l))
    });
    let deep_xml = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\">{}{}</feed>",
        "<entry>".repeat(50_000),
        "</entry>".repeat(50_000)
    );
    let l = layout();
    bounded(deep_xml.as_bytes(), || {
        clear(atom::parse_feed(deep_xml.as_bytes(), &l))
    });
    let huge_value = V2.replace("Acme", &"A".repeat(8 << 20));
    let l = layout();
    bounded(huge_value.as_bytes(), || {
        clear(json::parse_page(huge_value.as_bytes(), &l))
    });
}

/// The pull's hot path: a page is decoded without an allocation per entity or per field.
/// 2,000 entities of 12 properties (V2 `__metadata`, a deferred link, an escaped string),
/// 7 of them kept, take a few dozen allocations (the page's buffers growing, the first
/// entity's keys), where a map per entity took tens of thousands.
#[test]
fn a_page_decodes_without_an_allocation_per_entity_or_field() {
    let entity = |i: usize| {
        format!(
            r#"{{"__metadata":{{"id":"x","uri":"x","type":"T","etag":"W/\"{i}\""}},"Customer":"{i:010}","CreationDate":"/Date(1700000000000)/","Amount":"12.50","Flag":true,"Date":"2026-01-31","Blocked":false,"Other1":"a","Other2":"b","Other3":{{"__deferred":{{"uri":"x"}}}},"Other4":null,"Name":"N\u00e4me {i}"}}"#
        )
    };
    let entities: Vec<String> = (0..2000).map(entity).collect();
    let body = format!(
        r#"{{"d":{{"results":[{}],"__count":"2000"}}}}"#,
        entities.join(",")
    );
    let l = layout();
    let before = ALLOCS.with(Cell::get);
    let page = json::parse_page(body.as_bytes(), &l).unwrap();
    let allocations = ALLOCS.with(Cell::get) - before;
    assert_eq!(page.len(), 2000);
    let last = page.entities().last().unwrap();
    assert_eq!(
        last.property("Name"),
        Some(erpsync::erp::odata::page::Field::Text("Näme 1999"))
    );
    assert_eq!(last.etag(), Some("W/\"1999\""));
    assert!(
        allocations < 200,
        "{allocations} allocations to decode 2,000 entities"
    );
}
