//! The embedded default database: a private PostgreSQL cluster under
//! `<data-dir>/postgres`, created with the machine's own `initdb` and started
//! with `pg_ctl` on a free loopback port when no `DATABASE_URL` is given.
//!
//! Layout of `<data-dir>/postgres`:
//! - `leitstand.lock` — held (flock) while a Leitstand process uses the cluster
//! - `password`       — the superuser password, readable by the owner only
//! - `data/`          — the cluster (PGDATA)
//! - `log/server.log` — PostgreSQL's own log
//!
//! PostgreSQL refuses to run as root, so when Leitstand runs as root the
//! cluster belongs to, and runs as, an unprivileged system user (`postgres`).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, bail};

/// The Unix user the cluster runs as when Leitstand itself runs as root.
const CLUSTER_USER: &str = "postgres";
/// The database Leitstand uses inside the cluster.
pub const DATABASE: &str = "leitstand";

/// A running private PostgreSQL cluster; stopped by [`EmbeddedPostgres::stop`]
/// or, as a fallback, when dropped.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    password: String,
    owner: Option<(u32, u32)>,
    running: bool,
    /// Held for the life of the cluster (released by the OS even on
    /// SIGKILL); `None` when attached to a cluster another process runs.
    _lock: Option<File>,
}

impl EmbeddedPostgres {
    /// Creates the cluster on first use, then starts it on a free port.
    pub fn start(root: &Path) -> anyhow::Result<Self> {
        fs::create_dir_all(root)
            .with_context(|| format!("creating data directory {}", root.display()))?;
        let root = root
            .canonicalize()
            .with_context(|| format!("resolving {}", root.display()))?;
        let data = root.join("data");
        let Some(lock) = acquire_lock(&root)? else {
            return Self::attach(&root, &data);
        };
        let log_dir = root.join("log");
        let log = log_dir.join("server.log");

        let bin_dir = find_binaries(read_pg_version(&data).as_deref())?;
        let owner = cluster_owner()?;
        if let Some((uid, gid)) = owner {
            check_reachable(&root, uid, gid)?;
        }

        let password = if data.join("PG_VERSION").exists() {
            fs::read_to_string(root.join("password"))
                .with_context(|| {
                    format!(
                        "the cluster in {} exists but its password file is missing",
                        data.display()
                    )
                })?
                .trim()
                .to_owned()
        } else {
            init_cluster(&bin_dir, &root, &data, owner)?
        };

        fs::create_dir_all(&log_dir).context("creating the log directory")?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&log_dir, Some(uid), Some(gid))
                .context("handing the log directory to the cluster user")?;
        }

        let mut pg = Self {
            bin_dir,
            data,
            log,
            port: 0,
            password,
            owner,
            running: false,
            _lock: Some(lock),
        };
        pg.clear_leftovers()?;
        pg.start_server()?;
        Ok(pg)
    }

    /// Uses the cluster another Leitstand process in this data directory
    /// runs (e.g. `leitstand key create` while `leitstand serve` is up); it
    /// is left running on exit.
    fn attach(root: &Path, data: &Path) -> anyhow::Result<Self> {
        let pid_file = fs::read_to_string(data.join("postmaster.pid")).with_context(|| {
            format!(
                "another Leitstand process holds {} but its PostgreSQL is not running",
                root.display()
            )
        })?;
        let port: u16 = pid_file
            .lines()
            .nth(3)
            .and_then(|l| l.trim().parse().ok())
            .context("cannot read the port of the running embedded PostgreSQL")?;
        let password = fs::read_to_string(root.join("password"))
            .context("reading the embedded PostgreSQL password")?
            .trim()
            .to_owned();
        tracing::info!(
            port,
            "using the embedded PostgreSQL of the running Leitstand"
        );
        Ok(Self {
            bin_dir: PathBuf::new(),
            data: data.to_path_buf(),
            log: PathBuf::new(),
            port,
            password,
            owner: None,
            running: false,
            _lock: None,
        })
    }

    /// Superuser URL of the maintenance database `postgres`.
    pub fn admin_url(&self) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/postgres",
            self.password, self.port
        )
    }

    /// URL of Leitstand's database (create it with [`ensure_database`]).
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{DATABASE}",
            self.password, self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// Stops the cluster (fast shutdown: open transactions are rolled back,
    /// committed data is already durable).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.stop_mode("fast")
    }

    /// Stops the cluster with a `pg_ctl` shutdown mode: `smart`, `fast`, or
    /// `immediate` (no checkpoint: like a crash, recovered from the WAL at
    /// the next start).
    pub fn stop_mode(&mut self, mode: &str) -> anyhow::Result<()> {
        if !self.running {
            return Ok(());
        }
        let out = self
            .pg_ctl()
            .args(["stop", "-m", mode, "-w", "-t", "60", "-D"])
            .arg(&self.data)
            .output()
            .context("running pg_ctl stop")?;
        if !out.status.success() {
            bail!("pg_ctl stop failed: {}", output_text(&out));
        }
        self.running = false;
        tracing::info!("embedded PostgreSQL stopped");
        Ok(())
    }

    /// Starts the cluster again on the same port (used after [`stop`] in tests).
    pub fn restart_on_same_port(&mut self) -> anyhow::Result<()> {
        if self.running {
            return Ok(());
        }
        self.launch(self.port)
    }

    fn start_server(&mut self) -> anyhow::Result<()> {
        let mut last_error = None;
        // A free port can be taken between finding and binding it: try a few.
        for _ in 0..3 {
            let port = free_port()?;
            match self.launch(port) {
                Ok(()) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("could not start PostgreSQL")))
    }

    fn launch(&mut self, port: u16) -> anyhow::Result<()> {
        let out = self
            .pg_ctl()
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .arg("-o")
            .arg(format!("-p {port}"))
            // Own process group: a Ctrl-C on the terminal reaches Leitstand,
            // which then shuts the cluster down after draining, in order.
            .process_group(0)
            .output()
            .context("running pg_ctl start")?;
        if !out.status.success() {
            bail!(
                "PostgreSQL did not start: {}\n--- {} ---\n{}",
                output_text(&out),
                self.log.display(),
                tail(&self.log, 20)
            );
        }
        self.port = port;
        self.running = true;
        tracing::info!(port, data = %self.data.display(), "embedded PostgreSQL started");
        Ok(())
    }

    /// Deals with what a killed earlier run left behind: a cluster still
    /// running (stopped, since we hold the lock nobody else uses it) or a
    /// stale `postmaster.pid` (removed, even if its PID now belongs to an
    /// unrelated process).
    fn clear_leftovers(&mut self) -> anyhow::Result<()> {
        let pid_file = self.data.join("postmaster.pid");
        let Ok(contents) = fs::read_to_string(&pid_file) else {
            return Ok(());
        };
        let pid: Option<u32> = contents.lines().next().and_then(|l| l.trim().parse().ok());
        let ours = pid.is_some_and(|pid| is_postmaster_of(pid, &self.data));
        if ours {
            tracing::warn!(
                pid,
                "a PostgreSQL left running by an earlier Leitstand is being stopped"
            );
            self.running = true;
            self.stop()?;
        } else {
            tracing::warn!(file = %pid_file.display(), "removing a stale postmaster.pid");
            fs::remove_file(&pid_file).context("removing stale postmaster.pid")?;
        }
        Ok(())
    }

    fn pg_ctl(&self) -> Command {
        let mut cmd = Command::new(self.bin_dir.join("pg_ctl"));
        as_owner(&mut cmd, self.owner);
        cmd
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if self.running
            && let Err(e) = self.stop()
        {
            tracing::error!(error = %e, "could not stop embedded PostgreSQL");
        }
    }
}

