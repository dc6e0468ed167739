//! CPU priority of the provider's threads: the runtime that serves
//! check-ins asks Linux for a short time slice, so that a check-in that
//! wakes up while the machine is busy (downloads running, say) gets the
//! CPU at once instead of after the running thread's slice.
//!
//! Since Linux 6.12 (EEVDF), `sched_setattr(2)` with `SCHED_OTHER` takes
//! a slice request in `sched_runtime` (0.1 to 100 ms); a waking thread
//! with a shorter slice than the running one preempts it. It needs no
//! privilege, and it does not change how much CPU the thread gets over
//! time, only how soon it gets it. On older kernels the field is ignored.

use std::io;

/// The time slice the check-in threads ask for: the kernel's minimum.
pub const CHECKIN_SLICE_NS: u64 = 100_000;

/// `struct sched_attr` of `sched_setattr(2)` (its first version, 48 bytes,
/// as every kernel since 3.14 accepts).
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    sched_policy: u32,
    sched_flags: u64,
    sched_nice: i32,
    sched_priority: u32,
    sched_runtime: u64,
    sched_deadline: u64,
    sched_period: u64,
}

/// Asks for a time slice of `slice_ns` for the calling thread, keeping
/// its policy (`SCHED_OTHER`) and nice value. Fails on a kernel without
/// `sched_setattr` or for a thread under another policy.
pub fn request_slice(slice_ns: u64) -> io::Result<()> {
    // SAFETY: getpriority(2) takes no pointers; with PRIO_PROCESS and 0
    // it reads the calling thread's nice value on Linux.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        sched_policy: libc::SCHED_OTHER as u32,
        sched_nice: nice,
        sched_runtime: slice_ns,
        ..SchedAttr::default()
    };
    // SAFETY: the pointer is to a live, fully initialised sched_attr whose
    // `size` field gives its length; pid 0 is the calling thread.
    let rc = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0u32) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The slice the calling thread runs with, in nanoseconds (0 when the
/// kernel keeps the default), read back with `sched_getattr(2)`.
pub fn current_slice() -> io::Result<u64> {
    let mut attr = SchedAttr::default();
    // SAFETY: the pointer is to a writable sched_attr of the size passed;
    // pid 0 is the calling thread.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            0,
            &mut attr as *mut SchedAttr,
            std::mem::size_of::<SchedAttr>() as u32,
            0u32,
        )
    };
    if rc == 0 {
        Ok(attr.sched_runtime)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The runtime that serves check-ins and the console: `workers` worker
/// threads (tokio's default, one per core, when `None`), each of them and
/// each of its blocking threads (the store's writes) asking for
/// [`CHECKIN_SLICE_NS`] ([`short_slice_runtime`]).
pub fn checkin_runtime(workers: Option<usize>) -> io::Result<tokio::runtime::Runtime> {
    short_slice_runtime("provider", workers)
}

/// A multi-thread runtime named `name` whose threads (workers and
/// blocking threads) ask for [`CHECKIN_SLICE_NS`]: for the check-ins, and
/// for the load generator, whose timing should not wait behind whatever
/// else runs on its machine. A kernel that refuses leaves the default
/// slice, with a debug line.
pub fn short_slice_runtime(
    name: &str,
    workers: Option<usize>,
) -> io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n);
    }
    builder
        .thread_name(name)
        .on_thread_start(|| {
            if let Err(e) = request_slice(CHECKIN_SLICE_NS) {
                tracing::debug!("short time slice refused: {e}");
            }
        })
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_in_thread_runs_with_the_short_slice_and_its_nice_value() {
        let rt = checkin_runtime(Some(1)).unwrap();
        let (slice, nice) = rt.block_on(async {
            tokio::spawn(async {
                // SAFETY: as in request_slice.
                let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
                (current_slice(), nice)
            })
            .await
            .unwrap()
        });
        // SAFETY: as in request_slice.
        let here = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        assert_eq!(nice, here, "the nice value is kept");
        match slice {
            // Kernels before 6.12 accept the call and ignore the field.
            Ok(0) => eprintln!("this kernel keeps the default slice"),
            Ok(ns) => assert_eq!(ns, CHECKIN_SLICE_NS),
            Err(e) => panic!("sched_getattr failed: {e}"),
        }
    }
}
