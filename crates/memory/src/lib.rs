//! Giving freed heap memory back to the operating system.
//!
//! glibc's malloc keeps memory a program has freed in its arenas for reuse; only the top of the
//! main heap is returned on its own. After a large import (hundreds of megabytes parsed, checked
//! and freed again) the process would keep that peak for good. [`trim`] asks glibc to return every
//! free page of every arena (`malloc_trim(0)`); [`limit_arenas`] caps the number of arenas at
//! start-up, so memory freed by one thread is not stranded in an arena the next import's thread
//! never touches. On other platforms (musl, macOS, Windows) both do nothing.
//!
//! [`rss_bytes`] reads the resident set size, for logs and measurements.

/// Returns free heap memory of every malloc arena to the operating system. Returns whether
/// anything was released (always `false` outside glibc). Takes the arenas' locks while it walks
/// them — milliseconds for a large heap — so call it off the async executor.
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks glibc's own arenas under their locks; it takes no
        // pointer and touches no memory the program owns. Safe to call from any thread.
        #[allow(unsafe_code)]
        let released = unsafe { libc::malloc_trim(0) };
        released == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Caps the number of malloc arenas (`M_ARENA_MAX`). glibc's default is eight per core; with a
/// runtime whose blocking pool can grow to hundreds of threads, each may hold its own freed
/// memory. Call once at start-up, before threads are spawned. Returns whether glibc accepted it.
pub fn limit_arenas(max: u16) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt sets an allocator parameter; it takes no pointer. M_ARENA_MAX only
        // bounds how many arenas later threads may create.
        #[allow(unsafe_code)]
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, i32::from(max.max(1))) };
        ok == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = max;
        false
    }
}

/// The resident set size of this process in bytes (`VmRSS` of `/proc/self/status`); `None`
/// where that file does not exist.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    vm_rss(&status)
}

fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        assert_eq!(
            vm_rss("Name:\tx\nVmRSS:\t   76204 kB\nVmData:\t1 kB\n"),
            Some(76204 * 1024)
        );
        assert_eq!(vm_rss("Name:\tx\n"), None);
    }

    /// Freed memory scattered over the heap stays with the process until trimmed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn trimming_returns_freed_memory() {
        let before = rss_bytes().unwrap();
        // Many small blocks (below the mmap threshold, so they live in the arena), every
        // second one kept so the heap's top cannot simply shrink.
        let mut blocks: Vec<Vec<u8>> = (0..200_000).map(|i| vec![i as u8; 1000]).collect();
        let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(50).map(std::mem::take).collect();
        drop(blocks);
        let freed = rss_bytes().unwrap();
        trim();
        let trimmed = rss_bytes().unwrap();
        drop(kept);
        assert!(
            freed > before + 100 * 1024 * 1024,
            "the test did not grow the heap: {before} → {freed}"
        );
        assert!(
            trimmed + 100 * 1024 * 1024 < freed,
            "trim returned too little: {freed} → {trimmed}"
        );
    }
}