/// Creates Leitstand's database in the cluster when it does not exist yet.
pub async fn ensure_database(pg: &EmbeddedPostgres) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&pg.admin_url())
        .await
        .context("connecting to the embedded PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query("create database leitstand encoding 'UTF8'")
            .execute(&mut conn)
            .await
            .context("creating the leitstand database")?;
    }
    conn.close().await.ok();
    Ok(())
}

/// The data directory's lock, or `None` when another process holds it.
fn acquire_lock(root: &Path) -> anyhow::Result<Option<File>> {
    let path = root.join("leitstand.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// `initdb` a new cluster; returns the superuser password it was given.
fn init_cluster(
    bin_dir: &Path,
    root: &Path,
    data: &Path,
    owner: Option<(u32, u32)>,
) -> anyhow::Result<String> {
    tracing::info!(data = %data.display(), "creating the embedded PostgreSQL cluster (first start)");
    // A half-made cluster from an interrupted first start is useless.
    if data.exists() {
        fs::remove_dir_all(data).context("removing an incomplete cluster directory")?;
    }
    fs::create_dir_all(data)?;
    fs::set_permissions(data, fs::Permissions::from_mode(0o700))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(data, Some(uid), Some(gid))
            .context("handing the cluster directory to the cluster user")?;
    }

    let password = random_password();
    let password_file = root.join("password");
    write_private(&password_file, &password)?;

    // initdb reads the password as the cluster user, from a file of its own.
    let pwfile = root.join(".initdb-pwfile");
    write_private(&pwfile, &password)?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid))?;
    }
    let mut cmd = Command::new(bin_dir.join("initdb"));
    cmd.arg("-D")
        .arg(data)
        .args([
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ])
        .arg(format!("--pwfile={}", pwfile.display()));
    as_owner(&mut cmd, owner);
    let out = cmd.output().context("running initdb");
    let _ = fs::remove_file(&pwfile);
    let out = out?;
    if !out.status.success() {
        bail!("initdb failed: {}", output_text(&out));
    }

    let mut conf = OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .context("opening postgresql.conf")?;
    writeln!(
        conf,
        "\n# Leitstand embedded default: loopback TCP only, no Unix socket.\n\
         listen_addresses = '127.0.0.1'\n\
         unix_socket_directories = ''\n\
         max_connections = 200"
    )?;
    Ok(password)
}

