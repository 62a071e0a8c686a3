//! The PromQL parser: hand-written lexer ([`lexer`]) → lalrpop grammar (`grammar.lalrpop`) →
//! Prometheus's type checks ([`check`]).
//!
//! Entry points: [`parse`], [`parse_with`], [`parse_metric_selector`], [`parse_metric`],
//! [`parse_duration`]. Errors are [`ParseErrors`], printed as Prometheus prints them:
//! `line:col: parse error: message` (the first error; all are in the list).
//!
//! Architecture invariant: parsing never panics and never recurses on input depth without a
//! bound. Nesting of brackets is limited by the lexer and the depth of the resulting tree by
//! [`MAX_DEPTH`] before any recursive walk (type checking, printing, evaluation) sees it.

mod check;
pub mod lexer;
pub mod literals;
mod state;

#[allow(
    clippy::all,
    clippy::pedantic,
    unused_parens,
    unused_imports,
    dead_code
)]
mod grammar {
    include!(concat!(env!("OUT_DIR"), "/parser/grammar.rs"));
}

use std::fmt;

use lalrpop_util::ParseError;
use promplay_model::{Label, Labels, MatchType, Matcher};

use crate::ast::{DurationExpr, Expr, Span};
use lexer::{LexError, Tok};
use state::{RawError, State};

pub use literals::format_duration;

/// Maximum nesting depth of an expression (brackets, or operator chains), so that recursive
/// walks of the tree stay within a small (wasm) stack.
pub const MAX_DEPTH: usize = 256;

/// Options of the parser (Prometheus's `parser.Options`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParserOptions {
    /// Experimental functions and aggregations, duration expressions, `anchored`/`smoothed`
    /// and binop fill modifiers (all of Prometheus's experimental PromQL switches at once).
    pub experimental: bool,
}

impl ParserOptions {
    /// Everything enabled: what the promqltest corpus needs.
    pub const fn all() -> Self {
        ParserOptions { experimental: true }
    }
}

/// One parse error: the byte range it concerns, its message, and its position in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseErr {
    pub span: Span,
    pub msg: String,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based byte column of `span.start` in its line (Prometheus counts bytes).
    pub col: usize,
}

impl fmt::Display for ParseErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: parse error: {}", self.line, self.col, self.msg)
    }
}

/// All errors of one parse, in the order found. `Display` shows the first, as upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseErrors(pub Vec<ParseErr>);

impl ParseErrors {
    pub fn first(&self) -> Option<&ParseErr> {
        self.0.first()
    }
}

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.first() {
            Some(e) => e.fmt(f),
            None => f.write_str("error contains no error message"),
        }
    }
}

impl std::error::Error for ParseErrors {}

fn position(input: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(input.len());
    let before = &input.as_bytes()[..pos];
    let line = 1 + before.iter().filter(|c| **c == b'\n').count();
    let last_nl = before.iter().rposition(|c| *c == b'\n');
    let col = match last_nl {
        Some(i) => pos - i,
        None => pos + 1,
    };
    (line, col)
}

fn to_errors(input: &str, raw: Vec<RawError>) -> ParseErrors {
    ParseErrors(
        raw.into_iter()
            .map(|e| {
                let (line, col) = position(input, e.span.start as usize);
                ParseErr {
                    span: e.span,
                    msg: e.msg,
                    line,
                    col,
                }
            })
            .collect(),
    )
}

/// Parses with default options (no experimental syntax).
pub fn parse(input: &str) -> Result<Expr, ParseErrors> {
    parse_with(input, &ParserOptions::default())
}

