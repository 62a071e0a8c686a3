//! Line and column of the nodes of a block-style YAML document, by path
//! (`groups/0/rules/1/expr`), for error messages that name a position as yaml.v3 does
//! (1-based line and column of the value node).
//!
//! This is a light scanner over block mappings and sequences, not a YAML parser: the document
//! has already been parsed by `serde_yaml_ng`. Flow collections and multi-line scalars are
//! skipped over (their inner nodes get no position), so a lookup may answer `None`.

use std::collections::HashMap;

/// One step of a path: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// Positions of the keys and values found in a document.
#[derive(Debug, Default)]
pub struct Positions {
    /// The value node at a path (for a mapping or sequence: its first entry).
    values: HashMap<Vec<Seg>, Pos>,
    /// The key of a mapping entry at a path.
    keys: HashMap<Vec<Seg>, Pos>,
}

enum Kind {
    Map,
    Seq(usize),
}

struct Frame {
    indent: usize,
    kind: Kind,
    /// The path of this container.
    path: Vec<Seg>,
}

impl Positions {
    pub fn value(&self, path: &[Seg]) -> Option<Pos> {
        self.values.get(path).copied()
    }

    pub fn key(&self, path: &[Seg]) -> Option<Pos> {
        self.keys.get(path).copied()
    }

    /// Scans `src`.
    pub fn scan(src: &str) -> Positions {
        let mut p = Positions::default();
        let mut stack: Vec<Frame> = Vec::new();
        // Lines indented deeper than this belong to a scalar (block or continued).
        let mut skip_deeper: Option<usize> = None;
        // The path whose value starts on a later line (a key or `-` with nothing after it).
        let mut open: Option<Vec<Seg>> = None;
        for (lno, raw) in src.lines().enumerate() {
            let line = lno + 1;
            let indent = raw.chars().take_while(|c| *c == ' ').count();
            let content = &raw[indent..];
            if let Some(k) = skip_deeper {
                if indent > k || content.trim().is_empty() {
                    continue;
                }
                skip_deeper = None;
            }
            let trimmed = content.trim_end();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if indent == 0 && (trimmed == "---" || trimmed == "...") {
                stack.clear();
                open = None;
                continue;
            }
            p.line(
                line,
                indent,
                trimmed,
                &mut stack,
                &mut skip_deeper,
                &mut open,
            );
        }
        p
    }

    fn line(
        &mut self,
        line: usize,
        indent: usize,
        content: &str,
        stack: &mut Vec<Frame>,
        skip_deeper: &mut Option<usize>,
        open: &mut Option<Vec<Seg>>,
    ) {
        let mut indent = indent;
        let mut content = content;
        // Sequence items, possibly nested on one line (`- - a`).
        let mut guard = 0;
        while content == "-" || content.starts_with("- ") {
            guard += 1;
            if guard > 64 {
                return;
            }
            while stack.last().is_some_and(|f| f.indent > indent) {
                stack.pop();
            }
            let idx = match stack.last_mut() {
                Some(Frame {
                    indent: fi,
                    kind: Kind::Seq(i),
                    ..
                }) if *fi == indent => {
                    *i += 1;
                    *i
                }
                _ => {
                    let path = match (open.take(), stack.last()) {
                        (Some(o), _) => o,
                        (None, Some(f)) => f.path.clone(),
                        (None, None) => Vec::new(),
                    };
                    stack.push(Frame {
                        indent,
                        kind: Kind::Seq(0),
                        path,
                    });
                    0
                }
            };
            let mut item_path = stack.last().map(|f| f.path.clone()).unwrap_or_default();
            item_path.push(Seg::Index(idx));
            let rest = &content[1..];
            let spaces = rest.chars().take_while(|c| *c == ' ').count();
            let rest = &rest[spaces..];
            if rest.is_empty() || rest.starts_with('#') {
                *open = Some(item_path);
                return;
            }
            indent += 1 + spaces;
            content = rest;
            self.values.entry(item_path.clone()).or_insert(Pos {
                line,
                col: indent + 1,
            });
            if !(content == "-" || content.starts_with("- ")) {
                *open = Some(item_path);
                break;
            }
            *open = Some(item_path);
        }
        match split_key(content) {
            Some((key, value_off)) => {
                while stack.last().is_some_and(|f| {
                    f.indent > indent || (f.indent == indent && matches!(f.kind, Kind::Seq(_)))
                }) {
                    stack.pop();
                }
                let is_map_here = stack
                    .last()
                    .is_some_and(|f| f.indent == indent && matches!(f.kind, Kind::Map));
                if !is_map_here {
                    let path = match (open.take(), stack.last()) {
                        (Some(o), _) => o,
                        (None, Some(f)) => f.path.clone(),
                        (None, None) => Vec::new(),
                    };
                    self.values.entry(path.clone()).or_insert(Pos {
                        line,
                        col: indent + 1,
                    });
                    stack.push(Frame {
                        indent,
                        kind: Kind::Map,
                        path,
                    });
                }
                *open = None;
                let mut path = stack.last().map(|f| f.path.clone()).unwrap_or_default();
                path.push(Seg::Key(key));
                self.keys.insert(
                    path.clone(),
                    Pos {
                        line,
                        col: indent + 1,
                    },
                );
                let after = &content[value_off..];
                let sp = after.chars().take_while(|c| *c == ' ').count();
                let value = &after[sp..];
                if value.is_empty() || value.starts_with('#') {
                    *open = Some(path);
                } else {
                    let col = indent + content[..value_off].chars().count() + sp + 1;
                    self.values.insert(path, Pos { line, col });
                    *skip_deeper = Some(indent);
                }
            }
            None => {
                // A scalar (an item's value, or a continuation): anything deeper is its text.
                if let Some(o) = open.take() {
                    self.values.entry(o).or_insert(Pos {
                        line,
                        col: indent + 1,
                    });
                }
                *skip_deeper = Some(indent.saturating_sub(1));
            }
        }
    }
}

