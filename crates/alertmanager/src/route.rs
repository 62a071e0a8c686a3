//! The routing tree (`dispatch/route.go`): each node's options inherit from its parent, an alert
//! descends into the first matching child (and on into later siblings while `continue` is set),
//! and the deepest matching nodes are the routes it is delivered through.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use promplay_model::Labels;

use crate::config::{
    build_matchers, ConfigError, RouteConfig, DEFAULT_GROUP_INTERVAL, DEFAULT_GROUP_WAIT,
    DEFAULT_REPEAT_INTERVAL, MAX_ROUTE_DEPTH,
};
use crate::duration::Duration;
use crate::matchers::Matchers;

/// The options of a route after inheritance (`RouteOpts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteOpts {
    pub receiver: String,
    /// Label names to group by (sorted); empty with `group_by_all` means `...`.
    pub group_by: BTreeSet<String>,
    pub group_by_all: bool,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
}

/// A node of the routing tree.
#[derive(Clone, Debug)]
pub struct Route {
    pub opts: RouteOpts,
    pub matchers: Matchers,
    pub continue_: bool,
    pub routes: Vec<Route>,
    /// `Route.Key()`: the matchers of every node from the root, joined by `/`.
    pub key: String,
    /// `Route.ID()`: like the key, with each node's index among its siblings.
    pub id: String,
}

impl Route {
    /// Builds the tree from the (validated) root route of a config.
    pub fn new(cfg: &RouteConfig) -> Result<Route, ConfigError> {
        let root_opts = RouteOpts {
            receiver: String::new(),
            group_by: BTreeSet::new(),
            group_by_all: false,
            group_wait: DEFAULT_GROUP_WAIT,
            group_interval: DEFAULT_GROUP_INTERVAL,
            repeat_interval: DEFAULT_REPEAT_INTERVAL,
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
        };
        Route::build(cfg, &root_opts, None, 0)
    }

    fn build(
        cfg: &RouteConfig,
        parent: &RouteOpts,
        parent_ids: Option<(&str, &str, usize)>,
        depth: usize,
    ) -> Result<Route, ConfigError> {
        if depth > MAX_ROUTE_DEPTH {
            return Err(ConfigError {
                line: None,
                column: None,
                message: format!("routing tree is deeper than {MAX_ROUTE_DEPTH} levels"),
            });
        }
        let mut opts = parent.clone();
        if let Some(r) = cfg.receiver.as_deref().filter(|r| !r.is_empty()) {
            opts.receiver = r.to_string();
        }
        if !cfg.group_by.is_empty() {
            opts.group_by_all = cfg.group_by.iter().any(|g| g == "...");
            opts.group_by = cfg
                .group_by
                .iter()
                .filter(|g| *g != "...")
                .cloned()
                .collect();
        }
        if let Some(d) = cfg.group_wait {
            opts.group_wait = d;
        }
        if let Some(d) = cfg.group_interval {
            opts.group_interval = d;
        }
        if let Some(d) = cfg.repeat_interval {
            opts.repeat_interval = d;
        }
        opts.mute_time_intervals = cfg.mute_time_intervals.clone();
        opts.active_time_intervals = cfg.active_time_intervals.clone();
        let matchers = build_matchers(&cfg.match_, &cfg.match_re, &cfg.matchers)?;
        let ms = matchers.to_string();
        let (key, id) = match parent_ids {
            None => (ms.clone(), ms),
            Some((pkey, pid, idx)) => (format!("{pkey}/{ms}"), format!("{pid}/{ms}/{idx}")),
        };
        let mut routes = Vec::with_capacity(cfg.routes.len());
        for (i, c) in cfg.routes.iter().enumerate() {
            routes.push(Route::build(c, &opts, Some((&key, &id, i)), depth + 1)?);
        }
        Ok(Route {
            opts,
            matchers,
            continue_: cfg.continue_,
            routes,
            key,
            id,
        })
    }

    /// `Route.Match`: the routes an alert with `labels` is delivered through, in tree order.
    pub fn match_labels(&self, labels: &Labels) -> Vec<&Route> {
        if !self.matchers.matches(labels) {
            return Vec::new();
        }
        let mut all = Vec::new();
        for c in &self.routes {
            let m = c.match_labels(labels);
            let matched = !m.is_empty();
            all.extend(m);
            if matched && !c.continue_ {
                break;
            }
        }
        if all.is_empty() {
            all.push(self);
        }
        all
    }

    /// Every node of the tree, depth first.
    pub fn walk(&self) -> Vec<&Route> {
        let mut out = vec![self];
        for c in &self.routes {
            out.extend(c.walk());
        }
        out
    }

    /// The label set an alert is grouped by on this route.
    pub fn group_labels(&self, labels: &Labels) -> Labels {
        if self.opts.group_by_all {
            return labels.clone();
        }
        let names: Vec<&str> = self.opts.group_by.iter().map(String::as_str).collect();
        labels.keep(&names)
    }

    /// amtool's `getRouteTreeSlug`.
    fn slug(&self, show_continue: bool, show_receiver: bool) -> String {
        let mut s = if self.matchers.is_empty() {
            "default-route".to_string()
        } else {
            self.matchers.to_string()
        };
        if self.continue_ && show_continue {
            s.push_str("  continue: true");
        }
        if show_receiver {
            // amtool 0.25 prints no grouping (later versions add "  grouping: [...]").
            s.push_str("  receiver: ");
            s.push_str(&self.opts.receiver);
        }
        s
    }

