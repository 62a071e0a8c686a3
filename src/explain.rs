//! The Query page's Explain tab: a query's syntax tree, each node evaluated on its own.
//!
//! Plain Rust (no browser). [`Explain::parse`] walks the parsed AST into a flat, pre-order
//! list of [`Node`]s (parentheses are walked through), each with its own PromQL text (the
//! printer's canonical form), its kind, a plain-language note and, for a binary operation,
//! its matching. The caller then evaluates every node's text at one instant — through
//! [`crate::playground::Playground::instant_query`] in the tab, or `/api/v1/query` for a remote
//! source, asynchronously — and hands each answer to [`Explain::record`]; [`Explain::finish`]
//! then derives what only the children's results tell: how the series count and the label
//! names changed from a node's operand, and, for a binary operation between two vectors, how
//! many series of each side found a partner under the operation's matching rules.
//! [`explain`] does the whole sequence with a synchronous evaluator.
//!
//! Bounds: at most [`MAX_NODES`] nodes and [`MAX_LEVELS`] levels are shown and evaluated; the
//! rest are counted, not walked further.

use std::collections::{BTreeSet, HashMap};

use promplay_model::{Labels, METRIC_NAME};
use promplay_promql::ast::{
    AggregateExpr, AggregateOp, BinaryExpr, BinaryOp, Call, Expr, UnaryOp, VectorMatchCardinality,
};
use promplay_promql::value::Value;

use crate::playground::{QueryError, QueryOutcome};
use crate::shape::{self, Row};

/// At most this many nodes are shown and evaluated.
pub const MAX_NODES: usize = 64;
/// Nodes deeper than this many levels below the root are not shown.
pub const MAX_LEVELS: usize = 8;
/// How many result rows each node shows.
pub const SHOWN_ROWS: usize = 5;

/// What kind of PromQL node this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Selector,
    RangeSelector,
    Call,
    Aggregation,
    Binary,
    Subquery,
    Number,
    String,
    Unary,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Selector => "selector",
            Kind::RangeSelector => "range selector",
            Kind::Call => "function call",
            Kind::Aggregation => "aggregation",
            Kind::Binary => "binary operation",
            Kind::Subquery => "subquery",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Unary => "unary operation",
        }
    }
}

/// A node's own evaluation at the instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    /// `instant vector`, `range vector`, `scalar` or `string`.
    pub value_type: &'static str,
    /// Series for vectors and range vectors, 1 for a scalar or string.
    pub count: usize,
    /// The first [`SHOWN_ROWS`] rows (a range vector's row: its point count and last point).
    pub rows: Vec<Row>,
    pub warnings: Vec<String>,
}

/// How the two sides of a binary operation matched, computed from the sides' results.
#[derive(Clone, Debug, PartialEq)]
pub enum Matching {
    /// Both sides are instant vectors.
    Vectors {
        lhs: usize,
        rhs: usize,
        /// Left series that have at least one right series with the same match labels.
        lhs_matched: usize,
        rhs_matched: usize,
        /// Left-right pairs with the same match labels.
        pairs: usize,
        /// Match-label sets occurring more than once on the "one" side of a one-to-one or
        /// many-to-one / one-to-many match (Prometheus fails such a query).
        duplicates_on_one_side: usize,
    },
    /// One side is a scalar: it applies to each series of the other side.
    WithScalar { series: usize },
    /// Both sides are scalars.
    Scalars,
}

/// Change from a node's main operand to the node.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub from: usize,
    pub to: usize,
    /// Label names present on the operand's series and on none of the node's.
    pub labels_dropped: Vec<String>,
}

/// One node of the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub depth: usize,
    pub kind: Kind,
    /// The node as PromQL (the printer's one-line form).
    pub text: String,
    /// Extra syntax to point out: a binary operation's matching, an aggregation's grouping.
    pub detail: Option<String>,
    /// A short plain-language note.
    pub note: String,
    /// The node's byte span in the query.
    pub span: (usize, usize),
    /// Indexes of the shown children, in source order.
    pub children: Vec<usize>,
    /// Descendant nodes not shown (the bounds).
    pub hidden_below: usize,
    /// Under a subquery: the node was evaluated once, at the instant.
    pub in_subquery: bool,
    /// `None` until evaluated.
    pub result: Option<Result<Evaluated, String>>,
    pub matching: Option<Matching>,
    pub change: Option<Change>,
}

