//! The `timex` collector: the kernel clock discipline's state from adjtimex(2), as node_exporter
//! 1.5 exposes it (offsets in seconds, frequencies as ratios and hertz).

use super::{Ctx, Families, NodeError};

/// adjtimex(2)'s return value when the clock is not synchronized.
const TIME_ERROR: i32 = 5;
/// `status` bit: offsets and jitter are in nanoseconds rather than microseconds.
const STA_NANO: i64 = 0x2000;
/// Frequencies are scaled ppm with 16 fractional bits.
const PPM16FRAC: f64 = 1_000_000.0 * 65536.0;
const MICROSECONDS: f64 = 1_000_000.0;

/// The fields of `struct timex` node_exporter reads, widened to i64.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timex {
    pub offset: i64,
    pub freq: i64,
    pub maxerror: i64,
    pub esterror: i64,
    pub status: i64,
    pub constant: i64,
    pub tick: i64,
    pub ppsfreq: i64,
    pub jitter: i64,
    pub shift: i64,
    pub stabil: i64,
    pub jitcnt: i64,
    pub calcnt: i64,
    pub errcnt: i64,
    pub stbcnt: i64,
    pub tai: i64,
}

/// Adds the families for a reading and adjtimex's return value.
pub fn expose(t: &Timex, state: i32, out: &mut Families) {
    let divisor = if t.status & STA_NANO != 0 {
        1e9
    } else {
        MICROSECONDS
    };
    let g = |out: &mut Families, name: &str, help: &str, v: f64| out.gauge(name, help, &[], v);
    let c = |out: &mut Families, name: &str, help: &str, v: f64| out.counter(name, help, &[], v);
    g(
        out,
        "node_timex_sync_status",
        "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
        if state == TIME_ERROR { 0.0 } else { 1.0 },
    );
    g(
        out,
        "node_timex_offset_seconds",
        "Time offset in between local system and reference clock.",
        t.offset as f64 / divisor,
    );
    g(
        out,
        "node_timex_frequency_adjustment_ratio",
        "Local clock frequency adjustment.",
        1.0 + t.freq as f64 / PPM16FRAC,
    );
    g(
        out,
        "node_timex_maxerror_seconds",
        "Maximum error in seconds.",
        t.maxerror as f64 / MICROSECONDS,
    );
    g(
        out,
        "node_timex_estimated_error_seconds",
        "Estimated error in seconds.",
        t.esterror as f64 / MICROSECONDS,
    );
    g(
        out,
        "node_timex_status",
        "Value of the status array bits.",
        t.status as f64,
    );
    g(
        out,
        "node_timex_loop_time_constant",
        "Phase-locked loop time constant.",
        t.constant as f64,
    );
    g(
        out,
        "node_timex_tick_seconds",
        "Seconds between clock ticks.",
        t.tick as f64 / MICROSECONDS,
    );
    g(
        out,
        "node_timex_pps_frequency_hertz",
        "Pulse per second frequency.",
        t.ppsfreq as f64 / PPM16FRAC,
    );
    g(
        out,
        "node_timex_pps_jitter_seconds",
        "Pulse per second jitter.",
        t.jitter as f64 / divisor,
    );
    g(
        out,
        "node_timex_pps_shift_seconds",
        "Pulse per second interval duration.",
        t.shift as f64,
    );
    g(
        out,
        "node_timex_pps_stability_hertz",
        "Pulse per second stability, average of recent frequency changes.",
        t.stabil as f64 / PPM16FRAC,
    );
    c(
        out,
        "node_timex_pps_jitter_total",
        "Pulse per second count of jitter limit exceeded events.",
        t.jitcnt as f64,
    );
    c(
        out,
        "node_timex_pps_calibration_total",
        "Pulse per second count of calibration intervals.",
        t.calcnt as f64,
    );
    c(
        out,
        "node_timex_pps_error_total",
        "Pulse per second count of calibration errors.",
        t.errcnt as f64,
    );
    c(
        out,
        "node_timex_pps_stability_exceeded_total",
        "Pulse per second count of stability limit exceeded events.",
        t.stbcnt as f64,
    );
    g(
        out,
        "node_timex_tai_offset_seconds",
        "International Atomic Time (TAI) offset.",
        t.tai as f64,
    );
}

/// Reads the clock state without changing it (`modes` 0).
#[allow(clippy::unnecessary_cast)]
fn adjtimex() -> Result<(Timex, i32), NodeError> {
    // SAFETY: `tx` is a plain C struct that adjtimex fills; modes 0 only reads.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::adjtimex(&mut tx) };
    if rc < 0 {
        return Err(NodeError::Sys {
            call: "adjtimex",
            source: std::io::Error::last_os_error(),
        });
    }
    Ok((
        Timex {
            offset: tx.offset as i64,
            freq: tx.freq as i64,
            maxerror: tx.maxerror as i64,
            esterror: tx.esterror as i64,
            status: tx.status as i64,
            constant: tx.constant as i64,
            tick: tx.tick as i64,
            ppsfreq: tx.ppsfreq as i64,
            jitter: tx.jitter as i64,
            shift: tx.shift as i64,
            stabil: tx.stabil as i64,
            jitcnt: tx.jitcnt as i64,
            calcnt: tx.calcnt as i64,
            errcnt: tx.errcnt as i64,
            stbcnt: tx.stbcnt as i64,
            tai: tx.tai as i64,
        },
        rc,
    ))
}

pub fn collect(_ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let (t, state) = adjtimex()?;
    expose(&t, state, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_units_as_node_exporter() {
        let t = Timex {
            offset: 1500,
            freq: 65536 * 10,
            maxerror: 16_000_000,
            esterror: 16_000_000,
            status: 64,
            constant: 2,
            tick: 10_000,
            ..Timex::default()
        };
        let mut f = Families::default();
        expose(&t, TIME_ERROR, &mut f);
        assert_eq!(f.value("node_timex_sync_status", &[]), Some(0.0));
        assert_eq!(f.value("node_timex_offset_seconds", &[]), Some(0.0015));
        assert_eq!(
            f.value("node_timex_frequency_adjustment_ratio", &[]),
            Some(1.00001)
        );
        assert_eq!(f.value("node_timex_maxerror_seconds", &[]), Some(16.0));
        assert_eq!(f.value("node_timex_tick_seconds", &[]), Some(0.01));
        assert_eq!(f.value("node_timex_status", &[]), Some(64.0));
        // Nanosecond resolution.
        let mut f = Families::default();
        expose(
            &Timex {
                status: STA_NANO,
                offset: 1500,
                ..t
            },
            0,
            &mut f,
        );
        assert_eq!(f.value("node_timex_offset_seconds", &[]), Some(1.5e-6));
        assert_eq!(f.value("node_timex_sync_status", &[]), Some(1.0));
        assert!(adjtimex().is_ok());
    }
}
