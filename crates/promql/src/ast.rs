//! The PromQL abstract syntax tree (Prometheus's `promql/parser/ast.go`).
//!
//! Every node carries the byte [`Span`] of the text it was parsed from. Shapes follow
//! Prometheus's node types one to one (`AggregateExpr`, `BinaryExpr`, `Call`, `MatrixSelector`,
//! `SubqueryExpr`, `NumberLiteral`, `StringLiteral`, `ParenExpr`, `UnaryExpr`,
//! `VectorSelector`), with the v3.14.0 experimental syntax: duration expressions
//! ([`DurationExpr`]) in ranges, subquery steps and offsets; `anchored`/`smoothed` selectors;
//! `fill`/`fill_left`/`fill_right` binary-operator modifiers.
//!
//! Invariants the parser guarantees (the evaluator may rely on them):
//! - the tree has passed Prometheus's type checks (`checkAST`): argument types and counts of
//!   calls match [`Function`], binary operands are scalars or instant vectors, and so on;
//! - [`BinaryExpr::matching`] is `Some` exactly when both operands are instant vectors, and
//!   its `card` is `ManyToMany` for `and`/`or`/`unless`;
//! - nesting depth is bounded ([`crate::parser::MAX_DEPTH`]), so recursive walks are safe;
//!   `Drop` is nevertheless iterative.
//!
//! Times are milliseconds (`i64`), as everywhere in promplay.

use std::fmt;

use promplay_model::Matcher;

pub use crate::functions_table::Function;
use crate::value::ValueType;

/// A byte range `[start, end)` of the parsed input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Self {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A PromQL expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Aggregate(AggregateExpr),
    Binary(BinaryExpr),
    Call(Call),
    MatrixSelector(MatrixSelector),
    Subquery(SubqueryExpr),
    NumberLiteral(NumberLiteral),
    StringLiteral(StringLiteral),
    Paren(ParenExpr),
    Unary(UnaryExpr),
    VectorSelector(VectorSelector),
}

/// Aggregation operators (`sum`, `topk`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    Avg,
    Bottomk,
    Count,
    CountValues,
    Group,
    Limitk,
    LimitRatio,
    Max,
    Min,
    Quantile,
    Stddev,
    Stdvar,
    Sum,
    Topk,
}

impl AggregateOp {
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Avg => "avg",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::Count => "count",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Group => "group",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
            AggregateOp::Max => "max",
            AggregateOp::Min => "min",
            AggregateOp::Quantile => "quantile",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Sum => "sum",
            AggregateOp::Topk => "topk",
        }
    }

    /// Case-insensitive lookup, as Prometheus's lexer treats keywords.
    pub fn from_name(s: &str) -> Option<Self> {
        const ALL: [AggregateOp; 14] = [
            AggregateOp::Avg,
            AggregateOp::Bottomk,
            AggregateOp::Count,
            AggregateOp::CountValues,
            AggregateOp::Group,
            AggregateOp::Limitk,
            AggregateOp::LimitRatio,
            AggregateOp::Max,
            AggregateOp::Min,
            AggregateOp::Quantile,
            AggregateOp::Stddev,
            AggregateOp::Stdvar,
            AggregateOp::Sum,
            AggregateOp::Topk,
        ];
        ALL.into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether the aggregation takes a parameter before the vector.
    pub fn has_param(self) -> bool {
        matches!(
            self,
            AggregateOp::Bottomk
                | AggregateOp::CountValues
                | AggregateOp::Limitk
                | AggregateOp::LimitRatio
                | AggregateOp::Quantile
                | AggregateOp::Topk
        )
    }

    /// Whether the aggregation needs the experimental parser option (`limitk`, `limit_ratio`).
    pub fn is_experimental(self) -> bool {
        matches!(self, AggregateOp::Limitk | AggregateOp::LimitRatio)
    }
}

impl fmt::Display for AggregateOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `op [without|by (grouping)] ([param,] expr)`.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateExpr {
    pub op: AggregateOp,
    pub expr: Box<Expr>,
    /// The parameter of `topk`, `bottomk`, `quantile`, `count_values`, `limitk`, `limit_ratio`.
    pub param: Option<Box<Expr>>,
    pub grouping: Vec<String>,
    pub without: bool,
    pub span: Span,
}

