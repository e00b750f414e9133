//! The plots beside each scenario's results: `results/<service>-<scenario>.svg`,
//! latency by percentile, one line per server.

use std::fmt::Write as _;

use serde_json::Value;

/// Latency by percentile, percentile on a log axis (1 / (1 - p)), one line
/// per target, as HdrHistogram's plots draw it.
pub fn latency_svg(doc: &Value) -> String {
    let (width, height, left, bottom, top, right) = (720.0, 420.0, 70.0, 50.0, 40.0, 20.0);
    let x_of = |p: f64| (1.0 / (1.0 - (p / 100.0).min(0.999_999))).log10();
    let x_max = x_of(99.9999);
    let results = doc["results"].as_array().cloned().unwrap_or_default();
    let y_max = results
        .iter()
        .flat_map(|r| r["latency_curve"].as_array().cloned().unwrap_or_default())
        .filter_map(|point| point[1].as_f64())
        .fold(1.0, f64::max);
    let px = |p: f64| left + x_of(p) / x_max * (width - left - right);
    let py = |us: f64| height - bottom - us / y_max * (height - bottom - top);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<text x="{left}" y="20" font-size="14">{} {}: latency by percentile (µs)</text>"#,
        doc["service"].as_str().unwrap_or(""),
        doc["title"].as_str().unwrap_or("")
    );
    for (p, label) in [
        (0.0, "0%"),
        (90.0, "90%"),
        (99.0, "99%"),
        (99.9, "99.9%"),
        (99.99, "99.99%"),
        (99.999, "99.999%"),
        (99.9999, "99.9999%"),
    ] {
        let x = px(p);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            height - bottom,
            height - bottom + 18.0
        );
    }
    for i in 0..=4 {
        let us = y_max * i as f64 / 4.0;
        let y = py(us);
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{us:.0}</text>"##,
            width - right,
            left - 6.0,
            y + 4.0
        );
    }
    for (i, result) in results.iter().enumerate() {
        let color = ["#1f77b4", "#ff7f0e", "#2ca02c"][i % 3];
        let points: Vec<String> = result["latency_curve"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|point| Some((point[0].as_f64()?, point[1].as_f64()?)))
            .map(|(p, us)| format!("{:.1},{:.1}", px(p), py(us)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" fill="{color}">{}</text>"#,
            left + 10.0,
            top + 16.0 + 16.0 * i as f64,
            result["target"].as_str().unwrap_or("")
        );
    }
    svg.push_str("</svg>\n");
    svg
}
