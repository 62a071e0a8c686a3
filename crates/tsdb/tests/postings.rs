//! The index against the definition: a series is selected iff every matcher accepts its value
//! of the matcher's label ("" when absent) — before and after retention removed series.

use promplay_model::{Label, Labels, MatchType, Matcher};
use promplay_tsdb::{Db, Options, Queryable};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const NAMES: [&str; 4] = ["a", "b", "c", "__name__"];
const VALUES: [&str; 5] = ["x", "y", "xy", "z1", "long-value"];
const PATTERNS: [&str; 10] = [
    "x", "", "x|y", "x.*", ".*", ".+", "y|", "z[0-9]", "nope", "(?i)X",
];

fn random_labels(r: &mut Rng) -> Labels {
    let mut v = Vec::new();
    for n in NAMES {
        if !r.next().is_multiple_of(3) {
            v.push(Label::new(n, r.pick(&VALUES)));
        }
    }
    Labels::new(v)
}

fn random_matcher(r: &mut Rng) -> Matcher {
    let kind = [
        MatchType::Equal,
        MatchType::NotEqual,
        MatchType::Regexp,
        MatchType::NotRegexp,
    ][(r.next() % 4) as usize];
    let value = match kind {
        MatchType::Equal | MatchType::NotEqual => {
            if r.next().is_multiple_of(4) {
                ""
            } else {
                r.pick(&VALUES)
            }
        }
        _ => r.pick(&PATTERNS),
    };
    let name = if r.next().is_multiple_of(8) {
        "missing"
    } else {
        r.pick(&NAMES)
    };
    Matcher::new(kind, name, value).unwrap()
}

fn check(db: &Db, live: &[Labels], r: &mut Rng, seed: u64) {
    let q = db.querier(0, i64::MAX).unwrap();
    for _ in 0..40 {
        let ms: Vec<Matcher> = (0..1 + r.next() % 3).map(|_| random_matcher(r)).collect();
        let got: Vec<Labels> = q
            .select(true, None, &ms)
            .unwrap()
            .into_iter()
            .map(|s| s.labels().clone())
            .collect();
        let mut want: Vec<Labels> = live
            .iter()
            .filter(|l| ms.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
            .cloned()
            .collect();
        want.sort();
        want.dedup();
        assert_eq!(got, want, "seed {seed} matchers {ms:?}");
        // label_values agrees with the selected series
        let mut vals: Vec<String> = want
            .iter()
            .filter_map(|l| l.get("a").map(String::from))
            .collect();
        vals.sort();
        vals.dedup();
        assert_eq!(
            q.label_values("a", &ms).unwrap(),
            vals,
            "seed {seed} {ms:?}"
        );
    }
}

#[test]
fn postings_for_matchers_agree_with_the_definition() {
    for seed in 0..60u64 {
        let mut r = Rng(seed);
        let db = Db::new(Options {
            retention_ms: Some(1000),
            ..Default::default()
        });
        let mut series: Vec<(Labels, i64)> = Vec::new();
        let mut app = db.appender();
        for _ in 0..80 {
            let l = random_labels(&mut r);
            if l.is_empty() {
                continue;
            }
            // each series' last sample time decides whether retention removes it
            let last = (r.next() % 10) as i64 * 1000;
            if app.append(&l, 0, 1.0).is_ok() && app.append(&l, last + 1, 2.0).is_ok() {
                series.push((l, last + 1));
            }
        }
        app.commit().unwrap();
        let live: Vec<Labels> = series.iter().map(|s| s.0.clone()).collect();
        check(&db, &live, &mut r, seed);
        // keep only series with a sample at or after 5000
        db.apply_retention(6000);
        let live: Vec<Labels> = series
            .iter()
            .filter(|s| s.1 >= 5000)
            .map(|s| s.0.clone())
            .collect();
        check(&db, &live, &mut r, seed);
    }
}
