//! Prometheus's HTTP API (`web/api/v1`) and the lifecycle endpoints, over the engine crates.
//!
//! Lifecycle (`web/web.go`): `POST`/`PUT /-/reload` and `/-/quit` work only with
//! `--web.enable-lifecycle`; without it they answer 403 `Lifecycle API is not enabled.`, and
//! other methods 405 `Only POST or PUT requests allowed`. `/-/quit` answers
//! `Requesting termination... Goodbye!` and shuts down gracefully (a second call:
//! `Termination already in progress.`).
//!
//! Answers are written in Prometheus's JSON shapes ([`super::json`]); errors are
//! `{"status":"error","errorType":"bad_data","error":"..."}` with Prometheus's status codes
//! (400 bad_data, 422 execution, 503 timeout, 500 internal). Parameters come
//! from the URL and, for POST, from a form body, as Go's `r.FormValue` reads them.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use promplay_model::civil::days_from_civil;
use promplay_model::{Labels, Matcher};
use promplay_promql::ast::Expr;
use promplay_promql::error::EvalError;
use promplay_promql::parser::{parse_with, ParserOptions};
use promplay_promql::{QueryError, QueryOptions};
use promplay_server::Duration;
use promplay_tsdb::{Querier, Queryable};

use super::json::{self, str_json, write_labels, write_str, write_str_array};
use super::{now_ms, AppState};

/// Prometheus's `MinTime`/`MaxTime` (ms) and how they are written.
const MIN_TIME_MS: i64 = -9_223_309_901_257_974;
const MAX_TIME_MS: i64 = 9_223_309_901_257_974;
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";
/// Most points a range query may return per series.
const MAX_POINTS: i64 = 11_000;
const MAX_BODY: usize = 16 << 20;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// Prometheus's `errorType`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    BadData,
    Execution,
    Timeout,
    Internal,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Timeout => "timeout",
            ErrorType::Internal => "internal",
        }
    }
    fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    pub typ: ErrorType,
    pub msg: String,
}

impl ApiError {
    fn bad(msg: impl Into<String>) -> Self {
        ApiError {
            typ: ErrorType::BadData,
            msg: msg.into(),
        }
    }
    fn param(name: &str, msg: impl std::fmt::Display) -> Self {
        ApiError::bad(format!("invalid parameter {name:?}: {msg}"))
    }
}

type ApiResult = Result<Answer, ApiError>;

/// A successful answer: the `data` JSON and annotations.
struct Answer {
    data: String,
    warnings: Vec<String>,
    infos: Vec<String>,
}

impl Answer {
    fn data(data: String) -> Self {
        Answer {
            data,
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }
}

/// The request's parameters: the form body (POST) first, then the URL query.
pub struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    /// `r.FormValue`: "" when absent.
    fn value(&self, k: &str) -> &str {
        self.get(k).unwrap_or("")
    }
    fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn text_response(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn render(result: ApiResult) -> Response {
    match result {
        Ok(a) => {
            let mut out = String::with_capacity(a.data.len() + 64);
            out.push_str("{\"status\":\"success\",\"data\":");
            out.push_str(&a.data);
            if !a.warnings.is_empty() {
                out.push_str(",\"warnings\":");
                write_str_array(&mut out, &a.warnings);
            }
            if !a.infos.is_empty() {
                out.push_str(",\"infos\":");
                write_str_array(&mut out, &a.infos);
            }
            out.push('}');
            json_response(StatusCode::OK, out)
        }
        Err(e) => {
            let mut out = String::from("{\"status\":\"error\",\"errorType\":\"");
            out.push_str(e.typ.as_str());
            out.push_str("\",\"error\":");
            write_str(&mut out, &e.msg);
            out.push('}');
            json_response(e.typ.status(), out)
        }
    }
}

async fn handle(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
        .filter(|o| !o.is_empty());
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let query = req.uri().query().unwrap_or("").to_string();
    let body = match to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return render(Err(ApiError::bad("request body too large or unreadable")));
        }
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if method == Method::POST && is_form {
        pairs.extend(form_urlencoded::parse(&body).into_owned());
    }
    pairs.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
    let params = Params(pairs);

    let mut resp = route(&st, &method, &path, params).await;
    let code = resp.status().as_u16();
    {
        let handler = handler_label(&path);
        let mut m = st
            .metrics
            .http_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *m.entry((handler, code)).or_default() += 1;
    }
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Accept, Authorization, Content-Type, Origin"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Date"),
        );
        if let Some(allow) = st
            .cors
            .allow_origin(&origin)
            .and_then(|a| HeaderValue::from_str(&a).ok())
        {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        }
    }
    resp
}

