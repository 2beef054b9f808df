//! `leitstand demo`: back-fill realistic traffic, then keep sending live
//! events until stopped.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use app::demo::{DemoGenerator, backfill_with_progress};
use app::events::writer::{IngestWriter, WriterConfig};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::DemoArgs;

pub async fn run(args: DemoArgs, pool: &PgPool) -> anyhow::Result<ExitCode> {
    if !(args.rate.is_finite() && args.rate > 0.0 && args.rate <= 10_000.0) {
        anyhow::bail!("--rate must be between 0 and 10000 events per second");
    }
    let tracker = TaskTracker::new();
    let shutdown = CancellationToken::new();
    let writer = IngestWriter::start(
        pool.clone(),
        WriterConfig::default(),
        &tracker,
        shutdown.clone(),
    );

    let started = std::time::Instant::now();
    let total = args.events;
    let mut last_print = std::time::Instant::now();
    let stored = backfill_with_progress(&writer, total, args.seed, chrono::Utc::now(), |n| {
        if last_print.elapsed() >= Duration::from_secs(1) {
            last_print = std::time::Instant::now();
            eprint!("\rback-filling: {n} of {total} events");
            let _ = std::io::stderr().flush();
        }
    })
    .await?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "\rback-filled {stored} events in {secs:.1} s ({:.0} events/s)        ",
        stored as f64 / secs.max(0.001)
    );

    if !args.no_live {
        eprintln!(
            "sending live events at {} per second; Ctrl-C to stop",
            args.rate
        );
        let mut generator = DemoGenerator::new(args.seed.wrapping_add(1), chrono::Utc::now(), 0);
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sent = 0u64;
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    let event = generator.live_event(chrono::Utc::now());
                    writer.submit(vec![event]).await?;
                    sent += 1;
                }
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        eprintln!("sent {sent} live events");
    }
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
    Ok(ExitCode::SUCCESS)
}