/// Binary operators, in Prometheus's precedence classes (see [`BinaryOp::precedence`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    /// `</`: trims a native histogram's observations above the right-hand value.
    TrimUpper,
    /// `>/`: trims a native histogram's observations below the right-hand value.
    TrimLower,
    Eql,
    Neq,
    Gtr,
    Lss,
    Gte,
    Lte,
    And,
    Or,
    Unless,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Gtr => ">",
            BinaryOp::Lss => "<",
            BinaryOp::Gte => ">=",
            BinaryOp::Lte => "<=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Gtr
                | BinaryOp::Lss
                | BinaryOp::Gte
                | BinaryOp::Lte
        )
    }

    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }

    /// Prometheus's `ItemType.Precedence`: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Gtr
            | BinaryOp::Lss
            | BinaryOp::Gte
            | BinaryOp::Lte => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod
            | BinaryOp::Atan2
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 5,
            BinaryOp::Pow => 6,
        }
    }

    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `lhs op [bool] [on|ignoring (...)] [group_left|group_right (...)] [fill...] rhs`.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryExpr {
    pub op: BinaryOp,
    pub lhs: Box<Expr>,
    pub rhs: Box<Expr>,
    /// `Some` exactly when both operands are instant vectors.
    pub matching: Option<VectorMatching>,
    /// The `bool` modifier: comparisons return 0/1 instead of filtering.
    pub return_bool: bool,
    pub span: Span,
}

/// Cardinality of a vector match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VectorMatchCardinality {
    #[default]
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

impl VectorMatchCardinality {
    pub fn as_str(self) -> &'static str {
        match self {
            VectorMatchCardinality::OneToOne => "one-to-one",
            VectorMatchCardinality::ManyToOne => "many-to-one",
            VectorMatchCardinality::OneToMany => "one-to-many",
            VectorMatchCardinality::ManyToMany => "many-to-many",
        }
    }
}

/// How the elements of two vectors are matched in a binary operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VectorMatching {
    pub card: VectorMatchCardinality,
    /// The labels of `on(...)` (with `on = true`) or `ignoring(...)`.
    pub matching_labels: Vec<String>,
    pub on: bool,
    /// The labels of `group_left(...)` / `group_right(...)`.
    pub include: Vec<String>,
    /// The experimental `fill`/`fill_left`/`fill_right` modifiers.
    pub fill: FillModifier,
}

/// Values used for a missing match on one side (`fill(v)` sets both).
/// `lhs` fills in for a missing left-hand sample, `rhs` for a missing right-hand one.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FillModifier {
    pub lhs: Option<f64>,
    pub rhs: Option<f64>,
}

impl FillModifier {
    pub fn is_empty(&self) -> bool {
        self.lhs.is_none() && self.rhs.is_none()
    }
}

/// A function call, resolved against the function table.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub func: &'static Function,
    pub args: Vec<Expr>,
    pub span: Span,
}

/// `vector_selector[range]`. The inner selector's offset/`@` apply to the whole range.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSelector {
    pub vector_selector: VectorSelector,
    pub range: Duration,
    pub span: Span,
}

/// `expr[range:step]` with its own offset and `@`.
#[derive(Clone, Debug, PartialEq)]
pub struct SubqueryExpr {
    pub expr: Box<Expr>,
    pub range: Duration,
    /// `None` for `[range:]` (the engine's default step).
    pub step: Option<Duration>,
    /// As written; `Duration::Literal(0)` when absent.
    pub offset: Duration,
    /// `@ <t>` in milliseconds.
    pub timestamp: Option<i64>,
    pub start_or_end: Option<StartOrEnd>,
    pub span: Span,
}

/// A number. `duration` is set when it was written as a duration (`5m` = 300), so that it
/// prints back the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberLiteral {
    pub val: f64,
    pub duration: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StringLiteral {
    pub val: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParenExpr {
    pub expr: Box<Expr>,
    pub span: Span,
}

/// Unary `-` or `+`. (`-<number>` parses to a negative [`NumberLiteral`] instead.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Pos,
}

impl UnaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnaryExpr {
    pub op: UnaryOp,
    pub expr: Box<Expr>,
    pub span: Span,
}

/// `@ start()` / `@ end()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StartOrEnd {
    Start,
    End,
}