fn handler_label(path: &str) -> String {
    if path.starts_with("/api/v1/label/") {
        return "/api/v1/label/:name/values".into();
    }
    match path {
        "/api/v1/query"
        | "/api/v1/query_range"
        | "/api/v1/series"
        | "/api/v1/labels"
        | "/api/v1/targets"
        | "/api/v1/rules"
        | "/api/v1/alerts"
        | "/api/v1/metadata"
        | "/api/v1/status/buildinfo"
        | "/api/v1/status/config"
        | "/api/v1/status/flags"
        | "/api/v1/status/runtimeinfo"
        | "/api/v1/format_query"
        | "/api/v1/query_exemplars"
        | "/api/v1/alertmanagers"
        | "/api/v1/parse_query"
        | "/api/v1/status/walreplay"
        | "/api/v1/status/tsdb"
        | "/-/ready"
        | "/-/healthy"
        | "/-/reload"
        | "/-/quit"
        | "/metrics" => path.to_string(),
        _ => "other".into(),
    }
}

async fn route(st: &Arc<AppState>, method: &Method, path: &str, params: Params) -> Response {
    let get_or_post = *method == Method::GET || *method == Method::POST;
    if *method == Method::OPTIONS {
        return text_response(StatusCode::OK, "text/plain; charset=utf-8", String::new());
    }
    match path {
        "/-/healthy" if *method == Method::GET || *method == Method::HEAD => text_response(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "Prometheus Server is Healthy.\n".into(),
        ),
        "/-/ready" if *method == Method::GET || *method == Method::HEAD => {
            if st.ready.load(Ordering::SeqCst) {
                text_response(
                    StatusCode::OK,
                    "text/plain; charset=utf-8",
                    "Prometheus Server is Ready.\n".into(),
                )
            } else {
                text_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8",
                    "Service Unavailable".into(),
                )
            }
        }
        "/-/reload" | "/-/quit" if *method != Method::POST && *method != Method::PUT => {
            text_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain; charset=utf-8",
                "Only POST or PUT requests allowed".into(),
            )
        }
        "/-/reload" | "/-/quit" if !st.enable_lifecycle => text_response(
            StatusCode::FORBIDDEN,
            "text/plain; charset=utf-8",
            "Lifecycle API is not enabled.".into(),
        ),
        "/-/quit" => {
            let body = if st.quit.swap(true, Ordering::SeqCst) {
                "Termination already in progress."
            } else {
                eprintln!("promplay serve: received termination request via web service, exiting gracefully");
                st.quit_notify.notify_one();
                "Requesting termination... Goodbye!"
            };
            text_response(StatusCode::OK, "text/plain; charset=utf-8", body.into())
        }
        "/-/reload" => {
            let st2 = st.clone();
            let r = tokio::task::spawn_blocking(move || st2.reload()).await;
            match r {
                Ok(Ok(())) => text_response(StatusCode::OK, "text/plain; charset=utf-8", String::new()),
                Ok(Err(e)) => text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain; charset=utf-8",
                    format!("failed to reload config: {e}\n"),
                ),
                Err(e) => text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain; charset=utf-8",
                    format!("failed to reload config: {e}\n"),
                ),
            }
        }
        "/metrics" if *method == Method::GET => text_response(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            self_metrics(st),
        ),
        "/api/v1/query" if get_or_post => {
            st.metrics.queries.fetch_add(1, Ordering::Relaxed);
            let st2 = st.clone();
            let r = tokio::task::spawn_blocking(move || query(&st2, &params, false)).await;
            render(r.unwrap_or_else(|e| Err(internal(e))))
        }
        "/api/v1/query_range" if get_or_post => {
            st.metrics.queries.fetch_add(1, Ordering::Relaxed);
            let st2 = st.clone();
            let r = tokio::task::spawn_blocking(move || query(&st2, &params, true)).await;
            render(r.unwrap_or_else(|e| Err(internal(e))))
        }
        "/api/v1/series" if get_or_post => {
            let st2 = st.clone();
            let r = tokio::task::spawn_blocking(move || series(&st2, &params)).await;
            render(r.unwrap_or_else(|e| Err(internal(e))))
        }
        "/api/v1/labels" if get_or_post => {
            let st2 = st.clone();
            let r = tokio::task::spawn_blocking(move || labels(&st2, &params)).await;
            render(r.unwrap_or_else(|e| Err(internal(e))))
        }
        p if p.starts_with("/api/v1/label/") && p.ends_with("/values") && *method == Method::GET => {
            let name = p["/api/v1/label/".len()..p.len() - "/values".len()].to_string();
            let name = percent_decode(&name);
            let st2 = st.clone();
            let r = tokio::task::spawn_blocking(move || label_values(&st2, &name, &params)).await;
            render(r.unwrap_or_else(|e| Err(internal(e))))
        }
        "/api/v1/targets" if *method == Method::GET => render(targets(st, &params)),
        "/api/v1/metadata" if *method == Method::GET => render(metadata(st, &params)),
        "/api/v1/rules" if *method == Method::GET => {
            json_response(StatusCode::OK, st.rules.rules_json())
        }
        "/api/v1/alerts" if *method == Method::GET => {
            json_response(StatusCode::OK, st.rules.alerts_json())
        }
        "/api/v1/alertmanagers" if *method == Method::GET => {
            let t = st
                .notifier
                .targets
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let mut out = String::from("{\"activeAlertmanagers\":[");
            for (i, (url, _, _)) in t.alertmanagers.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"url\":");
                write_str(&mut out, url);
                out.push('}');
            }
            out.push_str("],\"droppedAlertmanagers\":[]}");
            render(Ok(Answer::data(out)))
        }
        "/api/v1/query_exemplars" if get_or_post => render(Ok(Answer::data("[]".into()))),
        "/api/v1/status/buildinfo" if *method == Method::GET => render(Ok(Answer::data(
            format!(
                "{{\"version\":\"3.14.0\",\"revision\":\"promplay-{v}\",\"branch\":\"promplay\",\"buildUser\":\"promplay\",\"buildDate\":\"\",\"goVersion\":\"promplay {v} (Rust)\"}}",
                v = env!("CARGO_PKG_VERSION")
            ),
        ))),
        "/api/v1/status/config" if *method == Method::GET => {
            let yaml = st
                .loaded
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .yaml
                .clone();
            render(Ok(Answer::data(format!("{{\"yaml\":{}}}", str_json(&yaml)))))
        }
        "/api/v1/status/flags" if *method == Method::GET => {
            let mut out = String::from("{");
            let mut flags = st.flags.clone();
            flags.sort();
            for (i, (k, v)) in flags.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(&mut out, k);
                out.push(':');
                write_str(&mut out, v);
            }
            out.push('}');
            render(Ok(Answer::data(out)))
        }
        "/api/v1/status/runtimeinfo" if *method == Method::GET => render(Ok(runtime_info(st))),
        "/api/v1/status/tsdb" if *method == Method::GET => {
            let st2 = st.clone();
            let r = tokio::task::spawn_blocking(move || tsdb_status(&st2, &params)).await;
            render(r.unwrap_or_else(|e| Err(internal(e))))
        }
        "/api/v1/format_query" if get_or_post => render(format_query(&params)),
        "/api/v1/parse_query" if get_or_post => render(
            parse_query(params.value("query")).map(|e| {
                Answer::data(json::go_escape(json::translate_ast(&e).to_string()))
            }),
        ),
        "/api/v1/status/walreplay" if *method == Method::GET => render(Ok(Answer::data(
            "{\"min\":0,\"max\":0,\"current\":0}".into(),
        ))),
        _ if path.starts_with("/api/v1/") => {
            let known = handler_label(path) != "other" || path.starts_with("/api/v1/label/");
            if known {
                text_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "text/plain; charset=utf-8",
                    "Method Not Allowed\n".into(),
                )
            } else {
                text_response(
                    StatusCode::NOT_FOUND,
                    "text/plain; charset=utf-8",
                    "404 page not found\n".into(),
                )
            }
        }
        p if (*method == Method::GET || *method == Method::HEAD) && st.ui_dir.is_some() => {
            static_file(st, p).await
        }
        "/" => {
            let mut r = text_response(StatusCode::FOUND, "text/html; charset=utf-8", String::new());
            r.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_static("/api/v1/status/buildinfo"),
            );
            r
        }
        _ => text_response(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        ),
    }
}

