//! Giving large blocks of memory back to the system as soon as they are freed.
//!
//! Every password hash (Argon2id with its default cost) works in 19 MiB of its own, on a
//! blocking thread. glibc's allocator raises its mmap threshold to the size of the largest
//! block freed so far, so from the second hash on those 19 MiB come from the thread's arena —
//! and stay resident after they are freed: measured, eight concurrent sign-ins left the Order
//! Service at 228 MB. A fixed threshold keeps every block of 1 MiB or more in a mapping of its
//! own, unmapped when freed, at the cost of a fresh mapping (page faults) for each — a
//! millisecond against the tens a hash takes.

/// Blocks of this size and above are mapped and unmapped on their own.
const MMAP_THRESHOLD: i32 = 1024 * 1024;

/// Makes freed large blocks go back to the system (glibc on Linux; elsewhere nothing to do).
/// Process-wide and idempotent; called by the services as they start.
pub fn return_large_blocks_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes a tuning parameter of the allocator; it neither reads
    // nor writes memory the program holds, and is safe to call at any time from any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
