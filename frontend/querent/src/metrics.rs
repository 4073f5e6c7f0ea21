//! Cache effectiveness counters.

/// Counters since the client was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Reads served from the cache without a fetch.
    pub hits: u64,
    /// Reads that needed a fetch.
    pub misses: u64,
    /// Fetches started (retries of one fetch count once).
    pub fetches: u64,
    /// Fetches that ended in an error.
    pub failures: u64,
    /// Fetches that ended (with data or an error).
    pub settled: u64,
    /// Sum of settled fetch durations, ms.
    pub fetch_ms_total: u64,
    /// Longest settled fetch, ms.
    pub fetch_ms_max: u64,
    /// Requests the server answered `304 Not Modified` (the data was
    /// unchanged and not sent again).
    pub not_modified: u64,
    /// Bytes those answers did not carry.
    pub bytes_saved: u64,
}

impl Metrics {
    /// `hits / (hits + misses)`, or 0 when nothing was read.
    ///
    /// ```
    /// let m = querent::Metrics { hits: 3, misses: 1, ..Default::default() };
    /// assert_eq!(m.hit_rate(), 0.75);
    /// ```
    pub fn hit_rate(&self) -> f64 {
        let reads = self.hits + self.misses;
        if reads == 0 {
            0.0
        } else {
            self.hits as f64 / reads as f64
        }
    }

    /// Mean duration of settled fetches, ms.
    pub fn mean_fetch_ms(&self) -> f64 {
        if self.settled == 0 {
            0.0
        } else {
            self.fetch_ms_total as f64 / self.settled as f64
        }
    }

    pub(crate) fn record_settled(&mut self, ms: u64, failed: bool) {
        self.settled += 1;
        self.fetch_ms_total += ms;
        self.fetch_ms_max = self.fetch_ms_max.max(ms);
        if failed {
            self.failures += 1;
        }
    }
}
