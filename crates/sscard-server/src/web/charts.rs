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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bars("t<", &[("a&b".into(), 10), ("c".into(), 5)]);
        assert!(svg.contains("aria-label=\"t&lt;\""));
        assert!(svg.contains(">a&amp;b<"));
        assert!(svg.contains("width=\"200\""), "{svg}");
        assert!(svg.contains("width=\"100\""), "{svg}");
    }
}
