//! Printing lists as a table, JSON or CSV (`--format`).

use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

/// One JSON document on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)
}

/// Rows of cells with a header, printed as an aligned table or as CSV.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Self {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Text table; East Asian characters count two columns, as terminals show them.
    pub fn render(&self) -> String {
        let width = |s: &str| {
            s.chars()
                .map(|c| if is_wide(c) { 2 } else { 1 })
                .sum::<usize>()
        };
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(width(cell));
            }
        }
        let line = |cells: Vec<&str>| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                s.push_str(cell);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(widths[i] - width(cell) + 2));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = line(self.header.clone());
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
            out.push('\n');
        }
        out
    }

    pub fn print(&self, format: Format) -> std::io::Result<()> {
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(std::io::stdout().lock());
                w.write_record(&self.header)?;
                for row in &self.rows {
                    w.write_record(row)?;
                }
                w.flush()
            }
            _ => {
                print!("{}", self.render());
                Ok(())
            }
        }
    }
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_wide_characters() {
        let mut t = Table::new(vec!["name", "x"]);
        t.row(vec!["上海".into(), "1".into()]);
        t.row(vec!["abcde".into(), "2".into()]);
        let r = t.render();
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[1], "上海   1");
        assert_eq!(lines[2], "abcde  2");
    }
}
