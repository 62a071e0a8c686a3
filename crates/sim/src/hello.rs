//! The seed's hello-world app (`peers/app/hello.py`) and the variants "Prometheus: Up &
//! Running" builds it through in chapter 3, each instrumented with `promplay-instrument`
//! exactly as its Python code is with prometheus_client.
//!
//! A request arrives (the handler starts), takes its latency, and completes (the handler
//! returns or raises). What the Python code does at the start of `do_GET` happens at the
//! arrival; what it does after the work happens at the completion, with the clock set to that
//! instant.

use std::collections::BTreeMap;
use std::rc::Rc;

use promplay_exposition::MetricFamily;
use promplay_instrument::{Counter, Gauge, InprogressTracker, Registry};

use promplay_model::Clock;
use Example as E;

use crate::python::PythonDefaults;
use crate::traffic::Request;

/// One of the app's code variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Example {
    /// A request counter.
    Counter,
    /// Failures counted with `with EXCEPTIONS.count_exceptions():`.
    Exceptions,
    /// Failures counted with the `@EXCEPTIONS.count_exceptions()` decorator.
    ExceptionsDecorator,
    /// Euros made, a counter incremented by a random amount.
    Sales,
    /// In-progress and last-time gauges, by hand.
    Gauges,
    /// The same with `track_inprogress` and `set_to_current_time`.
    GaugeHelpers,
    /// A gauge whose value comes from a function (`set_function`).
    SetFunction,
    /// The seed's app, `peers/app/hello.py`.
    Hello,
}

impl Example {
    pub const ALL: [Example; 8] = [
        Example::Counter,
        Example::Exceptions,
        Example::ExceptionsDecorator,
        Example::Sales,
        Example::Gauges,
        Example::GaugeHelpers,
        Example::SetFunction,
        Example::Hello,
    ];

    /// The name scenarios and URLs use.
    pub fn name(self) -> &'static str {
        match self {
            Example::Counter => "counter",
            Example::Exceptions => "exceptions",
            Example::ExceptionsDecorator => "exceptions-decorator",
            Example::Sales => "sales",
            Example::Gauges => "gauges",
            Example::GaugeHelpers => "gauge-helpers",
            Example::SetFunction => "set-function",
            Example::Hello => "hello",
        }
    }

    pub fn from_name(name: &str) -> Option<Example> {
        Example::ALL.into_iter().find(|e| e.name() == name)
    }

    /// A one-line title for the Workshop page.
    pub fn title(self) -> &'static str {
        match self {
            Example::Counter => "Counting requests",
            Example::Exceptions => "Counting exceptions (with)",
            Example::ExceptionsDecorator => "Counting exceptions (decorator)",
            Example::Sales => "Counting euros",
            Example::Gauges => "Gauges by hand",
            Example::GaugeHelpers => "Gauge helpers",
            Example::SetFunction => "A gauge from a callback",
            Example::Hello => "The seed app (hello.py)",
        }
    }

    /// The Python code this variant runs.
    pub fn python(self) -> &'static str {
        match self {
            Example::Counter => PY_COUNTER,
            Example::Exceptions => PY_EXCEPTIONS,
            Example::ExceptionsDecorator => PY_EXCEPTIONS_DECORATOR,
            Example::Sales => PY_SALES,
            Example::Gauges => PY_GAUGES,
            Example::GaugeHelpers => PY_GAUGE_HELPERS,
            Example::SetFunction => PY_SET_FUNCTION,
            Example::Hello => PY_HELLO,
        }
    }
}

const PY_COUNTER: &str = r#"import http.server
from prometheus_client import start_http_server
from prometheus_client import Counter

REQUESTS = Counter('hello_worlds_total',
        'Hello Worlds requested.')

class MyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        REQUESTS.inc()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello World")

if __name__ == "__main__":
    start_http_server(8000)
    server = http.server.HTTPServer(('localhost', 8001), MyHandler)
    server.serve_forever()
"#;

const PY_EXCEPTIONS: &str = r#"import http.server
import random
from prometheus_client import start_http_server
from prometheus_client import Counter

REQUESTS = Counter('hello_worlds_total',
        'Hello Worlds requested.')
EXCEPTIONS = Counter('hello_world_exceptions_total',
        'Exceptions serving Hello World.')

class MyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        REQUESTS.inc()
        with EXCEPTIONS.count_exceptions():
            if random.random() < 0.2:
                raise Exception
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello World")

