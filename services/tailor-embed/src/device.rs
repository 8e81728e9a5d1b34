//! Setting up the process for libtorch: CUDA when the machine has it (the same binary runs on
//! CPU elsewhere), and an allocator that keeps the memory of large activations for reuse.

use tch::Device;

/// CUDA when available, else CPU. rustc links with `--as-needed`, which drops libtorch_cuda (no
/// symbol of it is referenced directly), so it is loaded here by hand; on a machine without it
/// the load fails quietly and the CPU is used.
#[allow(unsafe_code, reason = "dlopen of libtorch_cuda")]
pub fn best_device() -> Device {
    // SAFETY: dlopen with a constant, NUL-terminated name; the handle is deliberately kept open
    // for the life of the process.
    unsafe {
        libc::dlopen(c"libtorch_cuda.so".as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL);
    }
    Device::cuda_if_available()
}

/// Stops glibc from returning large blocks to the kernel after every batch. Activations of a
/// batch of photos are tens of megabytes; by default each is mmapped and unmapped again, and the
/// page faults that follow cost more than the convolutions (photos/s nearly tripled on CPU).
#[allow(unsafe_code, reason = "mallopt")]
pub fn keep_freed_memory() {
    // SAFETY: mallopt only changes allocator parameters; called before heavy allocation begins.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