/// Splits `key: value` (the key possibly quoted); returns the key and the byte offset just
/// after the colon. `None` when the line is not a mapping entry.
fn split_key(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    if b.first()
        .is_some_and(|c| matches!(c, b'{' | b'[' | b'|' | b'>' | b'&' | b'*' | b'!'))
    {
        return None;
    }
    if let Some(q) = b.first().filter(|c| **c == b'"' || **c == b'\'') {
        let mut i = 1;
        let mut key = String::new();
        while i < b.len() {
            if b[i] == *q {
                if *q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    key.push('\'');
                    i += 2;
                    continue;
                }
                break;
            }
            if *q == b'"' && b[i] == b'\\' {
                i += 1;
            }
            let ch = s[i..].chars().next()?;
            key.push(ch);
            i += ch.len_utf8();
        }
        let rest = s.get(i + 1..)?;
        let sp = rest.len() - rest.trim_start_matches(' ').len();
        let r2 = &rest[sp..];
        if r2.starts_with(':') && (r2.len() == 1 || r2[1..].starts_with(' ')) {
            return Some((key, i + 1 + sp + 1));
        }
        return None;
    }
    let mut i = 0;
    while i < b.len() {
        if b[i] == b':' && (i + 1 == b.len() || b[i + 1] == b' ') {
            let key = s[..i].trim_end().to_string();
            if key.is_empty() {
                return None;
            }
            return Some((key, i + 1));
        }
        if b[i] == b' ' && b.get(i + 1) == Some(&b'#') {
            return None;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn positions_of_rule_fields() {
        let src = "# c\ngroups:\n  - name: a\n    rules:\n      - record: x\n        expr: 'test +'\n      - alert: Y\n        expr: |\n          up\n          == 0\n        labels:\n          a: b\n  - name: b\n    rules: []\n";
        let p = Positions::scan(src);
        let r0 = vec![k("groups"), Seg::Index(0), k("rules"), Seg::Index(0)];
        let mut e = r0.clone();
        e.push(k("expr"));
        assert_eq!(p.value(&e), Some(Pos { line: 6, col: 15 }));
        let mut rec = r0.clone();
        rec.push(k("record"));
        assert_eq!(p.value(&rec), Some(Pos { line: 5, col: 17 }));
        let e1 = vec![
            k("groups"),
            Seg::Index(0),
            k("rules"),
            Seg::Index(1),
            k("expr"),
        ];
        assert_eq!(p.value(&e1), Some(Pos { line: 8, col: 15 }));
        let l1 = vec![
            k("groups"),
            Seg::Index(0),
            k("rules"),
            Seg::Index(1),
            k("labels"),
        ];
        assert_eq!(p.key(&l1), Some(Pos { line: 11, col: 9 }));
        let g1 = vec![k("groups"), Seg::Index(1)];
        assert_eq!(p.value(&g1), Some(Pos { line: 13, col: 5 }));
        let n1 = vec![k("groups"), Seg::Index(1), k("name")];
        assert_eq!(p.value(&n1), Some(Pos { line: 13, col: 11 }));
    }

    #[test]
    fn sequences_at_key_indent_and_quoted_keys() {
        let src = "groups:\n- name: a\n  rules:\n  - \"alert\": z\n    expr: 1\n";
        let p = Positions::scan(src);
        let e = vec![
            k("groups"),
            Seg::Index(0),
            k("rules"),
            Seg::Index(0),
            k("expr"),
        ];
        assert_eq!(p.value(&e), Some(Pos { line: 5, col: 11 }));
        let a = vec![
            k("groups"),
            Seg::Index(0),
            k("rules"),
            Seg::Index(0),
            k("alert"),
        ];
        assert_eq!(p.value(&a), Some(Pos { line: 4, col: 14 }));
    }
}
