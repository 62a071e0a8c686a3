//! Python `repr` of the containers prometheus_client puts in its error messages.

/// `repr(str)`: single quotes unless the string has a single quote and no double quote.
pub(crate) fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(set)`: `{'a', 'b'}` (in the order given; Python's own order is hash order).
pub(crate) fn py_set(items: &[&str]) -> String {
    let inner: Vec<String> = items.iter().map(|s| py_str(s)).collect();
    format!("{{{}}}", inner.join(", "))
}

/// `repr(dict)` of string pairs: `{'a': 'b'}`.
pub(crate) fn py_dict<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let inner: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{}: {}", py_str(k), py_str(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// `repr(tuple)` of strings: `('a',)`, `('a', 'b')`.
pub(crate) fn py_tuple(items: &[String]) -> String {
    match items {
        [one] => format!("({},)", py_str(one)),
        _ => {
            let inner: Vec<String> = items.iter().map(|s| py_str(s)).collect();
            format!("({})", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn reprs() {
        assert_eq!(py_set(&["a", "b_total"]), "{'a', 'b_total'}");
        assert_eq!(py_dict([("method", "get")]), "{'method': 'get'}");
        assert_eq!(py_tuple(&["a".into()]), "('a',)");
        assert_eq!(py_str("it's"), "\"it's\"");
    }
}
