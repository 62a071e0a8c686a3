//! The world: programs listening at `host:port`, a shared virtual clock, traffic, and faults.
//! It answers Prometheus's scrapes ([`TargetFetcher`]) as the real programs would.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use promplay_exposition::{negotiate, write, Format, FormatKind, MetricFamily};
use promplay_model::{Clock, ManualClock};
use promplay_server::scrape::{
    ScrapeError, ScrapeErrorKind, ScrapeRequest, ScrapeResponse, TargetFetcher,
};
use promplay_tsdb::Db;

use crate::hello::{Example, HelloApp};
use crate::node::NodeExporter;
use crate::rng::Rng;
use crate::selfmon::{PrometheusSelf, TsdbStats};
use crate::traffic::{Arrivals, Request, Traffic};

/// What runs at an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramKind {
    /// The playground's own Prometheus (`localhost:9090`).
    Prometheus,
    /// A node exporter (`localhost:9100`).
    NodeExporter,
    /// The seed's hello app (`localhost:8000`).
    HelloApp,
}

impl ProgramKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramKind::Prometheus => "prometheus",
            ProgramKind::NodeExporter => "node_exporter",
            ProgramKind::HelloApp => "hello",
        }
    }
}

/// A running program.
pub enum Program {
    Prometheus(PrometheusSelf),
    NodeExporter(NodeExporter),
    Hello(HelloApp),
}

impl Program {
    pub fn kind(&self) -> ProgramKind {
        match self {
            Program::Prometheus(_) => ProgramKind::Prometheus,
            Program::NodeExporter(_) => ProgramKind::NodeExporter,
            Program::Hello(_) => ProgramKind::HelloApp,
        }
    }

    pub fn registry(&self) -> &promplay_instrument::Registry {
        match self {
            Program::Prometheus(p) => p.registry(),
            Program::NodeExporter(p) => p.registry(),
            Program::Hello(p) => p.registry(),
        }
    }
}

/// A metric gaining a label with many values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explosion {
    /// The family or sample name (`hello_worlds_total` or `hello_worlds`).
    pub metric: String,
    pub label: String,
    /// How many distinct values the label takes.
    pub values: usize,
}

/// Faults injected at an address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Extra time every answer takes, ms (beyond the scrape timeout: the scrape times out).
    pub delay_ms: i64,
    pub explosion: Option<Explosion>,
    /// The body is not an exposition.
    pub garbage: bool,
    /// The body is padded to at least this many bytes (0: no padding).
    pub huge_bytes: usize,
}

/// One address and what listens there.
pub struct Host {
    program: Program,
    running: bool,
    /// When the current process started (ms).
    started_ms: i64,
    faults: Faults,
    /// Requests to the app (hello apps only).
    arrivals: Option<Arrivals>,
    example: Example,
    /// The size of the last answer: the next one is written into a buffer that large.
    body_capacity: std::cell::Cell<usize>,
}

/// The Targets/Workshop pages' view of a host.
#[derive(Clone, Debug, PartialEq)]
pub struct HostInfo {
    pub address: String,
    pub kind: ProgramKind,
    pub running: bool,
    pub started_ms: i64,
    pub faults: Faults,
    /// The hello app's code variant and load.
    pub example: Option<Example>,
    pub traffic: Option<Traffic>,
}

/// Why a world operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    #[error("no program listens at {0}")]
    NoSuchHost(String),
    #[error("{0} is not an app with traffic (only hello apps take requests)")]
    NotAnApp(String),
    #[error("{0} is already listening")]
    AddressInUse(String),
}

/// The simulated world. Time only moves forward, through [`World::advance_to`] (or a scrape).
pub struct World {
    clock: Rc<ManualClock>,
    seed: u64,
    start_ms: i64,
    now_ms: i64,
    hosts: BTreeMap<String, Host>,
}

/// The body of a garbage answer: text no exposition parser accepts.
const GARBAGE: &[u8] = b"<html><body>\x00\xffOops: 502 Bad Gateway {{{\n";

impl World {
    /// An empty world at `start_ms`.
    pub fn new(seed: u64, start_ms: i64) -> World {
        World {
            clock: Rc::new(ManualClock::new(start_ms)),
            seed,
            start_ms,
            now_ms: start_ms,
            hosts: BTreeMap::new(),
        }
    }

