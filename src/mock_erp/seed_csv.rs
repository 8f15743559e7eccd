//! The mock's data set as CSV seed files, one per entity set, with SAP's property names as
//! headers: what an SAP CAP project loads from `db/data/NAMESPACE-ENTITY.csv`. The
//! conformance test serves them from a real OData server and expects the same findings as
//! from the mock.

use super::data::Dataset;
use super::sets::{DsTable, Service, Table, Val};

/// `(file name, CSV text)` for every entity set, in namespace `namespace`.
pub fn cap_seed_files(ds: &Dataset, namespace: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for service in [
        Service::BusinessPartner,
        Service::OpenItems,
        Service::SalesContract,
        Service::CreditManagement,
    ] {
        for &set in service.sets() {
            let table = DsTable {
                ds,
                set,
                cleared: None,
            };
            let props = set.props();
            let mut csv = props.iter().map(|p| p.name).collect::<Vec<_>>().join(",");
            csv.push('\n');
            for row in 0..table.len() {
                let cells: Vec<String> = props
                    .iter()
                    .map(|p| cell(&table.value(row, p.name)))
                    .collect();
                csv.push_str(&cells.join(","));
                csv.push('\n');
            }
            files.push((format!("{namespace}-{}.csv", set.name()), csv));
        }
    }
    files
}

fn cell(v: &Val<'_>) -> String {
    match v {
        Val::Null => String::new(),
        Val::Str(s) if s.contains([',', '"', '\n', '\r']) => {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
        Val::Str(s) => s.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Date(d) => d.format("%Y-%m-%d").to_string(),
        Val::Dto(d) => d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Val::Dec(d) => d.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_per_set_with_quoted_cells_and_every_row() {
        let ds = Dataset::generate(&crate::mock_erp::MockErpConfig {
            customers: 12,
            open_items: 40,
            ..Default::default()
        });
        let files = cap_seed_files(&ds, "s4");
        let customers = files
            .iter()
            .find(|(n, _)| n == "s4-A_Customer.csv")
            .map(|(_, c)| c)
            .unwrap();
        assert!(customers.starts_with("Customer,CustomerName,"));
        assert_eq!(customers.lines().count(), ds.customers.len() + 1);
        assert_eq!(cell(&Val::Str("A, \"B\"".into())), "\"A, \"\"B\"\"\"");
        assert_eq!(files.len(), 9);
    }
}
