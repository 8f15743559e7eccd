//! The environment's part: `ERPSYNC_SECTION__KEY` overrides, secrets read from variables
//! or files, and paths taken from the config file's folder.

use super::{invalid, ConfigError, ENV_PREFIX};
use secrecy::SecretString;
use std::path::{Path, PathBuf};

/// `ERPSYNC_A__B__C=v` sets key `c` of table `a.b`. Variables without a `__` are not config
/// overrides (e.g. `ERPSYNC_TEST_POSTGRES_URL`) and are left alone. The value keeps the type
/// of the key it replaces (integer, boolean), and is a string otherwise.
pub(super) fn apply_env_overrides(
    root: &mut toml::Table,
    env: &[(String, String)],
) -> Result<(), ConfigError> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !rest.contains("__") {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Env {
                var: name.clone(),
                message: "empty section or key name".into(),
            });
        }
        let (key, tables) = path.split_last().expect("at least two parts");
        let mut table = &mut *root;
        for t in tables {
            let entry = table
                .entry(t.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            table = entry.as_table_mut().ok_or_else(|| ConfigError::Env {
                var: name.clone(),
                message: format!("{t} is not a section"),
            })?;
        }
        let value = match table.get(key.as_str()) {
            Some(toml::Value::Integer(_)) => {
                toml::Value::Integer(raw.parse().map_err(|_| ConfigError::Env {
                    var: name.clone(),
                    message: format!("expected an integer, got {raw:?}"),
                })?)
            }
            Some(toml::Value::Boolean(_)) => {
                toml::Value::Boolean(raw.parse().map_err(|_| ConfigError::Env {
                    var: name.clone(),
                    message: format!("expected true or false, got {raw:?}"),
                })?)
            }
            _ => toml::Value::String(raw.clone()),
        };
        table.insert(key.clone(), value);
    }
    Ok(())
}

pub(super) fn read_secret(
    key: &str,
    env_name: Option<&str>,
    file: Option<&Path>,
    base: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretString, ConfigError> {
    match (env_name, file) {
        (Some(var), None) => lookup(var)
            .map(SecretString::from)
            .ok_or_else(|| invalid(key, format!("environment variable {var} is not set"))),
        (None, Some(file)) => {
            let path = resolve_path(base, file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                invalid(
                    key,
                    format!("cannot read secret file {}: {e}", path.display()),
                )
            })?;
            Ok(SecretString::from(
                text.trim_end_matches(['\r', '\n']).to_string(),
            ))
        }
        (Some(_), Some(_)) => Err(invalid(
            key,
            "give either the _env or the _file form, not both",
        )),
        (None, None) => Err(invalid(key, "missing: give the _env or the _file form")),
    }
}

/// A path from the config file: relative ones are taken from the file's folder.
pub(super) fn resolve_path(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}