    /// The seed's world: Prometheus at `localhost:9090`, a node exporter at `localhost:9100`,
    /// the hello app (`hello.py`, default [`Traffic`]) at `localhost:8000`.
    pub fn seed_world(seed: u64, start_ms: i64) -> World {
        let mut w = World::new(seed, start_ms);
        // Fresh addresses on an empty world cannot collide.
        let _ = w.add("localhost:9090", ProgramKind::Prometheus);
        let _ = w.add("localhost:9100", ProgramKind::NodeExporter);
        let _ = w.add("localhost:8000", ProgramKind::HelloApp);
        w
    }

    /// The clock every program reads.
    pub fn clock(&self) -> Rc<ManualClock> {
        self.clock.clone()
    }

    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Starts a program at `address` now.
    pub fn add(&mut self, address: &str, kind: ProgramKind) -> Result<(), WorldError> {
        if self.hosts.contains_key(address) {
            return Err(WorldError::AddressInUse(address.to_string()));
        }
        let example = Example::Hello;
        let program = self.spawn(kind, example);
        let arrivals = (kind == ProgramKind::HelloApp).then(|| {
            Arrivals::new(
                Rng::stream(self.seed, &format!("traffic {address}")),
                Traffic::default(),
                self.now_ms,
            )
        });
        self.hosts.insert(
            address.to_string(),
            Host {
                program,
                running: true,
                started_ms: self.now_ms,
                faults: Faults::default(),
                arrivals,
                example,
                body_capacity: std::cell::Cell::new(0),
            },
        );
        Ok(())
    }

    fn spawn(&self, kind: ProgramKind, example: Example) -> Program {
        let clock: Rc<dyn Clock> = self.clock.clone();
        match kind {
            ProgramKind::Prometheus => Program::Prometheus(PrometheusSelf::new(clock)),
            ProgramKind::NodeExporter => {
                Program::NodeExporter(NodeExporter::new(clock, self.seed, self.start_ms))
            }
            ProgramKind::HelloApp => Program::Hello(HelloApp::new(example, clock)),
        }
    }

    fn host_mut(&mut self, address: &str) -> Result<&mut Host, WorldError> {
        self.hosts
            .get_mut(address)
            .ok_or_else(|| WorldError::NoSuchHost(address.to_string()))
    }

    /// The program at `address`, running or not.
    pub fn program(&self, address: &str) -> Option<&Program> {
        self.hosts.get(address).map(|h| &h.program)
    }

    /// The hello app at `address` (for its code and the lines its last request changed).
    pub fn hello(&self, address: &str) -> Option<&HelloApp> {
        match self.program(address) {
            Some(Program::Hello(h)) => Some(h),
            _ => None,
        }
    }

    pub fn hello_mut(&mut self, address: &str) -> Option<&mut HelloApp> {
        match self.hosts.get_mut(address).map(|h| &mut h.program) {
            Some(Program::Hello(h)) => Some(h),
            _ => None,
        }
    }

    /// Every host, by address.
    pub fn hosts(&self) -> Vec<HostInfo> {
        self.hosts
            .iter()
            .map(|(a, h)| HostInfo {
                address: a.clone(),
                kind: h.program.kind(),
                running: h.running,
                started_ms: h.started_ms,
                faults: h.faults.clone(),
                example: (h.program.kind() == ProgramKind::HelloApp).then_some(h.example),
                traffic: h.arrivals.as_ref().map(|a| a.traffic()),
            })
            .collect()
    }

    /// Moves the world to `t_ms`: every request arriving or completing until then happens, in
    /// time order, each with the clock at its instant. Earlier instants are ignored.
    pub fn advance_to(&mut self, t_ms: i64) {
        if t_ms <= self.now_ms {
            self.clock.set(self.now_ms);
            return;
        }
        for host in self.hosts.values_mut() {
            let Some(arrivals) = host.arrivals.as_mut() else {
                continue;
            };
            let Program::Hello(app) = &mut host.program else {
                continue;
            };
            loop {
                let next_arrival = arrivals.peek_ms();
                let next_done = app.next_completion_ms();
                match next_done {
                    Some(d) if d <= t_ms && (d as f64) <= next_arrival => {
                        self.clock.set(d);
                        app.complete_next(d);
                    }
                    _ => {
                        let Some(req) = arrivals.next_before(t_ms) else {
                            break;
                        };
                        if host.running {
                            self.clock.set(req.arrival_ms.floor() as i64);
                            app.arrive(req);
                        }
                    }
                }
            }
        }
        self.now_ms = t_ms;
        self.clock.set(t_ms);
    }

