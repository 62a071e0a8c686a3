//! Fuzzes the PromQL parser and printer: no panic on any input; whatever parses round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    promplay_promql::parser::fuzz_one(data);
});
