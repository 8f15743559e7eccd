//! erpsync configs built from typed settings and rendered as TOML, so no test spells out a
//! whole config file by hand and a renamed key is fixed here once.

use erpsync::config::Config;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The file name every test config is written under, beside its store and mapping.
pub const CONFIG_FILE: &str = "erpsync.toml";

/// An erpsync config under construction. Paths in it are relative to the folder the config is
/// written to, as in a deployment.
#[derive(Clone, Debug)]
pub struct ErpsyncToml {
    root: Table,
}

impl ErpsyncToml {
    /// A config with only `[store] url = "sqlite://{file}"` (beside the config).
    pub fn sqlite(file: &str) -> ErpsyncToml {
        ErpsyncToml::with_store(&format!("sqlite://{file}"))
    }

    /// A config with only `[store] url`.
    pub fn with_store(url: &str) -> ErpsyncToml {
        ErpsyncToml { root: Table::new() }.set("store.url", url)
    }

    /// `[erp] kind = "odata"` at `base_url`, reading `mapping.toml`.
    pub fn odata(self, base_url: &str) -> ErpsyncToml {
        self.set("erp.kind", "odata")
            .set("erp.base_url", base_url)
            .set("erp.mapping", "mapping.toml")
    }

    /// `[erp] kind = "odata"` against the usual mock SAP set-up: client 100, a `timeout` per
    /// request, `max_retries`, basic auth as `ERPSYNC` with the password in `password_file`.
    pub fn sap(self, base_url: &str, timeout: &str, max_retries: u32, password_file: &str) -> Self {
        self.odata(base_url)
            .set("erp.sap_client", "100")
            .set("erp.timeout", timeout)
            .set("erp.max_retries", max_retries)
            .basic_auth("ERPSYNC", password_file)
    }

    /// `[erp.auth] kind = "basic"` with the password read from `password_file`.
    pub fn basic_auth(self, user: &str, password_file: &str) -> ErpsyncToml {
        self.set("erp.auth.kind", "basic")
            .set("erp.auth.user", user)
            .set("erp.auth.password_file", password_file)
    }

    /// `[[contracts]] kind = "erp"`: contracts read from the ERP.
    pub fn erp_contracts(self) -> ErpsyncToml {
        self.push("contracts", table([("kind", "erp".into())]))
    }

    /// `[[contracts]] kind = "file"` reading the register at `path`.
    pub fn file_contracts(self, path: &str) -> ErpsyncToml {
        self.push(
            "contracts",
            table([("kind", "file".into()), ("path", path.into())]),
        )
    }

    /// Sets the key at a dotted path (`"erp.auth.user"`), creating the tables on the way.
    pub fn set(mut self, dotted: &str, value: impl Into<Value>) -> ErpsyncToml {
        let (tables, key) = match dotted.rsplit_once('.') {
            Some((tables, key)) => (Some(tables), key),
            None => (None, dotted),
        };
        let parent = match tables {
            Some(tables) => self.table_mut(tables),
            None => &mut self.root,
        };
        parent.insert(key.to_string(), value.into());
        self
    }

    /// Sets every `(key, value)` of `settings` in the table at a dotted path (`"schedule"`).
    pub fn section<V: Into<Value> + Clone>(self, table: &str, settings: &[(&str, V)]) -> Self {
        settings
            .iter()
            .fold(self, |c, (k, v)| c.set(&format!("{table}.{k}"), v.clone()))
    }

    /// Removes the key at a dotted path, if set.
    pub fn unset(mut self, dotted: &str) -> ErpsyncToml {
        match dotted.rsplit_once('.') {
            Some((tables, key)) => self.table_mut(tables).remove(key),
            None => self.root.remove(dotted),
        };
        self
    }

    /// Appends `entry` to the array of tables at a dotted path (`[[contracts]]`,
    /// `[[server.tokens]]`).
    pub fn push(mut self, dotted: &str, entry: Table) -> ErpsyncToml {
        let (parent, key) = match dotted.rsplit_once('.') {
            Some((tables, key)) => (self.table_mut(tables), key),
            None => (&mut self.root, dotted),
        };
        match parent
            .entry(key.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(entries) => entries.push(Value::Table(entry)),
            other => panic!("{dotted} is not an array of tables: {other}"),
        }
        self
    }

    fn table_mut(&mut self, dotted: &str) -> &mut Table {
        dotted.split('.').fold(&mut self.root, |table, name| {
            match table
                .entry(name.to_string())
                .or_insert_with(|| Value::Table(Table::new()))
            {
                Value::Table(t) => t,
                other => panic!("{name} is not a table: {other}"),
            }
        })
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        toml::to_string(&self.root).expect("a test config renders")
    }

    /// Writes the config to `path`.
    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.render()).expect("test config written");
    }

    /// Writes the config as `dir/erpsync.toml` and returns that path.
    pub fn write_in(&self, dir: &Path) -> PathBuf {
        let path = dir.join(CONFIG_FILE);
        self.write(&path);
        path
    }

    /// Writes the config as `dir/erpsync.toml` and loads it as erpsync does.
    pub fn load_in(&self, dir: &Path) -> Config {
        Config::load(&self.write_in(dir)).expect("test config loads")
    }
}

/// A TOML table from `(key, value)` pairs: an entry of an array of tables.
pub fn table<const N: usize>(pairs: [(&str, Value); N]) -> Table {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A `[[server.users]]` entry.
pub fn user(name: &str, role: &str, password_hash: &str) -> Table {
    table([
        ("name", name.into()),
        ("role", role.into()),
        ("password_hash", password_hash.into()),
    ])
}

/// A `[[server.tokens]]` entry whose secret comes from `source` (`token_file`, `token_env`).
pub fn token(name: &str, role: &str, source: &str, value: &str) -> Table {
    table([
        ("name", name.into()),
        ("role", role.into()),
        (source, value.into()),
    ])
}