/// A file of the playground's build (`/` is `index.html`). Paths with `..` or other
/// non-normal components are refused.
async fn static_file(st: &AppState, path: &str) -> Response {
    let not_found = || {
        text_response(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        )
    };
    let Some(dir) = &st.ui_dir else {
        return not_found();
    };
    let rel = percent_decode(path.trim_start_matches('/'));
    let rel = if rel.is_empty() {
        "index.html".to_string()
    } else {
        rel
    };
    let rel_path = std::path::Path::new(&rel);
    if !rel_path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return not_found();
    }
    let full = dir.join(rel_path);
    let Ok(bytes) = tokio::fs::read(&full).await else {
        return not_found();
    };
    let ct = match full.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    };
    let mut r = Response::new(Body::from(bytes));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError {
        typ: ErrorType::Internal,
        msg: e.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Times and durations as Prometheus's API parses them.

/// `parseTime`: unix seconds as a float (rounded to the millisecond) or RFC 3339.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(t) = s.parse::<f64>() {
        if t.is_finite() && looks_numeric(s) {
            let secs = t.trunc();
            let frac = ((t - secs) * 1000.0).round();
            let ms = secs * 1000.0 + frac;
            if ms.abs() < 9.2e18 {
                return Ok(ms as i64);
            }
        }
    }
    if let Some(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    match s {
        MIN_TIME_FORMATTED => Ok(MIN_TIME_MS),
        MAX_TIME_FORMATTED => Ok(MAX_TIME_MS),
        _ => Err(format!("cannot parse {s:?} to a valid timestamp")),
    }
}

/// Go's ParseFloat accepts what Rust's does, minus Rust-only spellings ("inf" is also Go);
/// exclude empty and whitespace.
fn looks_numeric(s: &str) -> bool {
    !s.is_empty() && !s.starts_with(char::is_whitespace) && !s.ends_with(char::is_whitespace)
}

