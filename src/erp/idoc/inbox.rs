//! The IDoc inbox: reads IDoc XML files (what an SAP XML file port drops, or what the
//! service's HTTP endpoint received), hands their IDocs to an [`IdocSink`] (the store, via
//! `sync`) and files them away with SAP's acknowledgement. An IDoc system pushes rather
//! than being pulled, so the inbox is the ERP source of such a system: its progress is the
//! move of each file to `processed/`, made only after the sink has committed the file's
//! IDocs, and each IDoc's status (53/51) depends on what the sink answered.
//!
//! Per file: IDocs are read as a stream on a blocking thread and applied in batches, each
//! batch one transaction (an IDoc's DOCNUM record and its data land together). Then:
//! - the file moves to `processed/`, with `NAME.ack.xml` beside it: one SYSTAT01 status per
//!   IDoc (53 applied, 51 error);
//! - each rejected IDoc is copied (its own `<IDOC>` element, under the file's root element)
//!   to `quarantine/NAME.N.xml` with `quarantine/NAME.N.xml.error.txt` naming file,
//!   DOCNUM, segment, field and reason; the good IDocs of the file are applied;
//! - a file whose XML is broken moves to `quarantine/` as a whole, with `NAME.error.txt`
//!   (the IDocs complete before the break are applied and acknowledged).
//!
//! - a file that cannot be imported at all (a symbolic link, not a regular file, or reading
//!   or writing beside it fails) moves to `quarantine/` with `NAME.error.txt` giving the
//!   reason, and the pick-up goes on with the next file. Only a store failure stops the
//!   pick-up: it is no file's fault, and the file stays for the next one.
//!
//! Nothing is deleted: a name already taken in `processed/` or `quarantine/` gets a suffix.
//! No symbolic link is followed (see `inbox/files.rs`).

mod files;

use super::ack::{AckEntry, AckWriter, STATUS_APPLIED, STATUS_ERROR};
use super::{IdocContent, IdocError, IdocReader, ParsedIdoc, Translator, XmlFault};
use crate::model::idoc::{IdocApplied, IdocApply, IdocData, IdocReceipt};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// IDocs per store transaction: large enough to make commits cheap, small enough that a
/// batch's parsed values stay a few megabytes.
const BATCH: usize = 1024;
/// Batches in flight between the reading thread and the store.
const IN_FLIGHT: usize = 4;
const READ_BUFFER: usize = 256 * 1024;
/// Error lines kept in a [`FileReport`]; every rejected IDoc still has its `.error.txt` and
/// its status 51 in the acknowledgement.
const MAX_ERROR_LINES: usize = 100;

pub const PROCESSED: &str = "processed";
pub const QUARANTINE: &str = "quarantine";

/// What importing one file did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub file: PathBuf,
    pub bytes: u64,
    pub applied: u64,
    pub duplicates: u64,
    pub superseded: u64,
    /// IDocs rejected (51) and copied to quarantine.
    pub quarantined: u64,
    /// The XML of the file is broken: the file itself was quarantined.
    pub file_quarantined: bool,
    /// One line per rejected IDoc or broken file.
    pub errors: Vec<String>,
    /// Where the file went (processed/ or quarantine/).
    pub moved_to: Option<PathBuf>,
    pub ack: Option<PathBuf>,
    /// Files written to quarantine/ (rejected IDocs, error texts; the first hundred pairs).
    pub quarantine_files: Vec<PathBuf>,
}

impl FileReport {
    pub fn idocs(&self) -> u64 {
        self.applied + self.duplicates + self.superseded + self.quarantined
    }
}

/// Where the inbox's IDocs go: one call per batch, in file order, one outcome per IDoc.
/// A batch must be applied whole or not at all (the file is moved only after its last
/// batch was), and a failure stops the pick-up: it is no file's fault.
#[async_trait]
pub trait IdocSink: Send + Sync {
    type Error: std::error::Error + Send + Sync + 'static;
    async fn apply(
        &self,
        batch: &[IdocApply],
        at: DateTime<Utc>,
    ) -> Result<Vec<IdocApplied>, Self::Error>;
}