    fn matching_tree(&self, labels: &Labels) -> TreeNode {
        let mut node = TreeNode {
            value: self.slug(false, false),
            children: Vec::new(),
        };
        let mut last = true;
        for c in &self.routes {
            if c.matchers.matches(labels) {
                node.children.push(c.matching_tree(labels));
                last = false;
                if !c.continue_ {
                    break;
                }
            }
        }
        if last {
            node.value = self.slug(false, true);
        }
        node
    }

    fn full_tree(&self) -> TreeNode {
        TreeNode {
            value: self.slug(true, true),
            children: self.routes.iter().map(Route::full_tree).collect(),
        }
    }
}

/// The result of testing a label set against the routing tree (amtool `config routes test`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTest {
    /// Receiver names, in tree order.
    pub receivers: Vec<String>,
    /// The IDs of the matched routes.
    pub route_ids: Vec<String>,
    /// The path taken, rendered as amtool's `--tree` output ("Matching routes:" and the tree).
    pub tree: String,
}

/// Tests which receivers `labels` are routed to, and the path through the tree.
pub fn test_routes(root: &Route, labels: &Labels) -> RouteTest {
    let matched = root.match_labels(labels);
    let tree = format!(
        "Matching routes:\n{}\n\n",
        render_tree(&[root.matching_tree(labels)])
    );
    RouteTest {
        receivers: matched.iter().map(|r| r.opts.receiver.clone()).collect(),
        route_ids: matched.iter().map(|r| r.id.clone()).collect(),
        tree,
    }
}

/// amtool's `config routes show` output.
pub fn show_routes(root: &Route) -> String {
    format!("Routing tree:\n{}\n", render_tree(&[root.full_tree()]))
}

struct TreeNode {
    value: String,
    children: Vec<TreeNode>,
}

/// Renders as `github.com/xlab/treeprint` does: a `.` root and box-drawing edges.
fn render_tree(children: &[TreeNode]) -> String {
    fn go(out: &mut String, nodes: &[TreeNode], prefix: &str) {
        for (i, n) in nodes.iter().enumerate() {
            let last = i + 1 == nodes.len();
            let edge = if last { "└──" } else { "├──" };
            let _ = writeln!(out, "{prefix}{edge} {}", n.value);
            // treeprint (as vendored in amtool 0.25) draws the link as "│" + 2 NBSP + space
            let next = format!("{prefix}{}", if last { "    " } else { "│\u{a0}\u{a0} " });
            go(out, &n.children, &next);
        }
    }
    let mut out = String::from(".\n");
    go(&mut out, children, "");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const CFG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['severity=~"crit.*"']
      receiver: pager
      continue: true
      group_wait: 10s
    - match: {team: db}
      receiver: db
      routes:
        - match_re: {service: "mysql|pg"}
          receiver: db-sql
          group_by: ['...']
    - matchers: [team=frontend]
      receiver: frontend
receivers: [{name: default}, {name: pager}, {name: db}, {name: db-sql}, {name: frontend}]
"#;

    fn tree() -> Route {
        let c = Config::load(CFG).unwrap();
        Route::new(c.route.as_ref().unwrap()).unwrap()
    }

    fn recv(l: &[(&str, &str)]) -> Vec<String> {
        test_routes(&tree(), &Labels::from_pairs(l)).receivers
    }

    #[test]
    fn routing_follows_first_match_and_continue() {
        assert_eq!(recv(&[("alertname", "x")]), vec!["default"]);
        assert_eq!(recv(&[("severity", "critical")]), vec!["pager"]);
        assert_eq!(
            recv(&[("severity", "critical"), ("team", "db")]),
            vec!["pager", "db"]
        );
        assert_eq!(recv(&[("team", "db"), ("service", "pg")]), vec!["db-sql"]);
        assert_eq!(recv(&[("team", "frontend")]), vec!["frontend"]);
    }

    #[test]
    fn options_inherit() {
        let t = tree();
        assert_eq!(t.routes[0].opts.group_wait, Duration::from_secs(10));
        assert_eq!(t.routes[1].opts.group_wait, DEFAULT_GROUP_WAIT);
        assert!(t.routes[1].routes[0].opts.group_by_all);
        assert_eq!(
            t.routes[1].opts.group_by.iter().collect::<Vec<_>>(),
            vec!["alertname"]
        );
        assert_eq!(
            t.routes[1].routes[0].key,
            r#"{}/{team="db"}/{service=~"^(?:mysql|pg)$"}"#
        );
        assert_eq!(
            t.routes[1].routes[0].id,
            r#"{}/{team="db"}/1/{service=~"^(?:mysql|pg)$"}/0"#
        );
    }

    #[test]
    fn tree_output_like_amtool() {
        let t = test_routes(
            &tree(),
            &Labels::from_pairs(&[("severity", "critical"), ("team", "db")]),
        );
        assert_eq!(
            t.tree,
            "Matching routes:\n.\n└── default-route\n    ├── {severity=~\"crit.*\"}  receiver: pager\n    └── {team=\"db\"}  receiver: db\n\n\n"
        );
        let s = show_routes(&tree());
        assert!(s.starts_with("Routing tree:\n.\n└── default-route  receiver: default\n    ├── {severity=~\"crit.*\"}  continue: true  receiver: pager"), "{s}");
    }
}
