//! IDoc import benchmark: generates an IDoc XML file (DEBMAS07 customer masters and INVOIC02
//! invoices with items, as an SAP XML file port would write them) in a temporary folder,
//! imports it into a fresh SQLite store through the library, and prints MB/s, IDocs/s and
//! the process's peak RSS (VmHWM from /proc/self/status).
//!
//!     cargo bench --bench idoc_import              # 1 GB (1024 MB)
//!     cargo bench --bench idoc_import -- 64        # 64 MB
//!     IDOC_BENCH_MB=64 cargo bench --bench idoc_import

use erpsync::erp::idoc::Translator;
use erpsync::store;
use erpsync::sync::idoc_inbox::IdocImporter;
use std::io::{BufWriter, Write};
use std::time::Instant;

fn control(w: &mut impl Write, docnum: u64, idoc_type: &str, mestyp: &str) -> std::io::Result<()> {
    write!(
        w,
        "\t\t<EDI_DC40 SEGMENT=\"1\">\n\t\t\t<TABNAM>EDI_DC40</TABNAM>\n\t\t\t<MANDT>100</MANDT>\n\
         \t\t\t<DOCNUM>{docnum:016}</DOCNUM>\n\t\t\t<DOCREL>756</DOCREL>\n\t\t\t<STATUS>30</STATUS>\n\
         \t\t\t<DIRECT>1</DIRECT>\n\t\t\t<OUTMOD>2</OUTMOD>\n\t\t\t<IDOCTYP>{idoc_type}</IDOCTYP>\n\
         \t\t\t<MESTYP>{mestyp}</MESTYP>\n\t\t\t<SNDPOR>SAPS4H</SNDPOR>\n\t\t\t<SNDPRT>LS</SNDPRT>\n\
         \t\t\t<SNDPRN>S4HCLNT100</SNDPRN>\n\t\t\t<RCVPOR>ERPSYNC</RCVPOR>\n\t\t\t<RCVPRT>LS</RCVPRT>\n\
         \t\t\t<RCVPRN>ERPSYNC</RCVPRN>\n\t\t\t<CREDAT>20261101</CREDAT>\n\t\t\t<CRETIM>{:06}</CRETIM>\n\
         \t\t\t<SERIAL>20261101000000</SERIAL>\n\t\t</EDI_DC40>\n",
        {
            let s = docnum % 86_400;
            (s / 3600) * 10_000 + (s / 60 % 60) * 100 + s % 60
        }
    )
}

fn debmas(w: &mut impl Write, docnum: u64, customer: u64) -> std::io::Result<()> {
    writeln!(w, "\t<IDOC BEGIN=\"1\">")?;
    control(w, docnum, "DEBMAS07", "DEBMAS")?;
    write!(
        w,
        "\t\t<E1KNA1M SEGMENT=\"1\">\n\t\t\t<MSGFN>005</MSGFN>\n\t\t\t<KUNNR>{customer:010}</KUNNR>\n\
         \t\t\t<ANRED>Company</ANRED>\n\t\t\t<BBBNR>0000000</BBBNR>\n\t\t\t<BBSNR>00000</BBSNR>\n\
         \t\t\t<BUBKZ>0</BUBKZ>\n\t\t\t<KTOKD>KUNA</KTOKD>\n\t\t\t<LAND1>DE</LAND1>\n\
         \t\t\t<NAME1>Customer {customer} GmbH &amp; Co. KG</NAME1>\n\t\t\t<ORT01>Walldorf</ORT01>\n\
         \t\t\t<PSTLZ>69190</PSTLZ>\n\t\t\t<REGIO>08</REGIO>\n\t\t\t<SORTL>CUST{customer}</SORTL>\n\
         \t\t\t<STRAS>Dietmar-Hopp-Allee 16</STRAS>\n\t\t\t<TELF1>+49 6227 7{customer:06}</TELF1>\n\
         \t\t\t<SPRAS>D</SPRAS>\n\t\t\t<STCEG>DE{customer:09}</STCEG>\n\t\t\t<SPRAS_ISO>DE</SPRAS_ISO>\n\
         \t\t\t<E1KNB1M SEGMENT=\"1\">\n\t\t\t\t<MSGFN>005</MSGFN>\n\t\t\t\t<BUKRS>1010</BUKRS>\n\
         \t\t\t\t<AKONT>0012100000</AKONT>\n\t\t\t\t<ZUAWA>009</ZUAWA>\n\t\t\t\t<BUSAB>01</BUSAB>\n\
         \t\t\t\t<ZTERM>{}</ZTERM>\n\t\t\t\t<ZWELS>ET</ZWELS>\n\t\t\t\t<XZVER>X</XZVER>\n\
         \t\t\t\t<E1KNB5M SEGMENT=\"1\">\n\t\t\t\t\t<MSGFN>005</MSGFN>\n\t\t\t\t\t<MAHNA>0001</MAHNA>\n\
         \t\t\t\t\t<MAHNS>0</MAHNS>\n\t\t\t\t</E1KNB5M>\n\t\t\t</E1KNB1M>\n\
         \t\t\t<E1KNVVM SEGMENT=\"1\">\n\t\t\t\t<MSGFN>005</MSGFN>\n\t\t\t\t<VKORG>1010</VKORG>\n\
         \t\t\t\t<VTWEG>10</VTWEG>\n\t\t\t\t<SPART>00</SPART>\n\t\t\t\t<KALKS>1</KALKS>\n\
         \t\t\t\t<VERSG>1</VERSG>\n\t\t\t\t<KZAZU>X</KZAZU>\n\t\t\t\t<VSBED>01</VSBED>\n\
         \t\t\t\t<INCO1>FCA</INCO1>\n\t\t\t\t<INCO2>Walldorf</INCO2>\n\t\t\t\t<WAERS>EUR</WAERS>\n\
         \t\t\t\t<KTGRD>01</KTGRD>\n\t\t\t\t<ZTERM>NT30</ZTERM>\n\t\t\t\t<KKBER>1000</KKBER>\n\
         \t\t\t</E1KNVVM>\n\t\t\t<E1KNVKM SEGMENT=\"1\">\n\t\t\t\t<MSGFN>005</MSGFN>\n\
         \t\t\t\t<PARNR>{:010}</PARNR>\n\t\t\t\t<NAMEV>Ana</NAMEV>\n\t\t\t\t<NAME1>Lopes</NAME1>\n\
         \t\t\t\t<ABTNR>0003</ABTNR>\n\t\t\t\t<PAFKT>05</PAFKT>\n\t\t\t</E1KNVKM>\n\
         \t\t</E1KNA1M>\n\t</IDOC>\n",
        if customer % 7 == 0 { "NT45" } else { "NT30" },
        customer
    )
}

