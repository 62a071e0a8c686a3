//! The metric kinds: Counter, Gauge, Histogram, Summary, Info, Enum, with prometheus_client's
//! semantics, and the guards that stand for its context managers and decorators.

use std::rc::Rc;

use promplay_exposition::{go_float, Exemplar, MetricType};

use crate::core::{make_exemplar, ChildSample, Meta, Node, Opts, State};
use crate::error::InstrumentError;
use crate::pyrepr::{py_dict, py_tuple};
use crate::registry::Registry;

macro_rules! family_methods {
    ($t:ident) => {
        impl $t {
            /// The child for these label values (`.labels('a', 'b')`).
            pub fn labels(&self, values: &[&str]) -> Result<$t, InstrumentError> {
                Ok($t(self.0.labels(values)?))
            }
            /// The child for these label values given by name (`.labels(a='x')`).
            pub fn labels_by_name(&self, pairs: &[(&str, &str)]) -> Result<$t, InstrumentError> {
                Ok($t(self.0.labels_by_name(pairs)?))
            }
            /// Removes the child with these label values.
            pub fn remove(&self, values: &[&str]) -> Result<(), InstrumentError> {
                self.0.remove(values)
            }
            /// Removes every child.
            pub fn clear(&self) {
                self.0.clear()
            }
            /// The full name (a counter's without `_total`).
            pub fn name(&self) -> &str {
                &self.0.meta.name
            }
        }
        impl std::fmt::Display for $t {
            /// `counter:name`, as `str(metric)` in Python.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0.describe_self())
            }
        }
    };
}

/// The `_created` sample, unless disabled on the registry.
fn push_created(meta: &Meta, created: f64, out: &mut Vec<ChildSample>) {
    if meta.created_enabled.get() {
        out.push(ChildSample::new("_created", created));
    }
}

