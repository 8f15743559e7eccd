//! IDoc mapping files (`mappings/idoc-debmas.toml`, `mappings/idoc-invoic.toml`): which
//! segment and field feed each model field, so a customer's Z-segments are wired by editing
//! a file, not code.
//!
//! A level names the segment one model record comes from (`segment = "E1KNB1M"`); its fields
//! map a model field to one path or a list of paths, the first one present winning. A path
//! is `FIELD` (of the level's segment) or `SEG[QUAL=VALUE]/…/FIELD`, walking down through kept
//! child segments, the optional `[QUAL=VALUE]` choosing among repeated segments (E1EDKA1 by
//! partner function, E1EDS01 by total id). `segment = "IDOC"` makes the whole IDoc the level.

use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::reader::RawIdoc;

#[derive(Debug, thiserror::Error)]
pub enum IdocMappingError {
    #[error("cannot read IDoc mapping file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("IDoc mapping file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawPaths {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    segment: String,
    fields: BTreeMap<String, RawPaths>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    message_types: Vec<String>,
    idoc_types: Vec<String>,
    #[serde(default)]
    credit_memo_types: Vec<String>,
    levels: BTreeMap<String, RawLevel>,
}

/// One step of a path: a segment name and an optional qualifier test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub segment: String,
    pub qualifier: Option<(String, String)>,
}

/// `SEG[Q=V]/SEG/FIELD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub steps: Vec<Step>,
    pub field: String,
    pub text: String,
}

/// A value found in an IDoc, with where it came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'a> {
    pub value: &'a str,
    pub segment: &'a str,
    pub field: &'a str,
}

impl FieldPath {
    fn parse(text: &str) -> Result<FieldPath, String> {
        let mut parts: Vec<&str> = text.split('/').map(str::trim).collect();
        let field = parts.pop().filter(|f| !f.is_empty()).ok_or("empty path")?;
        let steps = parts
            .into_iter()
            .map(|p| match p.split_once('[') {
                None if !p.is_empty() => Ok(Step {
                    segment: p.to_string(),
                    qualifier: None,
                }),
                None => Err(format!("empty segment in {text:?}")),
                Some((seg, rest)) => {
                    let inner = rest
                        .strip_suffix(']')
                        .ok_or_else(|| format!("missing ']' in {text:?}"))?;
                    let (q, v) = inner
                        .split_once('=')
                        .ok_or_else(|| format!("expected [FIELD=VALUE] in {text:?}"))?;
                    Ok(Step {
                        segment: seg.trim().to_string(),
                        qualifier: Some((q.trim().to_string(), v.trim().to_string())),
                    })
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(FieldPath {
            steps,
            field: field.to_string(),
            text: text.to_string(),
        })
    }

    /// Resolves against `idoc`, starting at segment `context` (`None`: the IDoc itself).
    pub fn resolve<'a>(&self, idoc: &'a RawIdoc, context: Option<usize>) -> Option<Found<'a>> {
        walk(idoc, context, &self.steps, &self.field)
    }
}

fn walk<'a>(
    idoc: &'a RawIdoc,
    at: Option<usize>,
    steps: &[Step],
    field: &str,
) -> Option<Found<'a>> {
    let Some((step, rest)) = steps.split_first() else {
        let seg = &idoc.segments[at?];
        let (name, _) = seg.fields.iter().find(|(k, _)| k == field)?;
        return seg.field(field).map(|value| Found {
            value,
            segment: &seg.name,
            field: name,
        });
    };
    children(idoc, at)
        .filter(|&i| {
            let seg = &idoc.segments[i];
            seg.name == step.segment
                && step
                    .qualifier
                    .as_ref()
                    .is_none_or(|(q, v)| seg.field(q) == Some(v.as_str()))
        })
        .find_map(|i| walk(idoc, Some(i), rest, field))
}

/// Kept segments whose nearest kept ancestor is `parent`, found by jumping from subtree to
/// subtree: a path's step costs the children it passes, not the whole IDoc.
pub fn children(idoc: &RawIdoc, parent: Option<usize>) -> impl Iterator<Item = usize> + '_ {
    let len = idoc.segments.len();
    let (mut next, stop) = match parent {
        Some(p) => (p + 1, idoc.segments.get(p).map_or(0, |s| s.end).min(len)),
        None => (0, len),
    };
    std::iter::from_fn(move || {
        (next < stop).then(|| {
            let i = next;
            next = idoc.segments[i].end.max(i + 1);
            i
        })
    })
}

#[derive(Debug, Clone)]
pub struct LevelMapping {
    pub segment: String,
    pub fields: BTreeMap<String, Vec<FieldPath>>,
}

impl LevelMapping {
    /// The first mapped path present for `field`, from segment `context`.
    pub fn find<'a>(
        &self,
        field: &str,
        idoc: &'a RawIdoc,
        context: Option<usize>,
    ) -> Option<Found<'a>> {
        self.fields
            .get(field)?
            .iter()
            .find_map(|p| p.resolve(idoc, context))
    }

    pub fn is_mapped(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// How the field is mapped, for messages: the first path's segment and field.
    pub fn describe(&self, field: &str) -> (String, String) {
        match self.fields.get(field).and_then(|p| p.first()) {
            Some(p) => (
                p.steps
                    .last()
                    .map(|s| s.segment.clone())
                    .unwrap_or_else(|| self.segment.clone()),
                p.field.clone(),
            ),
            None => (self.segment.clone(), field.to_string()),
        }
    }
}