/// Why a pick-up stopped.
#[derive(Debug, thiserror::Error)]
pub enum InboxError<E: std::error::Error + 'static> {
    /// The file (or the inbox folder) cannot be read, written or moved: the file is
    /// quarantined and the pick-up goes on.
    #[error("{0}")]
    File(String),
    /// The sink failed: the file stays in the inbox for the next pick-up.
    #[error(transparent)]
    Sink(E),
}

impl<E: std::error::Error + 'static> From<String> for InboxError<E> {
    fn from(why: String) -> Self {
        InboxError::File(why)
    }
}

/// Reads IDoc files into a sink and files them away.
#[derive(Clone)]
pub struct IdocInbox {
    translator: Arc<Translator>,
}

/// Sent from the reading thread.
enum Item {
    Idoc {
        ordinal: u64,
        start: u64,
        end: u64,
        result: Box<Result<ParsedIdoc, IdocError>>,
        idoc_type: Option<String>,
        message_type: Option<String>,
    },
    Fault(XmlFault),
    Root(Option<String>),
}

impl IdocInbox {
    pub fn new(translator: Translator) -> Self {
        IdocInbox {
            translator: Arc::new(translator),
        }
    }

    /// The mappings for a config folder: `mappings/idoc-debmas.toml` and
    /// `mappings/idoc-invoic.toml` under `base_dir` when present (a customer's Z-segments),
    /// else the shipped ones.
    pub fn translator_for(base_dir: &Path) -> Result<Translator, super::IdocMappingError> {
        let dir = base_dir.join("mappings");
        if dir.join("idoc-debmas.toml").is_file() && dir.join("idoc-invoic.toml").is_file() {
            Translator::load(&dir)
        } else {
            Ok(Translator::builtin())
        }
    }

