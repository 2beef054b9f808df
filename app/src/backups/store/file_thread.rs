//! The thread backup files are written and checked on, when it is free.
//!
//! glibc's allocator keeps what a thread freed in that thread's arena for
//! its later use. A backup's working set (the compression context, the file
//! buffer, the chunk buffers) freed on whichever blocking-pool thread wrote
//! the file stayed in that thread's arena, and the next backup, written on
//! another thread, took fresh memory: a long-running server grew by a few
//! megabytes at many backups. One long-lived thread reuses its own.
//!
//! A job never waits for the thread: when it is busy (two backups at once)
//! the job runs on the blocking pool as before. Waiting could deadlock — a
//! restore holds its table locks while it writes the safety backup, and a
//! scheduled backup holding the thread may be waiting for those locks.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SendError, Sender};
use std::sync::{Arc, Mutex};

use crate::error::{AppError, AppResult};

type Job = Box<dyn FnOnce() + Send>;

struct FileThread {
    jobs: Sender<Job>,
    busy: Arc<AtomicBool>,
}

static THREAD: Mutex<Option<FileThread>> = Mutex::new(None);

/// Starts `work` on the backup file thread (or, when that is busy, on the
/// blocking pool) at once, like `spawn_blocking`; the future gives what it
/// returned.
pub(super) fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = AppResult<T>> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(std::panic::catch_unwind(AssertUnwindSafe(work)));
    });
    if let Some(job) = offer(job) {
        tokio::task::spawn_blocking(job);
    }
    async move {
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(AppError::internal("a backup file job panicked")),
            Err(_) => Err(AppError::internal("a backup file job was dropped")),
        }
    }
}

/// Hands `job` to the thread when it is free (starting it the first
/// time); gives the job back when it is not.
fn offer(job: Job) -> Option<Job> {
    let Ok(mut slot) = THREAD.lock() else {
        return Some(job);
    };
    if slot.is_none() {
        *slot = start();
    }
    let thread = slot.as_ref()?;
    if thread.busy.swap(true, Ordering::AcqRel) {
        return Some(job);
    }
    match thread.jobs.send(job) {
        Ok(()) => None,
        // The thread is gone (it cannot panic: jobs catch their panics);
        // a new one is started next time.
        Err(SendError(job)) => {
            *slot = None;
            Some(job)
        }
    }
}

fn start() -> Option<FileThread> {
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let busy = Arc::new(AtomicBool::new(false));
    let idle = busy.clone();
    let started = std::thread::Builder::new()
        .name("backup-files".into())
        .spawn(move || {
            for job in queue {
                job();
                idle.store(false, Ordering::Release);
            }
        });
    match started {
        Ok(_) => Some(FileThread { jobs, busy }),
        Err(e) => {
            tracing::warn!(error = %e, "cannot start the backup file thread; using the blocking pool");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> bool {
        THREAD
            .lock()
            .expect("lock")
            .as_ref()
            .is_some_and(|t| t.busy.load(Ordering::Acquire))
    }

    /// A job's result arrives just before the thread marks itself free.
    async fn until_free() {
        while busy() {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn jobs_run_on_the_thread_when_free_and_beside_it_when_busy() {
        let name = || std::thread::current().name().map(str::to_owned);
        assert_eq!(
            run(name).await.expect("ran").as_deref(),
            Some("backup-files")
        );
        until_free().await;
        // The thread busy with a job that waits: the next runs elsewhere,
        // and finishes first (it does not wait for the thread).
        let (release, held) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn(run(move || {
            let _ = held.recv();
            std::thread::current().name().map(str::to_owned)
        }));
        while !busy() {
            tokio::task::yield_now().await;
        }
        let second = run(name).await.expect("ran");
        assert_ne!(second.as_deref(), Some("backup-files"));
        release.send(()).expect("release");
        assert_eq!(
            first.await.expect("joined").expect("ran").as_deref(),
            Some("backup-files")
        );
        // A panic is an error, and the thread goes on.
        until_free().await;
        assert!(run(|| panic!("boom")).await.is_err());
        until_free().await;
        assert_eq!(
            run(name).await.expect("ran").as_deref(),
            Some("backup-files")
        );
    }
}
