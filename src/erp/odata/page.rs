//! A page of an entity set, decoded for the properties one reader wants.
//!
//! Every pulled record passes through here, so a page is not a list of maps: the reader
//! names its properties once (a [`Layout`]), each entity's values sit at those properties'
//! positions, and all the text of a page is kept in one buffer. Decoding a page makes no
//! allocation per field or per entity; properties no reader asked for are skipped unread.
//! JSON (`json::parse_page`) and Atom (`atom::parse_feed`) pages decode into the same form.

use crate::erp::mapping::EntityMapping;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// The properties a reader wants from each entity, in the order their values are kept.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    properties: Vec<String>,
    by_property: Names,
    /// A reader's own names for the properties (a mapping's model fields), where it has them.
    by_field: Names,
}

/// Names looked up for every property of every entity read: hashed with FNV-1a, which for
/// names of a few bytes costs a fraction of the default SipHash. The tables are filled
/// from the mapping, never from what the ERP sends, so a crafted key can only miss.
type Names = HashMap<String, usize, BuildHasherDefault<Fnv>>;

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Layout {
    /// A layout of these properties (a name given twice is kept once).
    pub fn of<S: AsRef<str>>(properties: impl IntoIterator<Item = S>) -> Layout {
        let mut layout = Layout::default();
        for p in properties {
            layout.add(p.as_ref());
        }
        layout
    }

    /// The properties `mapping` reads: its fields' (reachable by model field name too), its
    /// keys' and its watermark's.
    pub fn of_mapping(mapping: &EntityMapping) -> Layout {
        let mut layout = Layout::default();
        for (field, property) in &mapping.fields {
            let slot = layout.add(property);
            layout.by_field.insert(field.clone(), slot);
        }
        for p in mapping.order_by.iter().chain(mapping.watermark.iter()) {
            layout.add(p);
        }
        layout
    }

    fn add(&mut self, property: &str) -> usize {
        if let Some(&slot) = self.by_property.get(property) {
            return slot;
        }
        let slot = self.properties.len();
        self.properties.push(property.to_string());
        self.by_property.insert(property.to_string(), slot);
        slot
    }

    pub fn slot_of_property(&self, property: &str) -> Option<usize> {
        self.by_property.get(property).copied()
    }

    pub fn slot_of_field(&self, field: &str) -> Option<usize> {
        self.by_field.get(field).copied()
    }

    /// Values kept per entity: one per property, and the entity's ETag.
    fn width(&self) -> usize {
        self.properties.len() + 1
    }

    fn etag_slot(&self) -> usize {
        self.properties.len()
    }
}

/// One value as the page sent it, borrowed from the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    Null,
    Bool(bool),
    /// A JSON number, written as serde_json writes it (`12.5`, `-42`).
    Number(Cow<'a, str>),
    Text(&'a str),
    /// An object or an array, as JSON text.
    Other(Cow<'a, str>),
}

/// As JSON: messages about a value show it as it was sent.
impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Null => f.write_str("null"),
            Field::Bool(b) => write!(f, "{b}"),
            Field::Number(n) | Field::Other(n) => f.write_str(n),
            Field::Text(s) => write!(f, "{}", serde_json::Value::from(*s)),
        }
    }
}

/// Where one value is: its kind, and its text in the page's buffer.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Absent,
    Null,
    Bool(bool),
    Number(u32, u32),
    Text(u32, u32),
    Other(u32, u32),
}

/// A decoded page: its entities' values by position, where the next page is, and the
/// paging facts the server sent with it.
#[derive(Debug, Clone)]
pub struct Page {
    layout: Arc<Layout>,
    text: String,
    entities: Vec<Slot>,
    removed: Vec<Slot>,
    /// The server's next link (absolute or relative to the request URL).
    pub next: Option<String>,
    /// `__count` / `@odata.count` / `m:count` when the server was asked for it.
    pub count: Option<u64>,
    /// The delta link of a change-tracked read (V2 `__delta`, V4 `@odata.deltaLink`): where
    /// to ask later for what changed since.
    pub delta: Option<String>,
}

impl Page {
    pub fn len(&self) -> usize {
        self.entities.len() / self.layout.width()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    pub fn entities(&self) -> impl Iterator<Item = Entity<'_>> {
        self.rows(&self.entities)
    }