    /// Imports every file waiting in `inbox` (oldest name first); `processed/` and
    /// `quarantine/` are made inside it.
    pub async fn import_inbox<S: IdocSink>(
        &self,
        inbox: &Path,
        sink: &S,
    ) -> Result<Vec<FileReport>, InboxError<S::Error>> {
        // One pick-up at a time in this process: `sync` and the service's jobs may all look
        // at the inbox, and two readers of one file would race to move it.
        static PICK_UP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _only_one = PICK_UP.lock().await;
        // Checked once up front: without them no file can go anywhere, so that is the
        // inbox's failure, not a file's.
        own_dirs(inbox)?;
        // Links are listed too (the entry's own type, not its target's), so they are
        // refused with a reason instead of lying in the inbox unexplained.
        let mut listed: Vec<PathBuf> = std::fs::read_dir(inbox)
            .map_err(|e| io_err("read the inbox", inbox, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
            .map(|e| e.path())
            .filter(|p| is_inbound(p))
            .collect();
        listed.sort();
        let mut out = Vec::with_capacity(listed.len());
        for f in listed {
            match self.import_file(&f, sink).await {
                Ok(report) => out.push(report),
                Err(InboxError::File(why)) => out.push(quarantine_whole(inbox, &f, &why)),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Imports one file; `processed/` and `quarantine/` are made beside it. Fails only when
    /// the store or the file system fails; bad IDocs are reported, not errors.
    pub async fn import_file<S: IdocSink>(
        &self,
        path: &Path,
        sink: &S,
    ) -> Result<FileReport, InboxError<S::Error>> {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| InboxError::File(format!("{}: not a file", path.display())))?;
        self.import_as(path, &dir, &name, sink).await
    }

    /// Imports `path` as if it were called `name` in folder `dir`: `processed/` and
    /// `quarantine/` are made in `dir` and the file is moved there under `name`. The HTTP
    /// endpoint uses this for an upload held under a temporary name.
    pub async fn import_as<S: IdocSink>(
        &self,
        path: &Path,
        dir: &Path,
        name: &str,
        sink: &S,
    ) -> Result<FileReport, InboxError<S::Error>> {
        let name = name.to_string();
        if let Some(why) = files::refusal(path).map_err(|e| io_err("read", path, e))? {
            return Err(InboxError::File(format!("{}: {why}", path.display())));
        }
        let bytes = std::fs::symlink_metadata(path)
            .map_err(|e| io_err("read", path, e))?
            .len();
        let (processed, quarantine) = own_dirs(dir).map_err(InboxError::File)?;
        let mut report = FileReport {
            file: path.to_path_buf(),
            bytes,
            ..FileReport::default()
        };
        let now = Utc::now();
        let ack_tmp = processed.join(format!(".{name}.ack.xml.part"));
        // A leftover of an interrupted import, or something planted there: unlinking
        // removes the name (never what a link points to), and the new file is created
        // only where nothing is.
        let _ = std::fs::remove_file(&ack_tmp);
        let ack_file = files::create_new(&ack_tmp).map_err(|e| io_err("create", &ack_tmp, e))?;
        let mut ack = AckWriter::begin(BufWriter::new(ack_file), now)
            .map_err(|e| io_err("write", &ack_tmp, e))?;

        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Item>>(IN_FLIGHT);
        let translator = self.translator.clone();
        let reading = path.to_path_buf();
        let reader = tokio::task::spawn_blocking(move || read_file(&reading, &translator, tx));

        let mut source: Option<File> = None;
        let mut fault: Option<XmlFault> = None;
        let mut root: Option<String> = None;
        while let Some(items) = rx.recv().await {
            let mut batch = Vec::with_capacity(items.len());
            let mut acks = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Item::Root(r) => root = r,
                    Item::Fault(f) => fault = Some(f),
                    Item::Idoc {
                        ordinal,
                        start,
                        end,
                        result,
                        idoc_type,
                        message_type,
                    } => match *result {
                        Ok(parsed) => {
                            acks.push(AckEntry {
                                docnum: Some(parsed.control.docnum.clone()),
                                idoc_type: Some(parsed.control.idoc_type.clone()),
                                message_type: Some(parsed.control.message_type.clone()),
                                status: STATUS_APPLIED,
                                text: String::new(),
                                segment: None,
                                field: None,
                            });
                            batch.push(to_apply(parsed, &name));
                        }
                        Err(e) => {
                            if report.errors.len() < MAX_ERROR_LINES {
                                report.errors.push(format!("{name}: IDoc #{ordinal}: {e}"));
                            }
                            report.quarantined += 1;
                            ack.write(&AckEntry {
                                docnum: e.docnum.clone(),
                                idoc_type,
                                message_type,
                                status: STATUS_ERROR,
                                text: e.to_string(),
                                segment: e.segment.clone(),
                                field: e.field.clone(),
                            })
                            .map_err(|e| io_err("write", &ack_tmp, e))?;
                            // Copied now rather than remembered, so a file full of bad
                            // IDocs costs no memory; the bytes are on disk already.
                            let source = match &mut source {
                                Some(s) => s,
                                None => source.insert(
                                    files::open_regular(path)
                                        .map_err(|e| io_err("read", path, e))?,
                                ),
                            };
                            let target = copy_idoc(
                                source,
                                start,
                                end,
                                root.as_deref(),
                                &quarantine,
                                &format!("{name}.{ordinal}.xml"),
                            )?;
                            let err_path = write_beside(
                                &target,
                                ".error.txt",
                                &error_text(&name, ordinal, &e),
                            )?;
                            if report.quarantine_files.len() < 2 * MAX_ERROR_LINES {
                                report.quarantine_files.push(target);
                                report.quarantine_files.push(err_path);
                            }
                        }
                    },
                }
            }
            if batch.is_empty() {
                continue;
            }
            let outcomes = sink.apply(&batch, now).await.map_err(InboxError::Sink)?;
            for (mut a, outcome) in acks.into_iter().zip(outcomes) {
                a.text = match outcome {
                    IdocApplied::Applied => {
                        report.applied += 1;
                        "applied".into()
                    }
                    IdocApplied::Duplicate => {
                        report.duplicates += 1;
                        "already applied (same DOCNUM): not applied again".into()
                    }
                    IdocApplied::Superseded { by } => {
                        report.superseded += 1;
                        format!("superseded: newer IDoc {by} already applied for the same object; nothing changed")
                    }
                };
                ack.write(&a).map_err(|e| io_err("write", &ack_tmp, e))?;
            }
        }
        reader
            .await
            .map_err(|e| InboxError::File(format!("IDoc reader stopped: {e}")))?
            .map_err(|e| io_err("read", path, e))?;
        ack.finish().map_err(|e| io_err("write", &ack_tmp, e))?;

        if let Some(f) = fault {
            // The rest of the file cannot be read: the whole file is quarantined.
            let line = format!("{name}: {f}");
            report.errors.push(line);
            report.file_quarantined = true;
            let target = move_file(path, &quarantine, &name)?;
            let err_path = write_beside(
                &target,
                ".error.txt",
                &format!(
                    "file: {name}\nDOCNUM: (file-level)\nsegment: -\nfield: -\nreason: {}\nIDocs before the break: {} applied, {} duplicate, {} superseded, {} rejected\n",
                    f, report.applied, report.duplicates, report.superseded, report.quarantined
                ),
            )?;
            let ack_path = move_beside(&ack_tmp, &target, ".ack.xml")?;
            report.quarantine_files.push(err_path);
            report.moved_to = Some(target);
            report.ack = Some(ack_path);
        } else {
            drop(source);
            let target = move_file(path, &processed, &name)?;
            let ack_path = move_beside(&ack_tmp, &target, ".ack.xml")?;
            report.moved_to = Some(target);
            report.ack = Some(ack_path);
        }
        tracing::info!(
            file = %name,
            applied = report.applied,
            duplicates = report.duplicates,
            superseded = report.superseded,
            quarantined = report.quarantined,
            file_quarantined = report.file_quarantined,
            "IDoc file imported"
        );
        Ok(report)
    }
}

/// Files the inbox takes: not hidden, not an upload or copy still in progress, not our
/// own acknowledgements or error texts.
fn is_inbound(p: &Path) -> bool {
    let Some(n) = p.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return false;
    };
    !(n.starts_with('.')
        || n.ends_with(".part")
        || n.ends_with(".tmp")
        || n.ends_with(".ack.xml")
        || n.ends_with(".error.txt"))
}

/// A file-system failure, worded for the report; the file is what is at fault.
fn io_err(what: &str, path: &Path, e: std::io::Error) -> String {
    format!("cannot {what} {}: {e}", path.display())
}

/// `processed/` and `quarantine/` inside `dir`, made when missing; refused when either is
/// a symbolic link (everything moved there would land wherever it points).
fn own_dirs(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let processed = dir.join(PROCESSED);
    let quarantine = dir.join(QUARANTINE);
    for d in [&processed, &quarantine] {
        std::fs::create_dir_all(d).map_err(|e| io_err("create", d, e))?;
        let meta = std::fs::symlink_metadata(d).map_err(|e| io_err("read", d, e))?;
        if !meta.is_dir() {
            return Err(format!(
                "{} is not a folder (a symbolic link?): refused",
                d.display()
            ));
        }
    }
    Ok((processed, quarantine))
}

/// Moves `from` to `dir/name` (a free variant of it: nothing is overwritten).
fn move_file(from: &Path, dir: &Path, name: &str) -> Result<PathBuf, String> {
    files::move_free(from, dir, name).map_err(|e| io_err("move", from, e))
}

/// The file name of `target` with `suffix`, in `target`'s folder.
fn beside(target: &Path, suffix: &str) -> (PathBuf, String) {
    let dir = target.parent().unwrap_or(Path::new(".")).to_path_buf();
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, format!("{name}{suffix}"))
}

