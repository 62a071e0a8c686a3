//! `remote_write`: float samples sent to remote endpoints as Prometheus Remote-Write 1.0
//! (`prometheus.WriteRequest` protobuf, snappy block-compressed, POSTed with
//! `Content-Encoding: snappy` and `X-Prometheus-Remote-Write-Version: 0.1.0`).
//!
//! Where samples come from: the in-memory database has no write-ahead log to tail, so a
//! sender thread per endpoint reads what was committed since it last looked — every
//! `batch_send_deadline`, the samples newer than each series' last-sent timestamp, looking back
//! at most [`LOOKBACK_MS`] — applies `write_relabel_configs`, and sends them in batches of
//! `max_samples_per_send`. A failed batch (connection error, 5xx, or 429 with
//! `retry_on_http_429`) is retried with exponential backoff between `min_backoff` and
//! `max_backoff` until it is sent; a 4xx drops it, as Prometheus does. Native histograms and
//! exemplars are not sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use promplay_model::{Labels, MatchType, Matcher};
use promplay_server::config::RemoteWriteConfig;
use promplay_server::relabel::process;
use promplay_server::Config;
use promplay_tsdb::{Db, Queryable, ValType};
use tokio::runtime::Handle;

use super::now_ms;

/// How far back a sender looks for samples it has not sent.
pub const LOOKBACK_MS: i64 = 15 * 60 * 1000;

/// `prometheus.WriteRequest` (remote.proto), fields 1 (timeseries) only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// Encodes and snappy-compresses a request body.
pub fn encode(req: &WriteRequest) -> Vec<u8> {
    use prost::Message;
    let raw = req.encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Counters {
    pub samples_sent: AtomicU64,
    pub failed_sends: AtomicU64,
    pub retried_sends: AtomicU64,
    pub dropped_samples: AtomicU64,
}

/// The running senders.
pub struct RemoteWriters {
    stops: Mutex<Vec<mpsc::Sender<()>>>,
    pub counters: Arc<Counters>,
    db: Arc<Db>,
    rt: Handle,
}

impl RemoteWriters {
    pub fn new(db: Arc<Db>, rt: Handle) -> Self {
        RemoteWriters {
            stops: Mutex::new(Vec::new()),
            counters: Arc::new(Counters::default()),
            db,
            rt,
        }
    }

    /// Replaces the senders with those of `cfg` (each new sender starts from "now").
    pub fn apply(&self, cfg: &Config) {
        self.stop();
        let mut stops = self.stops.lock().unwrap_or_else(|e| e.into_inner());
        for rw in &cfg.remote_write {
            let (tx, rx) = mpsc::channel();
            let (db, rt, c, rw) = (
                self.db.clone(),
                self.rt.clone(),
                self.counters.clone(),
                rw.clone(),
            );
            let started = std::thread::Builder::new()
                .name("remote-write".into())
                .spawn(move || run(db, rt, rw, c, rx));
            if started.is_ok() {
                stops.push(tx);
            }
        }
    }

    pub fn stop(&self) {
        for s in self
            .stops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = s.send(());
        }
    }
}