/// `new` and `with_opts` for the kinds declared by name, help and options alone.
macro_rules! simple_constructors {
    ($t:ident, $doc:literal) => {
        impl $t {
            #[doc = $doc]
            pub fn new(registry: &Registry, name: &str, help: &str) -> Result<$t, InstrumentError> {
                $t::with_opts(registry, Opts::new(name, help))
            }

            /// Declares the metric with label names, namespace, subsystem or unit.
            pub fn with_opts(registry: &Registry, opts: Opts) -> Result<$t, InstrumentError> {
                Ok($t(Node::declare(registry, opts, Vec::new(), Vec::new())?))
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Counter

pub(crate) struct CounterState {
    value: f64,
    created: f64,
    exemplar: Option<Exemplar>,
}

impl State for CounterState {
    const TYPE: MetricType = MetricType::Counter;
    const PY_TYPE: &'static str = "counter";
    fn init(meta: &Meta) -> Self {
        CounterState {
            value: 0.0,
            created: meta.now(),
            exemplar: None,
        }
    }
    fn samples(&self, meta: &Meta, out: &mut Vec<ChildSample>) {
        let mut total = ChildSample::new("_total", self.value);
        total.exemplar = self.exemplar.clone();
        out.push(total);
        push_created(meta, self.created, out);
    }
}

/// A counter: goes up, resets when the process restarts. Exposed as `name_total` and
/// `name_created`.
#[derive(Clone)]
pub struct Counter(Rc<Node<CounterState>>);
family_methods!(Counter);

simple_constructors!(
    Counter,
    "`Counter(name, documentation, registry=registry)`."
);

impl Counter {
    /// Increments by `amount`, which must not be negative.
    pub fn inc(&self, amount: f64) -> Result<(), InstrumentError> {
        self.0.check_observable()?;
        if amount < 0.0 {
            return Err(InstrumentError::NegativeIncrement);
        }
        self.0.with_state(|s| s.value += amount)
    }

    /// Increments and attaches an exemplar (at most 128 characters of labels).
    pub fn inc_with_exemplar(
        &self,
        amount: f64,
        exemplar: &[(&str, &str)],
    ) -> Result<(), InstrumentError> {
        self.inc(amount)?;
        let ex = make_exemplar(exemplar, amount, self.0.meta.now())?;
        self.0.with_state(|s| s.exemplar = Some(ex))
    }

    /// The current value.
    pub fn get(&self) -> Result<f64, InstrumentError> {
        self.0.with_state(|s| s.value)
    }

    /// A guard that counts a panic unwinding through its scope, as `with c.count_exceptions():`
    /// counts an exception.
    pub fn count_exceptions(&self) -> Result<ExceptionCounter, InstrumentError> {
        self.0.check_observable()?;
        Ok(ExceptionCounter {
            counter: self.clone(),
        })
    }

    /// Runs `f` and counts its failure (an `Err`, or a panic), as the `@c.count_exceptions()`
    /// decorator counts exceptions. The outer error is the misuse (a labelled parent).
    pub fn count_exceptions_in<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<Result<T, E>, InstrumentError> {
        let guard = self.count_exceptions()?;
        let r = f();
        if r.is_err() {
            let _ = self.inc(1.0);
        }
        drop(guard);
        Ok(r)
    }
}

/// See [`Counter::count_exceptions`].
pub struct ExceptionCounter {
    counter: Counter,
}

impl Drop for ExceptionCounter {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.counter.inc(1.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Gauge

pub(crate) struct GaugeState {
    value: f64,
    function: Option<Rc<dyn Fn() -> f64>>,
}

impl State for GaugeState {
    const TYPE: MetricType = MetricType::Gauge;
    const PY_TYPE: &'static str = "gauge";
    fn init(_: &Meta) -> Self {
        GaugeState {
            value: 0.0,
            function: None,
        }
    }
    fn samples(&self, _: &Meta, out: &mut Vec<ChildSample>) {
        let v = match &self.function {
            Some(f) => f(),
            None => self.value,
        };
        out.push(ChildSample::new("", v));
    }
}

/// A gauge: a value that goes up and down.
#[derive(Clone)]
pub struct Gauge(Rc<Node<GaugeState>>);
family_methods!(Gauge);

simple_constructors!(Gauge, "`Gauge(name, documentation, registry=registry)`.");

impl Gauge {
    pub fn inc(&self, amount: f64) -> Result<(), InstrumentError> {
        self.0.with_state(|s| s.value += amount)
    }

    pub fn dec(&self, amount: f64) -> Result<(), InstrumentError> {
        self.0.with_state(|s| s.value -= amount)
    }

    pub fn set(&self, value: f64) -> Result<(), InstrumentError> {
        self.0.with_state(|s| s.value = value)
    }

    /// Sets the gauge to the host clock's now, in seconds.
    pub fn set_to_current_time(&self) -> Result<(), InstrumentError> {
        let now = self.0.meta.now();
        self.set(now)
    }

    /// The current value (the function's when one is set).
    pub fn get(&self) -> Result<f64, InstrumentError> {
        self.0
            .with_state(|s| s.function.as_ref().map_or(s.value, |f| f()))
    }

    /// Takes the value from `f` at every collection; the other methods then have no visible
    /// effect.
    pub fn set_function(&self, f: impl Fn() -> f64 + 'static) -> Result<(), InstrumentError> {
        let f: Rc<dyn Fn() -> f64> = Rc::new(f);
        self.0.with_state(|s| s.function = Some(f))
    }

    /// A guard: +1 now, -1 when dropped (`with g.track_inprogress():`).
    pub fn track_inprogress(&self) -> Result<InprogressTracker, InstrumentError> {
        self.inc(1.0)?;
        Ok(InprogressTracker {
            gauge: self.clone(),
        })
    }

    /// Runs `f` with the gauge incremented (`@g.track_inprogress()`).
    pub fn track_inprogress_in<R>(&self, f: impl FnOnce() -> R) -> Result<R, InstrumentError> {
        let _g = self.track_inprogress()?;
        Ok(f())
    }

    /// A timer that sets the gauge to the seconds its scope took (`with g.time():`).
    pub fn time(&self) -> Result<Timer, InstrumentError> {
        self.0.check_observable()?;
        Ok(Timer::start(Timed::Gauge(self.clone()), &self.0.meta))
    }
}

/// See [`Gauge::track_inprogress`].
pub struct InprogressTracker {
    gauge: Gauge,
}

impl Drop for InprogressTracker {
    fn drop(&mut self) {
        let _ = self.gauge.dec(1.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Summary

pub(crate) struct SummaryState {
    count: f64,
    sum: f64,
    created: f64,
}

impl State for SummaryState {
    const TYPE: MetricType = MetricType::Summary;
    const PY_TYPE: &'static str = "summary";
    const RESERVED_LABELS: &'static [&'static str] = &["quantile"];
    fn init(meta: &Meta) -> Self {
        SummaryState {
            count: 0.0,
            sum: 0.0,
            created: meta.now(),
        }
    }
    fn samples(&self, meta: &Meta, out: &mut Vec<ChildSample>) {
        out.push(ChildSample::new("_count", self.count));
        out.push(ChildSample::new("_sum", self.sum));
        push_created(meta, self.created, out);
    }
}

/// A summary: count and sum of observations (no quantiles, as prometheus_client).
#[derive(Clone)]
pub struct Summary(Rc<Node<SummaryState>>);
family_methods!(Summary);

simple_constructors!(
    Summary,
    "`Summary(name, documentation, registry=registry)`."
);

impl Summary {
    pub fn observe(&self, amount: f64) -> Result<(), InstrumentError> {
        self.0.with_state(|s| {
            s.count += 1.0;
            s.sum += amount;
        })
    }

    /// A timer that observes the seconds its scope took.
    pub fn time(&self) -> Result<Timer, InstrumentError> {
        self.0.check_observable()?;
        Ok(Timer::start(Timed::Summary(self.clone()), &self.0.meta))
    }
}

// ---------------------------------------------------------------------------------------------
// Histogram

pub(crate) struct HistogramState {
    buckets: Vec<f64>,
    exemplars: Vec<Option<Exemplar>>,
    sum: f64,
    created: f64,
}

impl State for HistogramState {
    const TYPE: MetricType = MetricType::Histogram;
    const PY_TYPE: &'static str = "histogram";
    const RESERVED_LABELS: &'static [&'static str] = &["le"];
    fn init(meta: &Meta) -> Self {
        HistogramState {
            buckets: vec![0.0; meta.buckets.len()],
            exemplars: vec![None; meta.buckets.len()],
            sum: 0.0,
            created: meta.now(),
        }
    }
    fn samples(&self, meta: &Meta, out: &mut Vec<ChildSample>) {
        let mut acc = 0.0;
        for (i, bound) in meta.buckets.iter().enumerate() {
            acc += self.buckets[i];
            let mut s = ChildSample::new("_bucket", acc);
            s.labels.push(("le".to_string(), go_float(*bound)));
            s.exemplar = self.exemplars[i].clone();
            out.push(s);
        }
        out.push(ChildSample::new("_count", acc));
        if meta.buckets.first().is_some_and(|b| *b >= 0.0) {
            out.push(ChildSample::new("_sum", self.sum));
        }
        push_created(meta, self.created, out);
    }
}

/// prometheus_client's `Histogram.DEFAULT_BUCKETS`.
pub const DEFAULT_BUCKETS: [f64; 15] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    f64::INFINITY,
];

/// A histogram with cumulative buckets (`le`), count, sum.
#[derive(Clone)]
pub struct Histogram(Rc<Node<HistogramState>>);
family_methods!(Histogram);

impl Histogram {
    /// A histogram with [`DEFAULT_BUCKETS`].
    pub fn new(registry: &Registry, name: &str, help: &str) -> Result<Histogram, InstrumentError> {
        Histogram::with_opts(registry, Opts::new(name, help), &DEFAULT_BUCKETS)
    }

    /// Buckets must be sorted; `+Inf` is appended when missing; at least two in all.
    pub fn with_opts(
        registry: &Registry,
        opts: Opts,
        buckets: &[f64],
    ) -> Result<Histogram, InstrumentError> {
        let mut b = buckets.to_vec();
        if b.windows(2)
            .any(|w| w[0] > w[1] || w[0].is_nan() || w[1].is_nan())
        {
            return Err(InstrumentError::BucketsNotSorted);
        }
        if b.last().is_some_and(|l| *l != f64::INFINITY) {
            b.push(f64::INFINITY);
        }
        if b.len() < 2 {
            return Err(InstrumentError::TooFewBuckets);
        }
        Ok(Histogram(Node::declare(registry, opts, b, Vec::new())?))
    }

    pub fn observe(&self, amount: f64) -> Result<(), InstrumentError> {
        let bounds = &self.0.meta.buckets;
        self.0.with_state(|s| {
            s.sum += amount;
            if let Some(i) = bounds.iter().position(|b| amount <= *b) {
                s.buckets[i] += 1.0;
            }
        })
    }

    /// Observes and attaches an exemplar to the bucket the observation fell in.
    pub fn observe_with_exemplar(
        &self,
        amount: f64,
        exemplar: &[(&str, &str)],
    ) -> Result<(), InstrumentError> {
        self.observe(amount)?;
        let ex = make_exemplar(exemplar, amount, self.0.meta.now())?;
        let bounds = &self.0.meta.buckets;
        self.0.with_state(|s| {
            if let Some(i) = bounds.iter().position(|b| amount <= *b) {
                s.exemplars[i] = Some(ex);
            }
        })
    }

    /// A timer that observes the seconds its scope took.
    pub fn time(&self) -> Result<Timer, InstrumentError> {
        self.0.check_observable()?;
        Ok(Timer::start(Timed::Histogram(self.clone()), &self.0.meta))
    }
}

// ---------------------------------------------------------------------------------------------
// Info

pub(crate) struct InfoState {
    value: Vec<(String, String)>,
}

impl State for InfoState {
    const TYPE: MetricType = MetricType::Info;
    const PY_TYPE: &'static str = "info";
    fn init(_: &Meta) -> Self {
        InfoState { value: Vec::new() }
    }
    fn samples(&self, _: &Meta, out: &mut Vec<ChildSample>) {
        let mut s = ChildSample::new("_info", 1.0);
        s.labels = self.value.clone();
        out.push(s);
    }
}

/// Key-value information, exposed as `name_info{...} 1`.
#[derive(Clone)]
pub struct Info(Rc<Node<InfoState>>);
family_methods!(Info);

simple_constructors!(Info, "`Info(name, documentation, registry=registry)`.");

impl Info {
    /// Sets the information; its keys must not be label names of the family.
    pub fn info(&self, value: &[(&str, &str)]) -> Result<(), InstrumentError> {
        let names = &self.0.meta.labelnames;
        if value.iter().any(|(k, _)| names.iter().any(|n| n == k)) {
            return Err(InstrumentError::InfoOverlap {
                metric: py_tuple(names),
                child: py_dict(value.iter().copied()),
            });
        }
        let v = value
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.0.with_state(|s| s.value = v)
    }
}

// ---------------------------------------------------------------------------------------------
// Enum

pub(crate) struct EnumState {
    index: usize,
}

impl State for EnumState {
    const TYPE: MetricType = MetricType::StateSet;
    const PY_TYPE: &'static str = "stateset";
    fn init(_: &Meta) -> Self {
        EnumState { index: 0 }
    }
    fn samples(&self, meta: &Meta, out: &mut Vec<ChildSample>) {
        for (i, state) in meta.states.iter().enumerate() {
            let mut s = ChildSample::new("", if i == self.index { 1.0 } else { 0.0 });
            s.labels.push((meta.name.clone(), state.clone()));
            out.push(s);
        }
    }
}

/// Which one of a set of states is current; the first state is the default. A stateset.
#[derive(Clone)]
pub struct Enum(Rc<Node<EnumState>>);
family_methods!(Enum);

impl Enum {
    pub fn new(
        registry: &Registry,
        name: &str,
        help: &str,
        states: &[&str],
    ) -> Result<Enum, InstrumentError> {
        Enum::with_opts(registry, Opts::new(name, help), states)
    }

    pub fn with_opts(
        registry: &Registry,
        opts: Opts,
        states: &[&str],
    ) -> Result<Enum, InstrumentError> {
        if opts.labelnames.contains(&opts.name) {
            return Err(InstrumentError::EnumOverlap(opts.name));
        }
        if states.is_empty() {
            return Err(InstrumentError::NoStates(opts.name));
        }
        let states = states.iter().map(|s| s.to_string()).collect();
        Ok(Enum(Node::declare(registry, opts, Vec::new(), states)?))
    }

    pub fn state(&self, state: &str) -> Result<(), InstrumentError> {
        let i = self
            .0
            .meta
            .states
            .iter()
            .position(|s| s == state)
            .ok_or_else(|| InstrumentError::UnknownState(state.to_string()))?;
        self.0.with_state(|s| s.index = i)
    }
}

// ---------------------------------------------------------------------------------------------
// Timer

enum Timed {
    Gauge(Gauge),
    Summary(Summary),
    Histogram(Histogram),
}

/// Measures its own lifetime on the host clock and records it when dropped: sets a gauge,
/// observes a summary or histogram (`with metric.time():`).
pub struct Timer {
    target: Timed,
    start_ms: i64,
}

impl Timer {
    fn start(target: Timed, meta: &Meta) -> Timer {
        Timer {
            target,
            start_ms: meta.clock.now_ms(),
        }
    }

    fn clock_now(&self) -> i64 {
        match &self.target {
            Timed::Gauge(g) => g.0.meta.clock.now_ms(),
            Timed::Summary(s) => s.0.meta.clock.now_ms(),
            Timed::Histogram(h) => h.0.meta.clock.now_ms(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let secs = ((self.clock_now() - self.start_ms).max(0)) as f64 / 1000.0;
        let _ = match &self.target {
            Timed::Gauge(g) => g.set(secs),
            Timed::Summary(s) => s.observe(secs),
            Timed::Histogram(h) => h.observe(secs),
        };
    }
}