/// The explained query.
#[derive(Clone, Debug, PartialEq)]
pub struct Explain {
    pub query: String,
    pub at: i64,
    pub nodes: Vec<Node>,
    /// Nodes of the query not shown (beyond [`MAX_NODES`] or [`MAX_LEVELS`]).
    pub omitted: usize,
    /// Full results, kept between [`Explain::record`] and [`Explain::finish`].
    values: Vec<Option<Value>>,
    /// Per node: the operand whose change [`Change`] describes.
    operand: Vec<Option<usize>>,
    /// Per node: a binary operation's matching rules between vectors.
    rules: Vec<Option<Rules>>,
}

/// Skips parentheses.
fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Nodes in the subtree of `e`, parentheses not counted.
fn subtree_size(e: &Expr) -> usize {
    let mut n = 0;
    e.inspect(|x| {
        if !matches!(x, Expr::Paren(_)) {
            n += 1
        }
    });
    n
}

impl Explain {
    /// Parses `query` (as the Table does) and walks its tree; nothing is evaluated yet.
    pub fn parse(query: &str, at: i64) -> Result<Explain, QueryError> {
        let expr = promplay_promql::parser::parse(query).map_err(|errs| QueryError {
            message: errs.to_string(),
            span: errs
                .first()
                .map(|e| (e.span.start as usize, e.span.end as usize)),
        })?;
        let mut ex = Explain {
            query: query.to_string(),
            at,
            nodes: Vec::new(),
            omitted: 0,
            values: Vec::new(),
            operand: Vec::new(),
            rules: Vec::new(),
        };
        // (expression, depth, parent, under a subquery)
        let mut stack: Vec<(&Expr, usize, Option<usize>, bool)> = vec![(&expr, 0, None, false)];
        while let Some((e, depth, parent, in_sub)) = stack.pop() {
            let e = unparen(e);
            if ex.nodes.len() >= MAX_NODES || depth >= MAX_LEVELS {
                let n = subtree_size(e);
                ex.omitted += n;
                if let Some(p) = parent {
                    ex.nodes[p].hidden_below += n;
                }
                continue;
            }
            let id = ex.nodes.len();
            if let Some(p) = parent {
                ex.nodes[p].children.push(id);
            }
            let (kind, detail, note) = describe(e);
            let span = e.span();
            ex.nodes.push(Node {
                depth,
                kind,
                text: e.to_string(),
                detail,
                note,
                span: (span.start as usize, span.end as usize),
                children: Vec::new(),
                hidden_below: 0,
                in_subquery: in_sub,
                result: None,
                matching: None,
                change: None,
            });
            ex.rules.push(match e {
                Expr::Binary(b) => b.matching.as_ref().map(|m| Rules {
                    on: m.on,
                    labels: m.matching_labels.clone(),
                    card: m.card,
                }),
                _ => None,
            });
            let sub = in_sub || matches!(e, Expr::Subquery(_));
            let mut kids = e.children();
            kids.reverse();
            stack.extend(kids.into_iter().map(|k| (k, depth + 1, Some(id), sub)));
        }
        ex.values = vec![None; ex.nodes.len()];
        ex.operand = operands(&expr, &ex);
        Ok(ex)
    }