if __name__ == "__main__":
    start_http_server(8000)
    server = http.server.HTTPServer(('localhost', 8001), MyHandler)
    server.serve_forever()
"#;

const PY_EXCEPTIONS_DECORATOR: &str = r#"import http.server
import random
from prometheus_client import start_http_server
from prometheus_client import Counter

REQUESTS = Counter('hello_worlds_total',
        'Hello Worlds requested.')
EXCEPTIONS = Counter('hello_world_exceptions_total',
        'Exceptions serving Hello World.')

class MyHandler(http.server.BaseHTTPRequestHandler):
    @EXCEPTIONS.count_exceptions()
    def do_GET(self):
        REQUESTS.inc()
        if random.random() < 0.2:
            raise Exception
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello World")

if __name__ == "__main__":
    start_http_server(8000)
    server = http.server.HTTPServer(('localhost', 8001), MyHandler)
    server.serve_forever()
"#;

const PY_SALES: &str = r#"import http.server
import random
from prometheus_client import start_http_server
from prometheus_client import Counter

REQUESTS = Counter('hello_worlds_total',
        'Hello Worlds requested.')
SALES = Counter('hello_world_sales_euro_total',
        'Euros made serving Hello World.')

class MyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        REQUESTS.inc()
        euros = random.random()
        SALES.inc(euros)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello World")

if __name__ == "__main__":
    start_http_server(8000)
    server = http.server.HTTPServer(('localhost', 8001), MyHandler)
    server.serve_forever()
"#;

const PY_GAUGES: &str = r#"import http.server
import time
from prometheus_client import start_http_server
from prometheus_client import Gauge

INPROGRESS = Gauge('hello_worlds_inprogress',
        'Number of Hello Worlds in progress.')
LAST = Gauge('hello_world_last_time_seconds',
        'The last time a Hello World was served.')

class MyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        INPROGRESS.inc()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello World")
        LAST.set(time.time())
        INPROGRESS.dec()

if __name__ == "__main__":
    start_http_server(8000)
    server = http.server.HTTPServer(('localhost', 8001), MyHandler)
    server.serve_forever()
"#;

const PY_GAUGE_HELPERS: &str = r#"import http.server
from prometheus_client import start_http_server
from prometheus_client import Gauge

INPROGRESS = Gauge('hello_worlds_inprogress',
        'Number of Hello Worlds in progress.')
LAST = Gauge('hello_world_last_time_seconds',
        'The last time a Hello World was served.')

class MyHandler(http.server.BaseHTTPRequestHandler):
    @INPROGRESS.track_inprogress()
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello World")
        LAST.set_to_current_time()

if __name__ == "__main__":
    start_http_server(8000)
    server = http.server.HTTPServer(('localhost', 8001), MyHandler)
    server.serve_forever()
"#;

const PY_SET_FUNCTION: &str = r#"import http.server
import time
from prometheus_client import start_http_server
from prometheus_client import Gauge

TIME = Gauge('time_seconds',
        'The current time.')
TIME.set_function(lambda: time.time())

class MyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello World")

if __name__ == "__main__":
    start_http_server(8000)
    server = http.server.HTTPServer(('localhost', 8001), MyHandler)
    server.serve_forever()
"#;

