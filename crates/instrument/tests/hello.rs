//! The seed app (../shared/peers/app/hello.py) rebuilt with this library: the exposition must
//! be prometheus_client's byte for byte, except the numbers that depend on time and chance.

use std::rc::Rc;

use promplay_exposition::{negotiate, Format};
use promplay_instrument::{Counter, Gauge, Registry};
use promplay_model::{Clock, ManualClock};

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../../shared/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The families of `text` whose names start with `hello_`: the seed's own metrics. The rest
/// of the sample is Python's default process, platform and gc collectors, which this library
/// does not have (there is no Python process to describe).
fn hello_families(text: &str) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            keep = rest.starts_with("hello_");
        }
        if keep && line != "# EOF" {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Replaces the value of the samples whose values come from time or `random()` with `<n>`.
fn mask(text: &str) -> String {
    text.lines()
        .map(|l| {
            let masked = [
                "_created ",
                "hello_world_sales_euro_total ",
                "hello_world_last_time_seconds ",
            ];
            if !l.starts_with('#') && masked.iter().any(|m| l.contains(m)) {
                let (head, _) = l.rsplit_once(' ').unwrap();
                format!("{head} <n>\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

struct Hello {
    requests: Counter,
    exceptions: Counter,
    sales: Counter,
    inprogress: Gauge,
    last: Gauge,
}

impl Hello {
    fn new(registry: &Registry) -> Hello {
        Hello {
            requests: Counter::new(registry, "hello_worlds_total", "Hello Worlds requested.")
                .unwrap(),
            exceptions: Counter::new(
                registry,
                "hello_world_exceptions_total",
                "Exceptions serving Hello World.",
            )
            .unwrap(),
            sales: Counter::new(
                registry,
                "hello_world_sales_euro_total",
                "Euros made serving Hello World.",
            )
            .unwrap(),
            inprogress: Gauge::new(
                registry,
                "hello_worlds_inprogress",
                "Number of Hello Worlds in progress.",
            )
            .unwrap(),
            last: Gauge::new(
                registry,
                "hello_world_last_time_seconds",
                "The last time a Hello World was served.",
            )
            .unwrap(),
        }
    }

    /// `do_GET`: `fail` stands for `random.random() < 0.2`, `euros` for `random.random()`.
    fn do_get(&self, fail: bool, euros: f64) -> Result<(), String> {
        self.inprogress
            .track_inprogress_in(|| {
                self.requests.inc(1.0).unwrap();
                self.exceptions
                    .count_exceptions_in(|| {
                        if fail {
                            Err("random failure".to_string())
                        } else {
                            Ok(())
                        }
                    })
                    .unwrap()?;
                self.sales.inc(euros).unwrap();
                self.last.set_to_current_time().unwrap();
                Ok(())
            })
            .unwrap()
    }
}

fn serve_50_requests() -> (Registry, Rc<ManualClock>) {
    let clock = Rc::new(ManualClock::new(1_795_612_490_988));
    let registry = Registry::new(clock.clone());
    let app = Hello::new(&registry);
    // 50 requests, 11 failing: the state the samples were taken in.
    let mut x: u64 = 42;
    for i in 0..50 {
        clock.advance(29);
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let euros = (x >> 11) as f64 / (1u64 << 53) as f64;
        let _ = app.do_get(i % 5 == 0 || i == 49, euros);
    }
    (registry, clock)
}

#[test]
fn text_exposition_matches_prometheus_client() {
    let (registry, _) = serve_50_requests();
    assert_eq!(
        registry.get_sample_value("hello_world_exceptions_total", &[]),
        Some(11.0)
    );
    let ours = registry.render(&negotiate(None));
    let theirs = hello_families(&sample("hello-text.txt"));
    assert_eq!(mask(&ours), mask(&theirs));
}

#[test]
fn openmetrics_exposition_matches_prometheus_client() {
    let (registry, _) = serve_50_requests();
    let format = negotiate(Some(
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    ));
    let ours = registry.render(&format);
    assert!(ours.ends_with("# EOF\n"));
    let theirs = hello_families(&sample("hello-openmetrics.txt"));
    assert_eq!(mask(&hello_families(&ours)), mask(&theirs));
    // The Content-Type the real app answered with.
    assert!(sample("hello-openmetrics.headers").contains(format.content_type()));
}

#[test]
fn times_come_from_the_clock_and_print_as_python_does() {
    let (registry, clock) = serve_50_requests();
    let text = registry.render(&Format::text());
    // Created at the clock's start, last served at the last successful request.
    assert!(
        text.contains("hello_worlds_created 1.795612490988e+09\n"),
        "{text}"
    );
    let last = registry
        .get_sample_value("hello_world_last_time_seconds", &[])
        .unwrap();
    assert!(last <= clock.now_ms() as f64 / 1000.0 && last > 1.7e9);
}