    /// The texts to evaluate, by node index.
    pub fn pending(&self) -> Vec<(usize, String)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.result.is_none())
            .map(|(i, n)| (i, n.text.clone()))
            .collect()
    }

    /// Records node `id`'s answer.
    pub fn record(&mut self, id: usize, outcome: Result<QueryOutcome, QueryError>) {
        let Some(node) = self.nodes.get_mut(id) else {
            return;
        };
        match outcome {
            Ok(o) => {
                node.result = Some(Ok(evaluated(&o)));
                self.values[id] = Some(o.value);
            }
            Err(e) => node.result = Some(Err(e.message)),
        }
    }

    /// Derives the changes and matchings from the recorded results, then drops the results.
    pub fn finish(&mut self) {
        for id in 0..self.nodes.len() {
            if let Some(op) = self.operand[id] {
                if let (Some(from), Some(to)) = (&self.values[op], &self.values[id]) {
                    self.nodes[id].change = change(from, to);
                }
            }
            if self.nodes[id].kind == Kind::Binary {
                self.nodes[id].matching = self.binary_matching(id);
            }
        }
        self.values = vec![None; self.nodes.len()];
    }

    fn binary_matching(&self, id: usize) -> Option<Matching> {
        let node = &self.nodes[id];
        let [l, r] = node.children[..] else {
            return None;
        };
        let (lv, rv) = (self.values[l].as_ref()?, self.values[r].as_ref()?);
        match (lv, rv) {
            (Value::Scalar { .. }, Value::Scalar { .. }) => Some(Matching::Scalars),
            (Value::Vector(v), Value::Scalar { .. }) | (Value::Scalar { .. }, Value::Vector(v)) => {
                Some(Matching::WithScalar { series: v.len() })
            }
            (Value::Vector(a), Value::Vector(b)) => {
                let m = self.rules[id].as_ref()?;
                Some(match_vectors(
                    &a.iter().map(|s| &s.metric).collect::<Vec<_>>(),
                    &b.iter().map(|s| &s.metric).collect::<Vec<_>>(),
                    m,
                ))
            }
            _ => None,
        }
    }
}

/// The matching rules of one binary operation between vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    pub on: bool,
    pub labels: Vec<String>,
    pub card: VectorMatchCardinality,
}

impl Rules {
    /// The labels two series must share to match (Prometheus's signature: `on` keeps only the
    /// listed labels; `ignoring` drops them and the metric name).
    pub fn signature(&self, l: &Labels) -> Labels {
        if self.on {
            l.keep(&self.labels)
        } else {
            let mut drop: Vec<&str> = self.labels.iter().map(String::as_str).collect();
            drop.push(METRIC_NAME);
            l.without(&drop)
        }
    }
}

/// Counts matches between two sides under `rules`.
pub fn match_vectors(lhs: &[&Labels], rhs: &[&Labels], rules: &Rules) -> Matching {
    let count = |side: &[&Labels]| {
        let mut m: HashMap<Labels, usize> = HashMap::new();
        for l in side {
            *m.entry(rules.signature(l)).or_default() += 1;
        }
        m
    };
    let (lc, rc) = (count(lhs), count(rhs));
    let mut lhs_matched = 0;
    let mut pairs = 0;
    for (sig, n) in &lc {
        if let Some(m) = rc.get(sig) {
            lhs_matched += n;
            pairs += n * m;
        }
    }
    let rhs_matched = rc
        .iter()
        .filter(|(s, _)| lc.contains_key(*s))
        .map(|(_, n)| n)
        .sum();
    let dup = |m: &HashMap<Labels, usize>| m.values().filter(|n| **n > 1).count();
    let duplicates_on_one_side = match rules.card {
        VectorMatchCardinality::OneToOne => dup(&lc) + dup(&rc),
        VectorMatchCardinality::ManyToOne => dup(&rc),
        VectorMatchCardinality::OneToMany => dup(&lc),
        VectorMatchCardinality::ManyToMany => 0,
    };
    Matching::Vectors {
        lhs: lhs.len(),
        rhs: rhs.len(),
        lhs_matched,
        rhs_matched,
        pairs,
        duplicates_on_one_side,
    }
}

fn label_names(v: &Value) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    match v {
        Value::Vector(v) => v.iter().flat_map(|s| s.metric.iter()).for_each(|l| {
            out.insert(l.name.to_string());
        }),
        Value::Matrix(m) => m.iter().flat_map(|s| s.metric.iter()).for_each(|l| {
            out.insert(l.name.to_string());
        }),
        _ => return None,
    }
    Some(out)
}

fn series_count(v: &Value) -> Option<usize> {
    match v {
        Value::Vector(v) => Some(v.len()),
        Value::Matrix(m) => Some(m.len()),
        _ => None,
    }
}

fn change(from: &Value, to: &Value) -> Option<Change> {
    let (a, b) = (label_names(from)?, label_names(to)?);
    let to_count = series_count(to)?;
    Some(Change {
        from: series_count(from)?,
        to: to_count,
        // With no series left, no label was dropped: the series were.
        labels_dropped: if to_count == 0 {
            Vec::new()
        } else {
            a.difference(&b).cloned().collect()
        },
    })
}