/// Parses an expression and type-checks it.
pub fn parse_with(input: &str, opts: &ParserOptions) -> Result<Expr, ParseErrors> {
    let st = State::new(*opts);
    let tokens = lexer::lex(input, MAX_DEPTH);
    if tokens.iter().all(|t| t.is_ok()) && tokens.is_empty() {
        return Err(to_errors(
            input,
            vec![RawError {
                span: Span::default(),
                msg: "no expression found in input".into(),
            }],
        ));
    }
    let result = grammar::ExprParser::new().parse(&st, tokens.iter().cloned());
    let mut errors = st.errors.take();
    let mut expr = match result {
        Ok(e) => e,
        Err(e) => {
            errors.push(map_error(input, &tokens, e));
            return Err(to_errors(input, errors));
        }
    };
    if !errors.is_empty() {
        return Err(to_errors(input, errors));
    }
    if let Some(span) = too_deep(&expr) {
        return Err(to_errors(
            input,
            vec![RawError {
                span,
                msg: format!("expression nesting too deep: more than {MAX_DEPTH} levels"),
            }],
        ));
    }
    let mut checker = check::Checker {
        input,
        errors: Vec::new(),
    };
    checker.check(&mut expr);
    if !checker.errors.is_empty() {
        return Err(to_errors(input, checker.errors));
    }
    Ok(expr)
}

/// Parses a series selector such as `name{l="v"}`, `{__name__="x", a=~"b"}` or
/// `{"my.metric", "a.b"="c"}` (Prometheus's `ParseMetricSelector`) into its matchers.
/// The metric-name matcher comes last when the name was given outside the braces.
pub fn parse_metric_selector(input: &str) -> Result<Vec<Matcher>, ParseErrors> {
    let st = State::new(ParserOptions::all());
    let tokens = lexer::lex(input, MAX_DEPTH);
    if tokens.is_empty() {
        return Err(to_errors(
            input,
            vec![RawError {
                span: Span::default(),
                msg: "unexpected end of input".into(),
            }],
        ));
    }
    let result = grammar::MetricSelectorParser::new().parse(&st, tokens.iter().cloned());
    let mut errors = st.errors.take();
    match result {
        Ok(mut e) if errors.is_empty() => match &mut e {
            Expr::VectorSelector(vs) => Ok(std::mem::take(&mut vs.matchers)),
            _ => Err(to_errors(input, errors)),
        },
        Ok(_) => Err(to_errors(input, errors)),
        Err(e) => {
            errors.push(map_error(input, &tokens, e));
            Err(to_errors(input, errors))
        }
    }
}

/// Parses a series description's label set, `name{l="v"}` (Prometheus's `ParseMetric`): only
/// `=` matchers are allowed; the result includes `__name__`.
pub fn parse_metric(input: &str) -> Result<Labels, ParseErrors> {
    let matchers = parse_metric_selector(input).map_err(|mut e| {
        // Upstream's `label_set` rules say "label set" where selectors say "label matching".
        for err in &mut e.0 {
            err.msg = err.msg.replace(" in label matching", " in label set");
        }
        e
    })?;
    let mut labels = Vec::with_capacity(matchers.len());
    for m in matchers {
        if m.kind != MatchType::Equal {
            let pos = input.find(m.kind.as_str()).unwrap_or(0);
            return Err(to_errors(
                input,
                vec![RawError {
                    span: Span::new(pos as u32, (pos + 2) as u32),
                    msg: format!(
                        "unexpected {:?} in label set, expected \"=\"",
                        m.kind.as_str()
                    ),
                }],
            ));
        }
        labels.push(Label::new(m.name, m.value));
    }
    Ok(Labels::new(labels))
}

/// A duration that `model.ParseDuration` rejects; the message is upstream's
/// (`not a valid duration string: "1m1h"`, `empty duration string`, `duration out of range`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationError {}

/// Prometheus's `model.ParseDuration` (`1h30m`, `5m`, `0`), in milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, DurationError> {
    literals::parse_duration(s).map_err(DurationError)
}

/// The body of the `cargo fuzz` target (`fuzz/fuzz_targets/parse.rs`), also driven by a
/// deterministic test: parsing arbitrary bytes never panics, and whatever parses prints to
/// text that parses back to the same tree (modulo spans) and the same text.
///
/// Panics (that is the fuzzer's signal) when an invariant is broken.
pub fn fuzz_one(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for opts in [ParserOptions::default(), ParserOptions::all()] {
        let Ok(mut expr) = parse_with(input, &opts) else {
            continue;
        };
        let printed = expr.to_string();
        let mut again = match parse_with(&printed, &opts) {
            Ok(e) => e,
            Err(e) => panic!("{input:?} printed as {printed:?}, which does not parse: {e}"),
        };
        assert_eq!(again.to_string(), printed, "printing is not a fixed point");
        expr.clear_spans();
        again.clear_spans();
        assert_eq!(
            format!("{expr:?}"),
            format!("{again:?}"),
            "{input:?} does not round-trip through {printed:?}"
        );
        let pretty = crate::printer::pretty(&expr);
        if let Err(e) = parse_with(&pretty, &opts) {
            panic!("pretty form of {input:?} does not parse: {e}\n{pretty}");
        }
    }
}