/// `parseDuration`: seconds as a float, or a Prometheus duration (`1h30m`). In ms.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Ok(d) = s.parse::<f64>() {
        if looks_numeric(s) {
            let ns = d * 1e9;
            if !ns.is_finite() || ns >= i64::MAX as f64 || ns <= i64::MIN as f64 {
                return Err(format!(
                    "cannot parse {s:?} to a valid duration. It overflows int64"
                ));
            }
            return Ok((ns as i64) / 1_000_000);
        }
    }
    match Duration::parse(s) {
        Ok(d) => Ok(d.as_millis()),
        Err(_) => Err(format!("cannot parse {s:?} to a valid duration")),
    }
}

/// RFC 3339 with optional fractional seconds (`time.RFC3339Nano` parsing), to ms (truncated).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let year = num(0..4)?;
    if b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let month = num(5..7)?;
    let day = num(8..10)?;
    let hour = num(11..13)?;
    let min = num(14..16)?;
    let sec = num(17..19)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut i = 19;
    let mut frac_ms = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 9 {
            return None;
        }
        let digits = &s[start..i];
        let padded = format!("{digits:0<3}");
        frac_ms = padded[..3].parse().ok()?;
    }
    let offset_min = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&c) if (c == b'+' || c == b'-') && i + 6 == b.len() && b[i + 3] == b':' => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 60 + m;
            if c == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86400 + hour * 3600 + min * 60 + sec - offset_min * 60;
    Some(secs * 1000 + frac_ms)
}

// ---------------------------------------------------------------------------------------------
// Queries.

