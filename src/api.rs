//! The Prometheus HTTP API as a client sees it: the answers of `/api/v1/query`,
//! `/api/v1/query_range`, `/api/v1/targets` and `/api/v1/status/buildinfo` decoded into the
//! types the pages already render ([`promplay_promql::value::Value`] for [`crate::shape`],
//! [`TargetsView`] for [`crate::targets`]), and error answers
//! (`{"status":"error","errorType":…,"error":…}`) into [`ApiError`] worded as Prometheus words
//! them.
//!
//! The decoding is plain Rust with native tests. The requests (`get` and the typed helpers
//! `query`, `query_range`, `targets`, `rules`, `alerts`, `buildinfo`) are async and exist only
//! in the browser build (`fetch` through gloo-net).

use std::fmt;

use promplay_model::{FloatHistogram, Label, Labels, Span, CUSTOM_BUCKETS_SCHEMA};
use promplay_promql::value::{Annotations, FPoint, HPoint, Sample, Series, Value};
use promplay_server::scrape::{TargetHealth, TargetInfo, TargetsView};
use serde_json::Value as Json;

use crate::playground::{QueryError, QueryOutcome};

/// A request to a remote source that did not give an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The request did not get a response: the server is down, the URL is wrong, or the
    /// browser refused the answer (CORS). `url` is what was fetched.
    Network { url: String, message: String },
    /// The server answered with Prometheus's error JSON.
    Prometheus { error_type: String, error: String },
    /// The server answered with something that is not Prometheus's JSON (e.g. an HTML page, a
    /// 404 text): not a Prometheus API.
    NotPrometheus { status: u16, detail: String },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Network { url, message } => write!(
                f,
                "could not fetch {url}: {message} (is the server running, is the URL right, and does it allow CORS from this page?)"
            ),
            // Prometheus's own words, as its UI shows them.
            ApiError::Prometheus { error, .. } => f.write_str(error),
            ApiError::NotPrometheus { status, detail } => write!(
                f,
                "not a Prometheus API answer (HTTP {status}): {detail}"
            ),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for QueryError {
    fn from(e: ApiError) -> Self {
        QueryError {
            message: e.to_string(),
            span: None,
        }
    }
}

/// The byte span of `query` that a parse error's `line:col: parse error` (Prometheus's
/// wording, 1-based line and column) points at: one character, or the end of the text.
pub fn error_span(query: &str, message: &str) -> Option<(usize, usize)> {
    let at = message.find(": parse error")?;
    let head = &message[..at];
    let start = head
        .rfind(|c: char| !(c.is_ascii_digit() || c == ':'))
        .map_or(0, |i| i + 1);
    let (line, col) = head[start..].split_once(':')?;
    let (line, col): (usize, usize) = (line.parse().ok()?, col.parse().ok()?);
    let line_start = if line <= 1 {
        0
    } else {
        query
            .match_indices('\n')
            .nth(line - 2)
            .map(|(i, _)| i + 1)?
    };
    let a = (line_start + col.max(1) - 1).min(query.len());
    if !query.is_char_boundary(a) {
        return None;
    }
    let b = query[a..].chars().next().map_or(a, |c| a + c.len_utf8());
    Some((a, b))
}

/// The body's envelope checked: the `data` of a success, with the warnings and infos beside
/// it; an error answer (any HTTP status) as [`ApiError::Prometheus`].
pub fn envelope(status: u16, body: &str) -> Result<(Json, Annotations), ApiError> {
    let not_prom = |detail: String| ApiError::NotPrometheus { status, detail };
    let v: Json = serde_json::from_str(body).map_err(|_| {
        let snippet: String = body.trim().chars().take(120).collect();
        not_prom(if snippet.is_empty() {
            "empty body".into()
        } else {
            format!("{snippet:?}")
        })
    })?;
    let strings = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    match v.get("status").and_then(Json::as_str) {
        Some("success") => {
            let annotations = Annotations {
                warnings: strings("warnings"),
                infos: strings("infos"),
            };
            let data = v.get("data").cloned().unwrap_or(Json::Null);
            Ok((data, annotations))
        }
        Some("error") => Err(ApiError::Prometheus {
            error_type: v
                .get("errorType")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string(),
            error: v
                .get("error")
                .and_then(Json::as_str)
                .unwrap_or("unknown error")
                .to_string(),
        }),
        _ => Err(not_prom(
            "JSON without \"status\": \"success\" or \"error\"".into(),
        )),
    }
}

