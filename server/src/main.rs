//! The `leitstand` binary.

/// mimalloc rather than glibc's malloc: glibc keeps what a burst of work
/// (a backup, a spike of requests) freed inside its per-thread heaps, so a
/// long-running server's resident memory only ever steps up; mimalloc
/// returns freed pages to the system after a short delay.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
