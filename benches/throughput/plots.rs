//! The plot beside each scenario's results, `results/<service>-<scenario>.svg`,
//! drawn with plotters' SVG backend: throughput of every server as bars
//! above, latency by percentile below, one colour per server in both.
//!
//! plotters is built without its font crates: the SVG backend writes text as
//! `<text>` for the viewer to set, and lays it out with a rough estimate of
//! its width. So the label areas and margins here are sized by hand from the
//! longest label, with room to spare, rather than measured.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

const WIDTH: u32 = 780;
/// The latency panel's height; the throughput panel's grows with the servers.
const LATENCY_HEIGHT: u32 = 360;
const TITLE_HEIGHT: u32 = 30;
const FONT: &str = "sans-serif";
/// Labels' font size as plotters takes it; its SVG backend writes sizes
/// divided by 1.24, so this is about 11.3 px in the picture.
const LABEL_PX: f64 = 14.0;
/// A generous width of one character of the labels, for sizing label areas
/// (DejaVu Sans averages about 6.5 px at 11.3 px).
const CHAR_PX: u32 = 8;
/// One colour per server, in the order of the results (percore first).
const COLOURS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
];
/// The latency panel's right-most percentile: 99.9999%, six nines, where
/// 1 / (1 - p) is a million.
const NINES: i32 = 6;

type PlotResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The whole picture for one scenario's results document.
pub fn scenario_svg(doc: &Value) -> String {
    let results = doc["results"].as_array().cloned().unwrap_or_default();
    let mut svg = String::new();
    draw(doc, &results, &mut svg).expect("draw the plot");
    svg
}

fn draw(doc: &Value, results: &[Value], svg: &mut String) -> PlotResult<()> {
    let bars_height = 80 + 36 * results.len() as u32;
    let height = TITLE_HEIGHT + bars_height + LATENCY_HEIGHT;
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "{}: {}",
        doc["service"].as_str().unwrap_or(""),
        doc["title"].as_str().unwrap_or("")
    );
    let body = root.titled(&title, (FONT, 18))?;
    let (upper, lower) = body.split_vertically(bars_height);
    throughput_bars(&upper, results)?;
    latency_by_percentile(&lower, results)?;
    root.present()?;
    Ok(())
}

fn target(result: &Value) -> &str {
    result["target"].as_str().unwrap_or("")
}