fn query(st: &AppState, p: &Params, range: bool) -> ApiResult {
    let now = now_ms();
    let (start, end, step) = if range {
        let start = parse_time(p.value("start")).map_err(|e| ApiError::param("start", e))?;
        let end = parse_time(p.value("end")).map_err(|e| ApiError::param("end", e))?;
        if end < start {
            return Err(ApiError::param(
                "end",
                "end timestamp must not be before start time",
            ));
        }
        let step = parse_duration(p.value("step")).map_err(|e| ApiError::param("step", e))?;
        if step <= 0 {
            return Err(ApiError::param(
                "step",
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        if (end - start) / step > MAX_POINTS {
            return Err(ApiError::bad(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ));
        }
        (start, end, step)
    } else {
        let t = match p.get("time") {
            Some(s) if !s.is_empty() => parse_time(s).map_err(|e| ApiError::param("time", e))?,
            _ => now,
        };
        (t, t, 0)
    };
    let mut timeout_ms = st.query_timeout_ms;
    if let Some(t) = p.get("timeout").filter(|s| !s.is_empty()) {
        let d = parse_duration(t).map_err(|e| ApiError::param("timeout", e))?;
        if d > 0 && d < timeout_ms {
            timeout_ms = d;
        }
    }
    let mut lookback = 0;
    if let Some(l) = p.get("lookback_delta").filter(|s| !s.is_empty()) {
        lookback = parse_duration(l).map_err(|e| ApiError::param("lookback_delta", e))?;
    }
    let q = p.value("query");
    let started = Instant::now();
    let expr = parse_query(q)?;
    let prep = started.elapsed().as_secs_f64();
    let deadline = started + std::time::Duration::from_millis(timeout_ms.max(1) as u64);
    let interrupt = move || Instant::now() >= deadline;
    let qo = QueryOptions {
        lookback_delta_ms: lookback,
        interrupt: Some(&interrupt),
        source: Some(q),
    };
    let eval_started = Instant::now();
    let res = if range {
        st.engine
            .range_query_expr(&*st.db, &expr, start, end, step, &qo)
    } else {
        st.engine.instant_query_expr(&*st.db, &expr, start, &qo)
    };
    let res = res.map_err(|e| match e {
        QueryError::Parse(m) => ApiError::param("query", m),
        QueryError::Eval(EvalError::Timeout { .. }) => ApiError {
            typ: ErrorType::Timeout,
            msg: e.to_string(),
        },
        QueryError::Eval(_) if range && e.to_string().contains("for range query") => {
            ApiError::bad(e.to_string())
        }
        QueryError::Eval(_) => ApiError {
            typ: ErrorType::Execution,
            msg: e.to_string(),
        },
    })?;
    let eval = eval_started.elapsed().as_secs_f64();
    let mut data = String::with_capacity(256);
    data.push('{');
    json::write_result(&mut data, &res.value);
    if p.get("stats").is_some_and(|s| !s.is_empty()) {
        let total = started.elapsed().as_secs_f64();
        let _ = write!(
            data,
            ",\"stats\":{{\"timings\":{{\"evalTotalTime\":{eval},\"resultSortTime\":0,\"queryPreparationTime\":{prep},\"innerEvalTime\":{eval},\"execQueueTime\":0,\"execTotalTime\":{total}}},\"samples\":{{\"totalQueryableSamples\":{},\"peakSamples\":{}}}}}",
            res.stats.samples_touched, res.stats.peak_samples
        );
    }
    data.push('}');
    Ok(Answer {
        data,
        warnings: res.annotations.warnings,
        infos: res.annotations.infos,
    })
}

fn parse_query(q: &str) -> Result<Expr, ApiError> {
    parse_with(q, &ParserOptions::all()).map_err(|e| ApiError::param("query", e))
}

fn format_query(p: &Params) -> ApiResult {
    let expr = parse_query(p.value("query"))?;
    Ok(Answer::data(str_json(&promplay_promql::printer::pretty(
        &expr,
    ))))
}

/// `match[]` selectors as matcher sets.
fn match_sets(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let mut out = Vec::new();
    for m in p.all("match[]") {
        let expr =
            parse_with(m, &ParserOptions::all()).map_err(|e| ApiError::param("match[]", e))?;
        match expr {
            Expr::VectorSelector(ref vs) => out.push(vs.matchers.clone()),
            _ => {
                return Err(ApiError::param(
                    "match[]",
                    "1:1: parse error: expected type instant vector in series selector, got other",
                ))
            }
        }
    }
    Ok(out)
}

fn time_range(p: &Params) -> Result<(i64, i64), ApiError> {
    let start = match p.get("start").filter(|s| !s.is_empty()) {
        Some(s) => parse_time(s).map_err(|e| ApiError::param("start", e))?,
        None => MIN_TIME_MS,
    };
    let end = match p.get("end").filter(|s| !s.is_empty()) {
        Some(s) => parse_time(s).map_err(|e| ApiError::param("end", e))?,
        None => MAX_TIME_MS,
    };
    if end < start {
        return Err(ApiError::param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    Ok((start, end))
}

fn limit(p: &Params) -> Result<usize, ApiError> {
    match p.get("limit").filter(|s| !s.is_empty()) {
        None => Ok(0),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n as usize),
            _ => Err(ApiError::bad("limit must be a non-negative number")),
        },
    }
}

fn open(st: &AppState, start: i64, end: i64) -> Result<Box<dyn Querier + '_>, ApiError> {
    st.db.querier(start, end).map_err(|e| ApiError {
        typ: ErrorType::Execution,
        msg: e.to_string(),
    })
}

fn exec_err(e: impl std::fmt::Display) -> ApiError {
    ApiError {
        typ: ErrorType::Execution,
        msg: e.to_string(),
    }
}

fn series(st: &AppState, p: &Params) -> ApiResult {
    let sets = match_sets(p)?;
    if sets.is_empty() {
        return Err(ApiError::bad("no match[] parameter provided"));
    }
    let (start, end) = time_range(p)?;
    let limit = limit(p)?;
    let q = open(st, start, end)?;
    let mut all: BTreeSet<Labels> = BTreeSet::new();
    let mut warnings = Vec::new();
    for m in &sets {
        // The querier's range decides which series exist; a select is a cheap snapshot.
        let set = q.select(false, None, m).map_err(exec_err)?;
        warnings.extend(set.warnings);
        for s in set.series {
            all.insert(s.labels().clone());
        }
    }
    let mut out = String::from("[");
    for (n, l) in all.iter().enumerate() {
        if limit > 0 && n >= limit {
            warnings.push("results truncated due to limit".into());
            break;
        }
        if n > 0 {
            out.push(',');
        }
        write_labels(&mut out, l);
    }
    out.push(']');
    Ok(Answer {
        data: out,
        warnings,
        infos: Vec::new(),
    })
}

fn labels(st: &AppState, p: &Params) -> ApiResult {
    let sets = match_sets(p)?;
    let (start, end) = time_range(p)?;
    let limit = limit(p)?;
    let q = open(st, start, end)?;
    let mut names: BTreeSet<String> = BTreeSet::new();
    if sets.is_empty() {
        names.extend(q.label_names(&[]).map_err(exec_err)?);
    } else {
        for m in &sets {
            names.extend(q.label_names(m).map_err(exec_err)?);
        }
    }
    Ok(truncated(names.into_iter().collect(), limit))
}

fn truncated(mut v: Vec<String>, limit: usize) -> Answer {
    let mut warnings = Vec::new();
    if limit > 0 && v.len() > limit {
        v.truncate(limit);
        warnings.push("results truncated due to limit".to_string());
    }
    let mut out = String::new();
    write_str_array(&mut out, &v);
    Answer {
        data: out,
        warnings,
        infos: Vec::new(),
    }
}

fn label_values(st: &AppState, name: &str, p: &Params) -> ApiResult {
    // Prometheus 3 accepts any UTF-8 label name; `U__` names are escaped forms.
    let name = unescape_label_name(name);
    if name.is_empty() {
        return Err(ApiError::bad(format!("invalid label name: {name:?}")));
    }
    let sets = match_sets(p)?;
    let (start, end) = time_range(p)?;
    let limit = limit(p)?;
    let q = open(st, start, end)?;
    let mut vals: BTreeSet<String> = BTreeSet::new();
    if sets.is_empty() {
        vals.extend(q.label_values(&name, &[]).map_err(exec_err)?);
    } else {
        for m in &sets {
            vals.extend(q.label_values(&name, m).map_err(exec_err)?);
        }
    }
    Ok(truncated(vals.into_iter().collect(), limit))
}

/// `model.UnescapeName` for the `U__` value-encoding escaping scheme.
fn unescape_label_name(name: &str) -> String {
    let Some(rest) = name.strip_prefix("U__") else {
        return name.to_string();
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
            continue;
        }
        let mut hex = String::new();
        let mut closed = false;
        for h in chars.by_ref() {
            if h == '_' {
                closed = true;
                break;
            }
            hex.push(h);
        }
        match (
            closed,
            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32),
        ) {
            (true, Some(ch)) => out.push(ch),
            _ => return name.to_string(),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Targets, metadata, status.

fn targets(st: &AppState, p: &Params) -> ApiResult {
    let view = st.scraper.targets();
    let state = p.value("state").to_ascii_lowercase();
    let pool = p.value("scrapePool");
    let show_active = state.is_empty() || state == "any" || state == "active";
    let show_dropped = state.is_empty() || state == "any" || state == "dropped";
    let mut out = String::from("{\"activeTargets\":[");
    if show_active {
        let mut first = true;
        for t in view
            .active
            .iter()
            .filter(|t| pool.is_empty() || t.scrape_pool == pool)
        {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str("{\"discoveredLabels\":");
            write_labels(&mut out, &t.discovered_labels);
            out.push_str(",\"labels\":");
            write_labels(&mut out, &t.labels);
            out.push_str(",\"scrapePool\":");
            write_str(&mut out, &t.scrape_pool);
            out.push_str(",\"scrapeUrl\":");
            write_str(&mut out, &t.scrape_url);
            out.push_str(",\"globalUrl\":");
            write_str(&mut out, &t.scrape_url);
            out.push_str(",\"lastError\":");
            write_str(&mut out, &t.last_error);
            out.push_str(",\"lastScrape\":");
            write_str(&mut out, &promplay_rules::api::rfc3339(t.last_scrape_ms));
            let _ = write!(
                out,
                ",\"lastScrapeDuration\":{},\"health\":",
                go_json_float(t.last_scrape_duration_seconds)
            );
            write_str(&mut out, t.health.as_str());
            out.push_str(",\"scrapeInterval\":");
            write_str(&mut out, &t.scrape_interval.to_string());
            out.push_str(",\"scrapeTimeout\":");
            write_str(&mut out, &t.scrape_timeout.to_string());
            out.push('}');
        }
    }
    out.push_str("],\"droppedTargets\":[");
    if show_dropped {
        let mut first = true;
        for d in view
            .dropped
            .iter()
            .filter(|d| pool.is_empty() || d.scrape_pool == pool)
        {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str("{\"discoveredLabels\":");
            write_labels(&mut out, &d.discovered_labels);
            out.push_str(",\"scrapePool\":");
            write_str(&mut out, &d.scrape_pool);
            out.push('}');
        }
    }
    out.push_str("],\"droppedTargetCounts\":{");
    for (i, (k, v)) in view.dropped_counts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, k);
        let _ = write!(out, ":{v}");
    }
    out.push_str("}}");
    Ok(Answer::data(out))
}

/// A float as Go's `encoding/json` writes it (`0.0123`, `1e-07`, `60`).
fn go_json_float(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        json::format_value(v)
    } else {
        format!("{v}")
    }
}