    /// Entities a delta answer reports as gone from the query (V2 `__deleted`, V4 entries
    /// with `@removed`): at least their key properties.
    pub fn removed(&self) -> impl Iterator<Item = Entity<'_>> {
        self.rows(&self.removed)
    }

    fn rows<'p>(&'p self, slots: &'p [Slot]) -> impl Iterator<Item = Entity<'p>> {
        slots
            .chunks_exact(self.layout.width())
            .map(move |slots| Entity { page: self, slots })
    }
}

/// One entity of a page.
#[derive(Clone, Copy)]
pub struct Entity<'p> {
    page: &'p Page,
    slots: &'p [Slot],
}

impl<'p> Entity<'p> {
    /// The value at `slot`; `None` where the entity did not carry the property.
    pub fn get(&self, slot: usize) -> Option<Field<'p>> {
        let text = |from: u32, len: u32| &self.page.text[from as usize..(from + len) as usize];
        match *self.slots.get(slot)? {
            Slot::Absent => None,
            Slot::Null => Some(Field::Null),
            Slot::Bool(b) => Some(Field::Bool(b)),
            Slot::Number(from, len) => Some(Field::Number(Cow::Borrowed(text(from, len)))),
            Slot::Text(from, len) => Some(Field::Text(text(from, len))),
            Slot::Other(from, len) => Some(Field::Other(Cow::Borrowed(text(from, len)))),
        }
    }

    pub fn property(&self, property: &str) -> Option<Field<'p>> {
        self.get(self.page.layout.slot_of_property(property)?)
    }

    pub fn field(&self, field: &str) -> Option<Field<'p>> {
        self.get(self.page.layout.slot_of_field(field)?)
    }

    /// The entity's ETag (V2 `__metadata.etag`, V4 `@odata.etag`, Atom `m:etag`).
    pub fn etag(&self) -> Option<&'p str> {
        match self.get(self.page.layout.etag_slot())? {
            Field::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// Builds a page entity by entity, for the JSON and Atom readers.
pub(super) struct PageBuilder {
    page: Page,
    row: Vec<Slot>,
}

impl PageBuilder {
    pub(super) fn new(layout: Arc<Layout>) -> Self {
        let width = layout.width();
        PageBuilder {
            page: Page {
                layout,
                text: String::new(),
                entities: Vec::new(),
                removed: Vec::new(),
                next: None,
                count: None,
                delta: None,
            },
            row: vec![Slot::Absent; width],
        }
    }

    pub(super) fn layout(&self) -> &Layout {
        &self.page.layout
    }

    pub(super) fn etag_slot(&self) -> usize {
        self.page.layout.etag_slot()
    }

    /// Starts the next entity, with every value absent.
    pub(super) fn begin(&mut self) {
        self.row.fill(Slot::Absent);
    }

    /// Appends `text` to the page's buffer: where it is.
    fn keep(&mut self, text: &str) -> Result<(u32, u32), String> {
        let too_large = || "the page is larger than 4 GiB".to_string();
        let from = u32::try_from(self.page.text.len()).map_err(|_| too_large())?;
        let len = u32::try_from(text.len()).map_err(|_| too_large())?;
        from.checked_add(len).ok_or_else(too_large)?;
        self.page.text.push_str(text);
        Ok((from, len))
    }

    pub(super) fn set_text(&mut self, slot: usize, text: &str) -> Result<(), String> {
        let (from, len) = self.keep(text)?;
        self.row[slot] = Slot::Text(from, len);
        Ok(())
    }

    pub(super) fn set_number(&mut self, slot: usize, text: &str) -> Result<(), String> {
        let (from, len) = self.keep(text)?;
        self.row[slot] = Slot::Number(from, len);
        Ok(())
    }

    pub(super) fn set_other(&mut self, slot: usize, json: &str) -> Result<(), String> {
        let (from, len) = self.keep(json)?;
        self.row[slot] = Slot::Other(from, len);
        Ok(())
    }

    pub(super) fn set_bool(&mut self, slot: usize, value: bool) {
        self.row[slot] = Slot::Bool(value);
    }

    pub(super) fn set_null(&mut self, slot: usize) {
        self.row[slot] = Slot::Null;
    }

    /// Ends the entity begun last: one of the page's entities, or one reported removed.
    pub(super) fn end(&mut self, removed: bool) {
        let to = if removed {
            &mut self.page.removed
        } else {
            &mut self.page.entities
        };
        to.extend_from_slice(&self.row);
    }

    pub(super) fn finish(self) -> Page {
        self.page
    }
}