fn invoic(w: &mut impl Write, docnum: u64, doc: u64, customer: u64) -> std::io::Result<()> {
    writeln!(w, "\t<IDOC BEGIN=\"1\">")?;
    control(w, docnum, "INVOIC02", "INVOIC")?;
    let total = 100 + doc % 90_000;
    write!(
        w,
        "\t\t<E1EDK01 SEGMENT=\"1\">\n\t\t\t<CURCY>EUR</CURCY>\n\t\t\t<HWAER>EUR</HWAER>\n\
         \t\t\t<WKURS>1.00000</WKURS>\n\t\t\t<ZTERM>NT30</ZTERM>\n\t\t\t<BSART>INVO</BSART>\n\
         \t\t\t<BELNR>{doc:010}</BELNR>\n\t\t\t<NTGEW>3915.000</NTGEW>\n\t\t\t<GEWEI>KGM</GEWEI>\n\
         \t\t\t<FKART_RL>LR</FKART_RL>\n\t\t\t<RECIPNT_NO>{customer:010}</RECIPNT_NO>\n\
         \t\t</E1EDK01>\n"
    )?;
    for parvw in ["AG", "RE", "RG", "WE"] {
        write!(
            w,
            "\t\t<E1EDKA1 SEGMENT=\"1\">\n\t\t\t<PARVW>{parvw}</PARVW>\n\t\t\t<PARTN>{customer:010}</PARTN>\n\
             \t\t\t<NAME1>Customer {customer} GmbH</NAME1>\n\t\t\t<STRAS>Dietmar-Hopp-Allee 16</STRAS>\n\
             \t\t\t<ORT01>Walldorf</ORT01>\n\t\t\t<PSTLZ>69190</PSTLZ>\n\t\t\t<LAND1>DE</LAND1>\n\
             \t\t\t<SPRAS>D</SPRAS>\n\t\t</E1EDKA1>\n"
        )?;
    }
    write!(
        w,
        "\t\t<E1EDK02 SEGMENT=\"1\">\n\t\t\t<QUALF>009</QUALF>\n\t\t\t<BELNR>{doc:010}</BELNR>\n\
         \t\t\t<DATUM>20261015</DATUM>\n\t\t</E1EDK02>\n\
         \t\t<E1EDK03 SEGMENT=\"1\">\n\t\t\t<IDDAT>026</IDDAT>\n\t\t\t<DATUM>20261015</DATUM>\n\t\t</E1EDK03>\n\
         \t\t<E1EDK14 SEGMENT=\"1\">\n\t\t\t<QUALF>011</QUALF>\n\t\t\t<ORGID>1010</ORGID>\n\t\t</E1EDK14>\n\
         \t\t<E1EDK18 SEGMENT=\"1\">\n\t\t\t<QUALF>001</QUALF>\n\t\t\t<TAGE>10</TAGE>\n\t\t\t<PRZNT>2.000</PRZNT>\n\t\t</E1EDK18>\n\
         \t\t<E1EDK18 SEGMENT=\"1\">\n\t\t\t<QUALF>003</QUALF>\n\t\t\t<TAGE>30</TAGE>\n\t\t</E1EDK18>\n"
    )?;
    for item in 1..=3 {
        write!(
            w,
            "\t\t<E1EDP01 SEGMENT=\"1\">\n\t\t\t<POSEX>{:06}</POSEX>\n\t\t\t<MENGE>144.000</MENGE>\n\
             \t\t\t<MENEE>TU</MENEE>\n\t\t\t<PSTYV>TAN</PSTYV>\n\t\t\t<WERKS>1010</WERKS>\n\
             \t\t\t<E1EDP19 SEGMENT=\"1\">\n\t\t\t\t<QUALF>002</QUALF>\n\t\t\t\t<IDTNR>MAT-{doc}-{item}</IDTNR>\n\
             \t\t\t\t<KTEXT>Frozen vegetables 10x10 1x10kg</KTEXT>\n\t\t\t</E1EDP19>\n\
             \t\t\t<E1EDP26 SEGMENT=\"1\">\n\t\t\t\t<QUALF>003</QUALF>\n\t\t\t\t<BETRG>907.20</BETRG>\n\t\t\t</E1EDP26>\n\
             \t\t\t<E1EDP05 SEGMENT=\"1\">\n\t\t\t\t<ALCKZ>+</ALCKZ>\n\t\t\t\t<KOTXT>Gross Value</KOTXT>\n\
             \t\t\t\t<BETRG>907.20</BETRG>\n\t\t\t\t<KRATE>630.00</KRATE>\n\t\t\t</E1EDP05>\n\
             \t\t\t<E1EDPT1 SEGMENT=\"1\">\n\t\t\t\t<TDID>0001</TDID>\n\t\t\t\t<E1EDPT2 SEGMENT=\"1\">\n\
             \t\t\t\t\t<TDLINE>FROZEN DICED BROCCOLI 10X10MM 1X10KG</TDLINE>\n\t\t\t\t</E1EDPT2>\n\
             \t\t\t</E1EDPT1>\n\t\t</E1EDP01>\n",
            item * 10
        )?;
    }
    write!(
        w,
        "\t\t<E1EDS01 SEGMENT=\"1\">\n\t\t\t<SUMID>010</SUMID>\n\t\t\t<SUMME>{total}.00</SUMME>\n\
         \t\t\t<WAERQ>EUR</WAERQ>\n\t\t</E1EDS01>\n\
         \t\t<E1EDS01 SEGMENT=\"1\">\n\t\t\t<SUMID>011</SUMID>\n\t\t\t<SUMME>{total}.95</SUMME>\n\
         \t\t\t<WAERQ>EUR</WAERQ>\n\t\t</E1EDS01>\n\t</IDOC>\n"
    )
}