/// Maps lalrpop's error to Prometheus's wording.
fn map_error(
    input: &str,
    tokens: &[Result<lexer::Spanned<'_>, LexError>],
    e: ParseError<usize, Tok<'_>, LexError>,
) -> RawError {
    match e {
        ParseError::User { error } => RawError {
            span: Span::new(error.pos as u32, input.len() as u32),
            msg: error.msg,
        },
        ParseError::InvalidToken { location } => RawError {
            span: Span::new(location as u32, location as u32),
            msg: "invalid token".into(),
        },
        ParseError::UnrecognizedEof {
            location: _,
            expected,
        } => {
            // Upstream's EOF item sits after trailing blanks and comments.
            let location = input.len();
            let ok: Vec<Tok<'_>> = tokens
                .iter()
                .filter_map(|t| t.as_ref().ok())
                .map(|t| t.1)
                .collect();
            let agg = after_aggregation_grouping(&ok);
            let prev = ok.last().copied();
            RawError {
                span: Span::new(location as u32, location as u32),
                msg: unexpected(
                    "end of input".into(),
                    prev,
                    agg,
                    bracket_state(&ok),
                    &expected,
                ),
            }
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let before: Vec<Tok<'_>> = tokens
                .iter()
                .filter_map(|t| t.as_ref().ok())
                .take_while(|t| t.0 < l)
                .map(|t| t.1)
                .collect();
            let agg = after_aggregation_grouping(&before);
            let prev = before.last().copied();
            RawError {
                span: Span::new(l as u32, r as u32),
                msg: unexpected(tok.desc(), prev, agg, bracket_state(&before), &expected),
            }
        }
        ParseError::ExtraToken { token: (l, tok, r) } => RawError {
            span: Span::new(l as u32, r as u32),
            msg: format!("unexpected {}", tok.desc()),
        },
    }
}

/// `unexpected <what>[ in <context>][, expected <what>]`, the context guessed from the
/// previous token and what the grammar expected, as Prometheus's error productions say it.
fn unexpected(
    what: String,
    prev: Option<Tok<'_>>,
    in_aggregation: bool,
    brackets: (bool, bool),
    expected: &[String],
) -> String {
    let exp = |s: &str| expected.iter().any(|e| e == s);
    let (in_brackets, after_colon) = brackets;
    let in_braces = exp("\"}\"");
    let in_labels = exp("\")\"") && !exp("\"(\"") && !in_braces;
    let (context, wanted) = match prev {
        // After `sum by (..)` the arguments are missing (upstream's `aggregate_op error`).
        // Right after the operator the word may still be a metric name: no context then.
        _ if in_aggregation => ("aggregation", ""),
        Some(Tok::By | Tok::Without | Tok::On | Tok::Ignoring) => ("grouping opts", "\"(\""),
        Some(Tok::LabelsOpen) => ("grouping opts", "label"),
        Some(Tok::Comma) if in_labels && exp("\"identifier\"") => ("grouping opts", "label"),
        _ if in_labels && exp("\",\"") => ("grouping opts", "\",\" or \")\""),
        Some(Tok::Offset) => ("offset", "number, duration, step(), or range()"),
        Some(Tok::At) => ("@", "timestamp"),
        Some(Tok::LBracket) => (
            "subquery or range selector",
            "number, duration, step(), or range()",
        ),
        Some(Tok::Colon) if exp("\"]\"") => (
            "subquery selector",
            "number, duration, step(), range(), or \"]\"",
        ),
        _ if exp("\"]\"") && exp("\":\"") => ("subquery or range", "\":\" or \"]\""),
        _ if exp("\"]\"") && !exp("\"(\"") => ("subquery selector", "\"]\""),
        // Inside `[...]` upstream's error rules fall back to the bracket's own.
        _ if in_brackets && after_colon => (
            "subquery selector",
            "number, duration, step(), range(), or \"]\"",
        ),
        _ if in_brackets => (
            "subquery or range selector",
            "number, duration, step(), or range()",
        ),
        Some(Tok::LBrace | Tok::Comma) if in_braces && exp("\"identifier\"") => {
            ("label matching", "identifier or \"}\"")
        }
        Some(Tok::Ident(_)) if exp("\"=\"") => ("label matching", "label matching operator"),
        Some(Tok::Eql | Tok::Neq | Tok::EqlRegex | Tok::NeqRegex) if exp("\"string\"") => {
            ("label matching", "string")
        }
        _ if in_braces && exp("\",\"") => ("label matching", "\",\" or \"}\""),
        _ => ("", ""),
    };
    let mut msg = format!("unexpected {what}");
    if !context.is_empty() {
        msg.push_str(" in ");
        msg.push_str(context);
    }
    if !wanted.is_empty() {
        msg.push_str(", expected ");
        msg.push_str(wanted);
    }
    msg
}

/// Whether the tokens end inside `[...]`, and whether a `:` came after its `[`.
fn bracket_state(toks: &[Tok<'_>]) -> (bool, bool) {
    let open = toks.iter().rposition(|t| *t == Tok::LBracket);
    let close = toks.iter().rposition(|t| *t == Tok::RBracket);
    match (open, close) {
        (Some(o), c) if c.is_none_or(|c| c < o) => (true, toks[o..].contains(&Tok::Colon)),
        _ => (false, false),
    }
}

/// Whether the tokens end with `<aggregator> by|without (labels)`: the aggregation's
/// arguments are still missing.
fn after_aggregation_grouping(toks: &[Tok<'_>]) -> bool {
    let Some(Tok::RParen) = toks.last() else {
        return false;
    };
    let Some(open) = toks.iter().rposition(|t| *t == Tok::LabelsOpen) else {
        return false;
    };
    open >= 2
        && matches!(toks[open - 1], Tok::By | Tok::Without)
        && matches!(toks[open - 2], Tok::Agg(_))
        && !toks[open..toks.len() - 1].contains(&Tok::RParen)
}

/// Returns the span of a node deeper than [`MAX_DEPTH`], walking iteratively.
fn too_deep(root: &Expr) -> Option<Span> {
    let mut stack: Vec<(&Expr, usize)> = vec![(root, 1)];
    while let Some((e, d)) = stack.pop() {
        if d > MAX_DEPTH {
            return Some(e.span());
        }
        for c in e.children() {
            stack.push((c, d + 1));
        }
        let durs: Vec<&DurationExpr> = match e {
            Expr::MatrixSelector(m) => dur_exprs(&[&m.range, &m.vector_selector.offset]),
            Expr::VectorSelector(v) => dur_exprs(&[&v.offset]),
            Expr::Subquery(s) => {
                let mut v = dur_exprs(&[&s.range, &s.offset]);
                if let Some(st) = &s.step {
                    v.extend(dur_exprs(&[st]));
                }
                v
            }
            _ => Vec::new(),
        };
        for de in durs {
            if dur_depth(de) + d > MAX_DEPTH {
                return Some(de.span());
            }
        }
    }
    None
}

fn dur_exprs<'a>(ds: &[&'a crate::ast::Duration]) -> Vec<&'a DurationExpr> {
    ds.iter()
        .filter_map(|d| match d {
            crate::ast::Duration::Expr(e) => Some(&**e),
            crate::ast::Duration::Literal(_) => None,
        })
        .collect()
}

fn dur_depth(root: &DurationExpr) -> usize {
    let mut max = 0;
    let mut stack = vec![(root, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        match e {
            DurationExpr::MinOf { lhs, rhs, .. }
            | DurationExpr::MaxOf { lhs, rhs, .. }
            | DurationExpr::Binary { lhs, rhs, .. } => {
                stack.push((lhs, d + 1));
                stack.push((rhs, d + 1));
            }
            DurationExpr::Unary { expr, .. } | DurationExpr::Paren { expr, .. } => {
                stack.push((expr, d + 1))
            }
            _ => {}
        }
    }
    max
}
