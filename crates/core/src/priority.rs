//! Thread priority: background work that must not slow the critical path.

/// The calling thread's nice value (Linux keeps one per thread).
pub fn thread_nice() -> i32 {
    // SAFETY: getpriority(2) takes no pointers; with PRIO_PROCESS and 0
    // it reads the calling thread's nice value on Linux.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
}

/// Sets the calling thread's nice value to `nice` (capped at 19, the
/// lowest). Threads it starts afterwards inherit the value. Lowering needs
/// no privilege; a failure (raising without one) leaves it as it was.
pub fn set_thread_nice(nice: i32) {
    // SAFETY: setpriority(2) takes no pointers; on Linux, with
    // PRIO_PROCESS and 0 it sets the calling thread's nice value only.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice.min(19)) };
}

/// Lowers the calling thread's priority by `by` nice steps from its
/// current value (capped at 19); returns the value it asked for.
pub fn lower_thread_priority(by: i32) -> i32 {
    let nice = (thread_nice() + by).min(19);
    set_thread_nice(nice);
    nice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_lowers_its_own_priority_and_not_its_parents() {
        let parent = thread_nice();
        let (asked, seen) = std::thread::spawn(|| {
            let asked = lower_thread_priority(5);
            (asked, thread_nice())
        })
        .join()
        .unwrap();
        assert_eq!(asked, (parent + 5).min(19));
        assert_eq!(seen, asked);
        assert_eq!(thread_nice(), parent);
    }
}
