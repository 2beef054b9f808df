//! The embedded default database, exercised through the real binary.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{eventually, shared_tempdir};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn start(data_dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_leitstand"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("LEITSTAND_DATA_DIR", data_dir)
        .env("LEITSTAND_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("leitstand starts")
}

async fn ready(port: u16) -> bool {
    let client = crate::helpers::http_client();
    eventually(Duration::from_secs(60), || {
        let client = client.clone();
        async move {
            client
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    crate::helpers::wait_exit(child, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("leitstand did not exit within 30 s"))
}

fn postmaster_running(data: &Path) -> bool {
    let Ok(pid_file) = std::fs::read_to_string(data.join("postmaster.pid")) else {
        return false;
    };
    let pid = pid_file
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test]
async fn embedded_cluster_is_created_started_reused_and_stopped() {
    crate::helpers::watchdog::arm();
    let dir = shared_tempdir();
    let data = dir.path().join("postgres/data");

    // First start creates the cluster.
    let port = free_port();
    let mut child = start(dir.path(), port);
    assert!(ready(port).await, "first start becomes ready");
    assert!(
        data.join("PG_VERSION").exists(),
        "cluster created under <data-dir>/postgres"
    );
    assert!(
        postmaster_running(&data),
        "cluster running while Leitstand serves"
    );

    // SIGTERM: Leitstand exits cleanly and stops its cluster.
    signal(&child, "TERM");
    assert!(wait_exit(&mut child).success(), "clean exit on SIGTERM");
    assert!(!postmaster_running(&data), "cluster stopped with Leitstand");

    // Second start reuses it (same cluster: a row written before survives).
    let port = free_port();
    let mut child = start(dir.path(), port);
    assert!(ready(port).await, "second start becomes ready");
    let client = crate::helpers::http_client();
    let page = client
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .expect("dashboard");
    assert_eq!(page.status(), 200);

    // A second process (here the CLI) attaches to the running cluster and
    // leaves it running.
    let out = Command::new(env!("CARGO_BIN_EXE_leitstand"))
        .args([
            "key", "create", "--name", "cli", "--scopes", "ingest", "--quiet",
        ])
        .env_remove("DATABASE_URL")
        .env("LEITSTAND_DATA_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("cli runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let res = client
        .post(format!("http://127.0.0.1:{port}/api/v1/events"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "service": "embedded" }))
        .send()
        .await
        .expect("ingest");
    assert_eq!(res.status(), 202, "the key made by the attached CLI works");
    assert!(
        postmaster_running(&data),
        "the attached CLI left the cluster running"
    );

    // A killed run leaves PostgreSQL running; the next start must cope.
    signal(&child, "KILL");
    wait_exit(&mut child);
    let port = free_port();
    let mut child = start(dir.path(), port);
    assert!(ready(port).await, "start after SIGKILL becomes ready");
    signal(&child, "TERM");
    assert!(wait_exit(&mut child).success());
    assert!(!postmaster_running(&data));

    // A stale postmaster.pid naming a live, unrelated process must not block.
    std::fs::write(
        data.join("postmaster.pid"),
        format!("{}\n{}\n", std::process::id(), data.display()),
    )
    .expect("write stale pid file");
    let port = free_port();
    let mut child = start(dir.path(), port);
    assert!(
        ready(port).await,
        "start with a stale postmaster.pid becomes ready"
    );
    signal(&child, "INT");
    assert!(wait_exit(&mut child).success(), "clean exit on SIGINT");
    assert!(!postmaster_running(&data));
}
