//! What every metric shares: names and their validation, the parent/child structure of
//! labelled families (`.labels()`), collection into snapshots.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use promplay_exposition::{Exemplar, MetricFamily, MetricType, Sample};
use promplay_model::labels::{is_legacy_label_name, is_legacy_metric_name};
use promplay_model::Clock;

use crate::error::InstrumentError;
use crate::pyrepr::py_dict;
use crate::registry::{Collector, Registry};

/// A metric's declaration: prometheus_client's constructor arguments.
#[derive(Clone, Debug, Default)]
pub struct Opts {
    pub name: String,
    pub help: String,
    pub labelnames: Vec<String>,
    pub namespace: String,
    pub subsystem: String,
    pub unit: String,
}

impl Opts {
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Opts {
        Opts {
            name: name.into(),
            help: help.into(),
            ..Opts::default()
        }
    }
    pub fn labelnames(mut self, names: &[&str]) -> Opts {
        self.labelnames = names.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn namespace(mut self, ns: impl Into<String>) -> Opts {
        self.namespace = ns.into();
        self
    }
    pub fn subsystem(mut self, ss: impl Into<String>) -> Opts {
        self.subsystem = ss.into();
        self
    }
    pub fn unit(mut self, unit: impl Into<String>) -> Opts {
        self.unit = unit.into();
        self
    }
}

/// The per-family constants every child shares.
pub(crate) struct Meta {
    pub name: String,
    pub help: String,
    pub unit: String,
    pub labelnames: Vec<String>,
    pub clock: Rc<dyn Clock>,
    pub created_enabled: Rc<Cell<bool>>,
    pub buckets: Vec<f64>,
    pub states: Vec<String>,
}

impl Meta {
    pub fn now(&self) -> f64 {
        self.clock.now_ms() as f64 / 1000.0
    }
}

/// One sample of a child before the family's labels are prepended.
pub(crate) struct ChildSample {
    pub suffix: &'static str,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub exemplar: Option<Exemplar>,
}

impl ChildSample {
    pub fn new(suffix: &'static str, value: f64) -> ChildSample {
        ChildSample {
            suffix,
            labels: Vec::new(),
            value,
            exemplar: None,
        }
    }
}

/// The state of one observable metric (an unlabelled metric or a child) of a kind.
pub(crate) trait State: Sized + 'static {
    const TYPE: MetricType;
    /// prometheus_client's `_type` (`counter`, `stateset`, ...), used in messages.
    const PY_TYPE: &'static str;
    const RESERVED_LABELS: &'static [&'static str] = &[];
    fn init(meta: &Meta) -> Self;
    fn samples(&self, meta: &Meta, out: &mut Vec<ChildSample>);
}

/// An unlabelled metric, the parent of a labelled family, or one of its children.
pub(crate) struct Node<S: State> {
    pub meta: Rc<Meta>,
    pub labelvalues: Vec<String>,
    pub state: Option<RefCell<S>>,
    children: RefCell<Children<S>>,
}

/// The children of a labelled family, by label values, in creation order.
type Children<S> = Vec<(Vec<String>, Rc<Node<S>>)>;

/// `full_name` as prometheus_client's `_build_full_name` makes it.
fn build_full_name(typ: MetricType, opts: &Opts) -> Result<String, InstrumentError> {
    let mut full = String::new();
    if !opts.namespace.is_empty() {
        full.push_str(&opts.namespace);
        full.push('_');
    }
    if !opts.subsystem.is_empty() {
        full.push_str(&opts.subsystem);
        full.push('_');
    }
    full.push_str(&opts.name);
    if typ == MetricType::Counter && full.ends_with("_total") {
        full.truncate(full.len() - 6); // munge to OpenMetrics
    }
    if !opts.unit.is_empty() && !full.ends_with(&format!("_{}", opts.unit)) {
        full.push('_');
        full.push_str(&opts.unit);
    }
    if !opts.unit.is_empty() && matches!(typ, MetricType::Info | MetricType::StateSet) {
        return Err(InstrumentError::UnitNotAllowed(full));
    }
    Ok(full)
}

