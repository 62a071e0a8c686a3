//! The `filefd` collector: allocated and maximum file handles from /proc/sys/fs/file-nr.

use super::{parse_file, Ctx, Families, NodeError};

/// Parses /proc/sys/fs/file-nr (`allocated  unused  maximum`): (allocated, maximum).
pub fn parse_file_nr(text: &str) -> Result<(u64, u64), String> {
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    if parts.len() != 3 {
        return Err(format!("unexpected number of fields in file-nr: {text:?}"));
    }
    let num = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("invalid value {s:?} in file-nr"))
    };
    Ok((num(parts[0])?, num(parts[2])?))
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let (allocated, maximum) = parse_file(&ctx.paths.proc("sys/fs/file-nr"), parse_file_nr)?;
    out.gauge(
        "node_filefd_allocated",
        "File descriptor statistics: allocated.",
        &[],
        allocated as f64,
    );
    out.gauge(
        "node_filefd_maximum",
        "File descriptor statistics: maximum.",
        &[],
        maximum as f64,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_nr() {
        assert_eq!(
            parse_file_nr("1055\t0\t2466170\n").unwrap(),
            (1055, 2466170)
        );
        assert!(parse_file_nr("1055 0\n").is_err());
        assert!(parse_file_nr("a 0 1\n").is_err());
        assert!(parse_file_nr("").is_err());
    }
}
