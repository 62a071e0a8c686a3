//! An Alertmanager: routing, grouping, inhibition, silences, notifications.
