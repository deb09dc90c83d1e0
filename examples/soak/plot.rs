//! The SVG plot: live resources against attempts, for both implementations.

use std::path::Path;

use plotters::prelude::*;

use crate::workload::Outcome;

/// Fails at once if `path` cannot be written (creates the file, empty).
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    std::fs::File::create(path).map(drop)
}

/// "1M", "250k", "900": a tick label that fits under its tick.
fn compact(value: u64) -> String {
    match value {
        v if v >= 1_000_000 && v % 1_000_000 == 0 => format!("{}M", v / 1_000_000),
        v if v >= 1_000_000 => format!("{:.1}M", v as f64 / 1e6),
        v if v >= 1_000 && v % 1_000 == 0 => format!("{}k", v / 1_000),
        v if v >= 1_000 => format!("{:.1}k", v as f64 / 1e3),
        v => v.to_string(),
    }
}

pub fn svg(
    path: &Path,
    naive: &Outcome,
    leakless: &Outcome,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_x = naive.attempts.max(leakless.attempts).max(1);
    let max_y = naive
        .samples
        .iter()
        .chain(&leakless.samples)
        .map(|(_, live)| *live)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Live resources in the driver after N connect attempts",
            ("sans-serif", 20),
        )
        .margin(15)
        // Room for the last x tick's label, which is centred on the edge.
        .margin_right(45)
        .x_label_area_size(40)
        .y_label_area_size(60)
        // The y axis starts a little below zero, so that a flat line at
        // zero (leakless) is drawn above the axis, not on it.
        .build_cartesian_2d(
            0u64..max_x,
            -(max_y as i64 / 30 + 1)..(max_y + max_y / 10 + 1) as i64,
        )?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| compact(*x))
        .y_label_formatter(&|y| if *y < 0 { String::new() } else { y.to_string() })
        .x_desc("connect attempts")
        .y_desc("live subscriptions + publications")
        .draw()?;
    for (outcome, color, width) in [(naive, RED, 2), (leakless, BLUE, 3)] {
        chart
            .draw_series(LineSeries::new(
                outcome
                    .samples
                    .iter()
                    .map(|&(attempts, live)| (attempts, live as i64)),
                color.stroke_width(width),
            ))?
            .label(outcome.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}
