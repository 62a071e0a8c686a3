//! The grammar's action helpers: node construction plus the semantic errors Prometheus's
//! parser raises while reducing (`newAggregateExpr`, `addOffset`, `setTimestamp`, …).
//! Errors are recorded, never thrown, so that several can be reported.

use std::cell::RefCell;

use promplay_model::{MatchType, Matcher, METRIC_NAME};

use super::literals;
use super::ParserOptions;
use crate::ast::*;
use crate::functions_table::get_function;

/// A recorded error: byte range and message.
#[derive(Clone, Debug)]
pub struct RawError {
    pub span: Span,
    pub msg: String,
}

pub struct State {
    pub opts: ParserOptions,
    pub errors: RefCell<Vec<RawError>>,
    /// Spans of `<not a selector>[range]`: upstream builds a MatrixSelector around them
    /// anyway, so a following `offset`/`@` repeats "ranges only allowed for vector selectors".
    bad_ranges: RefCell<Vec<Span>>,
}

/// The modifiers between a binary operator and its right operand.
#[derive(Debug, Default)]
pub struct BinMod {
    pub return_bool: bool,
    pub matching: Option<VectorMatching>,
}

/// `on|ignoring (labels)` (`true` = on) with its optional `group_left|group_right (labels)`.
pub type MatchingClause = (
    bool,
    Vec<String>,
    Option<(VectorMatchCardinality, Vec<String>)>,
);

/// One label matcher as parsed; `None` when it was invalid (its error is recorded).
pub enum MatcherItem {
    Matcher(Matcher),
    /// A bare quoted metric name inside the braces: `{"my.metric"}`.
    Name(String, Span),
    Invalid,
}

fn sp(l: usize, r: usize) -> Span {
    Span::new(l as u32, r as u32)
}

fn placeholder() -> Expr {
    Expr::NumberLiteral(NumberLiteral {
        val: 0.0,
        duration: false,
        span: Span::default(),
    })
}

impl State {
    pub fn new(opts: ParserOptions) -> Self {
        State {
            opts,
            errors: RefCell::new(Vec::new()),
            bad_ranges: RefCell::new(Vec::new()),
        }
    }

    pub fn err(&self, span: Span, msg: impl Into<String>) {
        self.errors.borrow_mut().push(RawError {
            span,
            msg: msg.into(),
        });
    }

    // ------------------------------------------------------------ literals

    pub fn number(&self, s: &str, l: usize, r: usize) -> f64 {
        match literals::parse_number(s) {
            Ok(v) => v,
            Err(e) => {
                self.err(sp(l, r), format!("error parsing number: {e}"));
                0.0
            }
        }
    }

    pub fn duration_secs(&self, s: &str, l: usize, r: usize) -> f64 {
        match literals::parse_duration(s) {
            Ok(ms) => ms as f64 / 1000.0,
            Err(e) => {
                self.err(sp(l, r), e);
                0.0
            }
        }
    }

    pub fn number_literal(&self, s: &str, l: usize, r: usize) -> Expr {
        Expr::NumberLiteral(NumberLiteral {
            val: self.number(s, l, r),
            duration: false,
            span: sp(l, r),
        })
    }

    pub fn duration_literal(&self, s: &str, l: usize, r: usize) -> Expr {
        Expr::NumberLiteral(NumberLiteral {
            val: self.duration_secs(s, l, r),
            duration: true,
            span: sp(l, r),
        })
    }

    pub fn unquote(&self, s: &str, l: usize, r: usize) -> String {
        match literals::unquote(s) {
            Ok(v) => v,
            Err(e) => {
                self.err(sp(l, r), format!("error unquoting string {s:?}: {e}"));
                String::new()
            }
        }
    }

    pub fn string_literal(&self, s: &str, l: usize, r: usize) -> Expr {
        Expr::StringLiteral(StringLiteral {
            val: self.unquote(s, l, r),
            span: sp(l, r),
        })
    }

    // ------------------------------------------------------------ operators

    pub fn unary(&self, l: usize, op: UnaryOp, mut e: Expr) -> Expr {
        let end = e.span().end;
        if let Expr::NumberLiteral(n) = &mut e {
            if op == UnaryOp::Neg {
                n.val = -n.val;
            }
            n.span.start = l as u32;
            return e;
        }
        Expr::Unary(UnaryExpr {
            op,
            expr: Box::new(e),
            span: Span::new(l as u32, end),
        })
    }

