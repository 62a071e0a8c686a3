//! Arbitrary input never panics: rule files, YAML position scanning, templates and unit-test
//! files, mutated at random from valid inputs (a deterministic generator).

use promplay_rules::unittest::{run_files, Files, TestOptions};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "$labels",
    "$value",
    ":=",
    "\n",
    "  ",
    "- ",
    ": ",
    "'",
    "\"",
    "`",
    "|",
    ">",
    "#",
    "{",
    "}",
    "[",
    "]",
    ",",
    "é",
    "\u{2028}",
    "for: ",
    "5m",
    "expr: ",
    "up == 0",
    "0x1",
    "-",
    "groups:",
    "rules:",
    "record: ",
    "alert: ",
    "labels:",
    "annotations:",
    "humanize",
    "query",
    "(",
    ")",
    "\\",
    "\t",
    "---",
    "*",
    "&a",
    "!!str",
    "1e400",
    "NaN",
];

fn mutate(r: &mut Lcg, base: &str) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for _ in 0..(1 + r.below(6)) {
        match r.below(3) {
            0 if !s.is_empty() => {
                let i = r.below(s.len());
                let n = r.below(8).min(s.len() - i);
                s.drain(i..i + n);
            }
            1 => {
                let i = r.below(s.len() + 1);
                let p = PIECES[r.below(PIECES.len())];
                for (k, c) in p.chars().enumerate() {
                    s.insert(i + k, c);
                }
            }
            _ if !s.is_empty() => {
                let i = r.below(s.len());
                let j = r.below(s.len());
                s.swap(i, j);
            }
            _ => {}
        }
    }
    s.into_iter().collect()
}

fn conformance(name: &str) -> String {
    let p = format!(
        "{}/../../../shared/conformance/promtool/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(p).expect("conformance file")
}

#[test]
fn rule_files_and_templates() {
    let bases = [
        conformance("rules.yml"),
        conformance("rules-bad.yml"),
        conformance("rules_extrafields.yml"),
        conformance("prometheus-rules.lint.yml"),
    ];
    let mut r = Lcg(42);
    for i in 0..3000 {
        let s = mutate(&mut r, &bases[i % bases.len()]);
        let _ = promplay_rules::rulefmt::parse(&s, i % 2 == 0);
        let _ = promplay_rules::yamlpos::Positions::scan(&s);
        let _ = promplay_rules::check::check_rules("f", &s, false, true);
    }
    let tmpl = "{{ $labels.instance }} {{ $value | humanize }} {{ range query \"up\" }}{{ .Labels }}{{ end }} {{ if gt $value 1.0 }}x{{ else }}y{{ end }}";
    for _ in 0..3000 {
        let s = mutate(&mut r, tmpl);
        let _ = promplay_rules::template::parse_test("A", &s);
    }
}

struct Mem(Vec<(String, String)>);

impl Files for Mem {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, c)| c.clone())
            .ok_or_else(|| format!("open {path}: no such file or directory"))
    }
    fn glob(&self, pattern: &str) -> Result<Vec<String>, String> {
        Ok(self
            .0
            .iter()
            .filter(|(p, _)| p == pattern)
            .map(|(p, _)| p.clone())
            .collect())
    }
}

#[test]
fn unit_test_files() {
    let rules = conformance("rules.yml");
    let bases = [
        conformance("unittest.yml"),
        conformance("failing.yml"),
        conformance("rules_run_fuzzy.yml"),
    ];
    let mut r = Lcg(7);
    for i in 0..300 {
        let t = mutate(&mut r, &bases[i % bases.len()]);
        let files = Mem(vec![
            ("t/rules.yml".into(), mutate(&mut r, &rules)),
            ("t/test.yml".into(), t),
        ]);
        let (_, code) = run_files(&["t/test.yml".into()], &files, &TestOptions::default());
        assert!(code == 0 || code == 1);
    }
}
