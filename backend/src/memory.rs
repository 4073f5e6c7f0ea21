//! Gives the system back the memory glibc's allocator holds free. glibc
//! returns freed memory only from the top of each arena, so after a burst
//! (25,000 connections of a flood, each with its buffers) the freed pages
//! below a live allocation stay resident: RSS went 22 → 204 MiB and stayed
//! there (docs/reliability.md). A thread looks every few seconds at how
//! much is free and, when that grew past a threshold since it last asked,
//! asks glibc for it back (`malloc_trim(0)`; it locks each arena in turn,
//! so it runs after a burst, not at every look). Given-back pages still
//! count as free to glibc (they are unmapped, not returned to it), hence
//! the growth, not the total, decides.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Free memory held by the allocator before it is given back.
const TRIM_ABOVE_BYTES: usize = 32 << 20;

/// How much the allocator holds free (bytes), where it can tell.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn free_bytes() -> usize {
    // SAFETY: `mallinfo2` takes nothing and returns a struct by value;
    // glibc locks its arenas while it counts.
    let info = unsafe { libc::mallinfo2() };
    info.fordblks
}

/// Gives free memory back; whether anything was returned.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() -> bool {
    // SAFETY: `malloc_trim` takes no pointers; glibc serialises it with
    // every other allocator call.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn free_bytes() -> usize {
    0
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() -> bool {
    false
}

/// Free bytes after the last trim.
static FREE_AFTER_TRIM: AtomicUsize = AtomicUsize::new(0);

/// Gives the allocator's free memory back if what it holds free grew by
/// more than the threshold since the last time; whether it did.
pub fn release_if_worth_it() -> bool {
    let free = free_bytes();
    if free <= FREE_AFTER_TRIM.load(Ordering::Relaxed) + TRIM_ABOVE_BYTES {
        return false;
    }
    let released = trim();
    FREE_AFTER_TRIM.store(free_bytes(), Ordering::Relaxed);
    released
}

/// Looks every `every` (see the module docs), on a thread of its own.
pub fn spawn_trimmer(every: Duration) {
    let spawned = std::thread::Builder::new()
        .name("memory-trim".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                if release_if_worth_it() {
                    tracing::debug!("gave free memory back to the system");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no memory-trim thread; freed memory stays resident");
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Resident memory of this process (MiB).
    fn resident_mib() -> u64 {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        (pages * 4096) >> 20
    }

    /// A burst freed below a live allocation stays resident until trimmed:
    /// looking after it gives it back. (Where the burst came from a thread's
    /// own arena, glibc may unmap a whole freed heap by itself; either way
    /// the memory must be back after the look.)
    #[test]
    fn freed_memory_goes_back_once_worth_it() {
        // Many mid-sized blocks, one kept above them, the rest freed.
        let mut blocks: Vec<Vec<u8>> = (0..4096).map(|_| vec![1u8; 16 << 10]).collect();
        let keep = vec![2u8; 1024];
        let peak = resident_mib();
        blocks.clear();
        blocks.shrink_to_fit();
        release_if_worth_it();
        let after = resident_mib();
        assert!(
            peak >= after + 32,
            "resident {peak} MiB at the peak, then {after} MiB"
        );
        drop(keep);
    }
}