/// The cluster owner's uid/gid when running as root, else `None`.
fn cluster_owner() -> anyhow::Result<Option<(u32, u32)>> {
    if !is_root() {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    match lookup_user(&passwd, CLUSTER_USER) {
        Some(ids) => Ok(Some(ids)),
        None => bail!(
            "running as root, and PostgreSQL refuses to run as root, but there is no \
             `{CLUSTER_USER}` user to run the embedded cluster as. Create one \
             (`useradd --system {CLUSTER_USER}`), run Leitstand as a normal user, \
             or set DATABASE_URL to an existing PostgreSQL database."
        ),
    }
}

fn is_root() -> bool {
    // The owner of our own /proc entry is our effective uid.
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Finds (uid, gid) of `user` in the text of /etc/passwd.
fn lookup_user(passwd: &str, user: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != user {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

/// The cluster user must be able to reach the data directory; a path under
/// a private home directory (e.g. /root) is not reachable.
fn check_reachable(root: &Path, uid: u32, gid: u32) -> anyhow::Result<()> {
    let ok = Command::new("test")
        .arg("-x")
        .arg(root)
        .uid(uid)
        .gid(gid)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        bail!(
            "the `{CLUSTER_USER}` user cannot reach {} (a parent directory is private). \
             Choose a --data-dir / LEITSTAND_DATA_DIR outside private home directories, \
             or set DATABASE_URL.",
            root.display()
        );
    }
    Ok(())
}

fn as_owner(cmd: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    // Messages from the tools in English whatever the locale.
    cmd.env("LC_ALL", "C.UTF-8").env("LANG", "C.UTF-8");
}

fn read_pg_version(data: &Path) -> Option<String> {
    fs::read_to_string(data.join("PG_VERSION"))
        .ok()
        .map(|v| v.trim().to_owned())
}

/// Directory holding `initdb` and `pg_ctl`: an existing cluster's own major
/// version first, then PATH, then /usr/lib/postgresql/*/bin newest first.
pub fn find_binaries(wanted_major: Option<&str>) -> anyhow::Result<PathBuf> {
    find_binaries_in(
        wanted_major,
        std::env::var_os("PATH"),
        Path::new("/usr/lib/postgresql"),
        &[
            Path::new("/usr/local/pgsql/bin"),
            Path::new("/opt/homebrew/bin"),
            Path::new("/usr/local/bin"),
        ],
    )
}

fn find_binaries_in(
    wanted_major: Option<&str>,
    path_var: Option<std::ffi::OsString>,
    versioned_root: &Path,
    fallbacks: &[&Path],
) -> anyhow::Result<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();

    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir(versioned_root)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let major = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    Some((major, e.path().join("bin")))
                })
                .filter(|(_, dir)| has_tools(dir))
                .collect()
        })
        .unwrap_or_default();
    versioned.sort_by_key(|(major, _)| std::cmp::Reverse(*major));

    if let Some(major) = wanted_major.and_then(|m| m.parse::<u32>().ok())
        && let Some((_, dir)) = versioned.iter().find(|(v, _)| *v == major)
    {
        return Ok(dir.clone());
    }
    if let Some(path) = path_var {
        for dir in std::env::split_paths(&path) {
            if has_tools(&dir) {
                return Ok(dir);
            }
        }
    }
    if let Some((_, dir)) = versioned.into_iter().next() {
        return Ok(dir);
    }
    for dir in fallbacks {
        if has_tools(dir) {
            return Ok(dir.to_path_buf());
        }
    }
    bail!(
        "no DATABASE_URL is set and no PostgreSQL server programs (initdb, pg_ctl) were found \
         on PATH or in /usr/lib/postgresql/*/bin to run the embedded database.\n\
         Either install PostgreSQL — Debian/Ubuntu: `apt-get install postgresql`, \
         Fedora: `dnf install postgresql-server`, macOS: `brew install postgresql` — \
         or point Leitstand at an existing database: \
         DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DBNAME leitstand serve"
    )
}

