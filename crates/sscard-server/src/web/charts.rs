//! Server-side SVG charts for the dashboard: horizontal bars, no script needed.

/// Escapes text for SVG/XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A horizontal bar chart of `(label, value)` pairs with an accessible title.
pub fn bars(title: &str, data: &[(String, i64)]) -> String {
    const ROW_PX: usize = 24;
    const LABEL_PX: usize = 110;
    const BAR_PX: usize = 200;
    let max = data.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let height = ROW_PX * data.len().max(1) + 8;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title),
        w = LABEL_PX + BAR_PX + 70,
    );
    for (i, (label, value)) in data.iter().enumerate() {
        let y = i * ROW_PX + 4;
        let width = ((*value).max(0) as usize * BAR_PX) / max as usize;
        svg.push_str(&format!(
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{bx}" y="{y}" width="{width}" height="{h}" fill="#0b5cad" rx="3"><title>{label}: {value}</title></rect><text x="{vx}" y="{ty}">{value}</text>"##,
            lx = LABEL_PX - 6,
            ty = y + 15,
            bx = LABEL_PX,
            h = ROW_PX - 6,
            vx = LABEL_PX + width + 6,
            label = esc(label),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Colours for series, distinguishable and readable on white.
const PALETTE: [&str; 8] = ["#0b5cad", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c", "#8c564b", "#444444"];

/// What a line chart's axes say: the titles of both axes and one label per period.
pub struct Axes<'a> {
    pub x_title: &'a str,
    pub y_title: &'a str,
    /// One label per period, oldest first (every other one is drawn when they are many).
    pub periods: &'a [String],
}

const W: usize = 380;
const H: usize = 160;
const LEFT: usize = 40;

/// The y axis: ticks at zero, half the maximum and the maximum, with light grid lines.
fn y_axis(svg: &mut String, max: i64, y: impl Fn(i64) -> usize) {
    let mut ticks = vec![0, max / 2, max];
    ticks.dedup();
    for v in ticks {
        svg.push_str(&format!(
            r##"<line x1="{LEFT}" y1="{yy}" x2="{W}" y2="{yy}" stroke="#d5d9e0"/><text x="{tx}" y="{ty}" text-anchor="end">{v}</text>"##,
            yy = y(v),
            tx = LEFT - 4,
            ty = y(v) + 4,
        ));
    }
}

/// A line chart of several series over the same periods (oldest first), with labelled axes
/// and a legend.
pub fn lines(title: &str, axes: &Axes<'_>, series: &[(String, Vec<i64>)]) -> String {
    let periods = series.iter().map(|(_, v)| v.len()).max().unwrap_or(0).max(axes.periods.len()).max(2);
    let max = series.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0).max(1);
    let legend_rows = series.len().div_ceil(3);
    let height = H + 44 + legend_rows * 18;
    let x = |i: usize| LEFT + i * (W - LEFT - 8) / (periods - 1);
    let y = |v: i64| 8 + (H - 16) - ((v.max(0) as usize) * (H - 16)) / max as usize;
    let mut svg = format!(
        r##"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {W} {height}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text x="2" y="10" class="axis">{yt}</text>"##,
        t = esc(title),
        yt = esc(axes.y_title),
    );
    y_axis(&mut svg, max, y);
    let step = if axes.periods.len() > 8 { 2 } else { 1 };
    for (i, label) in axes.periods.iter().enumerate() {
        // The newest period is always labelled; the others every `step`.
        if (axes.periods.len() - 1 - i).is_multiple_of(step) {
            svg.push_str(&format!(r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, x(i), H + 6, esc(label)));
        }
    }
    svg.push_str(&format!(
        r#"<text x="{}" y="{}" text-anchor="middle" class="axis">{}</text>"#,
        (LEFT + W) / 2,
        H + 24,
        esc(axes.x_title)
    ));
    for (n, (label, values)) in series.iter().enumerate() {
        let colour = PALETTE[n % PALETTE.len()];
        let points: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{},{}", x(i), y(*v))).collect();
        svg.push_str(&format!(
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{}: {}</title></polyline>"#,
            points.join(" "),
            esc(label),
            values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "),
        ));
        let (lx, lyy) = (LEFT + (n % 3) * 115, H + 44 + (n / 3) * 18);
        svg.push_str(&format!(
            r#"<rect x="{lx}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{lyy}">{}</text>"#,
            lyy - 9,
            lx + 14,
            esc(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_draw_one_polyline_per_series_scaled_to_the_maximum() {
        let periods = ["09-01".to_string(), "09-08".into(), "09-15".into()];
        let axes = Axes { x_title: "week", y_title: "applications", periods: &periods };
        let svg = lines("t", &axes, &[("a".into(), vec![0, 5, 10]), ("b".into(), vec![10, 0, 0])]);
        assert_eq!(svg.matches("<polyline").count(), 2);
        // The maximum (10) is drawn at the top (y = 8), zero at the bottom (y = 152).
        assert!(svg.contains("40,152 206,80 372,8"), "{svg}");
        // Both axes are titled, every period is labelled, and 0, 5 and 10 are ticks.
        for label in [">week<", ">applications<", ">09-01<", ">09-08<", ">09-15<", ">0<", ">5<", ">10<"] {
            assert!(svg.contains(label), "{label} in {svg}");
        }
    }

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bars("t<", &[("a&b".into(), 10), ("c".into(), 5)]);
        assert!(svg.contains("aria-label=\"t&lt;\""));
        assert!(svg.contains(">a&amp;b<"));
        assert!(svg.contains("width=\"200\""), "{svg}");
        assert!(svg.contains("width=\"100\""), "{svg}");
    }
}
