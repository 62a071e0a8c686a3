//! The inverted index: a symbol table interning label strings, and postings lists (sorted
//! series ids) per label pair, with Prometheus's `PostingsForMatchers` semantics.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use promplay_model::{Label, Labels, MatchType, Matcher};

/// Interns label strings so equal strings share one `Arc<str>`.
#[derive(Default, Debug)]
pub(crate) struct Symbols {
    set: HashSet<Arc<str>>,
}

impl Symbols {
    pub(crate) fn intern(&mut self, s: &Arc<str>) -> Arc<str> {
        if let Some(x) = self.set.get(&**s) {
            return x.clone();
        }
        self.set.insert(s.clone());
        s.clone()
    }

    /// A copy of `l` whose strings are the interned ones.
    pub(crate) fn intern_labels(&mut self, l: &Labels) -> Labels {
        Labels::new(
            l.iter()
                .map(|x| Label {
                    name: self.intern(&x.name),
                    value: self.intern(&x.value),
                })
                .collect(),
        )
    }

    /// Drops strings no label set uses any more (only the table holds them).
    pub(crate) fn gc(&mut self) {
        self.set.retain(|s| Arc::strong_count(s) > 1);
    }

    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.set.capacity() * (std::mem::size_of::<Arc<str>>() + 8)
            + self.set.iter().map(|s| s.len() + 16).sum::<usize>()
    }
}

/// Sorted series ids per label name and value.
#[derive(Default, Debug)]
pub(crate) struct Postings {
    by_name: HashMap<Arc<str>, BTreeMap<Arc<str>, Vec<u32>>>,
    /// Every live series id, sorted.
    all: Vec<u32>,
}

impl Postings {
    /// Adds a series; ids must be added in increasing order.
    pub(crate) fn add(&mut self, id: u32, labels: &Labels) {
        for l in labels {
            let list = self
                .by_name
                .entry(l.name.clone())
                .or_default()
                .entry(l.value.clone())
                .or_default();
            insert_sorted(list, id);
        }
        insert_sorted(&mut self.all, id);
    }

    /// Removes series (sorted by id) from every postings list they are in, touching each
    /// list once.
    pub(crate) fn remove_many(&mut self, series: &[(u32, Labels)]) {
        if series.is_empty() {
            return;
        }
        let gone = |list: &mut Vec<u32>| {
            let ids = series;
            list.retain(|id| ids.binary_search_by_key(id, |s| s.0).is_err());
        };
        let mut pairs: Vec<(&Arc<str>, &Arc<str>)> = series
            .iter()
            .flat_map(|(_, l)| l.iter().map(|x| (&x.name, &x.value)))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        for (name, value) in pairs {
            let Some(values) = self.by_name.get_mut(&**name) else {
                continue;
            };
            if let Some(list) = values.get_mut(&**value) {
                gone(list);
                if list.is_empty() {
                    values.remove(&**value);
                } else if list.capacity() > 2 * list.len() + 8 {
                    list.shrink_to_fit();
                }
            }
            if values.is_empty() {
                self.by_name.remove(&**name);
            }
        }
        gone(&mut self.all);
    }

    pub(crate) fn all(&self) -> &[u32] {
        &self.all
    }

    /// Label names present in the index, unsorted.
    pub(crate) fn names(&self) -> impl Iterator<Item = &Arc<str>> {
        self.by_name.keys()
    }

    /// The values of `name` with their postings, ascending.
    pub(crate) fn values(&self, name: &str) -> Option<&BTreeMap<Arc<str>, Vec<u32>>> {
        self.by_name.get(name)
    }

    /// Union of the postings of the values of `m.name` that `m` accepts.
    fn matching(&self, m: &Matcher) -> Vec<u32> {
        let Some(values) = self.by_name.get(m.name.as_str()) else {
            return Vec::new();
        };
        if m.kind == MatchType::Equal {
            return values.get(m.value.as_str()).cloned().unwrap_or_default();
        }
        let lists: Vec<&[u32]> = values
            .iter()
            .filter(|(v, _)| m.matches(v))
            .map(|(_, p)| p.as_slice())
            .collect();
        merge(&lists)
    }