/// A loaded IDoc mapping.
#[derive(Debug, Clone)]
pub struct IdocMapping {
    pub path: PathBuf,
    pub message_types: Vec<String>,
    pub idoc_types: Vec<String>,
    pub credit_memo_types: Vec<String>,
    pub levels: BTreeMap<String, LevelMapping>,
}

impl IdocMapping {
    /// Loads a mapping and checks that `required` levels map the fields they must.
    pub fn load(path: &Path, required: &[(&str, &[&str])]) -> Result<Self, IdocMappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| IdocMappingError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, required)
    }

    pub fn parse(
        text: &str,
        path: &Path,
        required: &[(&str, &[&str])],
    ) -> Result<Self, IdocMappingError> {
        let invalid = |message: String| IdocMappingError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawMapping = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut levels = BTreeMap::new();
        for (name, level) in raw.levels {
            let mut fields = BTreeMap::new();
            for (field, paths) in level.fields {
                let list = match paths {
                    RawPaths::One(p) => vec![p],
                    RawPaths::Many(v) => v,
                };
                if list.is_empty() {
                    return Err(invalid(format!("levels.{name}.fields.{field}: no path")));
                }
                let parsed = list
                    .iter()
                    .map(|p| FieldPath::parse(p))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| invalid(format!("levels.{name}.fields.{field}: {e}")))?;
                fields.insert(field, parsed);
            }
            levels.insert(
                name,
                LevelMapping {
                    segment: level.segment,
                    fields,
                },
            );
        }
        for (level, fields) in required {
            let l = levels
                .get(*level)
                .ok_or_else(|| invalid(format!("level {level:?} is missing")))?;
            for f in *fields {
                if !l.is_mapped(f) {
                    return Err(invalid(format!("levels.{level}.fields.{f} is missing")));
                }
            }
        }
        if raw.idoc_types.is_empty() || raw.message_types.is_empty() {
            return Err(invalid(
                "idoc_types and message_types must name at least one".into(),
            ));
        }
        Ok(IdocMapping {
            path: path.to_path_buf(),
            message_types: raw.message_types,
            idoc_types: raw.idoc_types,
            credit_memo_types: raw.credit_memo_types,
            levels,
        })
    }

    pub fn level(&self, name: &str) -> Option<&LevelMapping> {
        self.levels.get(name)
    }

    /// Every segment the mapping reads: the reader keeps these and skips the rest.
    pub fn segments(&self) -> HashSet<String> {
        let mut out = HashSet::new();
        for level in self.levels.values() {
            if level.segment != "IDOC" {
                out.insert(level.segment.clone());
            }
            for paths in level.fields.values() {
                for p in paths {
                    for s in &p.steps {
                        out.insert(s.segment.clone());
                    }
                }
            }
        }
        out
    }

    /// Whether the mapping accepts this basic type (or extension) and message type.
    pub fn supports(&self, idoc_type: &str, extension: Option<&str>, message_type: &str) -> bool {
        let eq = |list: &[String], v: &str| list.iter().any(|x| x.eq_ignore_ascii_case(v));
        eq(&self.message_types, message_type)
            && (eq(&self.idoc_types, idoc_type)
                || extension.is_some_and(|e| eq(&self.idoc_types, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::idoc::reader::{close_subtrees, Segment};

    fn seg(name: &str, parent: Option<usize>, fields: &[(&str, &str)]) -> Segment {
        Segment {
            name: name.into(),
            parent,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            end: 0,
        }
    }

    #[test]
    fn paths_choose_by_qualifier_and_walk_down() {
        let mut segments = vec![
            seg("E1EDKA1", None, &[("PARVW", "AG"), ("PARTN", "100")]),
            seg("E1EDKA1", None, &[("PARVW", "RG"), ("PARTN", "200")]),
            seg("E1KNB1M", None, &[("BUKRS", "1010")]),
            seg("Z1KNB1M", Some(2), &[("ZZTERM", "Z030")]),
        ];
        close_subtrees(&mut segments);
        let idoc = RawIdoc {
            segments,
            ..RawIdoc::default()
        };
        let p = FieldPath::parse("E1EDKA1[PARVW=RG]/PARTN").unwrap();
        assert_eq!(p.resolve(&idoc, None).unwrap().value, "200");
        let p = FieldPath::parse("Z1KNB1M/ZZTERM").unwrap();
        assert_eq!(p.resolve(&idoc, Some(2)).unwrap().value, "Z030");
        assert!(FieldPath::parse("E1EDKA1[PARVW/PARTN").is_err());
        assert_eq!(children(&idoc, None).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(children(&idoc, Some(2)).collect::<Vec<_>>(), [3]);
    }
}