/// `name{matchers} [offset d] [@ t] [anchored|smoothed]`.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    /// The metric name when written before the braces; the matchers then also contain the
    /// `__name__="name"` matcher, last. (`{"name"}` is only a `__name__` matcher, as upstream.) The other
    /// matchers are in canonical order (sorted by their text, as the printer writes them).
    pub name: Option<String>,
    pub matchers: Vec<Matcher>,
    /// As written; `Duration::Literal(0)` when absent.
    pub offset: Duration,
    /// `@ <t>` in milliseconds.
    pub timestamp: Option<i64>,
    pub start_or_end: Option<StartOrEnd>,
    /// Experimental extended range selectors.
    pub anchored: bool,
    pub smoothed: bool,
    /// Set on `info`'s second argument: it need not have a matcher that rejects "".
    pub bypass_empty_matcher_check: bool,
    pub span: Span,
}

/// A duration as written in a range, subquery step or offset: a plain literal (also a number
/// of seconds, or a negative offset) or, with the experimental option, an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Duration {
    /// Milliseconds.
    Literal(i64),
    Expr(Box<DurationExpr>),
}

impl Default for Duration {
    fn default() -> Self {
        Duration::Literal(0)
    }
}

impl Duration {
    /// The value when it is a literal.
    pub fn as_millis(&self) -> Option<i64> {
        match self {
            Duration::Literal(ms) => Some(*ms),
            Duration::Expr(_) => None,
        }
    }

    pub fn is_zero_literal(&self) -> bool {
        matches!(self, Duration::Literal(0))
    }

    /// The value in milliseconds, resolving `step()`/`range()` with the query's step and
    /// range (both ms; an instant query has step 0 and range 0). No sign check: use this for
    /// offsets (which may be negative) and [`Duration::resolve_positive`] for ranges and
    /// subquery steps. Upstream's `calculateDuration`: seconds × 1000, truncated.
    pub fn resolve(&self, step_ms: i64, range_ms: i64) -> Result<i64, DurationEvalError> {
        match self {
            Duration::Literal(ms) => Ok(*ms),
            Duration::Expr(e) => {
                let ms = (e.eval_seconds(step_ms, range_ms)? * 1000.0).trunc();
                if !(ms.is_finite() && ms < i64::MAX as f64 && ms > i64::MIN as f64) {
                    return Err(DurationEvalError::OutOfRange);
                }
                Ok(ms as i64)
            }
        }
    }

    /// [`Duration::resolve`] for a range or subquery step: the value must be positive
    /// (`duration must be greater than 0`).
    pub fn resolve_positive(&self, step_ms: i64, range_ms: i64) -> Result<i64, DurationEvalError> {
        let ms = self.resolve(step_ms, range_ms)?;
        if ms <= 0 {
            return Err(DurationEvalError::NotPositive);
        }
        Ok(ms)
    }
}

/// Why a duration expression has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurationEvalError {
    DivisionByZero,
    ModuloByZero,
    OutOfRange,
    NotPositive,
}

impl fmt::Display for DurationEvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DurationEvalError::DivisionByZero => "division by zero",
            DurationEvalError::ModuloByZero => "modulo by zero",
            DurationEvalError::OutOfRange => "duration is out of range",
            DurationEvalError::NotPositive => "duration must be greater than 0",
        })
    }
}

impl std::error::Error for DurationEvalError {}

/// Operators of duration expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DurationOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl DurationOp {
    pub fn as_str(self) -> &'static str {
        match self {
            DurationOp::Add => "+",
            DurationOp::Sub => "-",
            DurationOp::Mul => "*",
            DurationOp::Div => "/",
            DurationOp::Mod => "%",
            DurationOp::Pow => "^",
        }
    }
    pub fn precedence(self) -> u8 {
        match self {
            DurationOp::Add | DurationOp::Sub => 4,
            DurationOp::Mul | DurationOp::Div | DurationOp::Mod => 5,
            DurationOp::Pow => 6,
        }
    }
}