pub(crate) fn validate_label_name(name: &str, legacy: bool) -> Result<(), InstrumentError> {
    if legacy && !is_legacy_label_name(name) {
        return Err(InstrumentError::InvalidLabelName(name.to_string()));
    }
    if name.is_empty() {
        return Err(InstrumentError::InvalidLabelName(name.to_string()));
    }
    if name.starts_with("__") {
        return Err(InstrumentError::ReservedLabelName(name.to_string()));
    }
    Ok(())
}

impl<S: State> Node<S> {
    /// Declares a metric and registers it (the family parent when it has label names).
    pub fn declare(
        registry: &Registry,
        opts: Opts,
        buckets: Vec<f64>,
        states: Vec<String>,
    ) -> Result<Rc<Node<S>>, InstrumentError> {
        let name = build_full_name(S::TYPE, &opts)?;
        let legacy = registry.legacy_validation();
        for l in &opts.labelnames {
            validate_label_name(l, legacy)?;
            if S::RESERVED_LABELS.contains(&l.as_str()) {
                return Err(InstrumentError::ReservedLabelName(l.clone()));
            }
        }
        if name.is_empty() || (legacy && !is_legacy_metric_name(&name)) {
            return Err(InstrumentError::InvalidMetricName(name));
        }
        let meta = Rc::new(Meta {
            name,
            help: opts.help,
            unit: opts.unit,
            labelnames: opts.labelnames,
            clock: registry.clock(),
            created_enabled: registry.created_flag(),
            buckets,
            states,
        });
        let node = Rc::new(Node::new(meta, Vec::new()));
        registry.register(node.clone())?;
        Ok(node)
    }

    fn new(meta: Rc<Meta>, labelvalues: Vec<String>) -> Node<S> {
        let observable = meta.labelnames.is_empty() || !labelvalues.is_empty();
        let state = observable.then(|| RefCell::new(S::init(&meta)));
        Node {
            meta,
            labelvalues,
            state,
            children: RefCell::new(Vec::new()),
        }
    }

    fn is_parent(&self) -> bool {
        !self.meta.labelnames.is_empty() && self.labelvalues.is_empty()
    }

    /// `type:name`, as `str(metric)` in Python.
    pub fn describe_self(&self) -> String {
        format!("{}:{}", S::PY_TYPE, self.meta.name)
    }

