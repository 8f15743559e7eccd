//! Server-rendered SVG charts for the collections pages: no script, no CDN, so the pages
//! work offline and print as they show. Charts are drawn from decimals; the float
//! conversion is for pixel positions only.

use super::kit::esc;
use crate::ar::Bucket;
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::fmt::Write as _;

const W: f64 = 560.0;
const H: f64 = 180.0;
const PAD: f64 = 30.0;

/// Vertical bars, one per aging bucket, of one company code and currency.
pub(super) fn aging_bars(id: &str, title: &str, buckets: &[Decimal; 7]) -> String {
    let max = buckets
        .iter()
        .filter_map(|b| b.to_f64())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    let slot = (W - 2.0 * PAD) / 7.0;
    let mut svg = format!(
        "<svg class=\"chart aging\" id=\"{}\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(id),
        esc(title)
    );
    let base = H - PAD;
    for (i, (b, bucket)) in buckets.iter().zip(Bucket::ALL).enumerate() {
        let v = b.to_f64().unwrap_or(0.0);
        let h = if max > 0.0 {
            (v.abs() / max) * (H - 2.0 * PAD)
        } else {
            0.0
        };
        let x = PAD + i as f64 * slot + slot * 0.15;
        let class = if bucket == Bucket::NotDue {
            "bar current"
        } else {
            "bar overdue"
        };
        let _ = write!(
            svg,
            "<rect class=\"{class}\" data-bucket=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" \
             height=\"{h:.1}\"><title>{}: {b}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            bucket.name(),
            base - h,
            slot * 0.7,
            bucket.name(),
            x + slot * 0.35,
            H - PAD / 2.0,
            bucket.name()
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{PAD}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#555\"/></svg>",
        W - PAD
    );
    svg
}

/// One line per series over days: `(label, points)` with values in percent or days.
pub(super) fn trend(
    id: &str,
    title: &str,
    unit: &str,
    series: &[(String, Vec<(NaiveDate, Decimal)>)],
) -> String {
    let mut svg = format!(
        "<svg class=\"chart trend\" id=\"{}\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(id),
        esc(title)
    );
    let all: Vec<(NaiveDate, f64)> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(d, v)| (*d, v.to_f64().unwrap_or(0.0))))
        .collect();
    if all.is_empty() {
        svg.push_str("<text x=\"20\" y=\"90\" font-size=\"12\">no snapshots yet</text></svg>");
        return svg;
    }
    let (first, last) = all.iter().fold((all[0].0, all[0].0), |(a, b), (d, _)| {
        (a.min(*d), b.max(*d))
    });
    let span = ((last - first).num_days().max(1)) as f64;
    let max = all.iter().fold(1.0_f64, |m, (_, v)| m.max(*v));
    let x = |d: NaiveDate| PAD + ((d - first).num_days() as f64 / span) * (W - 2.0 * PAD);
    let y = |v: f64| (H - PAD) - (v / max) * (H - 2.0 * PAD);
    let colours = [
        "#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a",
    ];
    for (i, (label, points)) in series.iter().enumerate() {
        let mut path = String::new();
        for (d, v) in points {
            let _ = write!(path, "{:.1},{:.1} ", x(*d), y(v.to_f64().unwrap_or(0.0)));
        }
        let colour = colours[i % colours.len()];
        let _ = write!(
            svg,
            "<polyline class=\"line\" data-series=\"{}\" fill=\"none\" stroke=\"{colour}\" \
             stroke-width=\"2\" points=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" \
             fill=\"{colour}\">{}</text>",
            esc(label),
            path.trim_end(),
            W - PAD - 150.0,
            14.0 + 12.0 * i as f64,
            esc(label)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"4\" y=\"{:.1}\" font-size=\"10\">{max:.0}{}</text>\
         <text x=\"{PAD}\" y=\"{H}\" font-size=\"10\">{first}</text>\
         <text x=\"{:.1}\" y=\"{H}\" font-size=\"10\" text-anchor=\"end\">{last}</text></svg>",
        PAD,
        esc(unit),
        W - PAD
    );
    svg
}