/// Horizontal bars, so that names as long as "redis-server (GET only)" sit
/// beside their bar instead of overlapping under it; the first result on
/// top, each bar's figure written at its end.
fn throughput_bars(area: &DrawingArea<SVGBackend, Shift>, results: &[Value]) -> PlotResult<()> {
    let n = results.len().max(1);
    let rate = |r: &Value| r["msgs_per_sec"].as_f64().unwrap_or(0.0);
    let x_max = results.iter().map(rate).fold(1.0, f64::max);
    let longest = results.iter().map(|r| target(r).chars().count()).max();
    let names_px = CHAR_PX * longest.unwrap_or(8) as u32 + 16;
    // Row i's centre is at y = n - 1 - i: the first result on top. With one
    // label asked for per row, plotters puts them at the whole numbers.
    let mut chart = ChartBuilder::on(area)
        .caption("throughput, msgs/s", (FONT, 16))
        .margin(10)
        .margin_right(30)
        .x_label_area_size(30)
        .y_label_area_size(names_px)
        // Room right of the longest bar for its figure.
        .build_cartesian_2d(0.0..x_max * 1.3, -0.5..n as f64 - 0.5)?;
    let name_of_row = |y: &f64| {
        if y.fract() != 0.0 || *y < 0.0 || *y >= n as f64 {
            return String::new();
        }
        results
            .get(n - 1 - *y as usize)
            .map_or("", target)
            .to_string()
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(6)
        .y_labels(n)
        .x_label_formatter(&|v| short_rate(*v))
        .y_label_formatter(&name_of_row)
        .label_style((FONT, LABEL_PX))
        .light_line_style(WHITE)
        // plotters scales ticks with the panel; a short panel's would put
        // the labels against the axis.
        .set_all_tick_mark_size(5)
        .draw()?;
    for (i, result) in results.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        let colour = COLOURS[i % COLOURS.len()];
        chart.draw_series([Rectangle::new(
            [(0.0, y - 0.3), (rate(result), y + 0.3)],
            colour.filled(),
        )])?;
        let figure =
            TextStyle::from((FONT, LABEL_PX).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series([EmptyElement::at((rate(result), y))
                + Text::new(grouped(rate(result)), (6, 0), figure)])?;
    }
    Ok(())
}

/// Latency by percentile, as HdrHistogram's plots draw it: the percentile p
/// on a log axis of 1 / (1 - p), so that 90%, 99%, 99.9%... (10, 100,
/// 1000...) are evenly spaced, and the latency linear. Results without a
/// curve (redis-benchmark gives none) are named in the legend only.
fn latency_by_percentile(
    area: &DrawingArea<SVGBackend, Shift>,
    results: &[Value],
) -> PlotResult<()> {
    let curve = |r: &Value| -> Vec<(f64, f64)> {
        r["latency_curve"]
            .as_array()
            .map(|points| {
                points
                    .iter()
                    .filter_map(|point| Some((one_in(point[0].as_f64()?), point[1].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let y_max = results
        .iter()
        .flat_map(curve)
        .map(|(_, us)| us)
        .fold(1.0, f64::max);
    // Headroom above the highest point for the legend, which stands in the
    // upper left where the curves, rising to the right, seldom are, but
    // where a steep one would pass behind it: about 18 px a row plus its
    // box, out of a plot about 260 px high.
    let legend_px = 18.0 * results.len() as f64 + 24.0;
    let y_top = y_max / (1.0 - legend_px / f64::from(LATENCY_HEIGHT - 100));
    // The widest label is the top one's digits; then the axis name, turned.
    let y_labels_px = CHAR_PX * format!("{y_top:.0}").len() as u32 + 30;
    let mut chart = ChartBuilder::on(area)
        .caption("latency by percentile, µs", (FONT, 16))
        .margin(10)
        // Half of the last label ("99.9999%") lies right of the plot.
        .margin_right(50)
        .x_label_area_size(45)
        .y_label_area_size(y_labels_px)
        .build_cartesian_2d((1.0..10f64.powi(NINES)).log_scale(), 0.0..y_top)?;
    chart
        .configure_mesh()
        // One label a power of ten.
        .x_labels(NINES as usize + 1)
        .x_label_formatter(&|x| percentile_label(*x))
        .y_labels(6)
        .y_label_formatter(&|us| format!("{us:.0}"))
        .x_desc("percentile")
        .y_desc("µs")
        .label_style((FONT, LABEL_PX))
        .axis_desc_style((FONT, LABEL_PX))
        .light_line_style(WHITE)
        .set_all_tick_mark_size(5)
        .draw()?;
    for (i, result) in results.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points = curve(result);
        let label = if points.is_empty() {
            format!("{} (no curve: see the table)", target(result))
        } else {
            target(result).to_string()
        };
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, LABEL_PX))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// The percentile p (0 to 100) as 1 / (1 - p): one request in that many is
/// slower. 90% is 10, 99% is 100; 100% (the maximum) is drawn at the right
/// edge, with 99.9999%.
fn one_in(p: f64) -> f64 {
    let right = 10f64.powi(NINES);
    (1.0 / (1.0 - p / 100.0)).min(right)
}

/// 1 → "0%", 10 → "90%", 100 → "99%", 1000 → "99.9%"...
fn percentile_label(one_in: f64) -> String {
    let k = one_in.log10().round() as i32;
    if k == 0 {
        return "0%".into();
    }
    let decimals = (k - 2).max(0) as usize;
    format!("{:.decimals$}%", 100.0 * (1.0 - 10f64.powi(-k)))
}

/// An axis figure: 1500000 → "1.5M", 250000 → "250k".
fn short_rate(v: f64) -> String {
    let round = |x: f64| (x * 100.0).round() / 100.0;
    if v >= 1e6 {
        format!("{}M", round(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", round(v / 1e3))
    } else {
        format!("{}", round(v))
    }
}

/// A bar's figure, whole, with thousands separated: "2,485,376".
fn grouped(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