    /// Sets the load on the hello app at `address` from now on.
    pub fn set_traffic(&mut self, address: &str, traffic: Traffic) -> Result<(), WorldError> {
        let now = self.now_ms;
        let host = self.host_mut(address)?;
        match host.arrivals.as_mut() {
            Some(a) => {
                a.set_traffic(traffic, now);
                Ok(())
            }
            None => Err(WorldError::NotAnApp(address.to_string())),
        }
    }

    /// Sends one request to the hello app at `address` now (the Workshop's button); it
    /// completes after its latency, when the world advances. Returns the request.
    pub fn send_request(&mut self, address: &str) -> Result<Request, WorldError> {
        let now = self.now_ms;
        self.clock.set(now);
        let host = self.host_mut(address)?;
        let (Some(arrivals), Program::Hello(app)) = (host.arrivals.as_mut(), &mut host.program)
        else {
            return Err(WorldError::NotAnApp(address.to_string()));
        };
        let req = arrivals.extra(now);
        if host.running {
            app.arrive(req);
        }
        Ok(req)
    }

    /// Deploys another code variant of the hello app at `address` (the process restarts).
    pub fn set_example(&mut self, address: &str, example: Example) -> Result<(), WorldError> {
        let host = self.host_mut(address)?;
        if host.program.kind() != ProgramKind::HelloApp {
            return Err(WorldError::NotAnApp(address.to_string()));
        }
        host.example = example;
        self.restart(address)
    }

    /// Kills the process at `address`: connections are refused until [`World::start`].
    pub fn stop(&mut self, address: &str) -> Result<(), WorldError> {
        self.host_mut(address)?.running = false;
        Ok(())
    }

    /// Starts the process at `address` again if it was stopped: a fresh process (counters
    /// from zero, `_created` now).
    pub fn start(&mut self, address: &str) -> Result<(), WorldError> {
        if self.host_mut(address)?.running {
            return Ok(());
        }
        self.restart(address)
    }

    /// Restarts the process at `address` now: its counters reset and `_created` moves to now.
    pub fn restart(&mut self, address: &str) -> Result<(), WorldError> {
        let now = self.now_ms;
        self.clock.set(now);
        let (kind, example) = {
            let h = self.host_mut(address)?;
            (h.program.kind(), h.example)
        };
        let program = self.spawn(kind, example);
        let track = self.hello(address).is_some_and(HelloApp::tracks_changes);
        let h = self.host_mut(address)?;
        h.program = program;
        h.running = true;
        h.started_ms = now;
        if let (true, Program::Hello(app)) = (track, &mut h.program) {
            app.set_track_changes(true);
        }
        Ok(())
    }

    /// Every answer from `address` takes `delay_ms` longer (0 clears it).
    pub fn set_delay(&mut self, address: &str, delay_ms: i64) -> Result<(), WorldError> {
        self.host_mut(address)?.faults.delay_ms = delay_ms.max(0);
        Ok(())
    }

    /// `metric` at `address` gains `label` with `values` distinct values (None clears it).
    pub fn set_explosion(
        &mut self,
        address: &str,
        explosion: Option<Explosion>,
    ) -> Result<(), WorldError> {
        self.host_mut(address)?.faults.explosion = explosion;
        Ok(())
    }

    /// `address` answers garbage instead of an exposition.
    pub fn set_garbage(&mut self, address: &str, on: bool) -> Result<(), WorldError> {
        self.host_mut(address)?.faults.garbage = on;
        Ok(())
    }

    /// `address` pads its answers to at least `bytes` (0 clears it).
    pub fn set_huge(&mut self, address: &str, bytes: usize) -> Result<(), WorldError> {
        self.host_mut(address)?.faults.huge_bytes = bytes;
        Ok(())
    }

    /// Clears every fault at `address` (a stopped process stays stopped).
    pub fn heal(&mut self, address: &str) -> Result<(), WorldError> {
        self.host_mut(address)?.faults = Faults::default();
        Ok(())
    }

