//! Recording and alerting rules (Prometheus's `rules/` and `model/rulefmt`), and promtool's
//! rule checks and unit tests.
//!
//! Module map:
//! - [`rulefmt`]: rule files — parsing, strict fields, validation with promtool's messages.
//! - [`rule`]: [`RecordingRule`], [`AlertingRule`] (the alert state machine), [`Alert`].
//! - [`group`]: [`Group`] — sequential evaluation, aligned timestamps, staleness, limits.
//! - [`manager`]: [`RuleManager`] — groups from files, evaluation on the host's clock, reloads.
//! - [`template`]: Prometheus's template functions and alert label/annotation expansion.
//! - [`api`]: the JSON of `/api/v1/rules` and `/api/v1/alerts`.
//! - [`check`]: `promtool check rules` (count, errors, duplicate-rule lint).
//! - [`unittest`]: `promtool test rules` (the unit-test file format and runner).
//!
//! Architecture: no I/O and no wall clock. Queries go through a [`QueryFunc`] (Prometheus's
//! `QueryFunc`): the host decides what answers them ([`engine_query_func`] adapts the PromQL
//! engine over any storage). Results are written through a [`promplay_tsdb::Db`] appender.
//! Time is always a parameter; evaluation durations come from an optional host [`Clock`].
//!
//! [`Clock`]: promplay_model::Clock
//!
//! # Example: the seed's alert on a virtual clock
//!
//! ```
//! use std::rc::Rc;
//! use promplay_model::Labels;
//! use promplay_promql::{Engine, EngineOptions};
//! use promplay_rules::{engine_query_func, AlertState, ManagerOptions, RuleManager};
//! use promplay_tsdb::{Db, Options};
//!
//! let db = Rc::new(Db::new(Options::default()));
//! let query = engine_query_func(Engine::new(EngineOptions::default()), db.clone());
//! let mut opts = ManagerOptions::new(query);
//! opts.evaluation_interval_ms = 10_000;
//! let mut rules = RuleManager::new(opts);
//! let file = "groups:\n- name: example\n  rules:\n  - alert: InstanceDown\n    expr: up == 0\n    for: 1m\n";
//! rules.update(&[("rules.yml".into(), file.into())], false, 0, &db).unwrap();
//!
//! let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! let mut sent = Vec::new();
//! for t in (0..=120_000).step_by(10_000) {
//!     let mut app = db.appender();
//!     app.append(&up, t, 0.0).unwrap();
//!     app.commit().unwrap();
//!     sent.extend(rules.eval_due(t, &db, None)); // alerts for the notifier
//! }
//! let rule = rules.groups()[0].rules[0].as_alerting().unwrap();
//! assert_eq!(rule.state(), AlertState::Firing);
//! assert_eq!(sent.len(), 1);
//! let _json = promplay_rules::api::rules_response(rules.groups()); // /api/v1/rules
//! ```

pub mod api;
pub mod check;
pub mod duration;
pub mod group;
pub mod manager;
pub mod rule;
pub mod rulefmt;
pub mod template;
pub mod unittest;
pub mod xxhash;
pub mod yamlpos;

use std::fmt;
use std::rc::Rc;

use promplay_promql::ast::Expr;
use promplay_promql::value::{Value, Vector};
use promplay_promql::Engine;
use promplay_tsdb::Queryable;

pub use group::{EvalContext, Group};
pub use manager::{ManagerOptions, RuleManager};
pub use rule::{Alert, AlertState, AlertingRule, Health, NotifierAlert, RecordingRule, Rule};

/// Why a rule evaluation failed, in Prometheus's words.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleError {
    /// The query failed (the engine's message).
    Query(String),
    /// The expression evaluated to a matrix or a string.
    NotVectorOrScalar,
    /// `vector contains metrics with the same labelset after applying rule labels`.
    SameLabelsetRule,
    /// `vector contains metrics with the same labelset after applying alert labels`.
    SameLabelsetAlert,
    /// `exceeded limit of N with M series` / `… alerts`.
    Limit {
        limit: usize,
        got: usize,
        what: &'static str,
    },
    /// Writing the result failed (the storage's message).
    Append(String),
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::Query(m) | RuleError::Append(m) => f.write_str(m),
            RuleError::NotVectorOrScalar => f.write_str("rule result is not a vector or scalar"),
            RuleError::SameLabelsetRule => f.write_str(
                "vector contains metrics with the same labelset after applying rule labels",
            ),
            RuleError::SameLabelsetAlert => f.write_str(
                "vector contains metrics with the same labelset after applying alert labels",
            ),
            RuleError::Limit { limit, got, what } => {
                write!(f, "exceeded limit of {limit} with {got} {what}")
            }
        }
    }
}

impl std::error::Error for RuleError {}

/// Prometheus's `QueryFunc`: evaluates an expression at a millisecond timestamp, giving an
/// instant vector (a scalar becomes one sample without labels).
pub type QueryFunc = dyn Fn(&str, i64) -> Result<Vector, RuleError>;

/// Prometheus's `EngineQueryFunc`: instant queries of `engine` over `storage`.
pub fn engine_query_func<Q: Queryable + 'static>(engine: Engine, storage: Rc<Q>) -> Rc<QueryFunc> {
    Rc::new(move |q: &str, t: i64| {
        let res = engine
            .instant_query(&*storage, q, t)
            .map_err(|e| RuleError::Query(e.to_string()))?;
        match res.value {
            Value::Vector(v) => Ok(v),
            Value::Scalar { t, v } => Ok(vec![promplay_promql::value::Sample::float(
                promplay_model::Labels::default(),
                t,
                v,
            )]),
            _ => Err(RuleError::NotVectorOrScalar),
        }
    })
}

/// Parses a rule expression as Prometheus's rule loader does.
pub fn parse_expr(s: &str) -> Result<Expr, String> {
    promplay_promql::parser::parse_with(s, &promplay_promql::parser::ParserOptions::all())
        .map_err(|e| e.to_string())
}
