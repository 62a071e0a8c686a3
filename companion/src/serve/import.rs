//! `--import FILE.om`: loads an OpenMetrics file whose samples carry timestamps (what
//! `promtool tsdb create-blocks-from openmetrics` reads) into the database before serving.
//!
//! The file is streamed: it is read in blocks that end at a line boundary, each block parsed
//! (lenient OpenMetrics: the syntax only, so time-major files whose series interleave are
//! accepted) with the file's leading metadata lines in front of it, and its samples appended
//! and committed. Memory stays bounded by the block size whatever the file's size.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{bail, Context};
use promplay_exposition::{parse_openmetrics_with, ParseOptions};
use promplay_tsdb::Db;

const BLOCK_BYTES: usize = 8 << 20;

/// What an import loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Samples stored.
    pub samples: u64,
    /// Samples the database refused (out of order, duplicates, out of bounds).
    pub rejected: u64,
}

/// Imports `path`. Samples without a timestamp are refused: an import needs explicit times.
pub fn import_file(db: &Db, path: &Path) -> anyhow::Result<ImportReport> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    import_reader(db, BufReader::with_capacity(1 << 20, f))
}

/// Imports an OpenMetrics stream.
pub fn import_reader<R: Read>(db: &Db, reader: BufReader<R>) -> anyhow::Result<ImportReport> {
    let mut reader = reader;
    let mut report = ImportReport::default();
    // The leading metadata lines (# HELP/# TYPE/# UNIT) go in front of every block.
    let mut header = Vec::new();
    let mut first_data = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.starts_with(b"# EOF") {
            first_data = line;
            break;
        }
        if line.starts_with(b"#") {
            header.extend_from_slice(&line);
        } else {
            first_data = line;
            break;
        }
    }
    let mut block = Vec::with_capacity(BLOCK_BYTES + header.len() + 1024);
    let mut carry = first_data;
    let mut buf = vec![0u8; BLOCK_BYTES];
    let mut line_no: usize = header.iter().filter(|&&b| b == b'\n').count();
    let mut saw_eof = false;
    loop {
        let n = read_full(&mut reader, &mut buf)?;
        let at_end = n < buf.len();
        let mut data = std::mem::take(&mut carry);
        data.extend_from_slice(&buf[..n]);
        // Cut at the last newline; the rest waits for the next block.
        let cut = if at_end {
            data.len()
        } else {
            match data.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => {
                    carry = data;
                    continue;
                }
            }
        };
        carry = data.split_off(cut);
        if data.is_empty() && at_end {
            break;
        }
        if saw_eof && data.iter().any(|b| !b.is_ascii_whitespace()) {
            bail!("data after # EOF");
        }
        block.clear();
        block.extend_from_slice(&header);
        let has_eof = ends_with_eof(&data);
        saw_eof |= has_eof;
        block.extend_from_slice(&data);
        if !has_eof {
            if !block.ends_with(b"\n") {
                block.push(b'\n');
            }
            block.extend_from_slice(b"# EOF\n");
        }
        let lines_in_block = data.iter().filter(|&&b| b == b'\n').count();
        let mut app = db.appender();
        let mut missing_ts = false;
        let parsed = parse_openmetrics_with(&block, ParseOptions { strict: false }, |_, s| {
            let Some(t) = s.timestamp_ms else {
                missing_ts = true;
                return;
            };
            match app.append(&s.series_labels(), t, s.value) {
                Ok(_) => report.samples += 1,
                Err(_) => report.rejected += 1,
            }
        });
        if let Err(e) = parsed {
            app.rollback();
            // Line numbers in the error count from the block start; report file lines.
            let header_lines = header.iter().filter(|&&b| b == b'\n').count();
            bail!(
                "parsing the OpenMetrics input (block starting at line {}): {e} (line numbers within the block; the first {header_lines} are the file's header)",
                line_no + 1
            );
        }
        if missing_ts {
            app.rollback();
            bail!("a sample has no timestamp: an import needs explicit timestamps");
        }
        app.commit()
            .map_err(|e| anyhow::anyhow!("committing imported samples: {e}"))?;
        line_no += lines_in_block;
        if at_end && carry.is_empty() {
            break;
        }
    }
    if !saw_eof {
        bail!("the OpenMetrics input does not end with # EOF");
    }
    Ok(report)
}

fn ends_with_eof(data: &[u8]) -> bool {
    let t = data.strip_suffix(b"\n").unwrap_or(data);
    t == b"# EOF" || t.ends_with(b"\n# EOF")
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use promplay_tsdb::{Queryable, ValType};

    #[test]
    fn imports_time_major_openmetrics() {
        let text = "# HELP x Some.\n# TYPE x counter\nx_total{a=\"1\"} 1 10\nx_total{a=\"2\"} 5 10\nx_total{a=\"1\"} 2 25\nx_total{a=\"2\"} 6 25\n# EOF\n";
        let db = Db::default();
        let rep = import_reader(&db, BufReader::new(text.as_bytes())).unwrap();
        assert_eq!(
            rep,
            ImportReport {
                samples: 4,
                rejected: 0
            }
        );
        let q = db.querier(0, 100_000).unwrap();
        let m = promplay_model::Matcher::new(promplay_model::MatchType::Equal, "a", "1").unwrap();
        let set = q.select(true, None, &[m]).unwrap();
        assert_eq!(set.series.len(), 1);
        let mut it = set.series[0].iter();
        assert_eq!(it.next(), ValType::Float);
        assert_eq!(it.at(), (10_000, 1.0));
        assert_eq!(it.next(), ValType::Float);
        assert_eq!(it.at(), (25_000, 2.0));
    }

    #[test]
    fn refuses_missing_eof_and_timestamps() {
        let db = Db::default();
        assert!(import_reader(&db, BufReader::new(&b"x 1 10\n"[..])).is_err());
        assert!(import_reader(&db, BufReader::new(&b"x 1\n# EOF\n"[..])).is_err());
        assert!(import_reader(&db, BufReader::new(&b"x{ 1 10\n# EOF\n"[..])).is_err());
    }
}