    /// Sets the TSDB figures every Prometheus program reports from now on.
    pub fn set_tsdb_stats(&mut self, stats: TsdbStats) {
        for h in self.hosts.values() {
            if let Program::Prometheus(p) = &h.program {
                p.set_stats(stats);
            }
        }
    }

    fn is_prometheus(&self, address: &str) -> bool {
        matches!(self.program(address), Some(Program::Prometheus(_)))
    }

    /// What `GET http://{address}{path}` with `Accept: {accept}` answers at `t_ms` (the world
    /// advances to it first): the Workshop page's view of `/metrics`, and every scrape.
    pub fn get(
        &mut self,
        address: &str,
        path: &str,
        accept: Option<&str>,
        t_ms: i64,
    ) -> Result<ScrapeResponse, ScrapeError> {
        self.advance_to(t_ms);
        let Some(host) = self.hosts.get(address).filter(|h| h.running) else {
            let shown = match address.strip_prefix("localhost:") {
                Some(port) => format!("127.0.0.1:{port}"),
                None => address.to_string(),
            };
            return Err(ScrapeError::connection_refused(&shown));
        };
        let faults = &host.faults;
        if host.program.kind() != ProgramKind::HelloApp && path != "/metrics" {
            return Err(ScrapeError::new(
                ScrapeErrorKind::Status {
                    code: 404,
                    reason: "Not Found".to_string(),
                },
                faults.delay_ms.saturating_add(1).saturating_mul(1_000_000),
            ));
        }
        // prometheus_client negotiates (OpenMetrics for Prometheus's Accept header); Go
        // programs (node_exporter, Prometheus itself) serve promhttp's default, which does not
        // enable OpenMetrics: the classic text format.
        let format = match host.program.kind() {
            ProgramKind::HelloApp => negotiate(accept),
            ProgramKind::NodeExporter | ProgramKind::Prometheus => Format::text(),
        };
        let (body, content_type) = if faults.garbage {
            (GARBAGE.to_vec(), format.content_type().to_string())
        } else {
            let mut families = host.program.registry().collect();
            if let Some(e) = &faults.explosion {
                explode(&mut families, e);
            }
            let mut out = String::with_capacity(host.body_capacity.get());
            // Writing to a String cannot fail.
            let _ = write(&mut out, &families, &format);
            host.body_capacity.set(out.len() + out.len() / 16);
            if faults.huge_bytes > out.len() {
                pad(&mut out, faults.huge_bytes, format.kind);
            }
            (out.into_bytes(), format.content_type().to_string())
        };
        // A millisecond, plus one per 50 kB, plus any injected delay.
        let duration_ms = (1 + body.len() as i64 / 50_000).saturating_add(faults.delay_ms);
        Ok(ScrapeResponse {
            content_type,
            body,
            duration_ns: duration_ms.saturating_mul(1_000_000),
        })
    }

    /// A [`TargetFetcher`] that refreshes the Prometheus programs' TSDB figures from `db`
    /// before each of their scrapes.
    pub fn fetcher<'a>(&'a mut self, db: &'a Db) -> DbFetcher<'a> {
        DbFetcher { world: self, db }
    }
}

impl TargetFetcher for World {
    fn fetch(&mut self, request: &ScrapeRequest) -> Result<ScrapeResponse, ScrapeError> {
        self.get(
            &request.address,
            &request.metrics_path,
            Some(&request.accept),
            request.time_ms,
        )
    }
}

/// See [`World::fetcher`].
pub struct DbFetcher<'a> {
    world: &'a mut World,
    db: &'a Db,
}

impl TargetFetcher for DbFetcher<'_> {
    fn fetch(&mut self, request: &ScrapeRequest) -> Result<ScrapeResponse, ScrapeError> {
        if self.world.is_prometheus(&request.address) {
            self.world
                .set_tsdb_stats(TsdbStats::from_db(&self.db.stats()));
        }
        self.world.fetch(request)
    }
}

/// Replaces every sample of the family `e.metric` by `e.values` samples, one per value of
/// `e.label`.
fn explode(families: &mut [MetricFamily], e: &Explosion) {
    for f in families.iter_mut() {
        let matches = f.name == e.metric || f.samples.iter().any(|s| s.name == e.metric);
        if !matches || e.values == 0 {
            continue;
        }
        let mut samples = Vec::with_capacity(f.samples.len() * e.values);
        for s in &f.samples {
            if s.labels.iter().any(|(k, _)| *k == e.label) {
                samples.push(s.clone());
                continue;
            }
            for i in 0..e.values {
                let mut c = s.clone();
                c.labels.push((e.label.clone(), format!("/{i}")));
                samples.push(c);
            }
        }
        f.samples = samples;
    }
}

