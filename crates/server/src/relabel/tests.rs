//! Table tests modelled on upstream's relabel_test.go cases (our own table).

use super::*;

fn lbls(pairs: &[(&str, &str)]) -> Labels {
    labels_of(pairs)
}

/// Builds one relabel config from YAML, as a user writes it, validated under UTF-8 names.
fn cfg(yaml: &str) -> RelabelConfig {
    let c: RelabelConfig = serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    c.validate(NameValidationScheme::Utf8)
        .unwrap_or_else(|e| panic!("{yaml}: {e}"));
    c
}

struct Case {
    name: &'static str,
    input: &'static [(&'static str, &'static str)],
    configs: &'static [&'static str],
    /// `None` = dropped.
    output: Option<&'static [(&'static str, &'static str)]>,
}

const CASES: &[Case] = &[
    Case {
        name: "replace with ${1} twice",
        input: &[("a", "foo"), ("b", "bar"), ("c", "baz")],
        configs: &["{source_labels: [a], regex: 'f(.*)', target_label: d, replacement: 'ch${1}-ch${1}'}"],
        output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")]),
    },
    Case {
        name: "chained replaces see earlier results",
        input: &[("a", "foo"), ("b", "bar"), ("c", "baz")],
        configs: &[
            "{source_labels: [a, b], regex: 'f(.*);(.*)r', target_label: a, replacement: 'b${1}${2}m'}",
            "{source_labels: [c, a], regex: '(b).*b(.*)ba(.*)', target_label: d, replacement: '$1$2$2$3'}",
        ],
        output: Some(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")]),
    },
    Case {
        name: "drop on match stops processing",
        input: &[("a", "foo")],
        configs: &[
            "{source_labels: [a], regex: '.*o.*', action: drop}",
            "{source_labels: [a], regex: 'f(.*)', target_label: d, replacement: 'ch$1'}",
        ],
        output: None,
    },
    Case {
        name: "regex is fully anchored: 'f|o' does not match 'foo'",
        input: &[("a", "foo")],
        configs: &["{source_labels: [a], regex: 'f|o', action: drop}"],
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "keep without match drops",
        input: &[("a", "foo")],
        configs: &["{source_labels: [a], regex: no-match, action: keep}"],
        output: None,
    },
    Case {
        name: "keep with match keeps",
        input: &[("a", "foo")],
        configs: &["{source_labels: [a], regex: 'f.*', action: KEEP}"],
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "no replacement without a match",
        input: &[("a", "boo")],
        configs: &["{source_labels: [a], regex: f, target_label: b, replacement: bar}"],
        output: Some(&[("a", "boo")]),
    },
    Case {
        name: "hashmod uses md5 of the joined value",
        input: &[("a", "foo"), ("b", "bar"), ("c", "baz")],
        configs: &["{source_labels: [c], target_label: d, action: hashmod, modulus: 1000}"],
        output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")]),
    },
    Case {
        name: "hashmod with a newline in the value",
        input: &[("a", "foo\nbar")],
        configs: &["{source_labels: [a], target_label: b, action: hashmod, modulus: 1000}"],
        output: Some(&[("a", "foo\nbar"), ("b", "734")]),
    },
    Case {
        name: "labelmap copies matching names",
        input: &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        configs: &["{regex: '(b.*)', replacement: 'bar_${1}', action: labelmap}"],
        output: Some(&[("a", "foo"), ("b1", "bar"), ("b2", "baz"), ("bar_b1", "bar"), ("bar_b2", "baz")]),
    },
    Case {
        name: "labelmap of __meta_ labels",
        input: &[("a", "foo"), ("__meta_my_bar", "aaa"), ("__meta_my_baz", "bbb"), ("__meta_other", "ccc")],
        configs: &["{regex: '__meta_(my.*)', action: labelmap}"],
        output: Some(&[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
            ("my_bar", "aaa"),
            ("my_baz", "bbb"),
        ]),
    },
    Case {
        name: "target label from a capture group",
        input: &[("a", "some-name-value")],
        configs: &["{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${2}', target_label: '${1}'}"],
        output: Some(&[("a", "some-name-value"), ("name", "value")]),
    },
    Case {
        name: "empty replacement deletes (nothing to delete here)",
        input: &[("a", "some-name-value")],
        configs: &["{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${3}', target_label: '${1}'}"],
        output: Some(&[("a", "some-name-value")]),
    },
    Case {
        name: "a target label that expands to nothing is skipped",
        input: &[("a", "some-name-0")],
        configs: &[
            "{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '${3}'}",
            "{source_labels: [a], regex: 'some-([^-]+)(-[^,]+)', replacement: '${1}', target_label: '${3}'}",
        ],
        output: Some(&[("a", "some-name-0")]),
    },
    Case {
        name: "service-discovery tags to labels",
        input: &[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar")],
        configs: &[
            "{source_labels: [__meta_sd_tags], regex: '(?:.+,|^)path:(/[^,]+).*', replacement: '${1}', target_label: __metrics_path__}",
            "{source_labels: [__meta_sd_tags], regex: '(?:.+,|^)job:([^,]+).*', replacement: '${1}', target_label: job}",
            "{source_labels: [__meta_sd_tags], regex: '(?:.+,|^)label:([^=]+)=([^,]+).*', replacement: '${2}', target_label: '${1}'}",
        ],
        output: Some(&[
            ("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"),
            ("__metrics_path__", "/secret"),
            ("job", "some-job"),
            ("foo", "bar"),
        ]),
    },
    Case {
        name: "labeldrop then a replace recreates the label, keep sees it",
        input: &[
            ("__meta_kubernetes_pod_container_port_name", "foo"),
            ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
        ],
        configs: &[
            "{regex: '^__meta_kubernetes_pod_container_port_name$', action: labeldrop}",
            "{source_labels: [__meta_kubernetes_pod_annotation_XXX_metrics_port], regex: '(.+)', replacement: metrics, target_label: __meta_kubernetes_pod_container_port_name}",
            "{source_labels: [__meta_kubernetes_pod_container_port_name], regex: '^metrics$', action: keep}",
        ],
        output: Some(&[
            ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
            ("__meta_kubernetes_pod_container_port_name", "metrics"),
        ]),
    },
    Case {
        name: "labelkeep",
        input: &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        configs: &["{regex: '(b.*)', action: labelkeep}"],
        output: Some(&[("b1", "bar"), ("b2", "baz")]),
    },
    Case {
        name: "labeldrop",
        input: &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        configs: &["{regex: '(b.*)', action: labeldrop}"],
        output: Some(&[("a", "foo")]),
    },
    Case {
        name: "upper and lower case",
        input: &[("foo", "bAr123Foo")],
        configs: &[
            "{source_labels: [foo], action: uppercase, target_label: foo_uppercase}",
            "{source_labels: [foo], action: lowercase, target_label: foo_lowercase}",
        ],
        output: Some(&[("foo", "bAr123Foo"), ("foo_lowercase", "bar123foo"), ("foo_uppercase", "BAR123FOO")]),
    },
    Case {
        name: "keepequal keeps when equal",
        input: &[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")],
        configs: &["{source_labels: [__tmp_port], action: keepequal, target_label: __port1}"],
        output: Some(&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")]),
    },
    Case {
        name: "dropequal drops when equal",
        input: &[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")],
        configs: &["{source_labels: [__tmp_port], action: dropequal, target_label: __port1}"],
        output: None,
    },
    Case {
        name: "dropequal keeps when different",
        input: &[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")],
        configs: &["{source_labels: [__tmp_port], action: dropequal, target_label: __port2}"],
        output: Some(&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")]),
    },
    Case {
        name: "keepequal drops when different",
        input: &[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")],
        configs: &["{source_labels: [__tmp_port], action: keepequal, target_label: __port2}"],
        output: None,
    },
    Case {
        name: "dot matches newline (?s)",
        input: &[("a", "line1\nline2"), ("b", "bar")],
        configs: &["{source_labels: [a], regex: 'line1.*line2', target_label: d, replacement: 'match${1}'}"],
        output: Some(&[("a", "line1\nline2"), ("b", "bar"), ("d", "match")]),
    },
    Case {
        name: "UTF-8 target label and named groups in both styles",
        input: &[("a", "line1\nline2")],
        configs: &[
            "{source_labels: [a], regex: '(line1).*(?<second>line2)', target_label: 'label1_${1}', replacement: 'val_${second}'}",
            "{source_labels: [a], regex: '(line1).*(?<second>line2)', target_label: 'label2_$1', replacement: 'val_$second'}",
            "{source_labels: [a], regex: 'line1.*line2', target_label: 'utf-8.label', replacement: m}",
        ],
        output: Some(&[
            ("a", "line1\nline2"),
            ("label1_line1", "val_line2"),
            ("label2_line1", "val_line2"),
            ("utf-8.label", "m"),
        ]),
    },
    Case {
        name: "fast path: static label from no source",
        input: &[("job", "foo")],
        configs: &["{target_label: env, replacement: prod}", "{target_label: job, replacement: ''}"],
        output: Some(&[("env", "prod")]),
    },
    Case {
        name: "$1x is a (missing) named group, as in Go",
        input: &[("a", "v")],
        configs: &["{source_labels: [a], regex: '(.*)', target_label: b, replacement: '$1x-${1}x-$$'}"],
        output: Some(&[("a", "v"), ("b", "-vx-$")]),
    },
];

#[test]
fn relabel_table() {
    for case in CASES {
        let configs: Vec<RelabelConfig> = case.configs.iter().map(|y| cfg(y)).collect();
        let got = process(&lbls(case.input), &configs);
        let want = case.output.map(lbls);
        assert_eq!(got, want, "{}", case.name);
    }
}

#[test]
fn validation_messages() {
    let cases: &[(&str, NameValidationScheme, &str)] = &[
        ("{action: replace}", NameValidationScheme::Utf8, "relabel configuration for replace action requires 'target_label' value"),
        ("{action: lowercase}", NameValidationScheme::Utf8, "relabel configuration for lowercase action requires 'target_label' value"),
        ("{action: lowercase, target_label: '${3}'}", NameValidationScheme::Utf8, ""),
        ("{action: lowercase, target_label: '${3}'}", NameValidationScheme::Legacy, r#""${3}" is invalid 'target_label' for lowercase action"#),
        ("{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '${3}'}", NameValidationScheme::Legacy, ""),
        ("{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '0${3}'}", NameValidationScheme::Utf8, ""),
        ("{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '0${3}'}", NameValidationScheme::Legacy, r#""0${3}" is invalid 'target_label' for replace action"#),
        ("{source_labels: [a], replacement: '${1}', target_label: '-${3}'}", NameValidationScheme::Legacy, r#""-${3}" is invalid 'target_label' for replace action"#),
        ("{regex: '__meta_(.+)', action: labelmap, replacement: '${1}'}", NameValidationScheme::Legacy, ""),
        ("{regex: 'x', action: labelmap, replacement: 'a.b'}", NameValidationScheme::Legacy, r#""a.b" is invalid 'replacement' for labelmap action"#),
        ("{action: hashmod, target_label: x}", NameValidationScheme::Utf8, "relabel configuration for hashmod requires non-zero modulus"),
        ("{action: labelkeep, regex: a, separator: ','}", NameValidationScheme::Utf8, "labelkeep action requires only 'regex', and no other fields"),
        ("{action: dropequal, source_labels: [a], target_label: b, separator: ','}", NameValidationScheme::Utf8, "dropequal action requires only 'source_labels' and `target_label`, and no other fields"),
    ];
    for (yaml, scheme, want) in cases {
        // Decoding validates under UTF-8 names; the configured scheme is checked after.
        let res = serde_yaml_ng::from_str::<RelabelConfig>(yaml)
            .map_err(|e| {
                let m = e.to_string();
                m.split(" at line ").next().unwrap_or(&m).to_string()
            })
            .and_then(|c| c.validate(*scheme));
        match res {
            Ok(()) => assert!(want.is_empty(), "{yaml}: expected error {want}"),
            Err(e) => assert_eq!(&e, want, "{yaml}"),
        }
    }
}

#[test]
fn legacy_target_label_pattern() {
    for (s, valid) in [
        ("-label", false),
        ("label", true),
        ("label${1}", true),
        ("${1}label", true),
        ("${1}", true),
        ("${", false),
        ("$", false),
        ("${}", false),
        ("foo${", false),
        ("$1", true),
        ("asd$2asd", true),
        ("-foo${1}bar-", false),
        ("bar.foo${1}bar", false),
        ("_${1}_", true),
        ("foo${bar}foo", true),
    ] {
        assert_eq!(is_legacy_target_with_vars(s), valid, "{s}");
    }
}

#[test]
fn regex_errors_and_null_regex() {
    let e = serde_yaml_ng::from_str::<RelabelConfig>("{regex: '(abc'}").unwrap_err();
    assert!(e.to_string().contains("error parsing regexp"), "{e}");
    // `regex:` with no value is the empty regex: it matches only the empty string.
    let c: RelabelConfig =
        serde_yaml_ng::from_str("{source_labels: [a], regex: , action: keep}").unwrap();
    assert_eq!(
        process(&lbls(&[("a", "x")]), std::slice::from_ref(&c)),
        None
    );
    assert!(process(&lbls(&[("b", "x")]), &[c]).is_some());
}
