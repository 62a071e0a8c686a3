//! The Prometheus text format 0.0.4 and OpenMetrics 1.0: writer and parser.
//!
//! - [`negotiate`] picks the format for a scraper's `Accept` header as Python's
//!   prometheus_client 0.26 does, with the `Content-Type` to answer.
//! - [`write`] writes [`MetricFamily`] snapshots (what a client library collects) to any
//!   `fmt::Write`, byte for byte as prometheus_client writes them.
//! - [`parse_openmetrics`] and [`parse_text`] read an exposition into [`ParsedFamily`]s with
//!   [`promplay_model::Labels`]; errors carry line and column.
//!
//! Architecture invariants: no I/O (the writer takes `fmt::Write`, the parsers a byte slice),
//! no clock, no knowledge of any client library: the instrument crate depends on this one, never
//! the other way. Bad input never panics: the parsers are iterative (no recursion) and index
//! only within bounds they checked.

pub mod float;
pub mod lint;
pub mod negotiate;
pub mod openmetrics;
pub mod parse;
pub mod snapshot;
pub mod text;
pub mod textparse;
pub mod write;

pub use float::{go_float, python_repr};
pub use negotiate::{negotiate, Escaping, Format, FormatKind};
pub use openmetrics::{parse_openmetrics, parse_openmetrics_with, FamilyInfo};
pub use parse::{ParseError, ParseOptions, ParsedExemplar, ParsedFamily, ParsedSample};
pub use snapshot::{Exemplar, MetricFamily, MetricType, Sample};
pub use text::{parse_text, parse_text_indexed, SampleLine};
pub use textparse::prometheus_error;
pub use write::{write, write_openmetrics, write_text};

/// Parses an exposition in the given format.
pub fn parse(
    input: &[u8],
    kind: FormatKind,
    opts: ParseOptions,
) -> Result<Vec<ParsedFamily>, ParseError> {
    match kind {
        FormatKind::Text => parse_text(input),
        FormatKind::OpenMetrics => parse_openmetrics(input, opts),
    }
}

/// Whether `input` looks like OpenMetrics: its last non-empty line is `# EOF`.
pub fn looks_like_openmetrics(input: &[u8]) -> bool {
    let trimmed = input.strip_suffix(b"\n").unwrap_or(input);
    trimmed.ends_with(b"# EOF") && (trimmed.len() == 5 || trimmed[trimmed.len() - 6] == b'\n')
}
