//! The `leitstand` binary.

/// jemalloc rather than glibc's malloc: glibc keeps what a burst of work
/// (a backup, a spike of connections) freed inside its per-thread heaps, so
/// a long-running server's resident memory only ever steps up; jemalloc
/// hands dirty pages back to the system after its decay time (10 s), on the
/// allocating threads themselves. Its optional background purging thread is
/// left off: on two cores it cost 13 % of single-event ingest throughput.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
