//! PromQL: a lalrpop parser, a printer and an evaluator with Prometheus's semantics.