/// An experimental duration expression (Prometheus's `DurationExpr`). Values are seconds
/// (a plain number is seconds, a duration literal its length in seconds).
#[derive(Clone, Debug, PartialEq)]
pub enum DurationExpr {
    /// A plain number of seconds.
    Number {
        val: f64,
        span: Span,
    },
    /// A duration literal, in milliseconds.
    Duration {
        ms: i64,
        span: Span,
    },
    /// `step()`: the query's step.
    Step {
        span: Span,
    },
    /// `range()`: the query's range (end - start).
    Range {
        span: Span,
    },
    /// `min_of(a, b)`.
    MinOf {
        lhs: Box<DurationExpr>,
        rhs: Box<DurationExpr>,
        span: Span,
    },
    /// `max_of(a, b)`.
    MaxOf {
        lhs: Box<DurationExpr>,
        rhs: Box<DurationExpr>,
        span: Span,
    },
    Unary {
        op: UnaryOp,
        expr: Box<DurationExpr>,
        span: Span,
    },
    Binary {
        op: DurationOp,
        lhs: Box<DurationExpr>,
        rhs: Box<DurationExpr>,
        span: Span,
    },
    Paren {
        expr: Box<DurationExpr>,
        span: Span,
    },
}

impl DurationExpr {
    pub fn span(&self) -> Span {
        match self {
            DurationExpr::Number { span, .. }
            | DurationExpr::Duration { span, .. }
            | DurationExpr::Step { span }
            | DurationExpr::Range { span }
            | DurationExpr::MinOf { span, .. }
            | DurationExpr::MaxOf { span, .. }
            | DurationExpr::Unary { span, .. }
            | DurationExpr::Binary { span, .. }
            | DurationExpr::Paren { span, .. } => *span,
        }
    }

    /// Sets every span to `0..0`.
    pub fn clear_spans(&mut self) {
        match self {
            DurationExpr::Number { span, .. }
            | DurationExpr::Duration { span, .. }
            | DurationExpr::Step { span }
            | DurationExpr::Range { span } => *span = Span::default(),
            DurationExpr::MinOf { lhs, rhs, span }
            | DurationExpr::MaxOf { lhs, rhs, span }
            | DurationExpr::Binary { lhs, rhs, span, .. } => {
                *span = Span::default();
                lhs.clear_spans();
                rhs.clear_spans();
            }
            DurationExpr::Unary { expr, span, .. } | DurationExpr::Paren { expr, span } => {
                *span = Span::default();
                expr.clear_spans();
            }
        }
    }

    /// Whether the value depends on the query (`step()` / `range()` occur).
    pub fn depends_on_query(&self) -> bool {
        match self {
            DurationExpr::Number { .. } | DurationExpr::Duration { .. } => false,
            DurationExpr::Step { .. } | DurationExpr::Range { .. } => true,
            DurationExpr::MinOf { lhs, rhs, .. }
            | DurationExpr::MaxOf { lhs, rhs, .. }
            | DurationExpr::Binary { lhs, rhs, .. } => {
                lhs.depends_on_query() || rhs.depends_on_query()
            }
            DurationExpr::Unary { expr, .. } | DurationExpr::Paren { expr, .. } => {
                expr.depends_on_query()
            }
        }
    }

    /// The value in seconds (Prometheus computes duration expressions in float seconds).
    pub fn eval_seconds(&self, step_ms: i64, range_ms: i64) -> Result<f64, DurationEvalError> {
        Ok(match self {
            DurationExpr::Number { val, .. } => *val,
            DurationExpr::Duration { ms, .. } => *ms as f64 / 1000.0,
            DurationExpr::Step { .. } => step_ms as f64 / 1000.0,
            DurationExpr::Range { .. } => range_ms as f64 / 1000.0,
            DurationExpr::MinOf { lhs, rhs, .. } => lhs
                .eval_seconds(step_ms, range_ms)?
                .min(rhs.eval_seconds(step_ms, range_ms)?),
            DurationExpr::MaxOf { lhs, rhs, .. } => lhs
                .eval_seconds(step_ms, range_ms)?
                .max(rhs.eval_seconds(step_ms, range_ms)?),
            DurationExpr::Unary { op, expr, .. } => {
                let v = expr.eval_seconds(step_ms, range_ms)?;
                match op {
                    UnaryOp::Neg => -v,
                    UnaryOp::Pos => v,
                }
            }
            DurationExpr::Paren { expr, .. } => expr.eval_seconds(step_ms, range_ms)?,
            DurationExpr::Binary { op, lhs, rhs, .. } => {
                let l = lhs.eval_seconds(step_ms, range_ms)?;
                let r = rhs.eval_seconds(step_ms, range_ms)?;
                match op {
                    DurationOp::Add => l + r,
                    DurationOp::Sub => l - r,
                    DurationOp::Mul => l * r,
                    DurationOp::Div => {
                        if r == 0.0 {
                            return Err(DurationEvalError::DivisionByZero);
                        }
                        l / r
                    }
                    DurationOp::Mod => {
                        if r == 0.0 {
                            return Err(DurationEvalError::ModuloByZero);
                        }
                        l % r
                    }
                    DurationOp::Pow => l.powf(r),
                }
            }
        })
    }
}