    pub fn bin_mod(
        &self,
        return_bool: bool,
        matching: Option<MatchingClause>,
        fills: Vec<(u8, f64, usize)>,
        l: usize,
        r: usize,
    ) -> BinMod {
        let mut vm = VectorMatching::default();
        if let Some((on, labels, group)) = matching {
            vm.on = on;
            vm.matching_labels = labels;
            if let Some((card, include)) = group {
                vm.card = card;
                vm.include = include;
            }
        }
        let mut seen = [false; 3];
        for (kind, v, _) in &fills {
            let k = *kind as usize;
            if seen[k] || (k == 0 && (seen[1] || seen[2])) || (k != 0 && seen[0]) {
                self.err(sp(l, r), "fill modifier specified more than once");
            }
            seen[k] = true;
            match kind {
                0 => {
                    vm.fill.lhs = Some(*v);
                    vm.fill.rhs = Some(*v);
                }
                1 => vm.fill.lhs = Some(*v),
                _ => vm.fill.rhs = Some(*v),
            }
        }
        BinMod {
            return_bool,
            matching: Some(vm),
        }
    }

    pub fn binary(&self, lhs: Expr, op: BinaryOp, m: BinMod, rhs: Expr) -> Expr {
        let span = lhs.span().to(rhs.span());
        let vm = m.matching.unwrap_or_default();
        if !self.opts.experimental && !vm.fill.is_empty() {
            self.err(
                span,
                "binop fill modifiers are experimental and not enabled",
            );
        }
        Expr::Binary(BinaryExpr {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            matching: Some(vm),
            return_bool: m.return_bool,
            span,
        })
    }

    // ------------------------------------------------------------ aggregations, calls

    /// A grouping label: any non-empty name (UTF-8 names are valid in Prometheus 3).
    pub fn grouping_label(&self, n: String, l: usize, r: usize) -> String {
        if n.is_empty() {
            self.err(sp(l, r), format!("invalid label name for grouping: {n:?}"));
        }
        n
    }

