//! Alertmanager targets from `alerting.alertmanagers` (`notifier.AlertmanagerFromGroup`): the
//! static (or host-discovered) targets relabeled with the section's `relabel_configs`, each
//! giving the URL alerts are posted to.

use promplay_model::Labels;

use crate::config::{check_target_address, AlertmanagerConfig};
use crate::relabel::process_builder;
use crate::scrape::{TargetGroup, ADDRESS_LABEL, SCHEME_LABEL};

/// The label holding the path alerts are posted to.
pub const ALERTS_PATH_LABEL: &str = "__alerts_path__";

/// One Alertmanager to send alerts to.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertmanagerTarget {
    /// Labels after relabeling (`__address__`, `__scheme__`, `__alerts_path__` …).
    pub labels: Labels,
}

impl AlertmanagerTarget {
    /// `scheme://address/path_prefix/api/v2/alerts`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            self.labels.get_or_empty(SCHEME_LABEL),
            self.labels.get_or_empty(ADDRESS_LABEL),
            self.labels.get_or_empty(ALERTS_PATH_LABEL)
        )
    }
}

/// `path_prefix` + `/api/v2/alerts` (`postPath`).
pub fn alerts_path(path_prefix: &str) -> String {
    format!("{}/api/v2/alerts", path_prefix.trim_end_matches('/'))
}

/// The active and dropped Alertmanagers of one target group, or the first invalid address
/// (`"http://x" is not a valid hostname`).
pub fn alertmanagers_from_group(
    tg: &TargetGroup,
    cfg: &AlertmanagerConfig,
) -> Result<(Vec<AlertmanagerTarget>, Vec<Labels>), String> {
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    for t in &tg.targets {
        let mut lb = t.builder();
        lb.set(SCHEME_LABEL, cfg.scheme.as_str());
        lb.set(ALERTS_PATH_LABEL, alerts_path(&cfg.path_prefix));
        for l in tg.labels.iter() {
            if !t.has(&l.name) {
                lb.set(l.name.clone(), l.value.clone());
            }
        }
        let pre = lb.labels();
        if !process_builder(&mut lb, &cfg.relabel_configs, Default::default()) {
            dropped.push(pre);
            continue;
        }
        let addr = lb.get(ADDRESS_LABEL).unwrap_or("").to_string();
        check_target_address(&addr)?;
        active.push(AlertmanagerTarget {
            labels: lb.labels(),
        });
    }
    Ok((active, dropped))
}

/// The Alertmanagers of a section's `static_configs`.
pub fn static_alertmanagers(
    cfg: &AlertmanagerConfig,
) -> Result<(Vec<AlertmanagerTarget>, Vec<Labels>), String> {
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    for (i, sc) in cfg.service_discovery.static_configs.iter().enumerate() {
        let (a, d) = alertmanagers_from_group(&TargetGroup::from_static(sc, i), cfg)?;
        active.extend(a);
        dropped.extend(d);
    }
    Ok((active, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_seed_alertmanager_url() {
        let p = format!(
            "{}/../../../shared/peers/conf/prometheus.yml",
            env!("CARGO_MANIFEST_DIR")
        );
        let cfg = Config::load(&std::fs::read_to_string(p).unwrap()).unwrap();
        let (active, dropped) = static_alertmanagers(&cfg.alerting.alertmanagers[0]).unwrap();
        assert!(dropped.is_empty());
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].url(), "http://127.0.0.1:9093/api/v2/alerts");
    }

    #[test]
    fn relabeling_rewrites_drops_and_checks_addresses() {
        let cfg = Config::load(
            "alerting:\n  alertmanagers:\n    - path_prefix: /am/\n      scheme: https\n      relabel_configs:\n        - source_labels: [__address__]\n          regex: 'skip:.*'\n          action: drop\n        - source_labels: [__address__]\n          target_label: __param_x\n      static_configs:\n        - targets: ['a:9093', 'skip:1', 'http://bad']\n",
        )
        .unwrap();
        let am = &cfg.alerting.alertmanagers[0];
        assert_eq!(
            static_alertmanagers(am).unwrap_err(),
            r#""http://bad" is not a valid hostname"#
        );
        let tg = TargetGroup::from_static(&am.service_discovery.static_configs[0], 0);
        let tg = TargetGroup {
            targets: tg.targets[..2].to_vec(),
            ..tg
        };
        let (active, dropped) = alertmanagers_from_group(&tg, am).unwrap();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].url(), "https://a:9093/am/api/v2/alerts");
        assert_eq!(dropped.len(), 1);
    }
}
