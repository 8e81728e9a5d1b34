//! Background work yields to requests: the threads that apply catalogue changes and embed new
//! items lower their own scheduling priority, so that on a machine with few cores a burst of
//! changes delays them rather than the recommendations served meanwhile.

/// How much lower: a nice value of 10 gets about a tenth of the CPU a request thread gets when
/// both want it, and all of it when nothing else runs.
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's priority (Linux: nice is per thread); elsewhere, or if refused,
/// the thread runs as before, and says so.
pub fn run_in_background() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only reads its integer arguments; `who` 0 is the calling thread.
        #[allow(unsafe_code, reason = "setpriority has no safe wrapper in std")]
        let status = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, BACKGROUND_NICE) };
        if status != 0 {
            eprintln!("warning: cannot lower a background thread's priority: {}", std::io::Error::last_os_error());
        }
    }
}