/// Moves `from` beside `target` as `TARGET{suffix}` (or a free variant of that name).
fn move_beside(from: &Path, target: &Path, suffix: &str) -> Result<PathBuf, String> {
    let (dir, name) = beside(target, suffix);
    move_file(from, &dir, &name)
}

/// Writes `text` beside `target` as `TARGET{suffix}` (or a free variant of that name).
fn write_beside(target: &Path, suffix: &str, text: &str) -> Result<PathBuf, String> {
    let (dir, name) = beside(target, suffix);
    files::write_free(&dir, &name, text).map_err(|e| io_err("write", &dir.join(&name), e))
}

/// A file that could not be imported at all: moved to `quarantine/` with its reason, so
/// the pick-up goes on with the next file. When even that fails the file stays where it
/// is, and the reason is still reported.
fn quarantine_whole(inbox: &Path, path: &Path, reason: &str) -> FileReport {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tracing::warn!(file = %name, error = %reason, "IDoc file cannot be imported: quarantined");
    let mut report = FileReport {
        file: path.to_path_buf(),
        errors: vec![format!("{name}: {reason}")],
        ..FileReport::default()
    };
    let text =
        format!("file: {name}\nDOCNUM: (file-level)\nsegment: -\nfield: -\nreason: {reason}\n");
    let moved = move_file(path, &inbox.join(QUARANTINE), &name)
        .and_then(|target| Ok((write_beside(&target, ".error.txt", &text)?, target)));
    match moved {
        Ok((err_path, target)) => {
            report.file_quarantined = true;
            report.moved_to = Some(target);
            report.quarantine_files.push(err_path);
        }
        Err(e) => {
            tracing::error!(file = %name, error = %e, "cannot quarantine the IDoc file; left in the inbox");
            report
                .errors
                .push(format!("{name}: left in the inbox: {e}"));
        }
    }
    report
}