fn metadata(st: &AppState, p: &Params) -> ApiResult {
    let limit: i64 = match p.get("limit").filter(|s| !s.is_empty()) {
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::bad("limit must be a number"))?,
        None => -1,
    };
    let per_metric: i64 = match p.get("limit_per_metric").filter(|s| !s.is_empty()) {
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::bad("limit_per_metric must be a number"))?,
        None => -1,
    };
    let metric = p.value("metric");
    let md = st.scraper.metadata();
    let mut out = String::from("{");
    let mut n = 0i64;
    for (name, entries) in &md {
        if !metric.is_empty() && name != metric {
            continue;
        }
        if limit >= 0 && n >= limit {
            break;
        }
        if n > 0 {
            out.push(',');
        }
        n += 1;
        write_str(&mut out, name);
        out.push_str(":[");
        for (i, m) in entries.iter().enumerate() {
            if per_metric > 0 && i as i64 >= per_metric {
                break;
            }
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"type\":");
            write_str(&mut out, &m.typ);
            out.push_str(",\"help\":");
            write_str(&mut out, &m.help);
            out.push_str(",\"unit\":");
            write_str(&mut out, &m.unit);
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    Ok(Answer::data(out))
}

fn runtime_info(st: &AppState) -> Answer {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let retention = st
        .flags
        .iter()
        .find(|(k, _)| k == "storage.tsdb.retention.time")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let last_reload = st.metrics.last_reload_ms.load(Ordering::Relaxed) as i64;
    let reload_ok = st.metrics.reloads_failed.load(Ordering::Relaxed) == 0
        || st.metrics.last_reload_ok.load(Ordering::Relaxed);
    let mut out = String::from("{\"startTime\":");
    write_str(&mut out, &promplay_rules::api::rfc3339(Some(st.start_ms)));
    out.push_str(",\"CWD\":");
    write_str(&mut out, &cwd);
    let _ = write!(
        out,
        ",\"reloadConfigSuccess\":{reload_ok},\"lastConfigTime\":"
    );
    write_str(
        &mut out,
        &promplay_rules::api::rfc3339(Some(if last_reload > 0 {
            last_reload
        } else {
            st.start_ms
        })),
    );
    let _ = write!(
        out,
        ",\"corruptionCount\":0,\"goroutineCount\":0,\"GOMAXPROCS\":{},\"GOMEMLIMIT\":0,\"GOGC\":\"\",\"GODEBUG\":\"\",\"storageRetention\":",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    write_str(&mut out, &retention);
    out.push('}');
    Answer::data(out)
}

/// `/api/v1/status/tsdb`: head figures and the top `limit` (default 10) cardinality lists,
/// computed from every series' labels in one pass.
fn tsdb_status(st: &AppState, p: &Params) -> ApiResult {
    use std::collections::{BTreeMap, HashMap};
    let limit = match p.get("limit").filter(|s| !s.is_empty()) {
        None => 10,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => return Err(ApiError::bad("limit must be a positive number")),
        },
    };
    let s = st.db.stats();
    let q = open(st, MIN_TIME_MS, MAX_TIME_MS)?;
    let all =
        Matcher::new(promplay_model::MatchType::Regexp, "__name__", ".*").map_err(internal)?;
    let set = q.select(false, None, &[all]).map_err(exec_err)?;
    let mut by_name: HashMap<String, u64> = HashMap::new();
    let mut by_pair: HashMap<String, u64> = HashMap::new();
    let mut values: BTreeMap<String, std::collections::HashSet<String>> = BTreeMap::new();
    for series in &set.series {
        for l in series.labels().iter() {
            if &*l.name == "__name__" {
                *by_name.entry(l.value.to_string()).or_default() += 1;
            }
            *by_pair
                .entry(format!("{}={}", l.name, l.value))
                .or_default() += 1;
            values
                .entry(l.name.to_string())
                .or_default()
                .insert(l.value.to_string());
        }
    }
    let top = |m: Vec<(String, u64)>| -> String {
        let mut v = m;
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(limit);
        let mut out = String::from("[");
        for (i, (k, n)) in v.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            write_str(&mut out, k);
            let _ = write!(out, ",\"value\":{n}}}");
        }
        out.push(']');
        out
    };
    let value_counts: Vec<(String, u64)> = values
        .iter()
        .map(|(k, v)| (k.clone(), v.len() as u64))
        .collect();
    let memory: Vec<(String, u64)> = values
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| x.len() as u64).sum()))
        .collect();
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\"headStats\":{{\"numSeries\":{},\"numLabelPairs\":{},\"chunkCount\":{},\"minTime\":{},\"maxTime\":{}}}",
        s.series,
        by_pair.len(),
        s.chunks,
        s.min_time.unwrap_or(i64::MAX),
        s.max_time.unwrap_or(i64::MIN)
    );
    let _ = write!(
        out,
        ",\"seriesCountByMetricName\":{},\"labelValueCountByLabelName\":{},\"memoryInBytesByLabelName\":{},\"seriesCountByLabelValuePair\":{}}}",
        top(by_name.into_iter().collect()),
        top(value_counts),
        top(memory),
        top(by_pair.into_iter().collect())
    );
    Ok(Answer::data(out))
}