fn bad(what: &str) -> ApiError {
    ApiError::NotPrometheus {
        status: 200,
        detail: format!("cannot decode {what}"),
    }
}

/// An answer of `/api/v1/query` or `/api/v1/query_range`.
pub fn decode_query(status: u16, body: &str) -> Result<QueryOutcome, ApiError> {
    let (data, annotations) = envelope(status, body)?;
    let value = decode_value(&data)?;
    Ok(QueryOutcome { value, annotations })
}

/// `{"resultType": …, "result": …}` as a [`Value`].
pub fn decode_value(data: &Json) -> Result<Value, ApiError> {
    let result = data.get("result").ok_or_else(|| bad("the query result"))?;
    match data.get("resultType").and_then(Json::as_str) {
        Some("scalar") => {
            let (t, v) = float_point(result).ok_or_else(|| bad("a scalar"))?;
            Ok(Value::Scalar { t, v })
        }
        Some("string") => {
            let a = result.as_array().ok_or_else(|| bad("a string"))?;
            let t = a
                .first()
                .and_then(timestamp)
                .ok_or_else(|| bad("a string"))?;
            let s = a
                .get(1)
                .and_then(Json::as_str)
                .ok_or_else(|| bad("a string"))?;
            Ok(Value::String {
                t,
                s: s.to_string(),
            })
        }
        Some("vector") => {
            let items = result.as_array().ok_or_else(|| bad("a vector"))?;
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                let metric = labels(it.get("metric")).ok_or_else(|| bad("series labels"))?;
                if let Some(h) = it.get("histogram") {
                    let (t, h) = histogram_point(h).ok_or_else(|| bad("a histogram sample"))?;
                    out.push(Sample {
                        metric,
                        t,
                        f: 0.0,
                        h: Some(Box::new(h)),
                        drop_name: false,
                    });
                } else {
                    let (t, f) = it
                        .get("value")
                        .and_then(float_point)
                        .ok_or_else(|| bad("a sample"))?;
                    out.push(Sample::float(metric, t, f));
                }
            }
            Ok(Value::Vector(out))
        }
        Some("matrix") => {
            let items = result.as_array().ok_or_else(|| bad("a matrix"))?;
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                let metric = labels(it.get("metric")).ok_or_else(|| bad("series labels"))?;
                let floats = match it.get("values").and_then(Json::as_array) {
                    Some(a) => a
                        .iter()
                        .map(|p| float_point(p).map(|(t, f)| FPoint { t, f }))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| bad("a series' values"))?,
                    None => Vec::new(),
                };
                let histograms = match it.get("histograms").and_then(Json::as_array) {
                    Some(a) => a
                        .iter()
                        .map(|p| histogram_point(p).map(|(t, h)| HPoint { t, h: Box::new(h) }))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| bad("a series' histograms"))?,
                    None => Vec::new(),
                };
                out.push(Series {
                    metric,
                    floats,
                    histograms,
                    drop_name: false,
                });
            }
            Ok(Value::Matrix(out))
        }
        Some(other) => Err(bad(&format!("result type {other:?}"))),
        None => Err(bad("the result type")),
    }
}

fn labels(v: Option<&Json>) -> Option<Labels> {
    let o = v?.as_object()?;
    Some(Labels::new(
        o.iter()
            .map(|(k, v)| Label::new(k.as_str(), v.as_str().unwrap_or("")))
            .collect(),
    ))
}

/// A timestamp in (fractional) Unix seconds, as ms.
fn timestamp(v: &Json) -> Option<i64> {
    let s = v.as_f64()?;
    s.is_finite().then(|| (s * 1000.0).round() as i64)
}

