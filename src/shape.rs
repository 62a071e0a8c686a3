//! Query results shaped for display: table rows and graph series.
//!
//! Plain Rust over `promplay_promql::value`, so the shaping is tested natively; the components
//! in `app` only render what this module returns.

use promplay_model::{Labels, METRIC_NAME};
use promplay_promql::value::{Sample, Value};

/// At most this many rows are rendered in the table; the rest are counted, not drawn.
pub const MAX_TABLE_ROWS: usize = 10_000;

/// One row of the Table tab.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// `name{a="b", …}` as Prometheus's UI prints a series, or `scalar` / `string`.
    pub labels: String,
    /// The value as Prometheus's API prints it; for range vectors one `value @timestamp` per line.
    pub value: String,
}

/// The rows of a result, at most [`MAX_TABLE_ROWS`], and how many there were in all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub rows: Vec<Row>,
    pub total: usize,
}

/// One line of the Graph tab.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphSeries {
    pub label: String,
    /// `(timestamp_ms, value)`, finite values only (gaps where the value is NaN or infinite).
    pub points: Vec<(i64, f64)>,
}

/// `name{a="b", c="d"}`; `{}` for an empty label set.
pub fn series_name(l: &Labels) -> String {
    let name = l.metric_name().unwrap_or("");
    let rest = l.without(&[METRIC_NAME]);
    if rest.is_empty() && !name.is_empty() {
        name.to_string()
    } else {
        format!("{name}{rest}")
    }
}

/// A float as Prometheus's API prints it (`strconv.FormatFloat(f, 'f', -1, 64)`, `+Inf`, `NaN`).
pub fn format_value(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f}")
    }
}

fn sample_value(s: &Sample) -> String {
    match &s.h {
        None => format_value(s.f),
        Some(h) => format!(
            "histogram {{count: {}, sum: {}}}",
            format_value(h.count),
            format_value(h.sum)
        ),
    }
}

/// The Table tab's rows for any result type.
pub fn table(value: &Value) -> Table {
    match value {
        Value::Scalar { v, .. } => Table {
            rows: vec![Row {
                labels: "scalar".into(),
                value: format_value(*v),
            }],
            total: 1,
        },
        Value::String { s, .. } => Table {
            rows: vec![Row {
                labels: "string".into(),
                value: s.clone(),
            }],
            total: 1,
        },
        Value::Vector(v) => Table {
            rows: v
                .iter()
                .take(MAX_TABLE_ROWS)
                .map(|s| Row {
                    labels: series_name(&s.metric),
                    value: sample_value(s),
                })
                .collect(),
            total: v.len(),
        },
        Value::Matrix(m) => Table {
            rows: m
                .iter()
                .take(MAX_TABLE_ROWS)
                .map(|s| {
                    let mut lines: Vec<(i64, String)> = s
                        .floats
                        .iter()
                        .map(|p| (p.t, format_value(p.f)))
                        .chain(s.histograms.iter().map(|p| {
                            (
                                p.t,
                                format!("histogram {{count: {}}}", format_value(p.h.count)),
                            )
                        }))
                        .collect();
                    lines.sort_by_key(|l| l.0);
                    Row {
                        labels: series_name(&s.metric),
                        value: lines
                            .iter()
                            .map(|(t, v)| format!("{v} @{}", format_ts(*t)))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    }
                })
                .collect(),
            total: m.len(),
        },
    }
}

/// Unix seconds with up to 3 decimals, as Prometheus's UI prints sample timestamps.
pub fn format_ts(ms: i64) -> String {
    if ms.rem_euclid(1000) == 0 {
        format!("{}", ms.div_euclid(1000))
    } else {
        let s = format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000));
        s.trim_end_matches('0').to_string()
    }
}

