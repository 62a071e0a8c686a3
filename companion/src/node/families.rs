//! Building metric-family snapshots as node_exporter's registry gathers them: families sorted by
//! name, samples sorted by their label values (labels in name order), one HELP per family.

use std::collections::BTreeMap;

use promplay_exposition::{MetricFamily, MetricType, Sample};

/// Families under construction, keyed by the name they are exposed under (`x_total` for a
/// counter).
#[derive(Default)]
pub struct Families {
    map: BTreeMap<String, MetricFamily>,
}

impl Families {
    pub fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.push(name, help, MetricType::Gauge, labels, value);
    }

    /// A counter; `name` is the exposed name and ends in `_total`, as all of node_exporter's do.
    pub fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.push(name, help, MetricType::Counter, labels, value);
    }

    /// An untyped metric (`untyped` in the text format, `unknown` in OpenMetrics).
    pub fn untyped(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.push(name, help, MetricType::Unknown, labels, value);
    }

    fn push(
        &mut self,
        name: &str,
        help: &str,
        typ: MetricType,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let mut labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        labels.sort_by(|a, b| a.0.cmp(&b.0));
        let family = self.map.entry(name.to_string()).or_insert_with(|| {
            // The snapshot holds OpenMetrics family names: a counter's without `_total` (the
            // text writer adds it back on HELP and TYPE).
            let fname = match typ {
                MetricType::Counter => name.strip_suffix("_total").unwrap_or(name),
                _ => name,
            };
            MetricFamily {
                name: fname.to_string(),
                help: help.to_string(),
                typ,
                unit: String::new(),
                samples: Vec::new(),
            }
        });
        family.samples.push(Sample::new(name, labels, value));
    }

    /// Adds a whole family (a textfile's), under the name it is exposed as; its samples join
    /// those of a family of that name already there.
    pub fn insert_family(&mut self, exposed: &str, family: MetricFamily) {
        match self.map.get_mut(exposed) {
            Some(existing) => existing.samples.extend(family.samples),
            None => {
                self.map.insert(exposed.to_string(), family);
            }
        }
    }

    /// Moves `other`'s samples into `self`.
    pub fn merge(&mut self, other: Families) {
        for (name, fam) in other.map {
            match self.map.get_mut(&name) {
                Some(existing) => existing.samples.extend(fam.samples),
                None => {
                    self.map.insert(name, fam);
                }
            }
        }
    }

    /// The families sorted by exposed name, samples by label values (histograms and summaries
    /// keep their order: their samples of one series belong together); a sample seen twice
    /// (same name and labels) keeps its first value (the exposition must not repeat a series).
    pub fn into_sorted(self) -> Vec<MetricFamily> {
        self.map
            .into_values()
            .map(|mut f| {
                if matches!(
                    f.typ,
                    MetricType::Counter | MetricType::Gauge | MetricType::Unknown
                ) {
                    f.samples.sort_by(|a, b| {
                        a.labels
                            .iter()
                            .map(|l| &l.1)
                            .cmp(b.labels.iter().map(|l| &l.1))
                            .then_with(|| a.name.cmp(&b.name))
                    });
                }
                let mut seen = std::collections::HashSet::new();
                f.samples
                    .retain(|s| seen.insert((s.name.clone(), s.labels.clone())));
                f
            })
            .collect()
    }

    #[cfg(test)]
    pub fn get(&self, name: &str) -> Option<&MetricFamily> {
        self.map.get(name)
    }

    /// The value of the sample of `name` with exactly these labels (tests).
    #[cfg(test)]
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut want: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        want.sort();
        self.map
            .get(name)?
            .samples
            .iter()
            .find(|s| s.labels == want)
            .map(|s| s.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_sort_like_client_golang_and_write_node_exporter_headers() {
        let mut f = Families::default();
        f.counter("node_x_total", "X.", &[("mode", "b"), ("cpu", "1")], 1.0);
        f.counter("node_x_total", "X.", &[("mode", "a"), ("cpu", "1")], 2.0);
        f.counter("node_x_total", "X.", &[("mode", "z"), ("cpu", "0")], 3.0);
        f.untyped("node_a", "A.", &[], 4.0);
        let fams = f.into_sorted();
        let mut s = String::new();
        super::super::expose::write(&mut s, &fams, &promplay_exposition::Format::text());
        assert_eq!(
            s,
            "# HELP node_a A.\n# TYPE node_a untyped\nnode_a 4\n\
             # HELP node_x_total X.\n# TYPE node_x_total counter\n\
             node_x_total{cpu=\"0\",mode=\"z\"} 3\n\
             node_x_total{cpu=\"1\",mode=\"a\"} 2\n\
             node_x_total{cpu=\"1\",mode=\"b\"} 1\n"
        );
    }
}