/// Per node, the operand a [`Change`] compares it with: an aggregation's vector, a call's
/// only vector or range-vector argument, a unary operation's operand, a comparison's left side
/// (a filter keeps left series).
fn operands(root: &Expr, ex: &Explain) -> Vec<Option<usize>> {
    // The walk is re-done in the same order as `parse`, to pair nodes with their expressions.
    let mut exprs: Vec<&Expr> = Vec::with_capacity(ex.nodes.len());
    let mut stack = vec![(root, 0usize)];
    while let Some((e, depth)) = stack.pop() {
        let e = unparen(e);
        if exprs.len() >= MAX_NODES || depth >= MAX_LEVELS {
            continue;
        }
        exprs.push(e);
        let mut kids = e.children();
        kids.reverse();
        stack.extend(kids.into_iter().map(|k| (k, depth + 1)));
    }
    exprs
        .iter()
        .zip(&ex.nodes)
        .map(|(e, n)| {
            let pick = |i: usize| n.children.get(i).copied();
            match e {
                Expr::Aggregate(a) => pick(usize::from(a.param.is_some())),
                Expr::Call(c) => {
                    let vecs: Vec<usize> = c
                        .args
                        .iter()
                        .enumerate()
                        .filter(|(_, a)| {
                            matches!(
                                a.value_type(),
                                promplay_promql::value::ValueType::Vector
                                    | promplay_promql::value::ValueType::Matrix
                            )
                        })
                        .map(|(i, _)| i)
                        .collect();
                    match vecs[..] {
                        [i] => pick(i),
                        _ => None,
                    }
                }
                Expr::Unary(_) | Expr::Subquery(_) => pick(0),
                // A filter keeps the vector side's series (the left one between vectors).
                Expr::Binary(b) if b.op.is_comparison() && !b.return_bool => pick(usize::from(
                    b.lhs.value_type() != promplay_promql::value::ValueType::Vector,
                )),
                Expr::Binary(b) if matches!(b.op, BinaryOp::And | BinaryOp::Unless) => pick(0),
                _ => None,
            }
        })
        .collect()
}

fn evaluated(o: &QueryOutcome) -> Evaluated {
    let (value_type, count) = match &o.value {
        Value::Scalar { .. } => ("scalar", 1),
        Value::String { .. } => ("string", 1),
        Value::Vector(v) => ("instant vector", v.len()),
        Value::Matrix(m) => ("range vector", m.len()),
    };
    let rows = match &o.value {
        Value::Matrix(m) => m
            .iter()
            .take(SHOWN_ROWS)
            .map(|s| {
                let n = s.floats.len() + s.histograms.len();
                let last = s.floats.last().map(|p| (p.t, shape::format_value(p.f)));
                let last_h = s.histograms.last().map(|p| {
                    (
                        p.t,
                        format!("histogram {{count: {}}}", shape::format_value(p.h.count)),
                    )
                });
                let last = match (last, last_h) {
                    (Some(a), Some(b)) => Some(if a.0 >= b.0 { a } else { b }),
                    (a, b) => a.or(b),
                };
                Row {
                    labels: shape::series_name(&s.metric),
                    value: match last {
                        Some((t, v)) => format!(
                            "{n} point{}, last {v} @{}",
                            if n == 1 { "" } else { "s" },
                            shape::format_ts(t)
                        ),
                        None => "0 points".into(),
                    },
                }
            })
            .collect(),
        v => {
            let mut t = shape::table(v);
            t.rows.truncate(SHOWN_ROWS);
            t.rows
        }
    };
    Evaluated {
        value_type,
        count,
        rows,
        warnings: o.annotations.warnings.clone(),
    }
}

/// Parses `query` and evaluates every shown node with `eval` (called with each node's text,
/// in pre-order), then derives changes and matchings.
pub fn explain(
    query: &str,
    at: i64,
    mut eval: impl FnMut(&str) -> Result<QueryOutcome, QueryError>,
) -> Result<Explain, QueryError> {
    let mut ex = Explain::parse(query, at)?;
    for (id, text) in ex.pending() {
        let outcome = eval(&text);
        ex.record(id, outcome);
    }
    ex.finish();
    Ok(ex)
}

fn list(labels: &[String]) -> String {
    labels.join(", ")
}