    /// Union of the postings of the values of `m.name` that `m` rejects (series that have the
    /// label with a value `m` does not accept).
    fn not_matching(&self, m: &Matcher) -> Vec<u32> {
        let Some(values) = self.by_name.get(m.name.as_str()) else {
            return Vec::new();
        };
        let lists: Vec<&[u32]> = values
            .iter()
            .filter(|(v, _)| !m.matches(v))
            .map(|(_, p)| p.as_slice())
            .collect();
        merge(&lists)
    }

    /// The sorted ids of series whose labels satisfy every matcher, where an absent label reads
    /// as the empty string (Prometheus's `PostingsForMatchers`). No matchers: no series.
    pub(crate) fn for_matchers(&self, ms: &[Matcher]) -> Vec<u32> {
        if ms.is_empty() {
            return Vec::new();
        }
        // Matchers that reject "" require the label: intersect their postings. Matchers that
        // accept "" also select series lacking the label: subtract the series whose value
        // they reject.
        let mut positive: Vec<Vec<u32>> = Vec::new();
        let mut negative: Vec<Vec<u32>> = Vec::new();
        for m in ms {
            if m.matches_empty() {
                negative.push(self.not_matching(m));
            } else {
                let p = self.matching(m);
                if p.is_empty() {
                    return Vec::new();
                }
                positive.push(p);
            }
        }
        let mut acc: Vec<u32> = if positive.is_empty() {
            self.all.clone()
        } else {
            positive.sort_by_key(|p| p.len());
            let mut it = positive.into_iter();
            let mut acc = it.next().unwrap_or_default();
            for p in it {
                acc = intersect(&acc, &p);
                if acc.is_empty() {
                    return acc;
                }
            }
            acc
        };
        for n in &negative {
            if !n.is_empty() {
                acc = without(&acc, n);
            }
        }
        acc
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let mut b = self.all.capacity() * 4;
        b += self.by_name.capacity() * (std::mem::size_of::<Arc<str>>() + 24 + 8);
        for values in self.by_name.values() {
            for list in values.values() {
                // BTreeMap entry: key + value + node overhead (approximate)
                b += std::mem::size_of::<Arc<str>>() + std::mem::size_of::<Vec<u32>>() + 8;
                b += list.capacity() * 4;
            }
        }
        b
    }
}

fn insert_sorted(list: &mut Vec<u32>, id: u32) {
    match list.last() {
        Some(&l) if l < id => list.push(id),
        None => list.push(id),
        _ => {
            if let Err(i) = list.binary_search(&id) {
                list.insert(i, id);
            }
        }
    }
}

/// Sorted intersection of two sorted lists.
pub(crate) fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    if small.len() * 16 < large.len() {
        // galloping: binary search each element of the small list
        let mut lo = 0;
        for &x in small {
            match large[lo..].binary_search(&x) {
                Ok(i) => {
                    out.push(x);
                    lo += i + 1;
                }
                Err(i) => lo += i,
            }
        }
        return out;
    }
    let (mut i, mut j) = (0, 0);
    while i < small.len() && j < large.len() {
        match small[i].cmp(&large[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(small[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Sorted `a` minus sorted `b`.
pub(crate) fn without(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j < b.len() && b[j] == x {
            continue;
        }
        out.push(x);
    }
    out
}

/// Sorted, de-duplicated union of sorted lists.
pub(crate) fn merge(lists: &[&[u32]]) -> Vec<u32> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists[0].to_vec(),
        _ => {
            let total: usize = lists.iter().map(|l| l.len()).sum();
            let mut out = Vec::with_capacity(total);
            for l in lists {
                out.extend_from_slice(l);
            }
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        assert_eq!(intersect(&[1, 3, 5, 7], &[3, 4, 5]), vec![3, 5]);
        let big: Vec<u32> = (0..1000).collect();
        assert_eq!(intersect(&[5, 999, 2000], &big), vec![5, 999]);
        assert_eq!(without(&[1, 2, 3, 4], &[2, 4, 9]), vec![1, 3]);
        assert_eq!(merge(&[&[1, 4], &[2, 4, 6], &[]]), vec![1, 2, 4, 6]);
    }
}
