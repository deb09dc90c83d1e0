//! The SVG plot: live resources against attempts, for both implementations.

use std::path::Path;

use plotters::prelude::*;

use crate::workload::Outcome;

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
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0u64..max_x, 0usize..max_y + max_y / 10 + 1)?;
    chart
        .configure_mesh()
        .x_desc("connect attempts")
        .y_desc("live subscriptions + publications")
        .draw()?;
    for (outcome, color) in [(naive, RED), (leakless, BLUE)] {
        chart
            .draw_series(LineSeries::new(
                outcome.samples.iter().copied(),
                color.stroke_width(2),
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