/// Kind, detail and note of one node.
fn describe(e: &Expr) -> (Kind, Option<String>, String) {
    match e {
        Expr::VectorSelector(v) => {
            let mut note = "the latest sample (at most 5m old) of every series whose labels \
                            match the selector; labels and metric name kept"
                .to_string();
            if !v.offset.is_zero_literal() {
                note.push_str(&format!("; looked up {} earlier (offset)", v.offset));
            }
            if v.timestamp.is_some() || v.start_or_end.is_some() {
                note.push_str("; at the fixed time given by @");
            }
            (Kind::Selector, None, note)
        }
        Expr::MatrixSelector(m) => (
            Kind::RangeSelector,
            None,
            format!(
                "every sample of the last {} of each matching series (a range vector, for a \
                 function such as rate or *_over_time)",
                m.range
            ),
        ),
        Expr::Call(c) => (Kind::Call, None, call_note(c)),
        Expr::Aggregate(a) => aggregate(a),
        Expr::Binary(b) => binary(b),
        Expr::Subquery(s) => (
            Kind::Subquery,
            None,
            format!(
                "evaluates the inner expression every {} over the last {}, giving a range \
                 vector; the nodes below are explained at the instant only",
                s.step
                    .as_ref()
                    .map_or("evaluation interval (default step)".to_string(), |d| d
                        .to_string()),
                s.range
            ),
        ),
        Expr::NumberLiteral(_) => (Kind::Number, None, "a constant scalar".into()),
        Expr::StringLiteral(_) => (
            Kind::String,
            None,
            "a constant string (an argument, e.g. of label_replace)".into(),
        ),
        Expr::Unary(u) => (
            Kind::Unary,
            None,
            match u.op {
                UnaryOp::Neg => "negates every value; drops the metric name".into(),
                UnaryOp::Pos => "leaves every value as it is".into(),
            },
        ),
        // `unparen` has removed parentheses before `describe` is called.
        Expr::Paren(_) => (Kind::Unary, None, "parentheses".into()),
    }
}

fn call_note(c: &Call) -> String {
    let range = c.args.iter().find_map(|a| match unparen(a) {
        Expr::MatrixSelector(m) => Some(m.range.to_string()),
        Expr::Subquery(s) => Some(s.range.to_string()),
        _ => None,
    });
    let over = range.as_deref().unwrap_or("the range");
    let name = c.func.name;
    match name {
        "rate" => format!(
            "per-second average increase over the last {over}, per series (counter resets \
             handled); drops the metric name"
        ),
        "irate" => format!(
            "per-second increase between the last two samples within {over}, per series; drops \
             the metric name"
        ),
        "increase" => format!(
            "increase over the last {over}, per series (counter resets handled, extrapolated to \
             the whole range); drops the metric name"
        ),
        "delta" => format!(
            "difference between the first and last value over {over}, per series (for gauges); \
             drops the metric name"
        ),
        "idelta" => {
            format!("difference of the last two samples within {over}; drops the metric name")
        }
        "deriv" => format!(
            "per-second slope of a linear regression over {over} (for gauges); drops the metric \
             name"
        ),
        "predict_linear" => {
            format!("the value predicted by a linear regression over {over}; drops the metric name")
        }
        "changes" => format!("how many times the value changed within {over}"),
        "resets" => format!("how many counter resets happened within {over}"),
        "last_over_time" => {
            format!("the last sample within {over}, per series; the metric name is kept")
        }
        "absent" => "1 with labels from the selector if it matches no series, else nothing".into(),
        "absent_over_time" => format!("1 if no series had a sample within {over}, else nothing"),
        "histogram_quantile" => "the quantile estimated from the buckets (the `le` label) of \
                                 each histogram; drops le and the metric name"
            .into(),
        "label_replace" | "label_join" => "rewrites a label of every series; values kept".into(),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            "orders the series (an instant query's result only); values kept".into()
        }
        "scalar" => "the value of a single-series vector as a scalar (NaN otherwise)".into(),
        "vector" => "the scalar as a single series without labels".into(),
        "time" => "the evaluation time in seconds since the epoch".into(),
        "timestamp" => "the timestamp of each sample, in seconds".into(),
        "clamp" | "clamp_min" | "clamp_max" => "limits every value; drops the metric name".into(),
        "abs" | "ceil" | "floor" | "round" | "exp" | "ln" | "log2" | "log10" | "sqrt" | "sgn" => {
            format!("{name} of every value; drops the metric name")
        }
        n if n.ends_with("_over_time") => {
            let what = n.trim_end_matches("_over_time");
            format!("the {what} of each series' samples within {over}; drops the metric name")
        }
        _ => format!("the function {name}, applied per series"),
    }
}

