//! IDoc XML inbound: DEBMAS customer masters and INVOIC invoices from fixtures written here
//! (every mapped segment, several IDocs per file, re-sends, out-of-order arrivals, each kind
//! of bad input), SAP's public INVOIC02 sample from ../shared, the `idoc import` command,
//! `sync` picking up the inbox, and reconciliation flagging an invoice billed on terms
//! other than the contract's.

mod common;
#[path = "idoc/contracts.rs"]
mod contracts;
#[path = "idoc/service.rs"]
mod service;

use chrono::{NaiveDate, Utc};
use common::config::token;
use common::postgres;
use common::ErpsyncToml;
use erpsync::erp::idoc::Translator;
use erpsync::model::{Contract, ContractScope, CustomerId, Rule};
use erpsync::store::{OpenItemFilter, SharedStore};
use erpsync::sync::idoc_inbox::{FileReport, IdocImporter};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;

// ------------------------------------------------------------------ fixtures

fn control(docnum: &str, idoc_type: &str, mestyp: &str, credat: &str, cretim: &str) -> String {
    format!(
        "<EDI_DC40 SEGMENT=\"1\"><TABNAM>EDI_DC40</TABNAM><MANDT>100</MANDT><DOCNUM>{docnum}</DOCNUM>\
         <DIRECT>2</DIRECT><IDOCTYP>{idoc_type}</IDOCTYP><MESTYP>{mestyp}</MESTYP>\
         <SNDPOR>SAPS4H</SNDPOR><SNDPRT>LS</SNDPRT><SNDPRN>S4HCLNT100</SNDPRN>\
         <CREDAT>{credat}</CREDAT><CRETIM>{cretim}</CRETIM></EDI_DC40>"
    )
}

struct Debmas<'a> {
    docnum: &'a str,
    idoc_type: &'a str,
    credat: &'a str,
    cretim: &'a str,
    msgfn: &'a str,
    customer: &'a str,
    name: &'a str,
    cc_terms: &'a str,
    sa_terms: &'a str,
    extra: &'a str,
}

impl Default for Debmas<'_> {
    fn default() -> Self {
        Debmas {
            docnum: "0000000000100001",
            idoc_type: "DEBMAS07",
            credat: "20261101",
            cretim: "100000",
            msgfn: "009",
            customer: "0000004711",
            name: "Müller & Söhne GmbH",
            cc_terms: "NT30",
            sa_terms: "NT30",
            extra: "",
        }
    }
}

fn debmas(d: &Debmas) -> String {
    format!(
        "<IDOC BEGIN=\"1\">{}<E1KNA1M SEGMENT=\"1\"><MSGFN>{}</MSGFN><KUNNR>{}</KUNNR>\
         <NAME1>{}</NAME1><STRAS>Hauptstraße 5</STRAS><ORT01>Köln</ORT01><PSTLZ>50667</PSTLZ>\
         <LAND1>DE</LAND1><SPERR></SPERR><LOEVM></LOEVM>\
         <E1KNB1M SEGMENT=\"1\"><MSGFN>{}</MSGFN><BUKRS>1010</BUKRS><ZTERM>{}</ZTERM>\
         <AKONT>0012100000</AKONT><BUSAB>01</BUSAB>\
         <E1KNB5M SEGMENT=\"1\"><MSGFN>{}</MSGFN><MAABER></MAABER><MAHNA>0001</MAHNA></E1KNB5M>\
         </E1KNB1M>\
         <E1KNVVM SEGMENT=\"1\"><MSGFN>{}</MSGFN><VKORG>1010</VKORG><VTWEG>10</VTWEG><SPART>00</SPART>\
         <WAERS>EUR</WAERS><KKBER>1000</KKBER><ZTERM>{}</ZTERM></E1KNVVM>\
         <E1KNVKM SEGMENT=\"1\"><MSGFN>{}</MSGFN><PARNR>0000000042</PARNR><NAMEV>Ana</NAMEV>\
         <NAME1>Lopes</NAME1><ABTNR>0003</ABTNR><PAFKT>05</PAFKT><TELF1>+49 221 1234</TELF1></E1KNVKM>\
         {}</E1KNA1M></IDOC>",
        control(d.docnum, d.idoc_type, "DEBMAS", d.credat, d.cretim),
        d.msgfn,
        d.customer,
        d.name.replace('&', "&amp;"),
        d.msgfn,
        d.cc_terms,
        d.msgfn,
        d.msgfn,
        d.sa_terms,
        d.msgfn,
        d.extra,
    )
}