impl Expr {
    /// The static type the expression evaluates to (`Expr.Type()`).
    pub fn value_type(&self) -> ValueType {
        let mut e = self;
        loop {
            return match e {
                Expr::Aggregate(_) => ValueType::Vector,
                Expr::Binary(b) => {
                    if b.lhs.value_type() == ValueType::Scalar
                        && b.rhs.value_type() == ValueType::Scalar
                    {
                        ValueType::Scalar
                    } else {
                        ValueType::Vector
                    }
                }
                Expr::Call(c) => c.func.return_type,
                Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
                Expr::NumberLiteral(_) => ValueType::Scalar,
                Expr::StringLiteral(_) => ValueType::String,
                Expr::Paren(p) => {
                    e = &p.expr;
                    continue;
                }
                Expr::Unary(u) => {
                    e = &u.expr;
                    continue;
                }
                Expr::VectorSelector(_) => ValueType::Vector,
            };
        }
    }

    /// The byte span of the expression in the parsed input.
    pub fn span(&self) -> Span {
        match self {
            Expr::Aggregate(e) => e.span,
            Expr::Binary(e) => e.span,
            Expr::Call(e) => e.span,
            Expr::MatrixSelector(e) => e.span,
            Expr::Subquery(e) => e.span,
            Expr::NumberLiteral(e) => e.span,
            Expr::StringLiteral(e) => e.span,
            Expr::Paren(e) => e.span,
            Expr::Unary(e) => e.span,
            Expr::VectorSelector(e) => e.span,
        }
    }

    pub fn span_mut(&mut self) -> &mut Span {
        match self {
            Expr::Aggregate(e) => &mut e.span,
            Expr::Binary(e) => &mut e.span,
            Expr::Call(e) => &mut e.span,
            Expr::MatrixSelector(e) => &mut e.span,
            Expr::Subquery(e) => &mut e.span,
            Expr::NumberLiteral(e) => &mut e.span,
            Expr::StringLiteral(e) => &mut e.span,
            Expr::Paren(e) => &mut e.span,
            Expr::Unary(e) => &mut e.span,
            Expr::VectorSelector(e) => &mut e.span,
        }
    }

    /// Sets every span in the tree to `0..0` (to compare trees parsed from different text).
    pub fn clear_spans(&mut self) {
        fn dur(d: &mut Duration) {
            if let Duration::Expr(e) = d {
                e.clear_spans();
            }
        }
        fn vs(v: &mut VectorSelector) {
            v.span = Span::default();
            dur(&mut v.offset);
        }
        *self.span_mut() = Span::default();
        match self {
            Expr::Aggregate(a) => {
                a.expr.clear_spans();
                if let Some(p) = &mut a.param {
                    p.clear_spans();
                }
            }
            Expr::Binary(b) => {
                b.lhs.clear_spans();
                b.rhs.clear_spans();
            }
            Expr::Call(c) => c.args.iter_mut().for_each(Expr::clear_spans),
            Expr::MatrixSelector(m) => {
                vs(&mut m.vector_selector);
                dur(&mut m.range);
            }
            Expr::Subquery(s) => {
                s.expr.clear_spans();
                dur(&mut s.range);
                dur(&mut s.offset);
                if let Some(st) = &mut s.step {
                    dur(st);
                }
            }
            Expr::Paren(p) => p.expr.clear_spans(),
            Expr::Unary(u) => u.expr.clear_spans(),
            Expr::VectorSelector(v) => vs(v),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
        }
    }