fn aggregate(a: &AggregateExpr) -> (Kind, Option<String>, String) {
    let op = a.op.as_str();
    let detail = if a.without {
        Some(format!("without ({})", list(&a.grouping)))
    } else if !a.grouping.is_empty() {
        Some(format!("by ({})", list(&a.grouping)))
    } else {
        None
    };
    let groups = if a.without {
        format!(
            "per group of series equal but for ({}), dropping those labels and the metric name",
            list(&a.grouping)
        )
    } else if a.grouping.is_empty() {
        "across all series into one series without labels".to_string()
    } else {
        format!(
            "per distinct ({}), keeping only those labels",
            list(&a.grouping)
        )
    };
    let note = match a.op {
        AggregateOp::Topk | AggregateOp::Bottomk => format!(
            "keeps the k {} series, per group ({}); labels and values unchanged",
            if a.op == AggregateOp::Topk {
                "largest"
            } else {
                "smallest"
            },
            if a.grouping.is_empty() && !a.without {
                "all series"
            } else {
                "by the grouping"
            }
        ),
        AggregateOp::Limitk | AggregateOp::LimitRatio => {
            "keeps some of the series of each group, unchanged".into()
        }
        AggregateOp::CountValues => {
            format!("counts the series per distinct value, {groups}; the value becomes a label")
        }
        AggregateOp::Quantile => format!("the φ-quantile of the values, {groups}"),
        _ => format!("{op} of the values, {groups}"),
    };
    (Kind::Aggregation, detail, note)
}