    /// Runs `f` on the state; fails on the parent of a labelled family.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut S) -> R) -> Result<R, InstrumentError> {
        match &self.state {
            Some(s) => Ok(f(&mut s.borrow_mut())),
            None => Err(InstrumentError::MissingLabelValues(S::PY_TYPE)),
        }
    }

    pub fn check_observable(&self) -> Result<(), InstrumentError> {
        self.with_state(|_| ())
    }

    /// The child for these label values, created on first use (`.labels(*values)`).
    pub fn labels(&self, values: &[&str]) -> Result<Rc<Node<S>>, InstrumentError> {
        if self.meta.labelnames.is_empty() {
            return Err(InstrumentError::NoLabelNames(self.describe_self()));
        }
        if !self.labelvalues.is_empty() {
            let set = py_dict(
                self.meta
                    .labelnames
                    .iter()
                    .map(String::as_str)
                    .zip(self.labelvalues.iter().map(String::as_str)),
            );
            return Err(InstrumentError::LabelsAlreadySet {
                metric: self.describe_self(),
                labels: set,
            });
        }
        if values.len() != self.meta.labelnames.len() {
            return Err(InstrumentError::IncorrectLabelCount);
        }
        let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        let mut children = self.children.borrow_mut();
        if let Some((_, c)) = children.iter().find(|(v, _)| *v == values) {
            return Ok(c.clone());
        }
        let child = Rc::new(Node::new(self.meta.clone(), values.clone()));
        children.push((values, child.clone()));
        Ok(child)
    }

    /// `.labels(**kwargs)`: values by label name, in any order.
    pub fn labels_by_name(&self, pairs: &[(&str, &str)]) -> Result<Rc<Node<S>>, InstrumentError> {
        if self.meta.labelnames.is_empty() || !self.labelvalues.is_empty() {
            return self.labels(&[]);
        }
        let mut given: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
        let mut want: Vec<&str> = self.meta.labelnames.iter().map(String::as_str).collect();
        given.sort_unstable();
        want.sort_unstable();
        if given != want {
            return Err(InstrumentError::IncorrectLabelNames);
        }
        let values: Vec<&str> = self
            .meta
            .labelnames
            .iter()
            .filter_map(|n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| *v))
            .collect();
        self.labels(&values)
    }

    /// Removes one child.
    pub fn remove(&self, values: &[&str]) -> Result<(), InstrumentError> {
        if self.meta.labelnames.is_empty() {
            return Err(InstrumentError::NoLabelNames(self.describe_self()));
        }
        if values.len() != self.meta.labelnames.len() {
            let got: Vec<String> = values.iter().map(|s| s.to_string()).collect();
            return Err(InstrumentError::IncorrectRemoveCount {
                expected: self.meta.labelnames.len(),
                got: crate::pyrepr::py_tuple(&got),
            });
        }
        let mut children = self.children.borrow_mut();
        let before = children.len();
        children.retain(|(v, _)| v.iter().map(String::as_str).ne(values.iter().copied()));
        if children.len() == before {
            let got: Vec<String> = values.iter().map(|s| s.to_string()).collect();
            return Err(InstrumentError::NoSuchChild(crate::pyrepr::py_tuple(&got)));
        }
        Ok(())
    }

    /// Removes every child.
    pub fn clear(&self) {
        self.children.borrow_mut().clear();
    }

    fn child_samples(&self, out: &mut Vec<ChildSample>) {
        if let Some(s) = &self.state {
            s.borrow().samples(&self.meta, out);
        }
    }
}

impl<S: State> Collector for Node<S> {
    fn describe(&self) -> Vec<(String, MetricType)> {
        vec![(self.meta.name.clone(), S::TYPE)]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let meta = &self.meta;
        let mut samples = Vec::new();
        let mut buf = Vec::new();
        let mut emit = |series: Vec<(String, String)>, buf: &mut Vec<ChildSample>| {
            for cs in buf.drain(..) {
                let mut labels = series.clone();
                labels.extend(cs.labels);
                samples.push(Sample {
                    name: format!("{}{}", meta.name, cs.suffix),
                    labels,
                    value: cs.value,
                    timestamp: None,
                    exemplar: cs.exemplar,
                });
            }
        };
        if self.is_parent() {
            for (values, child) in self.children.borrow().iter() {
                child.child_samples(&mut buf);
                let series = meta
                    .labelnames
                    .iter()
                    .cloned()
                    .zip(values.iter().cloned())
                    .collect();
                emit(series, &mut buf);
            }
        } else {
            self.child_samples(&mut buf);
            emit(Vec::new(), &mut buf);
        }
        vec![MetricFamily {
            name: meta.name.clone(),
            help: meta.help.clone(),
            typ: S::TYPE,
            unit: meta.unit.clone(),
            samples,
        }]
    }
}

/// Exemplar labels are limited to 128 characters, names and values together.
pub(crate) fn make_exemplar(
    labels: &[(&str, &str)],
    value: f64,
    now: f64,
) -> Result<Exemplar, InstrumentError> {
    let mut runes = 0;
    for (k, v) in labels {
        validate_label_name(k, false)?;
        runes += k.chars().count() + v.chars().count();
    }
    if runes > 128 {
        return Err(InstrumentError::ExemplarTooLong(runes));
    }
    Ok(Exemplar {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        value,
        timestamp: Some(now),
    })
}
