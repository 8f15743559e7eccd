//! `[desk]`: how the review desk words and limits what it offers. Every key is optional.
//!
//! ```toml
//! [desk]
//! # Where "make the change in SAP" leads. Placeholders: {customer} {company_code}
//! # {sales_org} {distribution_channel} {division} {transaction}, each URL-encoded.
//! sap_link = "https://s4.example.com/sap/bc/ui2/flp#Customer-manage?Customer={customer}"
//! waiver_max_days = 365      # a waiver may run at most this long (default: no limit)
//! note_max_chars = 4000      # the longest note accepted
//! ```

use serde::Deserialize;

/// The desk's own configuration; `config` reads it from `[desk]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSettings {
    /// A URL template for the SAP transaction or Fiori app a proposed change is made in.
    #[serde(default)]
    pub sap_link: Option<String>,
    /// The longest a waiver may run, in days from today. Unset, a waiver may run as long as
    /// its approver accepts (as the API always allowed); set it to enforce a policy.
    #[serde(default)]
    pub waiver_max_days: Option<u32>,
    /// The longest note text the desk and the API accept, in characters.
    #[serde(default = "default_note_max_chars")]
    pub note_max_chars: usize,
}

fn default_note_max_chars() -> usize {
    4000
}

impl Default for DeskSettings {
    fn default() -> Self {
        DeskSettings {
            sap_link: None,
            waiver_max_days: None,
            note_max_chars: default_note_max_chars(),
        }
    }
}

impl DeskSettings {
    /// Checks what serde cannot: the link is http(s) (never `javascript:` or a file), and a
    /// waiver can last at least a day.
    pub fn check(&self) -> Result<(), String> {
        if let Some(link) = &self.sap_link {
            let lower = link.trim().to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                return Err(format!(
                    "desk.sap_link {link:?} must start with https:// (or http://)"
                ));
            }
        }
        if self.waiver_max_days == Some(0) {
            return Err("desk.waiver_max_days must be at least 1".into());
        }
        if self.note_max_chars == 0 {
            return Err("desk.note_max_chars must be at least 1".into());
        }
        Ok(())
    }

    /// The link for a change, the template's placeholders filled in (URL-encoded).
    pub fn link(&self, values: &[(&str, &str)]) -> Option<String> {
        let mut out = self.sap_link.clone()?;
        for (name, value) in values {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            out = out.replace(&format!("{{{name}}}"), &encoded);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_fills_placeholders_url_encoded() {
        let s = DeskSettings {
            sap_link: Some(
                "https://s4/flp#Customer-manage?Customer={customer}&t={transaction}".into(),
            ),
            ..Default::default()
        };
        assert_eq!(
            s.link(&[("customer", "1000027"), ("transaction", "A&B")])
                .unwrap(),
            "https://s4/flp#Customer-manage?Customer=1000027&t=A%26B"
        );
        assert!(DeskSettings::default().link(&[]).is_none());
    }

    #[test]
    fn only_web_links_and_positive_durations_pass() {
        let bad = DeskSettings {
            sap_link: Some("javascript:alert(1)".into()),
            ..Default::default()
        };
        assert!(bad.check().is_err());
        let zero = DeskSettings {
            waiver_max_days: Some(0),
            ..Default::default()
        };
        assert!(zero.check().is_err());
        assert!(DeskSettings::default().check().is_ok());
    }
}