fn binary(b: &BinaryExpr) -> (Kind, Option<String>, String) {
    let mut detail = Vec::new();
    if b.return_bool {
        detail.push("bool".to_string());
    }
    if let Some(m) = &b.matching {
        if m.on {
            detail.push(format!("on ({})", list(&m.matching_labels)));
        } else if !m.matching_labels.is_empty() {
            detail.push(format!("ignoring ({})", list(&m.matching_labels)));
        }
        match m.card {
            VectorMatchCardinality::ManyToOne => {
                detail.push(format!("group_left ({})", list(&m.include)))
            }
            VectorMatchCardinality::OneToMany => {
                detail.push(format!("group_right ({})", list(&m.include)))
            }
            _ => {}
        }
        detail.push(format!("{} matching", m.card.as_str()));
        if m.matching_labels.is_empty() && !m.on {
            detail.push("series match when all labels but the metric name are equal".into());
        }
    }
    let op = b.op.as_str();
    let note = match b.op {
        BinaryOp::And => {
            "the left series that have a match on the right (values from the left)".into()
        }
        BinaryOp::Or => {
            "all left series, plus the right series that have no match on the left".into()
        }
        BinaryOp::Unless => "the left series that have no match on the right".into(),
        o if o.is_comparison() && b.return_bool => format!(
            "1 where left {op} right holds, 0 where not, per matched pair; drops the metric name"
        ),
        o if o.is_comparison() => {
            format!("a filter: keeps the left series where left {op} right holds, values unchanged")
        }
        _ => format!(
            "left {op} right for each matched pair of series (a scalar applies to every series); \
             drops the metric name"
        ),
    };
    (
        Kind::Binary,
        (!detail.is_empty()).then(|| detail.join(", ")),
        note,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::Playground;

    fn run(p: &Playground, q: &str) -> Result<Explain, QueryError> {
        let at = p.now_ms();
        explain(q, at, |text| p.instant_query(text, at, None))
    }

    fn ok(n: &Node) -> &Evaluated {
        n.result.as_ref().unwrap().as_ref().unwrap()
    }

    #[test]
    fn an_aggregation_of_a_rate_shows_three_nodes_with_their_counts() {
        let p = Playground::new();
        let ex = run(&p, "sum by (job) (rate(hello_worlds_total[1m]))").unwrap();
        let texts: Vec<_> = ex
            .nodes
            .iter()
            .map(|n| (n.depth, n.kind, n.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![
                (
                    0,
                    Kind::Aggregation,
                    "sum by (job) (rate(hello_worlds_total[1m]))"
                ),
                (1, Kind::Call, "rate(hello_worlds_total[1m])"),
                (2, Kind::RangeSelector, "hello_worlds_total[1m]"),
            ]
        );
        assert_eq!(ex.omitted, 0);
        let (sum, rate, sel) = (ok(&ex.nodes[0]), ok(&ex.nodes[1]), ok(&ex.nodes[2]));
        assert_eq!((sum.value_type, sum.count), ("instant vector", 1));
        assert_eq!((rate.value_type, rate.count), ("instant vector", 1));
        assert_eq!((sel.value_type, sel.count), ("range vector", 1));
        assert_eq!(sum.rows[0].labels, r#"{job="example"}"#);
        assert_eq!(
            rate.rows[0].labels,
            r#"{instance="localhost:8000", job="example"}"#
        );
        // 1m of 10 s scrapes: 6 points, the last at the instant
        assert!(
            sel.rows[0].value.starts_with("6 points, last "),
            "{:?}",
            sel.rows
        );
        assert_eq!(ex.nodes[0].detail.as_deref(), Some("by (job)"));
        assert!(ex.nodes[1]
            .note
            .contains("per-second average increase over the last 1m"));
        // where the labels went
        assert_eq!(
            ex.nodes[0].change,
            Some(Change {
                from: 1,
                to: 1,
                labels_dropped: vec!["instance".into()]
            })
        );
        assert_eq!(
            ex.nodes[1].change,
            Some(Change {
                from: 1,
                to: 1,
                labels_dropped: vec!["__name__".into()]
            })
        );
        // the sum equals the rate (one series)
        assert_eq!(sum.rows[0].value, rate.rows[0].value);
    }

    #[test]
    fn a_binary_operation_that_matches_nothing_says_so() {
        let p = Playground::new();
        // up has a job label; the rate keeps instance and job but its instance is only the
        // hello app's: on(job) matches one pair; the other two up series find no partner.
        let ex = run(&p, "up * on (job) group_left rate(hello_worlds_total[1m])").unwrap();
        assert_eq!(ex.nodes[0].kind, Kind::Binary);
        assert_eq!(
            ex.nodes[0].detail.as_deref(),
            Some("on (job), group_left (), many-to-one matching")
        );
        assert_eq!(
            ex.nodes[0].matching,
            Some(Matching::Vectors {
                lhs: 3,
                rhs: 1,
                lhs_matched: 1,
                rhs_matched: 1,
                pairs: 1,
                duplicates_on_one_side: 0
            })
        );
        assert_eq!(ok(&ex.nodes[0]).count, 1);
        // The right side's jobs are renamed: on(job) matches nothing, the result is empty.
        let ex = run(
            &p,
            r#"up == on (job) group_left label_replace(up, "job", "other-$1", "job", "(.*)")"#,
        )
        .unwrap();
        let Some(Matching::Vectors {
            lhs,
            rhs,
            pairs,
            lhs_matched,
            ..
        }) = ex.nodes[0].matching
        else {
            panic!("{:?}", ex.nodes[0].matching)
        };
        assert_eq!((lhs, rhs, pairs, lhs_matched), (3, 3, 0, 0));
        assert_eq!(ok(&ex.nodes[0]).count, 0);
        assert_eq!(
            ex.nodes[0].change,
            Some(Change {
                from: 3,
                to: 0,
                labels_dropped: vec![]
            })
        );
        // Without on(): the metric names differ but all other labels are equal: 3 pairs.
        let ex = run(&p, "up / up").unwrap();
        let Some(Matching::Vectors { pairs, .. }) = ex.nodes[0].matching else {
            panic!()
        };
        assert_eq!(pairs, 3);
        assert_eq!(ok(&ex.nodes[0]).count, 3);
    }

    #[test]
    fn a_filter_shows_the_series_it_removed_and_scalars_apply_to_each_series() {
        let p = Playground::new();
        let ex = run(&p, r#"up > 0 and up{job!="node"}"#).unwrap();
        let kinds: Vec<_> = ex.nodes.iter().map(|n| n.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Binary,
                Kind::Binary,
                Kind::Selector,
                Kind::Number,
                Kind::Selector
            ]
        );
        assert_eq!(ex.nodes[1].text, "up > 0");
        assert_eq!(
            ex.nodes[1].matching,
            Some(Matching::WithScalar { series: 3 })
        );
        assert_eq!(ex.nodes[3].text, "0");
        assert_eq!(ok(&ex.nodes[3]).value_type, "scalar");
        // the filter keeps all 3 series now (every target is up)
        assert_eq!(
            ex.nodes[1].change,
            Some(Change {
                from: 3,
                to: 3,
                labels_dropped: vec![]
            })
        );
        // a scalar on the left: the change is still measured from the vector side
        let swapped = run(&p, "0.5 < up").unwrap();
        assert_eq!(
            swapped.nodes[0].change,
            Some(Change {
                from: 3,
                to: 3,
                labels_dropped: vec![]
            })
        );
        // `and` keeps 2 of the 3 left series
        assert_eq!(
            ex.nodes[0].change,
            Some(Change {
                from: 3,
                to: 2,
                labels_dropped: vec![]
            })
        );
        let Some(Matching::Vectors {
            lhs_matched, rhs, ..
        }) = ex.nodes[0].matching
        else {
            panic!()
        };
        assert_eq!((lhs_matched, rhs), (2, 2));
    }

    #[test]
    fn a_parse_error_gives_no_tree_but_the_error() {
        let p = Playground::new();
        let e = run(&p, "sum(rate(x[5m])").unwrap_err();
        assert!(e.message.contains("parse error"), "{}", e.message);
        assert!(e.span.is_some());
    }

    #[test]
    fn evaluation_errors_stay_on_their_node() {
        let p = Playground::new();
        // one-to-one matching with duplicates on the right fails; the sides still explain it
        let ex = run(&p, "up + on () up").unwrap();
        assert!(ok_err(&ex.nodes[0]).contains("many-to-many matching not allowed"));
        let Some(Matching::Vectors {
            duplicates_on_one_side,
            pairs,
            ..
        }) = ex.nodes[0].matching
        else {
            panic!()
        };
        assert_eq!((duplicates_on_one_side, pairs), (2, 9));
    }

    fn ok_err(n: &Node) -> &str {
        n.result.as_ref().unwrap().as_ref().unwrap_err()
    }

    #[test]
    fn large_and_deep_trees_are_bounded() {
        let p = Playground::new();
        let q = (0..100).map(|_| "up").collect::<Vec<_>>().join(" + ");
        let mut calls = 0;
        let at = p.now_ms();
        let ex = explain(&q, at, |t| {
            calls += 1;
            p.instant_query(t, at, None)
        })
        .unwrap();
        // 199 nodes; a left-deep chain: 8 levels deep at most
        assert!(ex.nodes.len() <= MAX_NODES);
        assert_eq!(calls, ex.nodes.len());
        assert_eq!(ex.nodes.len() + ex.omitted, 199);
        assert!(ex.nodes.iter().all(|n| n.depth < MAX_LEVELS));
        assert!(ex.nodes.iter().any(|n| n.hidden_below > 0));
        let wide = format!(
            "vector(1) + {}",
            (0..80)
                .map(|i| format!("vector({i})"))
                .collect::<Vec<_>>()
                .join(" + ")
        );
        let ex = explain(&wide, at, |t| p.instant_query(t, at, None)).unwrap();
        assert!(ex.nodes.len() <= MAX_NODES);
        assert!(ex.omitted > 0);
    }

    #[test]
    fn subquery_children_are_marked() {
        let p = Playground::new();
        let ex = run(&p, "max_over_time(rate(hello_worlds_total[1m])[5m:1m])").unwrap();
        let subs: Vec<_> = ex.nodes.iter().map(|n| (n.kind, n.in_subquery)).collect();
        assert_eq!(
            subs,
            vec![
                (Kind::Call, false),
                (Kind::Subquery, false),
                (Kind::Call, true),
                (Kind::RangeSelector, true)
            ]
        );
        assert_eq!(ok(&ex.nodes[1]).value_type, "range vector");
        assert!(
            ok(&ex.nodes[1]).rows[0].value.starts_with("5 points"),
            "{:?}",
            ok(&ex.nodes[1]).rows
        );
    }
}
