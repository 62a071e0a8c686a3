//! AST back to PromQL text (Prometheus's `printer.go` and `prettier.go`).
//!
//! - `Display for Expr` is the canonical one-line form (`Expr.String()`).
//! - [`pretty`] is the indented multi-line form (`Prettify`), splitting nodes whose one-line
//!   form exceeds [`MAX_CHARACTERS_PER_LINE`].
//! - [`tree`] is the indented node dump `promplay promql parse --tree` prints.
//!
//! Contract: `parse(print(e))` equals `e` (spans aside) for every parsed `e`: parentheses are
//! nodes of the tree, so printing needs no precedence logic. Recursion depth is the tree
//! depth, which the parser bounds.

use std::fmt::{self, Write as _};

use promplay_model::labels::{is_legacy_metric_name, write_go_quoted};
use promplay_model::{MatchType, METRIC_NAME};

use crate::ast::*;
use crate::parser::format_duration;

/// Upstream's `maxCharactersPerLine`.
pub const MAX_CHARACTERS_PER_LINE: usize = 100;

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`, as upstream prints number literals: the
/// shortest decimal that round-trips, never an exponent; `+Inf`, `-Inf`, `NaN`.
pub use promplay_model::gofmt::format_f as format_float;

/// A grouping label, quoted unless it is a legacy *metric* name (upstream's `writeLabels`:
/// `a:b` stays bare, as the lexer reads it back as one identifier).
fn write_label_name(f: &mut impl fmt::Write, name: &str) -> fmt::Result {
    if is_legacy_metric_name(name) {
        f.write_str(name)
    } else {
        write_go_quoted(f, name)
    }
}

fn write_labels(f: &mut impl fmt::Write, labels: &[String]) -> fmt::Result {
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_label_name(f, l)?;
    }
    Ok(())
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationExpr::Number { val, .. } => f.write_str(&format_float(*val)),
            DurationExpr::Duration { ms, .. } => f.write_str(&format_duration(*ms)),
            DurationExpr::Step { .. } => f.write_str("step()"),
            DurationExpr::Range { .. } => f.write_str("range()"),
            DurationExpr::MinOf { lhs, rhs, .. } => write!(f, "min_of({lhs}, {rhs})"),
            DurationExpr::MaxOf { lhs, rhs, .. } => write!(f, "max_of({lhs}, {rhs})"),
            DurationExpr::Unary { op, expr, .. } => write!(f, "{}{expr}", op.as_str()),
            DurationExpr::Binary { op, lhs, rhs, .. } => {
                write!(f, "{lhs} {} {rhs}", op.as_str())
            }
            DurationExpr::Paren { expr, .. } => write!(f, "({expr})"),
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Duration::Literal(ms) => f.write_str(&format_duration(*ms)),
            Duration::Expr(e) => e.fmt(f),
        }
    }
}

fn write_at_offset(
    f: &mut impl fmt::Write,
    timestamp: Option<i64>,
    start_or_end: Option<StartOrEnd>,
    offset: &Duration,
) -> fmt::Result {
    if let Some(t) = timestamp {
        write!(f, " @ {:.3}", t as f64 / 1000.0)?;
    } else {
        match start_or_end {
            Some(StartOrEnd::Start) => f.write_str(" @ start()")?,
            Some(StartOrEnd::End) => f.write_str(" @ end()")?,
            None => {}
        }
    }
    if !offset.is_zero_literal() {
        write!(f, " offset {offset}")?;
    }
    Ok(())
}

fn write_selector_body(f: &mut impl fmt::Write, vs: &VectorSelector) -> fmt::Result {
    let name = vs.name.as_deref().filter(|n| !n.is_empty());
    // Upstream prints the matchers sorted by their text, joined by ",".
    let mut shown: Vec<String> = vs
        .matchers
        .iter()
        .filter(|m| {
            !(m.name == METRIC_NAME && m.kind == MatchType::Equal && Some(m.value.as_str()) == name)
        })
        .map(|m| m.to_string())
        .collect();
    shown.sort_unstable();
    match name {
        Some(n) if is_legacy_metric_name(n) => {
            f.write_str(n)?;
            if !shown.is_empty() {
                write!(f, "{{{}}}", shown.join(","))?;
            }
        }
        Some(n) => {
            f.write_char('{')?;
            write_go_quoted(f, n)?;
            for m in &shown {
                write!(f, ",{m}")?;
            }
            f.write_char('}')?;
        }
        None => write!(f, "{{{}}}", shown.join(","))?,
    }
    Ok(())
}

fn write_extended(f: &mut impl fmt::Write, vs: &VectorSelector) -> fmt::Result {
    if vs.anchored {
        f.write_str(" anchored")?;
    }
    if vs.smoothed {
        f.write_str(" smoothed")?;
    }
    Ok(())
}

/// Upstream's order: selector, `[range]`, `anchored`/`smoothed`, `@`, `offset`.
impl fmt::Display for VectorSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_selector_body(f, self)?;
        write_extended(f, self)?;
        write_at_offset(f, self.timestamp, self.start_or_end, &self.offset)
    }
}

impl AggregateExpr {
    /// `sum by (a, b) ` / `sum without (a) ` / `sum` (upstream's `getAggOpStr`).
    fn op_str(&self, f: &mut impl fmt::Write) -> fmt::Result {
        f.write_str(self.op.as_str())?;
        if self.without {
            f.write_str(" without (")?;
            write_labels(f, &self.grouping)?;
            f.write_str(") ")?;
        } else if !self.grouping.is_empty() {
            f.write_str(" by (")?;
            write_labels(f, &self.grouping)?;
            f.write_str(") ")?;
        }
        Ok(())
    }
}

impl BinaryExpr {
    /// ` bool on (a) group_left (b) fill(0)` (upstream's `returnBool` + `getMatchingStr`).
    fn modifiers_str(&self, f: &mut impl fmt::Write) -> fmt::Result {
        if self.return_bool {
            f.write_str(" bool")?;
        }
        let Some(vm) = &self.matching else {
            return Ok(());
        };
        let grouped = matches!(
            vm.card,
            VectorMatchCardinality::ManyToOne | VectorMatchCardinality::OneToMany
        );
        if vm.on || !vm.matching_labels.is_empty() || grouped {
            f.write_str(if vm.on { " on (" } else { " ignoring (" })?;
            write_labels(f, &vm.matching_labels)?;
            f.write_char(')')?;
            if grouped {
                f.write_str(if vm.card == VectorMatchCardinality::ManyToOne {
                    " group_left ("
                } else {
                    " group_right ("
                })?;
                write_labels(f, &vm.include)?;
                f.write_char(')')?;
            }
        }
        match (vm.fill.lhs, vm.fill.rhs) {
            (Some(l), Some(r)) if l.to_bits() == r.to_bits() => {
                write!(f, " fill ({})", format_float(l))?
            }
            (l, r) => {
                if let Some(l) = l {
                    write!(f, " fill_left ({})", format_float(l))?;
                }
                if let Some(r) = r {
                    write!(f, " fill_right ({})", format_float(r))?;
                }
            }
        }
        Ok(())
    }
}

impl SubqueryExpr {
    fn suffix(&self, f: &mut impl fmt::Write) -> fmt::Result {
        write!(f, "[{}:", self.range)?;
        if let Some(s) = &self.step {
            write!(f, "{s}")?;
        }
        f.write_char(']')?;
        write_at_offset(f, self.timestamp, self.start_or_end, &self.offset)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Aggregate(a) => {
                a.op_str(f)?;
                f.write_char('(')?;
                if let Some(p) = &a.param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{})", a.expr)
            }
            Expr::Binary(b) => {
                write_lhs(f, b)?;
                write!(f, " {}", b.op)?;
                b.modifiers_str(f)?;
                write!(f, " {}", b.rhs)
            }
            Expr::Call(c) => {
                write!(f, "{}(", c.func.name)?;
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
            Expr::MatrixSelector(m) => {
                let vs = &m.vector_selector;
                write_selector_body(f, vs)?;
                write!(f, "[{}]", m.range)?;
                write_extended(f, vs)?;
                write_at_offset(f, vs.timestamp, vs.start_or_end, &vs.offset)
            }
            Expr::Subquery(s) => {
                write!(f, "{}", s.expr)?;
                s.suffix(f)
            }
            Expr::NumberLiteral(n) => {
                if n.duration {
                    let ms = (n.val * 1000.0).round();
                    if n.val.is_finite() && ms.abs() < i64::MAX as f64 {
                        return f.write_str(&format_duration(ms as i64));
                    }
                }
                f.write_str(&format_float(n.val))
            }
            Expr::StringLiteral(s) => write_go_quoted(f, &s.val),
            Expr::Paren(p) => write!(f, "({})", p.expr),
            Expr::Unary(u) => write!(f, "{}{}", u.op.as_str(), u.expr),
            Expr::VectorSelector(vs) => vs.fmt(f),
        }
    }
}

/// The left operand. Upstream writes +Inf as `+Inf`, but as the left operand of `^` that
/// sign would be read back as a unary plus over the whole power (`+Inf ^ 2` is `+(Inf ^ 2)`),
/// so there it is written `Inf`: printing must round-trip.
fn write_lhs(f: &mut impl fmt::Write, b: &BinaryExpr) -> fmt::Result {
    match &*b.lhs {
        Expr::NumberLiteral(n)
            if b.op == BinaryOp::Pow && !n.duration && n.val == f64::INFINITY =>
        {
            f.write_str("Inf")
        }
        lhs => write!(f, "{lhs}"),
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Whether the one-line form is longer than `width`. Stops formatting as soon as the limit
/// is passed, so pretty-printing stays linear in the output size.
fn needs_split(e: &Expr, width: usize) -> bool {
    struct Counter(usize, usize);
    impl fmt::Write for Counter {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 += s.len();
            if self.0 > self.1 {
                Err(fmt::Error)
            } else {
                Ok(())
            }
        }
    }
    let mut c = Counter(0, width);
    write!(c, "{e}").is_err()
}

/// The indented multi-line form (upstream's `Prettify`): nodes whose one-line form is longer
/// than [`MAX_CHARACTERS_PER_LINE`] are split over several lines, two spaces per level.
pub fn pretty(e: &Expr) -> String {
    pretty_with_width(e, MAX_CHARACTERS_PER_LINE)
}

/// [`pretty`] with another line limit (upstream's tests use 10).
pub fn pretty_with_width(e: &Expr, width: usize) -> String {
    let mut out = String::new();
    pretty_into(&mut out, e, 0, width);
    out
}

fn pretty_into(out: &mut String, e: &Expr, level: usize, width: usize) {
    let split = || needs_split(e, width);
    match e {
        Expr::Aggregate(a) if split() => {
            indent(out, level);
            let _ = a.op_str(out);
            out.push_str("(\n");
            if let Some(p) = &a.param {
                pretty_into(out, p, level + 1, width);
                out.push_str(",\n");
            }
            pretty_into(out, &a.expr, level + 1, width);
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Binary(b) if split() => {
            if matches!(&*b.lhs, Expr::NumberLiteral(_)) {
                indent(out, level + 1);
                let _ = write_lhs(out, b);
            } else {
                pretty_into(out, &b.lhs, level + 1, width);
            }
            out.push('\n');
            indent(out, level);
            out.push_str(b.op.as_str());
            let _ = b.modifiers_str(out);
            out.push('\n');
            pretty_into(out, &b.rhs, level + 1, width);
        }
        Expr::Call(c) if split() => {
            indent(out, level);
            out.push_str(c.func.name);
            out.push_str("(\n");
            for (i, a) in c.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                pretty_into(out, a, level + 1, width);
            }
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Paren(p) if split() => {
            indent(out, level);
            out.push_str("(\n");
            pretty_into(out, &p.expr, level + 1, width);
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Subquery(s) if split() => {
            pretty_into(out, &s.expr, level, width);
            let _ = s.suffix(out);
        }
        Expr::Unary(u) => {
            let mut child = String::new();
            pretty_into(&mut child, &u.expr, level, width);
            indent(out, level);
            out.push_str(u.op.as_str());
            out.push_str(child.trim());
        }
        _ => {
            indent(out, level);
            let _ = write!(out, "{e}");
        }
    }
}

/// An indented dump of the tree: one node per line with its kind, byte span, result type and
/// the node's own attributes (operator, name, modifiers).
pub fn tree(e: &Expr) -> String {
    let mut out = String::new();
    tree_into(&mut out, e, 0);
    out
}

fn tree_into(out: &mut String, e: &Expr, level: usize) {
    indent(out, level);
    let s = e.span();
    let _ = write!(
        out,
        "{} {}..{} {}",
        e.kind_name(),
        s.start,
        s.end,
        e.value_type()
    );
    match e {
        Expr::Aggregate(a) => {
            let _ = write!(out, " op={}", a.op);
            if a.without || !a.grouping.is_empty() {
                let _ = write!(
                    out,
                    " {}=({})",
                    if a.without { "without" } else { "by" },
                    a.grouping.join(", ")
                );
            }
        }
        Expr::Binary(b) => {
            let _ = write!(out, " op={}", b.op);
            let mut m = String::new();
            let _ = b.modifiers_str(&mut m);
            if !m.is_empty() {
                let _ = write!(out, " modifiers=\"{}\"", m.trim());
            }
            if let Some(vm) = &b.matching {
                let _ = write!(out, " card={}", vm.card.as_str());
            }
        }
        Expr::Call(c) => {
            let _ = write!(out, " func={}", c.func.name);
        }
        Expr::MatrixSelector(m) => {
            let _ = write!(out, " selector={} range={}", m.vector_selector, m.range);
        }
        Expr::Subquery(sq) => {
            let mut sfx = String::new();
            let _ = sq.suffix(&mut sfx);
            let _ = write!(out, " {sfx}");
        }
        Expr::NumberLiteral(n) => {
            let _ = write!(out, " {}", format_float(n.val));
        }
        Expr::StringLiteral(st) => {
            out.push(' ');
            let _ = write_go_quoted(out, &st.val);
        }
        Expr::Unary(u) => {
            let _ = write!(out, " op={}", u.op.as_str());
        }
        Expr::VectorSelector(vs) => {
            let _ = write!(out, " {vs}");
        }
        Expr::Paren(_) => {}
    }
    out.push('\n');
    for c in e.children() {
        tree_into(out, c, level + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::format_float;

    #[test]
    fn go_float_format() {
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(1e20), "100000000000000000000");
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(1.5e-5), "0.000015");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(-0.0), "-0");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float(12340000.0), "12340000");
    }
}