struct Invoic<'a> {
    docnum: &'a str,
    credat: &'a str,
    belnr: &'a str,
    payer: &'a str,
    date: &'a str,
    total: &'a str,
    zterm: &'a str,
    bsart: &'a str,
    tiers: &'a str,
}

impl Default for Invoic<'_> {
    fn default() -> Self {
        Invoic {
            docnum: "0000000000200001",
            credat: "20261102",
            belnr: "0090001234",
            payer: "4711",
            date: "20261015",
            total: "1190.00",
            zterm: "NT30",
            bsart: "INVO",
            tiers: "<E1EDK18 SEGMENT=\"1\"><QUALF>001</QUALF><TAGE>10</TAGE><PRZNT>2.000</PRZNT></E1EDK18>\
                    <E1EDK18 SEGMENT=\"1\"><QUALF>003</QUALF><TAGE>30</TAGE></E1EDK18>",
        }
    }
}

fn invoic(i: &Invoic) -> String {
    format!(
        "<IDOC BEGIN=\"1\">{}<E1EDK01 SEGMENT=\"1\"><CURCY>EUR</CURCY><ZTERM>{}</ZTERM>\
         <BSART>{}</BSART><BELNR>{}</BELNR></E1EDK01>\
         <E1EDKA1 SEGMENT=\"1\"><PARVW>AG</PARVW><PARTN>0000009999</PARTN></E1EDKA1>\
         <E1EDKA1 SEGMENT=\"1\"><PARVW>RG</PARVW><PARTN>{}</PARTN></E1EDKA1>\
         <E1EDK02 SEGMENT=\"1\"><QUALF>009</QUALF><BELNR>{}</BELNR><DATUM>{}</DATUM></E1EDK02>\
         <E1EDK03 SEGMENT=\"1\"><IDDAT>026</IDDAT><DATUM>{}</DATUM></E1EDK03>\
         <E1EDK14 SEGMENT=\"1\"><QUALF>011</QUALF><ORGID>1010</ORGID></E1EDK14>\
         {}\
         <E1EDP01 SEGMENT=\"1\"><POSEX>000010</POSEX><MENGE>1</MENGE></E1EDP01>\
         <E1EDS01 SEGMENT=\"1\"><SUMID>010</SUMID><SUMME>1000.00</SUMME></E1EDS01>\
         <E1EDS01 SEGMENT=\"1\"><SUMID>011</SUMID><SUMME>{}</SUMME><WAERQ>EUR</WAERQ></E1EDS01>\
         </IDOC>",
        control(i.docnum, "INVOIC02", "INVOIC", i.credat, "120000"),
        i.zterm,
        i.bsart,
        i.belnr,
        i.payer,
        i.belnr,
        i.date,
        i.date,
        i.tiers,
        i.total,
    )
}

fn file(root: &str, idocs: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}>\n{}\n</{root}>\n",
        idocs.join("\n")
    )
}

// ------------------------------------------------------------------ harness

struct Inbox {
    dir: tempfile::TempDir,
    store: SharedStore,
    importer: IdocImporter,
}

impl Inbox {
    /// An inbox whose store knows SAP's standard payment-terms keys, for tests that
    /// reconcile what they import.
    async fn with_standard_terms() -> Inbox {
        let t = Inbox::new().await;
        t.store
            .upsert_payment_terms(&erpsync::erp::t052::standard_terms())
            .await
            .unwrap();
        t
    }

    async fn new() -> Inbox {
        let dir = tempfile::tempdir().unwrap();
        let store = common::sqlite_store(dir.path(), "erpsync.db").await;
        std::fs::create_dir_all(dir.path().join("inbox")).unwrap();
        let importer = IdocImporter::new(store.clone(), Translator::builtin());
        Inbox {
            dir,
            store,
            importer,
        }
    }

    fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    fn drop_file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.inbox().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    async fn import(&self, name: &str, text: &str) -> FileReport {
        let p = self.drop_file(name, text);
        self.importer.import_file(&p).await.unwrap()
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.inbox().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    async fn company_terms(&self, customer: &str) -> Option<String> {
        let c = self
            .store
            .customer(&CustomerId::parse(customer).unwrap())
            .await
            .unwrap()
            .expect("customer stored");
        c.company_codes[0].payment_terms.clone()
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn debmas_and_invoic_segments_land_in_the_model_and_are_acknowledged() {
    let t = Inbox::new().await;
    let text = file(
        "DEBMAS07",
        &[
            debmas(&Debmas::default()),
            debmas(&Debmas {
                docnum: "0000000000100002",
                idoc_type: "DEBMAS06",
                customer: "4712",
                name: "Second AG",
                cc_terms: "NT45",
                sa_terms: "0001",
                ..Debmas::default()
            }),
            invoic(&Invoic::default()),
            invoic(&Invoic {
                docnum: "0000000000200002",
                belnr: "0090001235",
                bsart: "CRME",
                total: "119.00",
                tiers: "",
                ..Invoic::default()
            }),
        ],
    );
    let r = t.import("O_100_0000000000100001.xml", &text).await;
    assert_eq!(
        (r.applied, r.duplicates, r.superseded, r.quarantined),
        (4, 0, 0, 0),
        "{r:?}"
    );
    assert!(!r.file_quarantined);

    let c = t
        .store
        .customer(&CustomerId::parse("4711").unwrap())
        .await
        .unwrap()
        .expect("customer 4711 stored");
    assert_eq!(c.general.name, "Müller & Söhne GmbH");
    let addr = c.general.address.as_ref().expect("address from E1KNA1M");
    assert_eq!(
        (
            addr.street.as_str(),
            addr.city.as_str(),
            addr.postal_code.as_str(),
            addr.country.as_str()
        ),
        ("Hauptstraße 5", "Köln", "50667", "DE")
    );
    assert!(!c.general.deletion_flag && !c.general.posting_block);
    let cc = &c.company_codes[0];
    assert_eq!(cc.company_code, "1010");
    assert_eq!(cc.payment_terms.as_deref(), Some("NT30"));
    assert_eq!(cc.reconciliation_account.as_deref(), Some("0012100000"));
    assert_eq!(cc.accounting_clerk.as_deref(), Some("01"));
    assert_eq!(cc.dunning_procedure.as_deref(), Some("0001"));
    let sa = &c.sales_areas[0];
    assert_eq!(sa.area.to_string(), "1010/10/00");
    assert_eq!(sa.payment_terms.as_deref(), Some("NT30"));
    assert_eq!(sa.currency.as_deref(), Some("EUR"));
    assert_eq!(sa.credit_control_area.as_deref(), Some("1000"));
    let contacts = t
        .store
        .customer_contacts(&CustomerId::parse("4711").unwrap())
        .await
        .unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].contact, "0000000042");
    assert_eq!(contacts[0].first_name.as_deref(), Some("Ana"));
    assert_eq!(contacts[0].phone.as_deref(), Some("+49 221 1234"));
    assert_eq!(t.company_terms("4712").await.as_deref(), Some("NT45"));

    let items = t
        .store
        .list_open_items(&OpenItemFilter::default())
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    let inv = items
        .iter()
        .find(|i| i.key.document == "0090001234")
        .unwrap();
    assert_eq!(inv.key.to_string(), "1010/2026/0090001234/001");
    assert_eq!(
        inv.customer.as_str(),
        "0000004711",
        "payer RG, not sold-to AG"
    );
    assert_eq!(inv.amount, dec("1190.00"));
    assert_eq!(inv.currency, "EUR");
    assert_eq!(inv.payment_terms.as_deref(), Some("NT30"));
    assert_eq!(
        inv.document_date,
        NaiveDate::from_ymd_opt(2026, 10, 15).unwrap()
    );
    assert_eq!(inv.applied.discount1_days, Some(10));
    assert_eq!(inv.applied.discount1_percent, Some(dec("2.000")));
    assert_eq!(inv.applied.net_days, Some(30));
    assert_eq!(inv.net_due_date, NaiveDate::from_ymd_opt(2026, 11, 14));
    let credit = items
        .iter()
        .find(|i| i.key.document == "0090001235")
        .unwrap();
    assert_eq!(
        credit.amount,
        dec("-119.00"),
        "a CRME credit memo is negative"
    );
    assert_eq!(credit.net_due_date, Some(credit.baseline_date));

    // The file moved to processed/, acknowledged per IDoc with status 53.
    assert!(!t.inbox().join("O_100_0000000000100001.xml").exists());
    assert!(t
        .inbox()
        .join("processed/O_100_0000000000100001.xml")
        .is_file());
    let ack = t.read("processed/O_100_0000000000100001.xml.ack.xml");
    assert_eq!(ack.matches("<STATUS>53</STATUS>").count(), 4, "{ack}");
    assert!(ack.contains("<DOCNUM>0000000000100002</DOCNUM>"));
    assert!(ack.contains("<IDOCTYP>SYSTAT01</IDOCTYP>"));
}

#[tokio::test]
async fn a_resent_idoc_is_applied_once() {
    let t = Inbox::new().await;
    let text = file(
        "DEBMAS07",
        &[debmas(&Debmas::default()), invoic(&Invoic::default())],
    );
    let first = t.import("a.xml", &text).await;
    assert_eq!(first.applied, 2);
    // SAP resends the same IDocs (same DOCNUM, here written without leading zeros) in a
    // file of the same name; a changed payload must not be applied either.
    let resent = text
        .replace("0000000000100001", "100001")
        .replace("Müller &amp; Söhne GmbH", "Changed Name");
    let again = t.import("a.xml", &resent).await;
    assert_eq!((again.applied, again.duplicates), (0, 2), "{again:?}");
    let c = t
        .store
        .customer(&CustomerId::parse("4711").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.general.name, "Müller & Söhne GmbH");
    // Nothing is overwritten: the second file of the same name is kept beside the first.
    assert!(t.inbox().join("processed/a.xml").is_file());
    assert!(t.inbox().join("processed/a.xml.1").is_file());
    let ack = t.read("processed/a.xml.1.ack.xml");
    assert!(ack.contains("already applied"), "{ack}");
    let rec = t
        .store
        .idoc_record("0000000000100001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rec.status.as_str(), rec.source.as_str()), ("53", "a.xml"));
}

#[tokio::test]
async fn the_newest_idoc_wins_whatever_order_files_arrive_in() {
    let t = Inbox::new().await;
    let newer = Debmas {
        docnum: "0000000000100009",
        credat: "20261103",
        cretim: "080000",
        msgfn: "004",
        cc_terms: "NT45",
        ..Debmas::default()
    };
    let older = Debmas {
        docnum: "0000000000100005",
        credat: "20261102",
        cretim: "235959",
        msgfn: "004",
        cc_terms: "NT30",
        ..Debmas::default()
    };
    let r = t
        .import("newer.xml", &file("DEBMAS07", &[debmas(&newer)]))
        .await;
    assert_eq!(r.applied, 1);
    let r = t
        .import("older.xml", &file("DEBMAS07", &[debmas(&older)]))
        .await;
    assert_eq!((r.applied, r.superseded), (0, 1), "{r:?}");
    assert_eq!(t.company_terms("4711").await.as_deref(), Some("NT45"));
    let rec = t
        .store
        .idoc_record("0000000000100005")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, "53");
    assert!(rec.note.unwrap().contains("0000000000100009"));
    assert!(t.read("processed/older.xml.ack.xml").contains("superseded"));
    assert_eq!(
        t.store
            .idoc_current("DEBMAS:0000004711")
            .await
            .unwrap()
            .as_deref(),
        Some("0000000000100009")
    );

    // Same creation second: the higher DOCNUM is the newer IDoc, in either order and even
    // within one file.
    let a = Debmas {
        docnum: "0000000000100020",
        credat: "20261110",
        cretim: "090000",
        cc_terms: "NT30",
        ..Debmas::default()
    };
    let b = Debmas {
        docnum: "0000000000100021",
        cc_terms: "0001",
        ..a
    };
    let r = t
        .import("tie.xml", &file("DEBMAS07", &[debmas(&b), debmas(&a)]))
        .await;
    assert_eq!((r.applied, r.superseded), (1, 1), "{r:?}");
    assert_eq!(t.company_terms("4711").await.as_deref(), Some("0001"));
}

#[tokio::test]
async fn message_function_delete_flags_and_keeps() {
    let t = Inbox::new().await;
    t.import(
        "create.xml",
        &file("DEBMAS07", &[debmas(&Debmas::default())]),
    )
    .await;
    let delete = Debmas {
        docnum: "0000000000100003",
        credat: "20261105",
        msgfn: "003",
        ..Debmas::default()
    };
    let r = t
        .import("delete.xml", &file("DEBMAS07", &[debmas(&delete)]))
        .await;
    assert_eq!(r.applied, 1);
    let c = t
        .store
        .customer(&CustomerId::parse("4711").unwrap())
        .await
        .unwrap()
        .expect("a deleted customer is kept, flagged");
    assert!(c.general.deletion_flag);
    assert!(c.company_codes[0].deletion_flag);
    assert!(c.sales_areas[0].deletion_flag);
    let contacts = t
        .store
        .customer_contacts(&CustomerId::parse("4711").unwrap())
        .await
        .unwrap();
    assert!(contacts[0].deleted);
}

#[tokio::test]
async fn bad_idocs_are_quarantined_and_the_good_ones_of_the_file_applied() {
    let t = Inbox::new().await;
    let good = debmas(&Debmas::default());
    let unknown_type = debmas(&Debmas {
        docnum: "0000000000100101",
        idoc_type: "DEBMAS99",
        ..Debmas::default()
    });
    let missing_segment = format!(
        "<IDOC BEGIN=\"1\">{}</IDOC>",
        control(
            "0000000000100102",
            "DEBMAS07",
            "DEBMAS",
            "20261101",
            "100000"
        )
    );
    let bad_date = invoic(&Invoic {
        docnum: "0000000000200103",
        belnr: "0090005555",
        date: "20261345",
        ..Invoic::default()
    });
    let bad_number = invoic(&Invoic {
        docnum: "0000000000200104",
        belnr: "0090009999",
        total: "1.190,00",
        ..Invoic::default()
    });
    let bad_msgfn = debmas(&Debmas {
        docnum: "0000000000100105",
        customer: "4799",
        msgfn: "777",
        ..Debmas::default()
    });
    let good_invoice = invoic(&Invoic {
        docnum: "0000000000200106",
        ..Invoic::default()
    });
    let text = file(
        "DEBMAS07",
        &[
            good,
            unknown_type,
            missing_segment,
            bad_date,
            bad_number,
            bad_msgfn,
            good_invoice,
        ],
    );
    let r = t.import("mixed.xml", &text).await;
    assert_eq!((r.applied, r.quarantined), (2, 5), "{r:?}");
    assert!(!r.file_quarantined);
    assert!(t.inbox().join("processed/mixed.xml").is_file());

    let err = |n: u32| t.read(&format!("quarantine/mixed.xml.{n}.xml.error.txt"));
    let e = err(2);
    assert!(e.contains("file: mixed.xml"), "{e}");
    assert!(e.contains("DOCNUM: 0000000000100101"), "{e}");
    assert!(
        e.contains("field: IDOCTYP") && e.contains("DEBMAS99"),
        "{e}"
    );
    let e = err(3);
    assert!(
        e.contains("segment: E1KNA1M") && e.contains("missing mandatory segment"),
        "{e}"
    );
    let e = err(4);
    assert!(
        e.contains("DOCNUM: 0000000000200103")
            && e.contains("segment: E1EDK02")
            && e.contains("field: DATUM")
            && e.contains("20261345"),
        "{e}"
    );
    let e = err(5);
    assert!(
        e.contains("segment: E1EDS01") && e.contains("field: SUMME") && e.contains("1.190,00"),
        "{e}"
    );
    let e = err(6);
    assert!(e.contains("field: MSGFN") && e.contains("777"), "{e}");
    // The quarantined IDoc is a file of its own, fixable and re-droppable.
    let q = t.read("quarantine/mixed.xml.4.xml");
    assert!(
        q.starts_with("<?xml") && q.contains("<DOCNUM>0000000000200103</DOCNUM>"),
        "{q}"
    );
    assert!(
        !q.contains("0000000000100001"),
        "only the rejected IDoc: {q}"
    );
    let fixed = q.replace("20261345", "20261020");
    let r = t.import("fixed.xml", &fixed).await;
    assert_eq!(
        r.applied, 1,
        "a fixed IDoc with the same DOCNUM is applied: {r:?}"
    );

    let ack = t.read("processed/mixed.xml.ack.xml");
    assert_eq!(ack.matches("<STATUS>53</STATUS>").count(), 2, "{ack}");
    assert_eq!(ack.matches("<STATUS>51</STATUS>").count(), 5, "{ack}");
    assert!(ack.contains("<SEGFLD>SUMME</SEGFLD>"));
    // Nothing was stored for a rejected IDoc.
    assert!(t
        .store
        .idoc_record("0000000000200104")
        .await
        .unwrap()
        .is_none());
    assert!(t
        .store
        .customer(&CustomerId::parse("4799").unwrap())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn broken_xml_quarantines_the_file() {
    let t = Inbox::new().await;
    let good = debmas(&Debmas::default());
    let text = format!("<DEBMAS07>{good}<IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><DOCNUM>1</DOC></EDI_DC40></IDOC></DEBMAS07>");
    let r = t.import("broken.xml", &text).await;
    assert!(r.file_quarantined, "{r:?}");
    assert_eq!(
        r.applied, 1,
        "the complete IDoc before the break is applied"
    );
    assert!(t.inbox().join("quarantine/broken.xml").is_file());
    assert!(!t.inbox().join("processed/broken.xml").exists());
    let e = t.read("quarantine/broken.xml.error.txt");
    assert!(
        e.contains("file: broken.xml") && e.contains("malformed XML"),
        "{e}"
    );
    assert!(t
        .read("quarantine/broken.xml.ack.xml")
        .contains("<STATUS>53</STATUS>"));
}

#[tokio::test]
async fn billion_laughs_is_refused_at_once() {
    let t = Inbox::new().await;
    let mut bomb =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    bomb.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..=9 {
        bomb.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    bomb.push_str("]>\n<DEBMAS07><IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><DOCNUM>&lol9;</DOCNUM></EDI_DC40></IDOC></DEBMAS07>\n");
    let started = std::time::Instant::now();
    let r = t.import("lol.xml", &bomb).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(r.file_quarantined && r.applied == 0, "{r:?}");
    assert!(t.read("quarantine/lol.xml.error.txt").contains("DTD"));
    // An entity reference without a DTD is not expanded either.
    let r = t
        .import(
            "entity.xml",
            "<DEBMAS07><IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><DOCNUM>&ext;</DOCNUM></EDI_DC40></IDOC></DEBMAS07>",
        )
        .await;
    assert!(r.file_quarantined, "{r:?}");
}

#[tokio::test]
async fn z_segments_are_mapped_by_editing_the_mapping_file() {
    let dir = tempfile::tempdir().unwrap();
    let mappings = dir.path().join("mappings");
    std::fs::create_dir_all(&mappings).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let debmas_map = std::fs::read_to_string(root.join("idoc-debmas.toml"))
        .unwrap()
        .replace(
            "payment_terms = \"ZTERM\"\nreconciliation_account",
            "payment_terms = [\"Z1KNB1M/ZZTERM\", \"ZTERM\"]\nreconciliation_account",
        );
    assert!(debmas_map.contains("Z1KNB1M/ZZTERM"));
    std::fs::write(mappings.join("idoc-debmas.toml"), debmas_map).unwrap();
    std::fs::copy(
        root.join("idoc-invoic.toml"),
        mappings.join("idoc-invoic.toml"),
    )
    .unwrap();
    let translator = IdocImporter::translator_for(dir.path()).unwrap();

    let t = Inbox::new().await;
    let importer = IdocImporter::new(t.store.clone(), translator);
    let xml = file("DEBMAS07", &[debmas(&Debmas::default())]).replace(
        "</E1KNB5M>",
        "</E1KNB5M><Z1KNB1M SEGMENT=\"1\"><ZZTERM>Z215</ZZTERM></Z1KNB1M>",
    );
    let p = t.drop_file("z.xml", &xml);
    let r = importer.import_file(&p).await.unwrap();
    assert_eq!(r.applied, 1, "{r:?}");
    assert_eq!(t.company_terms("4711").await.as_deref(), Some("Z215"));
}
