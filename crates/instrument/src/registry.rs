//! The collector registry: owns the clock, refuses duplicate names, collects snapshots.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use promplay_exposition::{write, Format, MetricFamily, MetricType};
use promplay_model::Clock;

use crate::error::InstrumentError;
use crate::pyrepr::py_set;

/// Anything that yields metric families: every metric, and custom collectors.
pub trait Collector {
    /// The families this collector produces, as (name, type), for duplicate detection
    /// (prometheus_client's `describe`). By default, what a collection yields (as
    /// prometheus_client does for a custom collector without `describe`).
    fn describe(&self) -> Vec<(String, MetricType)> {
        self.collect()
            .into_iter()
            .map(|f| (f.name, f.typ))
            .collect()
    }
    /// A snapshot of the families, in the OpenMetrics naming.
    fn collect(&self) -> Vec<MetricFamily>;
}

struct Entry {
    id: usize,
    collector: Rc<dyn Collector>,
    names: Vec<String>,
}

/// prometheus_client's `CollectorRegistry`, single-threaded: metrics hold it by `Rc` and read
/// time from its [`Clock`] (the playground's virtual clock, the companion's real one).
#[derive(Clone)]
pub struct Registry {
    inner: Rc<RegistryInner>,
}

struct RegistryInner {
    clock: Rc<dyn Clock>,
    entries: RefCell<Vec<Entry>>,
    next_id: Cell<usize>,
    legacy_validation: Cell<bool>,
    created: Rc<Cell<bool>>,
}

/// The names a family owns: its name and the sample names of its type.
pub(crate) fn owned_names(name: &str, typ: MetricType) -> Vec<String> {
    let mut v = vec![name.to_string()];
    v.extend(typ.suffixes().iter().map(|s| format!("{name}{s}")));
    v
}

impl Registry {
    pub fn new(clock: Rc<dyn Clock>) -> Registry {
        Registry {
            inner: Rc::new(RegistryInner {
                clock,
                entries: RefCell::new(Vec::new()),
                next_id: Cell::new(0),
                legacy_validation: Cell::new(false),
                created: Rc::new(Cell::new(true)),
            }),
        }
    }

    /// The clock metrics of this registry read.
    pub fn clock(&self) -> Rc<dyn Clock> {
        self.inner.clock.clone()
    }

    /// prometheus_client's `enable_legacy_validation()`: metric and label names must then be
    /// legacy names. By default (as 0.26) any non-empty UTF-8 name is accepted and escaped at
    /// exposition.
    pub fn set_legacy_validation(&self, on: bool) {
        self.inner.legacy_validation.set(on);
    }

    /// prometheus_client's `disable_created_metrics()` / `enable_created_metrics()`: whether
    /// counters, histograms and summaries expose `_created` samples (default: yes).
    pub fn set_created_series(&self, on: bool) {
        self.inner.created.set(on);
    }

    pub(crate) fn created_flag(&self) -> Rc<Cell<bool>> {
        self.inner.created.clone()
    }

    pub(crate) fn legacy_validation(&self) -> bool {
        self.inner.legacy_validation.get()
    }

    /// Adds a collector. Fails when one of its names is already owned by another collector.
    /// Returns an id for [`Registry::unregister`].
    pub fn register(&self, collector: Rc<dyn Collector>) -> Result<usize, InstrumentError> {
        let names: Vec<String> = collector
            .describe()
            .into_iter()
            .flat_map(|(n, t)| owned_names(&n, t))
            .collect();
        let mut entries = self.inner.entries.borrow_mut();
        let mut dup: Vec<&str> = Vec::new();
        for n in &names {
            if entries.iter().any(|e| e.names.contains(n)) && !dup.contains(&n.as_str()) {
                dup.push(n);
            }
        }
        if !dup.is_empty() {
            return Err(InstrumentError::Duplicated(py_set(&dup)));
        }
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        entries.push(Entry {
            id,
            collector,
            names,
        });
        Ok(id)
    }

    /// Removes a collector added with [`Registry::register`].
    pub fn unregister(&self, id: usize) {
        self.inner.entries.borrow_mut().retain(|e| e.id != id);
    }

    /// Every family of every collector, in registration order.
    pub fn collect(&self) -> Vec<MetricFamily> {
        // Collect outside the borrow: a collector may read the registry.
        let collectors: Vec<Rc<dyn Collector>> = self
            .inner
            .entries
            .borrow()
            .iter()
            .map(|e| e.collector.clone())
            .collect();
        collectors.iter().flat_map(|c| c.collect()).collect()
    }

    /// The value of one sample, or `None` (prometheus_client's `get_sample_value`).
    pub fn get_sample_value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut want: Vec<(&str, &str)> = labels.to_vec();
        want.sort();
        self.collect().into_iter().find_map(|mf| {
            mf.samples.into_iter().find_map(|s| {
                let mut have: Vec<(&str, &str)> = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                have.sort();
                (s.name == name && have == want).then_some(s.value)
            })
        })
    }

    /// The exposition of everything registered, in `format` (see
    /// [`promplay_exposition::negotiate`]).
    pub fn render(&self, format: &Format) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = write(&mut out, &self.collect(), format);
        out
    }
}