/// Pads an exposition to at least `bytes` with a gauge family of distinct series.
fn pad(out: &mut String, bytes: usize, kind: FormatKind) {
    let eof = kind == FormatKind::OpenMetrics && out.ends_with("# EOF\n");
    if eof {
        out.truncate(out.len() - "# EOF\n".len());
    }
    out.push_str("# HELP sim_padding Padding of a huge body.\n# TYPE sim_padding gauge\n");
    let mut i = 0u64;
    while out.len() < bytes {
        let _ = writeln!(out, "sim_padding{{line=\"{i:09}\"}} 1.0");
        i += 1;
    }
    if eof {
        out.push_str("# EOF\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promplay_exposition::{parse, ParseOptions};

    const START: i64 = 1_767_225_600_000;
    const OM: &str = "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

    #[test]
    fn seed_world_answers_in_both_formats() {
        let mut w = World::seed_world(1, START);
        let r = w
            .get("localhost:8000", "/metrics", Some(OM), START)
            .unwrap();
        assert!(r.content_type.starts_with("application/openmetrics-text"));
        parse(&r.body, FormatKind::OpenMetrics, ParseOptions::default()).unwrap();
        for addr in ["localhost:9090", "localhost:9100", "localhost:8000"] {
            let accept = (addr != "localhost:8000").then_some(OM);
            let r = w.get(addr, "/metrics", accept, START + 60_000).unwrap();
            assert_eq!(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
            parse(&r.body, FormatKind::Text, ParseOptions::default()).unwrap();
        }
        let e = w.get("localhost:1234", "/metrics", None, START + 61_000);
        assert_eq!(
            e.unwrap_err().message("http://localhost:1234/metrics"),
            "Get \"http://localhost:1234/metrics\": dial tcp 127.0.0.1:1234: connect: connection refused"
        );
    }

    #[test]
    fn traffic_is_served_between_scrapes() {
        let mut w = World::seed_world(9, START);
        w.set_traffic(
            "localhost:8000",
            Traffic {
                rate: 10.0,
                ..Traffic::default()
            },
        )
        .unwrap();
        w.advance_to(START + 100_000);
        let r = w.hello("localhost:8000").unwrap().registry();
        let n = r.get_sample_value("hello_worlds_total", &[]).unwrap();
        assert!((800.0..1200.0).contains(&n), "{n}");
        let e = r
            .get_sample_value("hello_world_exceptions_total", &[])
            .unwrap();
        assert!((e / n - 0.2).abs() < 0.05, "{e}/{n}");
        w.stop("localhost:8000").unwrap();
        w.advance_to(START + 200_000);
        assert!(w.get("localhost:8000", "/", None, START + 200_000).is_err());
        w.start("localhost:8000").unwrap();
        let r = w.hello("localhost:8000").unwrap().registry();
        assert_eq!(r.get_sample_value("hello_worlds_total", &[]), Some(0.0));
        assert_eq!(
            r.get_sample_value("hello_worlds_created", &[]),
            Some(START as f64 / 1000.0 + 200.0)
        );
    }

    #[test]
    fn a_sent_request_shows_in_the_changed_lines() {
        let mut w = World::seed_world(5, START);
        w.set_traffic(
            "localhost:8000",
            Traffic {
                rate: 0.0,
                ..Traffic::default()
            },
        )
        .unwrap();
        w.hello_mut("localhost:8000")
            .unwrap()
            .set_track_changes(true);
        let req = w.send_request("localhost:8000").unwrap();
        let done = START + req.latency_ms.ceil() as i64 + 1;
        let body = w
            .get("localhost:8000", "/metrics", None, done)
            .unwrap()
            .body;
        let body = String::from_utf8(body).unwrap();
        let app = w.hello("localhost:8000").unwrap();
        let lines: Vec<&str> = body.lines().collect();
        let changed: Vec<&str> = app
            .changed_lines(&body)
            .into_iter()
            .map(|n| lines[n - 1])
            .collect();
        assert!(changed.contains(&"hello_worlds_total 1.0"), "{changed:?}");
        // In progress during the request (0 → 1 → 0): marked, back to 0.
        assert!(
            changed.contains(&"hello_worlds_inprogress 0.0"),
            "{changed:?}"
        );
        assert_eq!(app.in_flight(), 0);
        if req.fails {
            assert!(
                changed.contains(&"hello_world_exceptions_total 1.0"),
                "{changed:?}"
            );
        } else {
            assert!(changed
                .iter()
                .any(|l| l.starts_with("hello_world_sales_euro_total ")));
        }
    }

    #[test]
    fn every_example_behaves_as_its_code_under_traffic() {
        for e in Example::ALL {
            let mut w = World::seed_world(11, START);
            w.set_example("localhost:8000", e).unwrap();
            w.set_traffic(
                "localhost:8000",
                Traffic {
                    rate: 20.0,
                    latency: crate::traffic::Latency::LogNormal {
                        mean: 0.2,
                        sigma: 0.8,
                    },
                    failure_ratio: 0.2,
                },
            )
            .unwrap();
            let t = START + 300_000;
            w.advance_to(t);
            let app = w.hello("localhost:8000").unwrap();
            let r = app.registry();
            let v = |n: &str| r.get_sample_value(n, &[]);
            let requests = v("hello_worlds_total");
            if let Some(n) = requests {
                assert!((5400.0..6600.0).contains(&n), "{e:?}: {n}");
            }
            if let Some(x) = v("hello_world_exceptions_total") {
                let n = requests.unwrap();
                // Requests still in flight have not failed yet.
                assert!((x / n - 0.2).abs() < 0.02, "{e:?}: {x}/{n}");
            }
            if let Some(s) = v("hello_world_sales_euro_total") {
                let n = requests.unwrap();
                let expected = if e == Example::Hello { 0.8 * 0.5 } else { 0.5 };
                assert!((s / n - expected).abs() < 0.03, "{e:?}: {s}/{n}");
            }
            if let Some(g) = v("hello_worlds_inprogress") {
                assert_eq!(g, app.in_flight() as f64, "{e:?}");
                assert!(g > 0.0, "{e:?}: 20/s × 0.2 s should keep some in flight");
            }
            if let Some(l) = v("hello_world_last_time_seconds") {
                let now = t as f64 / 1000.0;
                assert!(l <= now && l > now - 5.0, "{e:?}: {l}");
            }
            if let Some(ts) = v("time_seconds") {
                assert_eq!(ts, t as f64 / 1000.0);
            }
        }
    }

    #[test]
    fn faults_shape_the_answer() {
        let mut w = World::seed_world(1, START);
        w.set_delay("localhost:9100", 12_000).unwrap();
        let r = w.get("localhost:9100", "/metrics", None, START).unwrap();
        assert!(r.duration_ns > 12_000_000_000);
        w.set_garbage("localhost:9100", true).unwrap();
        let r = w.get("localhost:9100", "/metrics", None, START).unwrap();
        assert!(parse(&r.body, FormatKind::Text, ParseOptions::default()).is_err());
        w.heal("localhost:9100").unwrap();
        w.set_huge("localhost:8000", 1_000_000).unwrap();
        let r = w
            .get("localhost:8000", "/metrics", Some(OM), START)
            .unwrap();
        assert!(r.body.len() >= 1_000_000);
        parse(&r.body, FormatKind::OpenMetrics, ParseOptions::default()).unwrap();
        w.heal("localhost:8000").unwrap();
        w.set_huge("localhost:9100", 1_000_000).unwrap();
        let r = w
            .get("localhost:9100", "/metrics", Some(OM), START)
            .unwrap();
        assert!(r.body.len() >= 1_000_000);
        parse(&r.body, FormatKind::Text, ParseOptions::default()).unwrap();
        w.heal("localhost:9100").unwrap();
        w.set_explosion(
            "localhost:8000",
            Some(Explosion {
                metric: "hello_worlds_total".into(),
                label: "path".into(),
                values: 50,
            }),
        )
        .unwrap();
        let r = w.get("localhost:8000", "/metrics", None, START).unwrap();
        let text = String::from_utf8(r.body).unwrap();
        assert_eq!(text.matches("hello_worlds_total{path=").count(), 50);
    }
}
