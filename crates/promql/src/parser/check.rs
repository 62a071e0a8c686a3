//! Type checking after a successful parse (Prometheus's `parser.checkAST`), with its messages.
//! Recursion is safe: the tree depth was bounded before this runs.

use super::state::RawError;
use crate::ast::*;
use crate::value::ValueType;

/// Go's raw `ValueType` strings (used by a few messages instead of the documented names).
fn raw(t: ValueType) -> &'static str {
    match t {
        ValueType::None => "none",
        ValueType::Scalar => "scalar",
        ValueType::Vector => "vector",
        ValueType::Matrix => "matrix",
        ValueType::String => "string",
    }
}

pub struct Checker<'a> {
    pub input: &'a str,
    pub errors: Vec<RawError>,
}

impl Checker<'_> {
    fn err(&mut self, span: Span, msg: impl Into<String>) {
        self.errors.push(RawError {
            span,
            msg: msg.into(),
        });
    }

    fn expect_type(&mut self, e: &mut Expr, want: ValueType, context: &str) {
        let t = self.check(e);
        if t != want {
            self.err(
                e.span(),
                format!("expected type {want} in {context}, got {t}"),
            );
        }
    }

    /// The span of a binary expression's operator part, between its operands.
    fn op_range(&self, lhs: Span, rhs: Span) -> Span {
        let b = self.input.as_bytes();
        let mut s = lhs.end as usize;
        let mut e = rhs.start as usize;
        while s < e && b.get(s).is_some_and(|c| c.is_ascii_whitespace()) {
            s += 1;
        }
        while e > s && b.get(e - 1).is_some_and(|c| c.is_ascii_whitespace()) {
            e -= 1;
        }
        Span::new(s as u32, e as u32)
    }

    pub fn check(&mut self, node: &mut Expr) -> ValueType {
        let typ = node.value_type();
        let node_span = node.span();
        match node {
            Expr::Aggregate(a) => {
                self.expect_type(&mut a.expr, ValueType::Vector, "aggregation expression");
                match a.op {
                    AggregateOp::Topk
                    | AggregateOp::Bottomk
                    | AggregateOp::Quantile
                    | AggregateOp::Limitk
                    | AggregateOp::LimitRatio => {
                        if let Some(p) = &mut a.param {
                            self.expect_type(p, ValueType::Scalar, "aggregation parameter");
                        }
                    }
                    AggregateOp::CountValues => {
                        if let Some(p) = &mut a.param {
                            self.expect_type(p, ValueType::String, "aggregation parameter");
                        }
                    }
                    _ => {}
                }
            }
            Expr::Binary(b) => {
                let lt = self.check(&mut b.lhs);
                let rt = self.check(&mut b.rhs);
                let op_range = self.op_range(b.lhs.span(), b.rhs.span());
                if b.return_bool && !b.op.is_comparison() {
                    self.err(
                        op_range,
                        "bool modifier can only be used on comparison operators",
                    );
                }
                if b.op.is_comparison()
                    && !b.return_bool
                    && b.rhs.value_type() == ValueType::Scalar
                    && b.lhs.value_type() == ValueType::Scalar
                {
                    self.err(
                        op_range,
                        "comparisons between scalars must use BOOL modifier",
                    );
                }
                if let Some(vm) = &mut b.matching {
                    if b.op.is_set_operator() && vm.card == VectorMatchCardinality::OneToOne {
                        vm.card = VectorMatchCardinality::ManyToMany;
                    }
                    if vm.on {
                        for l1 in &vm.matching_labels {
                            if vm.include.contains(l1) {
                                self.errors.push(RawError {
                                    span: op_range,
                                    msg: format!(
                                        "label {l1:?} must not occur in ON and GROUP clause at once"
                                    ),
                                });
                            }
                        }
                    }
                }
                if lt != ValueType::Scalar && lt != ValueType::Vector {
                    self.err(
                        b.lhs.span(),
                        "binary expression must contain only scalar and instant vector types",
                    );
                }
                if rt != ValueType::Scalar && rt != ValueType::Vector {
                    self.err(
                        b.rhs.span(),
                        "binary expression must contain only scalar and instant vector types",
                    );
                }
                if lt != ValueType::Vector || rt != ValueType::Vector {
                    if let Some(vm) = &b.matching {
                        if !vm.matching_labels.is_empty() {
                            self.err(
                                node_span,
                                "vector matching only allowed between instant vectors",
                            );
                        }
                        if !vm.fill.is_empty() {
                            self.err(
                                node_span,
                                "filling in missing series only allowed between instant vectors",
                            );
                        }
                    }
                    b.matching = None;
                } else if b.op.is_set_operator() {
                    if let Some(vm) = &b.matching {
                        if matches!(
                            vm.card,
                            VectorMatchCardinality::OneToMany | VectorMatchCardinality::ManyToOne
                        ) {
                            self.err(
                                node_span,
                                format!("no grouping allowed for {:?} operation", b.op.as_str()),
                            );
                        }
                        if vm.card != VectorMatchCardinality::ManyToMany {
                            self.err(node_span, "set operations must always be many-to-many");
                        }
                        if !vm.fill.is_empty() {
                            self.err(
                                node_span,
                                "filling in missing series not allowed for set operators",
                            );
                        }
                    }
                }
                if (lt == ValueType::Scalar || rt == ValueType::Scalar) && b.op.is_set_operator() {
                    self.err(
                        node_span,
                        format!(
                            "set operator {:?} not allowed in binary scalar expression",
                            b.op.as_str()
                        ),
                    );
                }
            }
            Expr::Call(c) => {
                let f = c.func;
                let nargs = f.arg_types.len();
                if f.variadic == 0 {
                    if nargs != c.args.len() {
                        self.err(
                            node_span,
                            format!(
                                "expected {nargs} argument(s) in call to {:?}, got {}",
                                f.name,
                                c.args.len()
                            ),
                        );
                    }
                } else {
                    let na = nargs.saturating_sub(1);
                    if na > c.args.len() {
                        self.err(
                            node_span,
                            format!(
                                "expected at least {na} argument(s) in call to {:?}, got {}",
                                f.name,
                                c.args.len()
                            ),
                        );
                    } else if f.variadic > 0 && na + (f.variadic as usize) < c.args.len() {
                        self.err(
                            node_span,
                            format!(
                                "expected at most {} argument(s) in call to {:?}, got {}",
                                na + f.variadic as usize,
                                f.name,
                                c.args.len()
                            ),
                        );
                    }
                }
                if f.name == "info" && c.args.len() > 1 {
                    let t1 = c.args[1].value_type();
                    if t1 != ValueType::Vector {
                        self.err(
                            node_span,
                            format!(
                                "expected type {} in call to function {:?}, got {t1}",
                                ValueType::Vector,
                                f.name
                            ),
                        );
                    }
                    let a1span = c.args[1].span();
                    match &mut c.args[1] {
                        Expr::VectorSelector(vs) if vs.name.is_some() => self.err(
                            a1span,
                            "expected label selectors only, got vector selector instead",
                        ),
                        Expr::VectorSelector(vs) => vs.bypass_empty_matcher_check = true,
                        _ => self.err(a1span, "expected label selectors only"),
                    }
                }
                for i in 0..c.args.len() {
                    let mut ti = i;
                    if i >= nargs {
                        if f.variadic == 0 || nargs == 0 {
                            break;
                        }
                        ti = nargs - 1;
                    }
                    let want = f.arg_types[ti];
                    let t = self.check(&mut c.args[i]);
                    if t != want {
                        self.err(
                            c.args[i].span(),
                            format!(
                                "expected type {want} in call to function {:?}, got {t}",
                                f.name
                            ),
                        );
                    }
                }
            }
            Expr::Paren(p) => {
                self.check(&mut p.expr);
            }
            Expr::Unary(u) => {
                let t = self.check(&mut u.expr);
                if t != ValueType::Scalar && t != ValueType::Vector {
                    self.err(
                        node_span,
                        format!(
                            "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                            t.as_str()
                        ),
                    );
                }
            }
            Expr::Subquery(s) => {
                let t = self.check(&mut s.expr);
                if t != ValueType::Vector {
                    self.err(
                        node_span,
                        format!(
                            "subquery is only allowed on instant vector, got {} instead",
                            raw(t)
                        ),
                    );
                }
            }
            Expr::MatrixSelector(m) => {
                self.check_vs(&m.vector_selector);
            }
            Expr::VectorSelector(vs) => {
                let vs: &VectorSelector = vs;
                self.check_vs(vs);
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
        }
        typ
    }

    fn check_vs(&mut self, vs: &VectorSelector) {
        if vs.name.is_some() {
            return;
        }
        if !vs.bypass_empty_matcher_check && vs.matchers.iter().all(|m| m.matches_empty()) {
            self.err(
                vs.span,
                "vector selector must contain at least one non-empty matcher",
            );
        }
    }
}