/// The seed's `peers/app/hello.py`, verbatim.
const PY_HELLO: &str = r#""""Seed 'hello world' app instrumented with prometheus_client (Prometheus: Up & Running style).
App on 127.0.0.1:8001, metrics on 127.0.0.1:8000/metrics."""
import http.server
import random
from prometheus_client import start_http_server, Counter, Gauge

REQUESTS = Counter('hello_worlds_total', 'Hello Worlds requested.')
EXCEPTIONS = Counter('hello_world_exceptions_total', 'Exceptions serving Hello World.')
SALES = Counter('hello_world_sales_euro_total', 'Euros made serving Hello World.')
INPROGRESS = Gauge('hello_worlds_inprogress', 'Number of Hello Worlds in progress.')
LAST = Gauge('hello_world_last_time_seconds', 'The last time a Hello World was served.')


class MyHandler(http.server.BaseHTTPRequestHandler):
    @INPROGRESS.track_inprogress()
    def do_GET(self):
        REQUESTS.inc()
        with EXCEPTIONS.count_exceptions():
            if random.random() < 0.2:
                raise Exception("random failure")
        euros = random.random()
        SALES.inc(euros)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello World")
        LAST.set_to_current_time()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    start_http_server(8000, addr='127.0.0.1')
    server = http.server.HTTPServer(('127.0.0.1', 8001), MyHandler)
    server.serve_forever()
"#;

/// The metrics one variant declares.
#[derive(Default)]
struct Metrics {
    requests: Option<Counter>,
    exceptions: Option<Counter>,
    sales: Option<Counter>,
    inprogress: Option<Gauge>,
    last: Option<Gauge>,
    time: Option<Gauge>,
}

/// A request between its arrival and its completion.
struct InFlight {
    request: Request,
    /// `@INPROGRESS.track_inprogress()`'s guard, held for the request's duration.
    tracker: Option<InprogressTracker>,
}

/// A program state snapshot: sample key → value bits.
type Snapshot = BTreeMap<String, u64>;

/// The hello app: a registry, the metrics of its [`Example`], and the requests in flight.
pub struct HelloApp {
    example: Example,
    registry: Registry,
    metrics: Metrics,
    /// Requests in flight, by (completion ms, id).
    in_flight: BTreeMap<(i64, u64), InFlight>,
    track_changes: bool,
    /// The request whose changes are tracked and the sample keys it changed.
    last_request: Option<u64>,
    changed: Vec<String>,
}

impl HelloApp {
    /// Starts the app (declares its metrics: `_created` is the clock's now).
    pub fn new(example: Example, clock: Rc<dyn Clock>) -> HelloApp {
        let registry = Registry::new(clock.clone());
        // prometheus_client's default collectors come first, as in the real app's output.
        let _ = registry.register(Rc::new(PythonDefaults {
            clock: clock.clone(),
            start_s: clock.now_ms() as f64 / 1000.0,
        }));
        let counter = |name: &str, help: &str| Counter::new(&registry, name, help).ok();
        let gauge = |name: &str, help: &str| Gauge::new(&registry, name, help).ok();
        let mut m = Metrics::default();
        if matches!(
            example,
            E::Counter | E::Exceptions | E::ExceptionsDecorator | E::Sales | E::Hello
        ) {
            m.requests = counter("hello_worlds_total", "Hello Worlds requested.");
        }
        if matches!(example, E::Exceptions | E::ExceptionsDecorator | E::Hello) {
            m.exceptions = counter(
                "hello_world_exceptions_total",
                "Exceptions serving Hello World.",
            );
        }
        if matches!(example, E::Sales | E::Hello) {
            m.sales = counter(
                "hello_world_sales_euro_total",
                "Euros made serving Hello World.",
            );
        }
        if matches!(example, E::Gauges | E::GaugeHelpers | E::Hello) {
            m.inprogress = gauge(
                "hello_worlds_inprogress",
                "Number of Hello Worlds in progress.",
            );
            m.last = gauge(
                "hello_world_last_time_seconds",
                "The last time a Hello World was served.",
            );
        }
        if example == E::SetFunction {
            m.time = gauge("time_seconds", "The current time.");
            if let Some(g) = &m.time {
                let c = clock.clone();
                let _ = g.set_function(move || c.now_ms() as f64 / 1000.0);
            }
        }
        HelloApp {
            example,
            registry,
            metrics: m,
            in_flight: BTreeMap::new(),
            track_changes: false,
            last_request: None,
            changed: Vec::new(),
        }
    }

    pub fn example(&self) -> Example {
        self.example
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Requests started and not yet finished.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Turns on tracking of which samples the last request changed (costs a snapshot of the
    /// registry per step: for the Workshop page, not for long headless runs).
    pub fn set_track_changes(&mut self, on: bool) {
        self.track_changes = on;
        if !on {
            self.changed.clear();
            self.last_request = None;
        }
    }

    /// Whether [`HelloApp::set_track_changes`] is on.
    pub fn tracks_changes(&self) -> bool {
        self.track_changes
    }

    /// When the next in-flight request completes (ms).
    pub(crate) fn next_completion_ms(&self) -> Option<i64> {
        self.in_flight.keys().next().map(|k| k.0)
    }

    /// The handler's start, at the request's arrival (the clock is set to it).
    pub(crate) fn arrive(&mut self, request: Request) {
        let before = self.snapshot();
        let m = &self.metrics;
        let tracker = match self.example {
            Example::Gauges => {
                if let Some(g) = &m.inprogress {
                    let _ = g.inc(1.0);
                }
                None
            }
            Example::GaugeHelpers | Example::Hello => m
                .inprogress
                .as_ref()
                .and_then(|g| g.track_inprogress().ok()),
            _ => None,
        };
        if let Some(c) = &m.requests {
            let _ = c.inc(1.0);
        }
        let done = (request.arrival_ms + request.latency_ms).floor() as i64;
        self.in_flight
            .insert((done, request.id), InFlight { request, tracker });
        self.record(request.id, before);
    }

    /// Completes the earliest request in flight if it is done by `t_ms`; returns its time.
    pub(crate) fn complete_next(&mut self, t_ms: i64) -> Option<i64> {
        let key = *self.in_flight.keys().next()?;
        if key.0 > t_ms {
            return None;
        }
        let before = self.snapshot();
        let InFlight { request, tracker } = self.in_flight.remove(&key)?;
        let m = &self.metrics;
        let raise = || -> Result<(), &'static str> {
            if request.fails {
                Err("random failure")
            } else {
                Ok(())
            }
        };
        match self.example {
            Example::Exceptions | Example::ExceptionsDecorator => {
                // `with EXCEPTIONS.count_exceptions():` around the failing block, or the
                // decorator around the whole handler: both count the exception leaving it.
                if let Some(c) = &m.exceptions {
                    let _ = c.count_exceptions_in(raise);
                }
            }
            Example::Sales => {
                if let Some(c) = &m.sales {
                    let _ = c.inc(request.euros);
                }
            }
            Example::Gauges => {
                if let Some(g) = &m.last {
                    let _ = g.set(self.registry.clock().now_ms() as f64 / 1000.0);
                }
                if let Some(g) = &m.inprogress {
                    let _ = g.dec(1.0);
                }
            }
            Example::GaugeHelpers => {
                if let Some(g) = &m.last {
                    let _ = g.set_to_current_time();
                }
            }
            Example::Hello => {
                let ok = match &m.exceptions {
                    Some(c) => matches!(c.count_exceptions_in(raise), Ok(Ok(()))),
                    None => !request.fails,
                };
                if ok {
                    if let Some(c) = &m.sales {
                        let _ = c.inc(request.euros);
                    }
                    if let Some(g) = &m.last {
                        let _ = g.set_to_current_time();
                    }
                }
            }
            Example::Counter | Example::SetFunction => {}
        }
        // Leaving do_GET: the in-progress decorator decrements.
        drop(tracker);
        self.record(request.id, before);
        Some(key.0)
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.track_changes
            .then(|| snapshot_families(&self.registry.collect()))
    }

    fn record(&mut self, id: u64, before: Option<Snapshot>) {
        let Some(before) = before else { return };
        match self.last_request {
            Some(last) if id < last => return,
            Some(last) if id == last => {}
            _ => {
                self.last_request = Some(id);
                self.changed.clear();
            }
        }
        let after = snapshot_families(&self.registry.collect());
        for (k, v) in &after {
            if before.get(k) != Some(v) && !self.changed.contains(k) {
                self.changed.push(k.clone());
            }
        }
    }

    /// The sample keys (`name{a="b",…}`, labels sorted) the last request changed, when
    /// tracking is on.
    pub fn changed_samples(&self) -> &[String] {
        &self.changed
    }

    /// The 1-based numbers of the lines of a `/metrics` body (either format) holding a sample
    /// the last request changed.
    pub fn changed_lines(&self, body: &str) -> Vec<usize> {
        if self.changed.is_empty() {
            return Vec::new();
        }
        body.lines()
            .enumerate()
            .filter(|(_, l)| !l.starts_with('#'))
            .filter_map(|(i, l)| {
                let key = line_key(l)?;
                self.changed.contains(&key).then_some(i + 1)
            })
            .collect()
    }
}

fn sample_key(name: &str, labels: &[(String, String)]) -> String {
    if labels.is_empty() {
        return name.to_string();
    }
    let mut l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    l.sort();
    format!("{name}{{{}}}", l.join(","))
}

fn snapshot_families(families: &[MetricFamily]) -> Snapshot {
    families
        .iter()
        .flat_map(|f| f.samples.iter())
        .map(|s| (sample_key(&s.name, &s.labels), s.value.to_bits()))
        .collect()
}

/// The key of an exposition line: its name and sorted labels.
fn line_key(line: &str) -> Option<String> {
    let line = line.trim_end();
    if line.is_empty() {
        return None;
    }
    match line.find('{') {
        Some(open) => {
            let close = line.rfind('}')?;
            let name = &line[..open];
            let inner = line.get(open + 1..close)?;
            let mut labels: Vec<String> = Vec::new();
            let mut cur = String::new();
            let mut in_quotes = false;
            let mut escaped = false;
            for c in inner.chars() {
                if in_quotes {
                    cur.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        in_quotes = false;
                    }
                } else if c == ',' {
                    labels.push(std::mem::take(&mut cur));
                } else {
                    if c == '"' {
                        in_quotes = true;
                    }
                    cur.push(c);
                }
            }
            if !cur.is_empty() {
                labels.push(cur);
            }
            labels.sort();
            Some(format!("{name}{{{}}}", labels.join(",")))
        }
        None => line.split(' ').next().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promplay_exposition::Format;
    use promplay_model::ManualClock;

    fn req(id: u64, at: f64, fails: bool) -> Request {
        Request {
            id,
            arrival_ms: at,
            latency_ms: 100.0,
            fails,
            euros: 0.5,
        }
    }

    #[test]
    fn every_example_declares_the_seed_names_and_help() {
        let clock = Rc::new(ManualClock::new(1_000_000));
        for e in Example::ALL {
            let app = HelloApp::new(e, clock.clone());
            let text = app.registry().render(&Format::text());
            assert!(!text.is_empty(), "{e:?}");
            for f in app.registry().collect() {
                if f.name.starts_with("python_") || f.name.starts_with("process_") {
                    continue;
                }
                let full = if f.typ == promplay_exposition::MetricType::Counter {
                    format!("{}_total", f.name)
                } else {
                    f.name.clone()
                };
                assert!(
                    e.python().contains(&format!("'{full}'")),
                    "{e:?}: {full} not in its code"
                );
                assert!(e.python().contains(&f.help), "{e:?}: {}", f.help);
            }
        }
    }

    #[test]
    fn hello_request_lifecycle() {
        let clock = Rc::new(ManualClock::new(1_000_000));
        let mut app = HelloApp::new(Example::Hello, clock.clone());
        app.set_track_changes(true);
        clock.set(1_000_500);
        app.arrive(req(0, 1_000_500.0, false));
        let r = app.registry();
        assert_eq!(r.get_sample_value("hello_worlds_total", &[]), Some(1.0));
        assert_eq!(
            r.get_sample_value("hello_worlds_inprogress", &[]),
            Some(1.0)
        );
        assert_eq!(
            app.changed_samples(),
            ["hello_worlds_inprogress", "hello_worlds_total"]
        );
        clock.set(1_000_600);
        assert_eq!(app.complete_next(1_000_600), Some(1_000_600));
        let r = app.registry();
        assert_eq!(
            r.get_sample_value("hello_worlds_inprogress", &[]),
            Some(0.0)
        );
        assert_eq!(
            r.get_sample_value("hello_world_last_time_seconds", &[]),
            Some(1000.6)
        );
        assert_eq!(
            r.get_sample_value("hello_world_sales_euro_total", &[]),
            Some(0.5)
        );
        let body = r.render(&Format::text());
        let lines: Vec<&str> = body.lines().collect();
        let changed: Vec<&str> = app
            .changed_lines(&body)
            .into_iter()
            .map(|n| lines[n - 1])
            .collect();
        assert_eq!(
            changed,
            [
                "hello_worlds_total 1.0",
                "hello_world_sales_euro_total 0.5",
                "hello_worlds_inprogress 0.0",
                "hello_world_last_time_seconds 1000.6"
            ]
        );
        // A failing request: counted, no sale, no last time.
        clock.set(1_001_000);
        app.arrive(req(1, 1_001_000.0, true));
        clock.set(1_001_100);
        app.complete_next(1_001_100);
        let r = app.registry();
        assert_eq!(
            r.get_sample_value("hello_world_exceptions_total", &[]),
            Some(1.0)
        );
        assert_eq!(
            r.get_sample_value("hello_world_sales_euro_total", &[]),
            Some(0.5)
        );
        assert_eq!(
            r.get_sample_value("hello_world_last_time_seconds", &[]),
            Some(1000.6)
        );
    }

    #[test]
    fn set_function_reads_the_clock() {
        let clock = Rc::new(ManualClock::new(5_000));
        let app = HelloApp::new(Example::SetFunction, clock.clone());
        clock.set(7_500);
        assert_eq!(
            app.registry().get_sample_value("time_seconds", &[]),
            Some(7.5)
        );
    }

    #[test]
    fn the_seed_code_is_hello_py() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/peers/app/hello.py"
        );
        let seed = std::fs::read_to_string(path).expect("hello.py");
        assert_eq!(Example::Hello.python(), seed);
    }
}