fn self_metrics(st: &AppState) -> String {
    let s = st.db.stats();
    let snap = st
        .scraper
        .snapshot
        .read()
        .unwrap_or_else(|e| e.into_inner());
    let scrapes = snap.scrapes;
    let up_targets = snap
        .targets
        .active
        .iter()
        .filter(|t| t.health.as_str() == "up")
        .count();
    let active = snap.targets.active.len();
    drop(snap);
    let mut out = String::new();
    let m = &st.metrics;
    let _ = writeln!(out, "# HELP prometheus_build_info A metric with a constant '1' value labeled by version, revision, branch, goversion from which prometheus was built, and the goos and goarch for the build.");
    let _ = writeln!(out, "# TYPE prometheus_build_info gauge");
    let _ = writeln!(
        out,
        "prometheus_build_info{{branch=\"promplay\",goarch=\"{}\",goos=\"{}\",goversion=\"rust\",revision=\"promplay-{}\",tags=\"\",version=\"3.14.0\"}} 1",
        std::env::consts::ARCH,
        std::env::consts::OS,
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "# HELP prometheus_config_last_reload_successful Whether the last configuration reload attempt was successful.");
    let _ = writeln!(out, "# TYPE prometheus_config_last_reload_successful gauge");
    let ok =
        m.reloads_failed.load(Ordering::Relaxed) == 0 || m.last_reload_ok.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "prometheus_config_last_reload_successful {}",
        u8::from(ok)
    );
    let _ = writeln!(
        out,
        "# HELP prometheus_http_requests_total Counter of HTTP requests."
    );
    let _ = writeln!(out, "# TYPE prometheus_http_requests_total counter");
    for ((h, code), n) in m
        .http_requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "prometheus_http_requests_total{{code=\"{code}\",handler=\"{h}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP prometheus_engine_queries_total The number of queries received (promplay)."
    );
    let _ = writeln!(out, "# TYPE prometheus_engine_queries_total counter");
    let _ = writeln!(
        out,
        "prometheus_engine_queries_total {}",
        m.queries.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP prometheus_tsdb_head_series Total number of series in the head block."
    );
    let _ = writeln!(out, "# TYPE prometheus_tsdb_head_series gauge");
    let _ = writeln!(out, "prometheus_tsdb_head_series {}", s.series);
    let _ = writeln!(
        out,
        "# HELP prometheus_tsdb_head_chunks Total number of chunks in the head block."
    );
    let _ = writeln!(out, "# TYPE prometheus_tsdb_head_chunks gauge");
    let _ = writeln!(out, "prometheus_tsdb_head_chunks {}", s.chunks);
    let _ = writeln!(out, "# HELP promplay_tsdb_samples Samples stored.");
    let _ = writeln!(out, "# TYPE promplay_tsdb_samples gauge");
    let _ = writeln!(out, "promplay_tsdb_samples {}", s.samples);
    let _ = writeln!(
        out,
        "# HELP promplay_tsdb_bytes Estimated heap bytes of the database."
    );
    let _ = writeln!(out, "# TYPE promplay_tsdb_bytes gauge");
    let _ = writeln!(out, "promplay_tsdb_bytes {}", s.bytes);
    let _ = writeln!(
        out,
        "# HELP promplay_import_samples_total Samples loaded by --import."
    );
    let _ = writeln!(out, "# TYPE promplay_import_samples_total counter");
    let _ = writeln!(
        out,
        "promplay_import_samples_total {}",
        m.imported_samples.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP prometheus_target_scrapes_total Scrapes run (promplay)."
    );
    let _ = writeln!(out, "# TYPE prometheus_target_scrapes_total counter");
    let _ = writeln!(out, "prometheus_target_scrapes_total {scrapes}");
    let _ = writeln!(
        out,
        "# HELP prometheus_notifications_sent_total Total number of alerts sent."
    );
    let _ = writeln!(out, "# TYPE prometheus_notifications_sent_total counter");
    let _ = writeln!(
        out,
        "prometheus_notifications_sent_total {}",
        st.notifier.sent.load(Ordering::Relaxed)
    );
    let _ = writeln!(out, "# HELP prometheus_notifications_errors_total Total number of sent alerts affected by errors.");
    let _ = writeln!(out, "# TYPE prometheus_notifications_errors_total counter");
    let _ = writeln!(
        out,
        "prometheus_notifications_errors_total {}",
        st.notifier.errors.load(Ordering::Relaxed)
    );
    let rc = &st.remote.counters;
    for (name, help, v) in [
        (
            "prometheus_remote_storage_samples_total",
            "Total number of samples sent to remote storage.",
            &rc.samples_sent,
        ),
        (
            "prometheus_remote_storage_samples_dropped_total",
            "Total number of samples dropped (non-recoverable errors, shutdown).",
            &rc.dropped_samples,
        ),
        (
            "promplay_remote_storage_failed_sends_total",
            "Batches whose send failed (each retry counts).",
            &rc.failed_sends,
        ),
        (
            "promplay_remote_storage_retried_sends_total",
            "Batches sent again after a recoverable error.",
            &rc.retried_sends,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
    }
    let _ = writeln!(out, "# HELP promplay_targets Active targets by health.");
    let _ = writeln!(out, "# TYPE promplay_targets gauge");
    let _ = writeln!(out, "promplay_targets{{health=\"up\"}} {up_targets}");
    let _ = writeln!(
        out,
        "promplay_targets{{health=\"other\"}} {}",
        active - up_targets
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_prometheus_does() {
        assert_eq!(parse_time("1767225600"), Ok(1_767_225_600_000));
        assert_eq!(parse_time("1767225600.1234"), Ok(1_767_225_600_123));
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Ok(1_767_225_600_000));
        assert_eq!(
            parse_time("2026-01-01T01:00:00.5+01:00"),
            Ok(1_767_225_600_500)
        );
        assert_eq!(parse_time(MAX_TIME_FORMATTED), Ok(MAX_TIME_MS));
        assert_eq!(
            parse_time("yesterday"),
            Err("cannot parse \"yesterday\" to a valid timestamp".into())
        );
        assert!(parse_time("").is_err());
    }

    #[test]
    fn durations_parse_as_prometheus_does() {
        assert_eq!(parse_duration("15"), Ok(15_000));
        assert_eq!(parse_duration("0.5"), Ok(500));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(
            parse_duration("abc"),
            Err("cannot parse \"abc\" to a valid duration".into())
        );
        assert!(parse_duration("1e300").unwrap_err().contains("overflows"));
    }

    #[test]
    fn escaped_label_names() {
        assert_eq!(unescape_label_name("U__a_2e_b"), "a.b");
        assert_eq!(unescape_label_name("job"), "job");
    }
}
