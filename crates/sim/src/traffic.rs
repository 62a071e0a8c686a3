//! Traffic: Poisson arrivals at a rate, each request with a latency drawn from a distribution,
//! a failure draw and an amount of euros, all from one seeded stream.

use crate::rng::Rng;

/// How long a request takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// Always `mean` seconds.
    Constant { mean: f64 },
    /// Exponentially distributed with mean `mean` seconds.
    Exponential { mean: f64 },
    /// Log-normally distributed with mean `mean` seconds and shape `sigma`.
    LogNormal { mean: f64, sigma: f64 },
}

impl Latency {
    /// The mean, in seconds.
    pub fn mean(&self) -> f64 {
        match *self {
            Latency::Constant { mean }
            | Latency::Exponential { mean }
            | Latency::LogNormal { mean, .. } => mean,
        }
    }

    fn draw(&self, rng: &mut Rng) -> f64 {
        match *self {
            Latency::Constant { mean } => mean,
            Latency::Exponential { mean } => rng.exponential(mean),
            Latency::LogNormal { mean, sigma } => rng.lognormal(mean, sigma),
        }
    }
}

/// The load on an app: Poisson arrivals at `rate` requests per second, latency from `latency`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Traffic {
    pub rate: f64,
    pub latency: Latency,
    /// The share of requests that fail (the seed's `random.random() < 0.2`).
    pub failure_ratio: f64,
}

impl Default for Traffic {
    /// One request per second, 50 ms exponential latency, 20% failures (the seed app).
    fn default() -> Self {
        Traffic {
            rate: 1.0,
            latency: Latency::Exponential { mean: 0.05 },
            failure_ratio: 0.2,
        }
    }
}

/// One simulated request, drawn when it arrives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Request {
    /// Sequence number, from 0.
    pub id: u64,
    /// Arrival instant, ms since the epoch (fractional).
    pub arrival_ms: f64,
    /// How long it takes, ms.
    pub latency_ms: f64,
    /// Whether it raises (`random.random() < 0.2`).
    pub fails: bool,
    /// `random.random()` euros made when it succeeds.
    pub euros: f64,
}

/// The arrival process: a seeded stream of [`Request`]s in time order.
#[derive(Clone, Debug)]
pub struct Arrivals {
    rng: Rng,
    traffic: Traffic,
    next_id: u64,
    next_ms: f64,
}

impl Arrivals {
    pub fn new(rng: Rng, traffic: Traffic, from_ms: i64) -> Arrivals {
        let mut a = Arrivals {
            rng,
            traffic,
            next_id: 0,
            next_ms: f64::INFINITY,
        };
        a.reschedule(from_ms as f64);
        a
    }

    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    /// Changes the load from `now_ms` on (arrivals are memoryless: the next one is drawn anew).
    pub fn set_traffic(&mut self, traffic: Traffic, now_ms: i64) {
        self.traffic = traffic;
        self.reschedule(now_ms as f64);
    }

    fn reschedule(&mut self, from_ms: f64) {
        let rate = self.traffic.rate;
        self.next_ms = if rate.is_finite() && rate > 0.0 {
            from_ms + self.rng.exponential(1000.0 / rate)
        } else {
            f64::INFINITY
        };
    }

    /// When the next request arrives (ms, fractional), infinity without traffic.
    pub fn peek_ms(&self) -> f64 {
        self.next_ms
    }

    /// A request arriving at `now_ms` outside the Poisson schedule (a user's click). It is
    /// drawn from the same stream, so it changes the draws of the requests after it.
    pub fn extra(&mut self, now_ms: i64) -> Request {
        let fails = self.rng.next_f64() < self.traffic.failure_ratio;
        let euros = self.rng.next_f64();
        let latency_ms = (self.traffic.latency.draw(&mut self.rng) * 1000.0).max(0.0);
        let id = self.next_id;
        self.next_id += 1;
        Request {
            id,
            arrival_ms: now_ms as f64,
            latency_ms,
            fails,
            euros,
        }
    }

    /// The next request if it arrives at or before `until_ms`.
    pub fn next_before(&mut self, until_ms: i64) -> Option<Request> {
        if self.next_ms > until_ms as f64 {
            return None;
        }
        let arrival_ms = self.next_ms;
        // Draw in a fixed order whatever the program does with the values.
        let fails = self.rng.next_f64() < self.traffic.failure_ratio;
        let euros = self.rng.next_f64();
        let latency_ms = (self.traffic.latency.draw(&mut self.rng) * 1000.0).max(0.0);
        let id = self.next_id;
        self.next_id += 1;
        self.reschedule(arrival_ms);
        Some(Request {
            id,
            arrival_ms,
            latency_ms,
            fails,
            euros,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_rate_and_failure_share() {
        let t = Traffic {
            rate: 5.0,
            ..Traffic::default()
        };
        let mut a = Arrivals::new(Rng::new(3), t, 0);
        let mut n = 0;
        let mut fails = 0;
        let mut last = 0.0;
        while let Some(r) = a.next_before(3_600_000) {
            assert!(r.arrival_ms >= last);
            last = r.arrival_ms;
            n += 1;
            fails += usize::from(r.fails);
        }
        // 18,000 expected; Poisson sd ≈ 134.
        assert!((n as f64 - 18_000.0).abs() < 600.0, "{n}");
        assert!((fails as f64 / n as f64 - 0.2).abs() < 0.01);
    }

    #[test]
    fn zero_rate_means_no_requests() {
        let t = Traffic {
            rate: 0.0,
            ..Traffic::default()
        };
        let mut a = Arrivals::new(Rng::new(3), t, 0);
        assert!(a.next_before(i64::MAX).is_none());
    }
}