fn error_text(file: &str, ordinal: u64, e: &IdocError) -> String {
    format!(
        "file: {file}\nIDoc: #{ordinal} in the file\nDOCNUM: {}\nsegment: {}\nfield: {}\nreason: {}\n",
        e.docnum.as_deref().unwrap_or("-"),
        e.segment.as_deref().unwrap_or("-"),
        e.field.as_deref().unwrap_or("-"),
        e.reason
    )
}

/// Copies bytes `start..end` (one `<IDOC>` element) into a file of its own, under the
/// original root element so it can be fixed and dropped into the inbox again.
fn copy_idoc(
    source: &mut File,
    start: u64,
    end: u64,
    root: Option<&str>,
    dir: &Path,
    name: &str,
) -> Result<PathBuf, String> {
    let root = root.unwrap_or("IDOC_QUARANTINE");
    let (target, file) =
        files::create_free(dir, name).map_err(|e| io_err("create", &dir.join(name), e))?;
    let mut out = BufWriter::new(file);
    let w = |e| io_err("write", &target, e);
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}>\n"
    )
    .map_err(w)?;
    source.seek(SeekFrom::Start(start)).map_err(w)?;
    std::io::copy(&mut source.take(end.saturating_sub(start)), &mut out).map_err(w)?;
    write!(out, "\n</{root}>\n").map_err(w)?;
    out.flush().map_err(w)?;
    Ok(target)
}

fn to_apply(parsed: ParsedIdoc, source: &str) -> IdocApply {
    let receipt = IdocReceipt {
        order_key: parsed.control.order_key(),
        docnum: parsed.control.docnum,
        idoc_type: parsed.control.idoc_type,
        message_type: parsed.control.message_type,
        object_key: parsed.object_key,
        source: source.to_string(),
    };
    let data = match parsed.content {
        IdocContent::Customer(c) => {
            let c = *c;
            IdocData::Customer {
                general: c.general,
                company_codes: c.company_codes,
                sales_areas: c.sales_areas,
                credit_limits: c.credit_limits,
                contacts: c.contacts,
            }
        }
        IdocContent::Invoice(item) => IdocData::OpenItem(*item),
    };
    IdocApply { receipt, data }
}

/// The reading thread: parses and translates, sending batches until the file ends or breaks.
fn read_file(
    path: &Path,
    translator: &Translator,
    tx: tokio::sync::mpsc::Sender<Vec<Item>>,
) -> std::io::Result<()> {
    let file = files::open_regular(path)?;
    let mut reader = IdocReader::new(
        BufReader::with_capacity(READ_BUFFER, file),
        translator.wanted_segments(),
    );
    let mut batch = Vec::with_capacity(BATCH);
    let mut sent_root = false;
    loop {
        match reader.next_idoc() {
            Ok(Some(raw)) => {
                if !sent_root {
                    batch.push(Item::Root(reader.root().map(str::to_string)));
                    sent_root = true;
                }
                let result = translator.translate(&raw);
                batch.push(Item::Idoc {
                    ordinal: raw.ordinal,
                    start: raw.start,
                    end: raw.end,
                    idoc_type: raw.control_field("IDOCTYP").map(str::to_string),
                    message_type: raw.control_field("MESTYP").map(str::to_string),
                    result: Box::new(result),
                });
                if batch.len() >= BATCH && tx.blocking_send(std::mem::take(&mut batch)).is_err() {
                    return Ok(());
                }
            }
            Ok(None) => break,
            Err(fault) => {
                batch.push(Item::Fault(fault));
                break;
            }
        }
    }
    let _ = tx.blocking_send(batch);
    Ok(())
}