/// A sample value: a string in Go's float format (`"1"`, `"+Inf"`, `"NaN"`, `"1e+21"`).
fn sample_value(v: &Json) -> Option<f64> {
    match v {
        Json::String(s) => match s.as_str() {
            "+Inf" | "Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            "NaN" => Some(f64::NAN),
            s => s.parse().ok(),
        },
        Json::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn float_point(v: &Json) -> Option<(i64, f64)> {
    let a = v.as_array()?;
    Some((timestamp(a.first()?)?, sample_value(a.get(1)?)?))
}

fn histogram_point(v: &Json) -> Option<(i64, FloatHistogram)> {
    let a = v.as_array()?;
    Some((timestamp(a.first()?)?, decode_histogram(a.get(1)?)?))
}

/// One bucket as the API lists it: `[boundaries, lower, upper, count]`.
#[derive(Clone, Copy, Debug)]
struct ApiBucket {
    boundaries: u64,
    lower: f64,
    upper: f64,
    count: f64,
}

/// A native histogram as the API writes it (`{"count", "sum", "buckets"}`, only the non-empty
/// buckets) back into a [`FloatHistogram`]: the exponential schema whose bounds the buckets
/// have, or custom buckets (schema -53) over the listed bounds when no schema fits.
pub fn decode_histogram(v: &Json) -> Option<FloatHistogram> {
    let count = sample_value(v.get("count")?)?;
    let sum = sample_value(v.get("sum")?)?;
    let mut buckets = Vec::new();
    if let Some(a) = v.get("buckets").and_then(Json::as_array) {
        for b in a {
            let b = b.as_array()?;
            buckets.push(ApiBucket {
                boundaries: b.first()?.as_u64()?,
                lower: sample_value(b.get(1)?)?,
                upper: sample_value(b.get(2)?)?,
                count: sample_value(b.get(3)?)?,
            });
        }
    }
    let mut h = FloatHistogram {
        count,
        sum,
        ..Default::default()
    };
    if buckets.is_empty() {
        return Some(h);
    }
    if !exponential(&mut h, &buckets) {
        custom(&mut h, &buckets);
    }
    Some(h)
}

/// `2^(2^-schema)` is the ratio of a bucket's bounds; the index of a positive bucket is the
/// one whose upper bound is `upper`.
fn exp_index(lower: f64, upper: f64, schema: i32) -> Option<i32> {
    use promplay_model::histogram::bound_exponential;
    let guess = (upper.log2() * 2f64.powi(schema)).round();
    if !guess.is_finite() || guess.abs() > 1e9 {
        return None;
    }
    let idx = guess as i32;
    (bound_exponential(idx, schema) == upper && bound_exponential(idx - 1, schema) == lower)
        .then_some(idx)
}

/// Fills `h` with exponential buckets when every bucket fits one schema; false otherwise.
fn exponential(h: &mut FloatHistogram, buckets: &[ApiBucket]) -> bool {
    let mut pos: Vec<(i32, f64)> = Vec::new();
    let mut neg: Vec<(i32, f64)> = Vec::new();
    let mut schema = None::<i32>;
    let mut zero = None::<(f64, f64)>;
    for b in buckets {
        if b.boundaries == 3 && b.lower <= 0.0 && b.upper >= 0.0 && b.lower == -b.upper {
            zero = Some((b.upper, b.count));
            continue;
        }
        // A negative bucket [lower, upper) mirrors the positive (-upper, -lower].
        let (lo, hi, negative) = if b.upper <= 0.0 {
            (-b.upper, -b.lower, true)
        } else {
            (b.lower, b.upper, false)
        };
        if !(lo > 0.0 && hi > lo && hi.is_finite()) {
            return false;
        }
        let s = *schema.get_or_insert_with(|| (-(hi / lo).log2().log2()).round() as i32);
        if !(-4..=8).contains(&s) {
            return false;
        }
        let Some(idx) = exp_index(lo, hi, s) else {
            return false;
        };
        if negative {
            neg.push((idx, b.count));
        } else {
            pos.push((idx, b.count));
        }
    }
    h.schema = schema.unwrap_or(0);
    if let Some((zt, zc)) = zero {
        h.zero_threshold = zt;
        h.zero_count = zc;
    }
    (h.positive_spans, h.positive_buckets) = spans(pos);
    (h.negative_spans, h.negative_buckets) = spans(neg);
    true
}

/// Spans and absolute counts of sparse `(index, count)` buckets (gaps become new spans).
fn spans(mut b: Vec<(i32, f64)>) -> (Vec<Span>, Vec<f64>) {
    b.sort_by_key(|x| x.0);
    b.dedup_by_key(|x| x.0);
    let mut spans: Vec<Span> = Vec::new();
    let mut counts = Vec::with_capacity(b.len());
    let mut next = 0i32; // the index after the last bucket of the previous span
    for (i, (idx, c)) in b.iter().enumerate() {
        if i > 0 && *idx == next {
            if let Some(s) = spans.last_mut() {
                s.length += 1;
            }
        } else {
            let offset = if i == 0 { *idx } else { idx - next };
            spans.push(Span { offset, length: 1 });
        }
        counts.push(*c);
        next = idx + 1;
    }
    (spans, counts)
}

/// Custom buckets over every finite bound the buckets name: bucket `i` is
/// `(bounds[i-1], bounds[i]]`, the last one reaches +Inf.
fn custom(h: &mut FloatHistogram, buckets: &[ApiBucket]) {
    let mut bounds: Vec<f64> = buckets
        .iter()
        .flat_map(|b| [b.lower, b.upper])
        .filter(|f| f.is_finite())
        .collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    let mut pos = Vec::new();
    for b in buckets {
        let idx = if b.upper.is_finite() {
            bounds.iter().position(|x| *x == b.upper).unwrap_or(0)
        } else {
            bounds.len()
        };
        pos.push((idx as i32, b.count));
    }
    h.schema = CUSTOM_BUCKETS_SCHEMA;
    h.custom_values = bounds;
    (h.positive_spans, h.positive_buckets) = spans(pos);
}

/// An answer of `/api/v1/targets` as the view the Targets page renders (active targets in the
/// answer's order; dropped targets are not shown).
pub fn decode_targets(status: u16, body: &str) -> Result<TargetsView, ApiError> {
    let (data, _) = envelope(status, body)?;
    let active = data
        .get("activeTargets")
        .and_then(Json::as_array)
        .ok_or_else(|| bad("the targets"))?;
    let mut view = TargetsView::default();
    for t in active {
        let s = |k: &str| t.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let health = match t.get("health").and_then(Json::as_str) {
            Some("up") => TargetHealth::Up,
            Some("down") => TargetHealth::Down,
            _ => TargetHealth::Unknown,
        };
        let dur = |k: &str| {
            t.get(k)
                .and_then(Json::as_str)
                .and_then(|d| promplay_server::Duration::parse(d).ok())
                .unwrap_or_default()
        };
        view.active.push(TargetInfo {
            scrape_pool: s("scrapePool"),
            discovered_labels: labels(t.get("discoveredLabels")).unwrap_or_default(),
            labels: labels(t.get("labels")).unwrap_or_default(),
            scrape_url: s("scrapeUrl"),
            health,
            last_error: s("lastError"),
            last_scrape_ms: t
                .get("lastScrape")
                .and_then(Json::as_str)
                .and_then(parse_rfc3339)
                .filter(|ms| *ms > 0),
            last_scrape_duration_seconds: t
                .get("lastScrapeDuration")
                .and_then(Json::as_f64)
                .unwrap_or(0.0),
            scrape_interval: dur("scrapeInterval"),
            scrape_timeout: dur("scrapeTimeout"),
            next_scrape_ms: 0,
        });
    }
    Ok(view)
}

/// What `/api/v1/status/buildinfo` says about the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: String,
    pub revision: String,
}

/// An answer of `/api/v1/status/buildinfo`.
pub fn decode_buildinfo(status: u16, body: &str) -> Result<BuildInfo, ApiError> {
    let (data, _) = envelope(status, body)?;
    let s = |k: &str| data.get(k).and_then(Json::as_str).map(str::to_string);
    Ok(BuildInfo {
        version: s("version").ok_or_else(|| bad("the build info"))?,
        revision: s("revision").unwrap_or_default(),
    })
}

/// RFC 3339 (`2017-01-17T15:07:44.723715405+01:00`, `…Z`) as Unix ms; Go's zero time
/// (`0001-01-01T00:00:00Z`, "never scraped") comes out negative.
pub use promplay_model::civil::parse_rfc3339;

#[cfg(target_arch = "wasm32")]
pub use client::*;

/// The requests (browser only).
#[cfg(target_arch = "wasm32")]
mod client {
    use super::*;
    use crate::playground::RangeParams;
    use crate::source::Source;

    /// `GET` of an API `path` with `params` from `source`: the body of an answer whose JSON
    /// says `"status": "success"`, or the error (network, CORS, Prometheus's error JSON, not
    /// a Prometheus). The simulated world has no API: it answers with an error.
    pub async fn get(
        source: &Source,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<String, ApiError> {
        let (status, body) = fetch(source, path, params).await?;
        envelope(status, &body)?;
        Ok(body)
    }

    /// The raw fetch: HTTP status and body text (any status).
    pub async fn fetch(
        source: &Source,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<(u16, String), ApiError> {
        let Some(url) = source.url(path, params) else {
            return Err(ApiError::Network {
                url: path.to_string(),
                message: "the simulated world has no HTTP API".into(),
            });
        };
        let net = |e: gloo_net::Error| ApiError::Network {
            url: url.clone(),
            message: match e {
                // fetch() rejects with "TypeError: Failed to fetch" for refused connections
                // and CORS refusals alike; the browser does not say which.
                gloo_net::Error::JsError(j) => j.message,
                other => other.to_string(),
            },
        };
        let resp = gloo_net::http::Request::get(&url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(net)?;
        let status = resp.status();
        let body = resp.text().await.map_err(net)?;
        Ok((status, body))
    }

    /// `/api/v1/query` at `time` (Unix ms; `None`: the server's now).
    pub async fn query(
        source: &Source,
        expr: &str,
        time: Option<i64>,
    ) -> Result<QueryOutcome, ApiError> {
        let t = time.map(format_seconds);
        let mut params = vec![("query", expr)];
        if let Some(t) = &t {
            params.push(("time", t.as_str()));
        }
        let (status, body) = fetch(source, "/api/v1/query", &params).await?;
        decode_query(status, &body)
    }

    /// `/api/v1/query_range` over `range`.
    pub async fn query_range(
        source: &Source,
        expr: &str,
        range: RangeParams,
    ) -> Result<QueryOutcome, ApiError> {
        let (start, end) = (format_seconds(range.start), format_seconds(range.end));
        let step = format_seconds(range.step);
        let params = [
            ("query", expr),
            ("start", start.as_str()),
            ("end", end.as_str()),
            ("step", step.as_str()),
        ];
        let (status, body) = fetch(source, "/api/v1/query_range", &params).await?;
        decode_query(status, &body)
    }

    /// `/api/v1/targets?state=active`.
    pub async fn targets(source: &Source) -> Result<TargetsView, ApiError> {
        let (status, body) = fetch(source, "/api/v1/targets", &[("state", "active")]).await?;
        decode_targets(status, &body)
    }

    /// `/api/v1/rules`: the whole answer's JSON text (`{"status":"success","data":{"groups":…}}`).
    pub async fn rules(source: &Source) -> Result<String, ApiError> {
        get(source, "/api/v1/rules", &[]).await
    }

    /// `/api/v1/alerts`: the whole answer's JSON text (`{"status":"success","data":{"alerts":…}}`).
    pub async fn alerts(source: &Source) -> Result<String, ApiError> {
        get(source, "/api/v1/alerts", &[]).await
    }

    /// `/api/v1/status/buildinfo`.
    pub async fn buildinfo(source: &Source) -> Result<BuildInfo, ApiError> {
        let (status, body) = fetch(source, "/api/v1/status/buildinfo", &[]).await?;
        decode_buildinfo(status, &body)
    }
}

/// Unix ms as the API's seconds with up to 3 decimals (`1435781451.781`).
pub fn format_seconds(ms: i64) -> String {
    crate::shape::format_ts(ms)
}

#[cfg(test)]
mod tests;