/// Writes IDocs until the file reaches `bytes`; returns the number of IDocs.
fn generate(path: &std::path::Path, bytes: u64) -> std::io::Result<u64> {
    let file = std::fs::File::create(path)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<INVOIC02>\n")?;
    let mut written = 0u64;
    let mut n = 0u64;
    let mut counter = CountingWriter {
        inner: &mut w,
        count: 0,
    };
    while written < bytes {
        n += 1;
        let customer = 100_000 + n / 5;
        if n % 5 == 0 {
            debmas(&mut counter, n, customer)?;
        } else {
            invoic(&mut counter, n, 90_000_000 + n, customer)?;
        }
        written = counter.count;
    }
    w.write_all(b"</INVOIC02>\n")?;
    w.flush()?;
    Ok(n)
}

struct CountingWriter<'a, W: Write> {
    inner: &'a mut W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    // `cargo bench` passes `--bench`; the first numeric argument is the size in MB.
    let mb: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .or_else(|| std::env::var("IDOC_BENCH_MB").ok()?.parse().ok())
        .unwrap_or(1024);
    let dir = tempfile::tempdir().expect("temp dir");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let path = inbox.join("bench.xml");
    let started = Instant::now();
    let idocs = generate(&path, mb * 1024 * 1024).expect("generate the IDoc file");
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "generated {:.1} MB, {idocs} IDocs in {:.1}s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let hwm_before = vm_hwm_kb().unwrap_or(0);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let importer = IdocImporter::new(store, Translator::builtin());
        let started = Instant::now();
        let report = importer.import_file(&path).await.expect("import");
        (report, started.elapsed())
    });
    let (report, elapsed) = report;
    let secs = elapsed.as_secs_f64();
    assert_eq!(
        report.applied, idocs,
        "every generated IDoc is applied: {report:?}"
    );
    let hwm = vm_hwm_kb().unwrap_or(0);
    println!(
        "imported {} IDocs ({} applied, {} quarantined) in {:.1}s",
        report.idocs(),
        report.applied,
        report.quarantined,
        secs
    );
    println!(
        "throughput: {:.1} MB/s, {:.0} IDocs/s",
        size as f64 / 1e6 / secs,
        idocs as f64 / secs
    );
    println!(
        "peak RSS (VmHWM): {:.1} MB (after generating the file: {:.1} MB)",
        hwm as f64 / 1024.0,
        hwm_before as f64 / 1024.0
    );
}