/// The Graph tab's lines: one per series of a range query's matrix (a scalar or string result
/// of an instant evaluation becomes a single point). Histogram points are drawn by their count.
pub fn graph(value: &Value) -> Vec<GraphSeries> {
    match value {
        Value::Matrix(m) => m
            .iter()
            .map(|s| {
                let mut points: Vec<(i64, f64)> = s
                    .floats
                    .iter()
                    .map(|p| (p.t, p.f))
                    .chain(s.histograms.iter().map(|p| (p.t, p.h.count)))
                    .filter(|p| p.1.is_finite())
                    .collect();
                points.sort_by_key(|p| p.0);
                GraphSeries {
                    label: series_name(&s.metric),
                    points,
                }
            })
            .collect(),
        Value::Vector(v) => v
            .iter()
            .map(|s| GraphSeries {
                label: series_name(&s.metric),
                points: [(s.t, s.h.as_ref().map_or(s.f, |h| h.count))]
                    .into_iter()
                    .filter(|p| p.1.is_finite())
                    .collect(),
            })
            .collect(),
        Value::Scalar { t, v } => vec![GraphSeries {
            label: "scalar".into(),
            points: [(*t, *v)].into_iter().filter(|p| p.1.is_finite()).collect(),
        }],
        Value::String { .. } => Vec::new(),
    }
}

/// The y range to draw: the min and max of all points, widened when flat or empty.
pub fn y_range(series: &[GraphSeries]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in series.iter().flat_map(|s| &s.points) {
        lo = lo.min(p.1);
        hi = hi.max(p.1);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < f64::EPSILON * hi.abs().max(1.0) {
        let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use promplay_promql::value::{FPoint, Series};

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs)
    }

    #[test]
    fn vector_rows_print_name_labels_and_value() {
        let v = Value::Vector(vec![
            Sample::float(labels(&[("__name__", "up"), ("job", "api")]), 0, 1.0),
            Sample::float(labels(&[("job", "api")]), 0, 0.25),
            Sample::float(labels(&[("__name__", "x")]), 0, f64::INFINITY),
        ]);
        let t = table(&v);
        assert_eq!(t.total, 3);
        assert_eq!(
            t.rows[0],
            Row {
                labels: r#"up{job="api"}"#.into(),
                value: "1".into()
            }
        );
        assert_eq!(
            t.rows[1],
            Row {
                labels: r#"{job="api"}"#.into(),
                value: "0.25".into()
            }
        );
        assert_eq!(
            t.rows[2],
            Row {
                labels: "x".into(),
                value: "+Inf".into()
            }
        );
    }

    #[test]
    fn scalars_and_strings_have_one_row() {
        let t = table(&Value::Scalar { t: 0, v: 1e21 });
        assert_eq!(
            t.rows,
            vec![Row {
                labels: "scalar".into(),
                value: "1000000000000000000000".into()
            }]
        );
        let t = table(&Value::String {
            t: 0,
            s: "hi".into(),
        });
        assert_eq!(
            t.rows,
            vec![Row {
                labels: "string".into(),
                value: "hi".into()
            }]
        );
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(-0.5), "-0.5");
    }

    #[test]
    fn matrix_rows_list_points_and_graph_skips_non_finite() {
        let m = Value::Matrix(vec![Series {
            metric: labels(&[("__name__", "up")]),
            floats: vec![
                FPoint { t: 1_000, f: 1.0 },
                FPoint {
                    t: 16_500,
                    f: f64::NAN,
                },
                FPoint { t: 31_000, f: 0.0 },
            ],
            ..Default::default()
        }]);
        assert_eq!(table(&m).rows[0].value, "1 @1\nNaN @16.5\n0 @31");
        let g = graph(&m);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].label, "up");
        assert_eq!(g[0].points, vec![(1_000, 1.0), (31_000, 0.0)]);
    }

    #[test]
    fn table_is_bounded() {
        let v = Value::Vector(
            (0..MAX_TABLE_ROWS + 5)
                .map(|i| Sample::float(labels(&[("i", &i.to_string())]), 0, 1.0))
                .collect(),
        );
        let t = table(&v);
        assert_eq!(t.rows.len(), MAX_TABLE_ROWS);
        assert_eq!(t.total, MAX_TABLE_ROWS + 5);
    }

    #[test]
    fn y_range_pads_flat_and_empty_series() {
        let s = |pts: Vec<(i64, f64)>| {
            vec![GraphSeries {
                label: String::new(),
                points: pts,
            }]
        };
        assert_eq!(y_range(&[]), (0.0, 1.0));
        assert_eq!(y_range(&s(vec![(0, 0.0)])), (-1.0, 1.0));
        let (lo, hi) = y_range(&s(vec![(0, 10.0), (1, 20.0)]));
        assert!(lo < 10.0 && hi > 20.0);
    }
}