    pub fn aggregate(
        &self,
        op: AggregateOp,
        grouping: Option<(bool, Vec<String>)>,
        mut args: Vec<Expr>,
        l: usize,
        r: usize,
    ) -> Expr {
        let span = sp(l, r);
        let (without, grouping) = grouping.unwrap_or_default();
        if args.is_empty() {
            self.err(span, "no arguments for aggregate expression provided");
            return placeholder();
        }
        let mut desired = 1;
        if op.has_param() {
            if !self.opts.experimental && op.is_experimental() {
                self.err(
                    span,
                    format!("{op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions"),
                );
                return placeholder();
            }
            desired = 2;
        }
        if args.len() != desired {
            self.err(
                span,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {desired}, got {}",
                    args.len()
                ),
            );
            return placeholder();
        }
        let expr = args
            .pop()
            .map(Box::new)
            .unwrap_or_else(|| Box::new(placeholder()));
        let param = args.pop().map(Box::new);
        Expr::Aggregate(AggregateExpr {
            op,
            expr,
            param,
            grouping,
            without,
            span,
        })
    }

    pub fn trailing_comma(&self, args: Vec<Expr>, l: usize, r: usize) -> Vec<Expr> {
        self.err(
            sp(l, r),
            "trailing commas not allowed in function call args",
        );
        args
    }

    pub fn call(&self, name: (&str, usize, usize), args: Vec<Expr>, l: usize, r: usize) -> Expr {
        let (name, nl, nr) = name;
        let Some(func) = get_function(name) else {
            self.err(sp(nl, nr), format!("unknown function with name {name:?}"));
            return placeholder();
        };
        if func.experimental && !self.opts.experimental {
            self.err(sp(nl, nr), format!("function {name:?} is not enabled"));
        }
        Expr::Call(Call {
            func,
            args,
            span: sp(l, r),
        })
    }

    // ------------------------------------------------------------ selectors

    pub fn matcher(
        &self,
        name: &str,
        quoted: bool,
        op: MatchType,
        value: &str,
        l: usize,
        r: usize,
    ) -> MatcherItem {
        let name = if quoted {
            self.unquote(name, l, r)
        } else {
            name.to_string()
        };
        let val = self.unquote(value, l, r);
        match Matcher::new(op, name, val) {
            Ok(m) => MatcherItem::Matcher(m),
            Err(e) => {
                self.err(sp(l, r), format!("{e}"));
                MatcherItem::Invalid
            }
        }
    }

    pub fn name_matcher(&self, s: &str, l: usize, r: usize) -> MatcherItem {
        MatcherItem::Name(self.unquote(s, l, r), sp(l, r))
    }

    pub fn vector_selector(
        &self,
        name: Option<&str>,
        items: Vec<MatcherItem>,
        l: usize,
        r: usize,
    ) -> Expr {
        let span = sp(l, r);
        let name = name.map(str::to_string);
        let mut matchers = Vec::with_capacity(items.len() + 1);
        for it in items {
            match it {
                MatcherItem::Matcher(m) => matchers.push(m),
                // `{"name"}` is just a `__name__` matcher (upstream's newMetricNameMatcher).
                MatcherItem::Name(n, nspan) => match Matcher::new(MatchType::Equal, METRIC_NAME, n)
                {
                    Ok(m) => matchers.push(m),
                    Err(e) => self.err(nspan, e.to_string()),
                },
                MatcherItem::Invalid => {}
            }
        }
        // Canonical order (the printer's): sorted by text, the implicit name matcher last.
        if matchers.len() > 1 {
            matchers.sort_by_cached_key(|m: &Matcher| m.to_string());
        }
        if let Some(n) = &name {
            if let Some(m) = matchers.iter().find(|m| m.name == METRIC_NAME) {
                self.err(
                    span,
                    format!("metric name must not be set twice: {n:?} or {:?}", m.value),
                );
            }
            match Matcher::new(MatchType::Equal, METRIC_NAME, n.clone()) {
                Ok(m) => matchers.push(m),
                Err(e) => self.err(span, e.to_string()),
            }
        }
        Expr::VectorSelector(VectorSelector {
            name,
            matchers,
            offset: Duration::Literal(0),
            timestamp: None,
            start_or_end: None,
            anchored: false,
            smoothed: false,
            bypass_empty_matcher_check: false,
            span,
        })
    }

    // ------------------------------------------------------------ postfix modifiers

    /// A range or subquery step: a literal must be positive (`positive_duration_expr`).
    fn positive_duration_of(&self, d: DurationExpr) -> Duration {
        let span = d.span();
        let dur = self.duration_of(d);
        if matches!(dur, Duration::Literal(ms) if ms <= 0) {
            self.err(span, "duration must be greater than 0");
        }
        dur
    }

    fn duration_of(&self, d: DurationExpr) -> Duration {
        match &d {
            // Upstream: math.Round(val * 1e9) nanoseconds, used in whole milliseconds.
            DurationExpr::Number { val, .. } => {
                Duration::Literal(((val * 1e9).round() / 1e6) as i64)
            }
            DurationExpr::Duration { ms, .. } => Duration::Literal(*ms),
            _ => {
                if !self.opts.experimental {
                    self.err(d.span(), "experimental duration expression is not enabled");
                }
                Duration::Expr(Box::new(d))
            }
        }
    }

    /// Whether `e` is the result of a failed `[range]` (see `bad_ranges`); reports it again.
    fn repeat_bad_range(&self, e: &Expr) -> bool {
        let span = e.span();
        if self.bad_ranges.borrow().contains(&span) {
            self.err(span, "ranges only allowed for vector selectors");
            return true;
        }
        false
    }

    pub fn offset(&self, mut e: Expr, d: DurationExpr, r: usize) -> Expr {
        if self.repeat_bad_range(&e) {
            return e;
        }
        let espan = e.span();
        let dur = self.duration_of(d);
        let slot: Option<&mut Duration> = match &mut e {
            Expr::VectorSelector(vs) => Some(&mut vs.offset),
            Expr::MatrixSelector(ms) => Some(&mut ms.vector_selector.offset),
            Expr::Subquery(sq) => Some(&mut sq.offset),
            _ => None,
        };
        match slot {
            None => {
                self.err(espan, "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery");
                return e;
            }
            Some(slot) => {
                if !slot.is_zero_literal() {
                    self.err(espan, "offset may not be set multiple times");
                } else {
                    *slot = dur;
                }
            }
        }
        e.span_mut().end = r as u32;
        e
    }

    fn at_slots(e: &mut Expr) -> Option<(&mut Option<i64>, &mut Option<StartOrEnd>)> {
        match e {
            Expr::VectorSelector(vs) => Some((&mut vs.timestamp, &mut vs.start_or_end)),
            Expr::MatrixSelector(ms) => Some((
                &mut ms.vector_selector.timestamp,
                &mut ms.vector_selector.start_or_end,
            )),
            Expr::Subquery(sq) => Some((&mut sq.timestamp, &mut sq.start_or_end)),
            _ => None,
        }
    }

    pub fn at_timestamp(&self, mut e: Expr, ts: f64, l: usize, r: usize) -> Expr {
        let espan = e.span();
        if ts.is_nan() || ts.is_infinite() || ts >= i64::MAX as f64 || ts <= i64::MIN as f64 {
            self.err(
                espan,
                format!("timestamp out of bounds for @ modifier: {}", go_f(ts)),
            );
        }
        let _ = l;
        if self.repeat_bad_range(&e) {
            return e;
        }
        match Self::at_slots(&mut e) {
            None => {
                self.err(espan, "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery");
                return e;
            }
            Some((t, se)) => {
                if t.is_some() || se.is_some() {
                    self.err(espan, "@ <timestamp> may not be set multiple times");
                    return e;
                }
                *t = Some((ts * 1000.0).round() as i64);
            }
        }
        e.span_mut().end = r as u32;
        e
    }

    pub fn at_start_end(&self, mut e: Expr, which: StartOrEnd, r: usize) -> Expr {
        if self.repeat_bad_range(&e) {
            return e;
        }
        let espan = e.span();
        match Self::at_slots(&mut e) {
            None => {
                self.err(espan, "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery");
                return e;
            }
            Some((t, se)) => {
                if t.is_some() || se.is_some() {
                    self.err(espan, "@ <timestamp> may not be set multiple times");
                    return e;
                }
                *se = Some(which);
            }
        }
        e.span_mut().end = r as u32;
        e
    }

    pub fn matrix(&self, mut e: Expr, d: DurationExpr, l: usize, r: usize) -> Expr {
        let range = self.positive_duration_of(d);
        let err_span = sp(l, r);
        let Expr::VectorSelector(vs) = &mut e else {
            self.err(err_span, "ranges only allowed for vector selectors");
            e.span_mut().end = r as u32;
            self.bad_ranges.borrow_mut().push(e.span());
            return e;
        };
        if !vs.offset.is_zero_literal() {
            self.err(err_span, "no offset modifiers allowed before range");
        } else if vs.timestamp.is_some() || vs.start_or_end.is_some() {
            self.err(err_span, "no @ modifiers allowed before range");
        }
        let start = vs.span.start;
        let vs = std::mem::replace(vs, empty_vs());
        Expr::MatrixSelector(MatrixSelector {
            vector_selector: vs,
            range,
            span: Span::new(start, r as u32),
        })
    }

    pub fn subquery(
        &self,
        e: Expr,
        range: DurationExpr,
        step: Option<DurationExpr>,
        _l: usize,
        r: usize,
    ) -> Expr {
        let range = self.positive_duration_of(range);
        let step = step.map(|s| self.positive_duration_of(s));
        let start = e.span().start;
        Expr::Subquery(SubqueryExpr {
            expr: Box::new(e),
            range,
            step,
            offset: Duration::Literal(0),
            timestamp: None,
            start_or_end: None,
            span: Span::new(start, r as u32),
        })
    }

    fn set_extended(&self, mut e: Expr, anchored: bool, r: usize) -> Expr {
        let name = if anchored { "anchored" } else { "smoothed" };
        // Upstream ignores the modifier on a failed `[range]` (already reported).
        if self.bad_ranges.borrow().contains(&e.span()) {
            return e;
        }
        let espan = e.span();
        if !self.opts.experimental {
            self.err(
                espan,
                format!("{name} modifier is experimental and not enabled"),
            );
            return e;
        }
        let vs = match &mut e {
            Expr::VectorSelector(vs) => Some(vs),
            Expr::MatrixSelector(ms) => Some(&mut ms.vector_selector),
            Expr::Subquery(_) => {
                self.err(
                    espan,
                    format!("{name} modifier is not supported for subqueries"),
                );
                None
            }
            _ => {
                self.err(espan, format!("{name} modifier not implemented"));
                None
            }
        };
        if let Some(vs) = vs {
            if anchored {
                vs.anchored = true;
            } else {
                vs.smoothed = true;
            }
            if vs.anchored && vs.smoothed {
                self.err(
                    espan,
                    "anchored and smoothed modifiers cannot be used together",
                );
            }
        }
        e.span_mut().end = r as u32;
        e
    }

    pub fn anchored(&self, e: Expr, _l: usize, r: usize) -> Expr {
        self.set_extended(e, true, r)
    }

    pub fn smoothed(&self, e: Expr, _l: usize, r: usize) -> Expr {
        self.set_extended(e, false, r)
    }

    // ------------------------------------------------------------ duration expressions

    pub fn dur_number(&self, s: &str, l: usize, r: usize) -> DurationExpr {
        let val = self.number(s, l, r);
        if val > (i64::MAX as f64) / 1e9 || val < (i64::MIN as f64) / 1e9 || val.is_nan() {
            self.err(sp(l, r), "duration out of range");
        }
        DurationExpr::Number {
            val,
            span: sp(l, r),
        }
    }

    pub fn dur_duration(&self, s: &str, l: usize, r: usize) -> DurationExpr {
        let ms = match literals::parse_duration(s) {
            Ok(ms) => ms,
            Err(e) => {
                self.err(sp(l, r), e);
                0
            }
        };
        DurationExpr::Duration { ms, span: sp(l, r) }
    }

    /// Unary minus on a literal folds into the literal; unary plus disappears (as upstream's
    /// `applyUnaryOpToDurationExpr`, so `+(5*2)` prints as `(5 * 2)`).
    pub fn dur_unary(&self, op: UnaryOp, e: DurationExpr, l: usize) -> DurationExpr {
        if op == UnaryOp::Pos
            && !matches!(
                e,
                DurationExpr::Number { .. } | DurationExpr::Duration { .. }
            )
        {
            return e;
        }
        let end = e.span().end;
        let span = Span::new(l as u32, end);
        match (&e, op) {
            (DurationExpr::Number { val, .. }, _) => DurationExpr::Number {
                val: if op == UnaryOp::Neg { -val } else { *val },
                span,
            },
            (DurationExpr::Duration { ms, .. }, _) => DurationExpr::Duration {
                ms: if op == UnaryOp::Neg { -ms } else { *ms },
                span,
            },
            _ => DurationExpr::Unary {
                op,
                expr: Box::new(e),
                span,
            },
        }
    }

    pub fn dur_binary(
        &self,
        a: DurationExpr,
        op: DurationOp,
        b: DurationExpr,
        o: usize,
    ) -> DurationExpr {
        let span = a.span().to(b.span());
        let zero = match &b {
            DurationExpr::Number { val, .. } => *val == 0.0,
            DurationExpr::Duration { ms, .. } => *ms == 0,
            _ => false,
        };
        if zero && matches!(op, DurationOp::Div | DurationOp::Mod) {
            let msg = if op == DurationOp::Div {
                "division by zero"
            } else {
                "modulo by zero"
            };
            self.err(Span::new(o as u32, o as u32 + 1), msg);
            // Upstream continues with a zero literal.
            return DurationExpr::Number { val: 0.0, span };
        }
        DurationExpr::Binary {
            op,
            lhs: Box::new(a),
            rhs: Box::new(b),
            span,
        }
    }

    pub fn dur_func(
        &self,
        f: &str,
        a: DurationExpr,
        b: DurationExpr,
        l: usize,
        r: usize,
    ) -> DurationExpr {
        let span = sp(l, r);
        match f.to_ascii_lowercase().as_str() {
            "min_of" => DurationExpr::MinOf {
                lhs: Box::new(a),
                rhs: Box::new(b),
                span,
            },
            "max_of" => DurationExpr::MaxOf {
                lhs: Box::new(a),
                rhs: Box::new(b),
                span,
            },
            _ => {
                self.err(
                    span,
                    format!("unexpected identifier {f:?} in duration expression"),
                );
                a
            }
        }
    }

    pub fn dur_paren(&self, a: DurationExpr, l: usize, r: usize) -> DurationExpr {
        DurationExpr::Paren {
            expr: Box::new(a),
            span: sp(l, r),
        }
    }
}

pub(crate) fn empty_vs() -> VectorSelector {
    VectorSelector {
        name: None,
        matchers: Vec::new(),
        offset: Duration::Literal(0),
        timestamp: None,
        start_or_end: None,
        anchored: false,
        smoothed: false,
        bypass_empty_matcher_check: false,
        span: Span::default(),
    }
}

/// Go's `%f`.
fn go_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:.6}")
    }
}