    /// Prometheus's node type name (`AggregateExpr`, …), as `--tree` prints it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Expr::Aggregate(_) => "AggregateExpr",
            Expr::Binary(_) => "BinaryExpr",
            Expr::Call(_) => "Call",
            Expr::MatrixSelector(_) => "MatrixSelector",
            Expr::Subquery(_) => "SubqueryExpr",
            Expr::NumberLiteral(_) => "NumberLiteral",
            Expr::StringLiteral(_) => "StringLiteral",
            Expr::Paren(_) => "ParenExpr",
            Expr::Unary(_) => "UnaryExpr",
            Expr::VectorSelector(_) => "VectorSelector",
        }
    }

    /// The direct sub-expressions, in source order (Prometheus's `Children`).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Aggregate(a) => {
                let mut v = Vec::with_capacity(2);
                if let Some(p) = &a.param {
                    v.push(&**p);
                }
                v.push(&*a.expr);
                v
            }
            Expr::Binary(b) => vec![&*b.lhs, &*b.rhs],
            Expr::Call(c) => c.args.iter().collect(),
            Expr::Subquery(s) => vec![&*s.expr],
            Expr::Paren(p) => vec![&*p.expr],
            Expr::Unary(u) => vec![&*u.expr],
            Expr::MatrixSelector(_)
            | Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_) => Vec::new(),
        }
    }

    /// Visits every node in pre-order, source order (Prometheus's `Inspect`), iteratively.
    pub fn inspect<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            let mut kids = e.children();
            kids.reverse();
            stack.extend(kids);
        }
    }

    /// Whether any node satisfies `pred`.
    pub fn any(&self, mut pred: impl FnMut(&Expr) -> bool) -> bool {
        let mut found = false;
        self.inspect(|e| found = found || pred(e));
        found
    }

    /// Takes the boxed children out (leaving cheap placeholders), for the iterative drop.
    fn take_children(&mut self, out: &mut Vec<Expr>) {
        fn take(b: &mut Box<Expr>, out: &mut Vec<Expr>) {
            if b.has_children() {
                out.push(std::mem::replace(&mut **b, Expr::placeholder()));
            }
        }
        match self {
            Expr::Aggregate(a) => {
                take(&mut a.expr, out);
                if let Some(p) = &mut a.param {
                    take(p, out);
                }
            }
            Expr::Binary(b) => {
                take(&mut b.lhs, out);
                take(&mut b.rhs, out);
            }
            Expr::Call(c) => out.append(&mut c.args),
            Expr::Subquery(s) => take(&mut s.expr, out),
            Expr::Paren(p) => take(&mut p.expr, out),
            Expr::Unary(u) => take(&mut u.expr, out),
            _ => {}
        }
    }

    fn has_children(&self) -> bool {
        !matches!(
            self,
            Expr::NumberLiteral(_)
                | Expr::StringLiteral(_)
                | Expr::VectorSelector(_)
                | Expr::MatrixSelector(_)
        )
    }

    fn placeholder() -> Expr {
        Expr::NumberLiteral(NumberLiteral {
            val: 0.0,
            duration: false,
            span: Span::default(),
        })
    }
}

/// Dropping is iterative so that no tree, however deep, can overflow the stack.
impl Drop for Expr {
    fn drop(&mut self) {
        if !self.has_children() {
            return;
        }
        let mut stack = Vec::new();
        self.take_children(&mut stack);
        while let Some(mut e) = stack.pop() {
            e.take_children(&mut stack);
            // `e` now has only placeholder children and drops shallowly.
        }
    }
}

impl DurationExpr {
    fn take_children(&mut self, out: &mut Vec<DurationExpr>) {
        let placeholder = || DurationExpr::Step {
            span: Span::default(),
        };
        match self {
            DurationExpr::MinOf { lhs, rhs, .. }
            | DurationExpr::MaxOf { lhs, rhs, .. }
            | DurationExpr::Binary { lhs, rhs, .. } => {
                out.push(std::mem::replace(&mut **lhs, placeholder()));
                out.push(std::mem::replace(&mut **rhs, placeholder()));
            }
            DurationExpr::Unary { expr, .. } | DurationExpr::Paren { expr, .. } => {
                out.push(std::mem::replace(&mut **expr, placeholder()));
            }
            _ => {}
        }
    }
}

/// Iterative, like `Drop for Expr`.
impl Drop for DurationExpr {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        self.take_children(&mut stack);
        while let Some(mut e) = stack.pop() {
            e.take_children(&mut stack);
        }
    }
}