fn run(db: Arc<Db>, rt: Handle, rw: RemoteWriteConfig, c: Arc<Counters>, stop: mpsc::Receiver<()>) {
    let client = reqwest::Client::new();
    let mut last: HashMap<Labels, i64> = HashMap::new();
    let start_ms = now_ms();
    let deadline = rw
        .queue_config
        .batch_send_deadline
        .as_millis()
        .clamp(100, 60_000);
    let per_send = rw.queue_config.max_samples_per_send.clamp(1, 1_000_000) as usize;
    let all = Matcher::new(MatchType::Regexp, "__name__", ".+").ok();
    loop {
        match stop.recv_timeout(StdDuration::from_millis(deadline as u64)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = now_ms();
        let Some(all) = all.clone() else { return };
        let mint = (now - LOOKBACK_MS).max(start_ms);
        let Ok(q) = db.querier(mint, now) else {
            continue;
        };
        let Ok(set) = q.select(false, None, &[all]) else {
            continue;
        };
        let mut batch: Vec<TimeSeries> = Vec::new();
        let mut n = 0usize;
        for s in &set.series {
            let from = last.get(s.labels()).copied().unwrap_or(i64::MIN);
            let mut samples = Vec::new();
            let mut it = s.iter();
            loop {
                match it.next() {
                    ValType::None => break,
                    ValType::Float => {
                        let (t, v) = it.at();
                        if t > from {
                            samples.push(Sample {
                                value: v,
                                timestamp: t,
                            });
                        }
                    }
                    _ => {}
                }
            }
            let Some(newest) = samples.last().map(|s| s.timestamp) else {
                continue;
            };
            last.insert(s.labels().clone(), newest);
            let Some(lset) = process(s.labels(), &rw.write_relabel_configs) else {
                continue;
            };
            if lset.is_empty() {
                continue;
            }
            let labels: Vec<Label> = lset
                .iter()
                .map(|l| Label {
                    name: l.name.to_string(),
                    value: l.value.to_string(),
                })
                .collect();
            for chunk in samples.chunks(per_send) {
                n += chunk.len();
                batch.push(TimeSeries {
                    labels: labels.clone(),
                    samples: chunk.to_vec(),
                });
                if n >= per_send {
                    send_with_retries(&rt, &client, &rw, &c, std::mem::take(&mut batch), &stop);
                    n = 0;
                }
            }
        }
        if !batch.is_empty() {
            send_with_retries(&rt, &client, &rw, &c, batch, &stop);
        }
        // Forget series not seen for a while.
        last.retain(|_, t| *t >= now - LOOKBACK_MS);
    }
}

fn send_with_retries(
    rt: &Handle,
    client: &reqwest::Client,
    rw: &RemoteWriteConfig,
    c: &Counters,
    ts: Vec<TimeSeries>,
    stop: &mpsc::Receiver<()>,
) {
    let samples: u64 = ts.iter().map(|t| t.samples.len() as u64).sum();
    let body = encode(&WriteRequest { timeseries: ts });
    let min = rw.queue_config.min_backoff.as_millis().max(10);
    let max = rw.queue_config.max_backoff.as_millis().max(min);
    let mut backoff = min;
    let timeout = StdDuration::from_millis(rw.remote_timeout.as_millis().max(1) as u64);
    loop {
        let mut rb = client
            .post(&rw.url)
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .header("User-Agent", "Prometheus/3.14.0")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .timeout(timeout)
            .body(body.clone());
        for (k, v) in &rw.headers {
            rb = rb.header(k, v);
        }
        let hc = &rw.http_client_config;
        if let Some(ba) = &hc.basic_auth {
            let p = ba.password.expose();
            rb = rb.basic_auth(&ba.username, (!p.is_empty()).then_some(p));
        }
        if let Some(a) = &hc.authorization {
            let kind = if a.kind.is_empty() { "Bearer" } else { &a.kind };
            rb = rb.header(
                "Authorization",
                format!("{kind} {}", a.credentials.expose()),
            );
        }
        let r = rt.block_on(async move { rb.send().await });
        let retry = match r {
            Ok(resp) if resp.status().is_success() => {
                c.samples_sent.fetch_add(samples, Ordering::Relaxed);
                return;
            }
            Ok(resp) => {
                let s = resp.status();
                let recoverable =
                    s.is_server_error() || (s.as_u16() == 429 && rw.queue_config.retry_on_http_429);
                eprintln!(
                    "promplay serve: remote_write {}: server returned HTTP status {s}{}",
                    rw.url,
                    if recoverable {
                        ", retrying"
                    } else {
                        ", dropping the batch"
                    }
                );
                recoverable
            }
            Err(e) => {
                eprintln!("promplay serve: remote_write {}: {e}, retrying", rw.url);
                true
            }
        };
        c.failed_sends.fetch_add(1, Ordering::Relaxed);
        if !retry {
            c.dropped_samples.fetch_add(samples, Ordering::Relaxed);
            return;
        }
        c.retried_sends.fetch_add(1, Ordering::Relaxed);
        match stop.recv_timeout(StdDuration::from_millis(backoff as u64)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                c.dropped_samples.fetch_add(samples, Ordering::Relaxed);
                return;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        backoff = (backoff * 2).min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn write_request_round_trips_through_snappy() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 1_767_225_600_000,
                }],
            }],
        };
        let body = encode(&req);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        // Field 1, length-delimited: the protobuf wire format Prometheus decodes.
        assert_eq!(raw[0], 0x0a);
        assert_eq!(WriteRequest::decode(raw.as_slice()).unwrap(), req);
    }
}