/// True when `pid` is a running postmaster serving `data`.
fn is_postmaster_of(pid: u32, data: &Path) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let is_postgres = args
        .first()
        .is_some_and(|a| a.ends_with("postgres") || a.ends_with("postmaster"));
    let data_str = data.to_string_lossy();
    let serves_data = args
        .windows(2)
        .any(|w| w[0] == "-D" && Path::new(&w[1]) == data)
        || fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == data)
        || args.iter().any(|a| a == data_str.as_ref());
    is_postgres && serves_data
}

fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn random_password() -> String {
    use rand::Rng;
    let bytes: [u8; 24] = rand::rng().random();
    hex::encode(bytes)
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn output_text(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(stdout.trim());
    }
    text
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lookup_finds_uid_and_gid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\npostgres:x:105:110:PostgreSQL:/var/lib/postgresql:/bin/bash\n";
        assert_eq!(lookup_user(passwd, "postgres"), Some((105, 110)));
        assert_eq!(lookup_user(passwd, "nobody"), None);
    }

    #[test]
    fn missing_postgres_programs_give_install_instructions() {
        let empty = std::env::temp_dir().join("leitstand-no-such-dir");
        let err = find_binaries_in(None, Some("/nonexistent".into()), &empty, &[])
            .expect_err("nothing to find");
        let text = err.to_string();
        assert!(text.contains("apt-get install postgresql"), "{text}");
        assert!(text.contains("DATABASE_URL="), "{text}");
    }

    #[test]
    fn an_existing_cluster_prefers_its_own_major_version() {
        let root = std::env::temp_dir().join(format!("leitstand-pgbins-{}", std::process::id()));
        for v in ["14", "16"] {
            let bin = root.join(v).join("bin");
            fs::create_dir_all(&bin).expect("mkdir");
            for tool in ["initdb", "pg_ctl"] {
                fs::write(bin.join(tool), "").expect("touch");
            }
        }
        let newest = find_binaries_in(None, None, &root, &[]).expect("found");
        let matching = find_binaries_in(Some("14"), None, &root, &[]).expect("found");
        let _ = fs::remove_dir_all(&root);
        assert!(newest.ends_with("16/bin"));
        assert!(matching.ends_with("14/bin"));
    }

    #[test]
    fn a_process_that_is_not_postgres_is_not_our_postmaster() {
        // Our own PID is alive but is not a postmaster for this directory.
        assert!(!is_postmaster_of(
            std::process::id(),
            Path::new("/nonexistent")
        ));
    }
}
