//! The backup file: one zstd stream (with frame checksums) holding a magic
//! line, then for every table a header, its `COPY` text data in chunks and
//! a summary (rows, bytes, SHA-256), and last the manifest.
//!
//! Every record is `tag (1 byte) | length (u32, little endian) | payload`:
//! `T` table header (JSON), `D` data chunk, `E` table summary (JSON),
//! `M` manifest (JSON, always last). A reader recomputes every table's
//! row count and checksum and compares them with both the summary and the
//! manifest, so a flipped byte, a truncated file or a foreign file is
//! refused before anything is restored. After the compressed stream come
//! 32 bytes: the SHA-256 of the compressed stream.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// First bytes of every (decompressed) backup.
pub const MAGIC: &[u8] = b"LEITSTAND-BACKUP\n";
/// Version of this layout. Readers refuse other versions.
pub const FORMAT_VERSION: u32 = 1;
/// File name extension of backups.
pub const EXTENSION: &str = "lsbackup";
/// Largest record a reader accepts (data chunks are 256 KiB).
const MAX_RECORD: u32 = 16 * 1024 * 1024;
/// Size of data chunks written.
pub const CHUNK: usize = 256 * 1024;

/// One table in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: u64,
    pub bytes: u64,
    /// SHA-256 of the table's COPY text, hex.
    pub sha256: String,
}

/// What a backup holds; the last record of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The newest database migration applied when the backup was taken.
    pub schema_version: i64,
    pub created_at: String,
    pub leitstand_version: String,
    pub kind: String,
    /// Oldest and newest event time (RFC 3339), to prepare partitions.
    pub events_from: Option<String>,
    pub events_to: Option<String>,
    /// The same for probe results (absent in backups taken before probes).
    #[serde(default)]
    pub probe_results_from: Option<String>,
    #[serde(default)]
    pub probe_results_to: Option<String>,
    pub tables: Vec<TableSummary>,
}

impl Manifest {
    pub fn table(&self, name: &str) -> Option<&TableSummary> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

#[derive(Serialize, Deserialize)]
struct TableHeader {
    name: String,
    columns: Vec<String>,
}

/// Why a file is not a usable backup. The message is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

fn bad(msg: impl Into<String>) -> FormatError {
    FormatError(msg.into())
}

/// Counts what is written through it and hashes it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct OpenTable {
    header: TableHeader,
    hasher: Sha256,
    rows: u64,
    bytes: u64,
}

/// Writes a backup to `<final>.tmp`, then fsyncs and renames it into place,
/// so a backup file either exists whole or not at all.
pub struct BackupWriter {
    encoder: zstd::stream::write::Encoder<'static, Hashing<BufWriter<File>>>,
    tmp: PathBuf,
    path: PathBuf,
    tables: Vec<TableSummary>,
    open: Option<OpenTable>,
}

/// A finished file.
#[derive(Debug, Clone)]
pub struct Written {
    pub manifest: Manifest,
    pub size: u64,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
}

/// Creates (or truncates) a file only its owner can read: backups hold
/// every password hash and key hash.
pub fn private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

impl BackupWriter {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let tmp = tmp_path(path);
        let file = private_file(&tmp)?;
        let sink = Hashing {
            inner: BufWriter::with_capacity(256 * 1024, file),
            hasher: Sha256::new(),
            written: 0,
        };
        let mut encoder = zstd::stream::write::Encoder::new(sink, 3)?;
        encoder.include_checksum(true)?;
        encoder.write_all(MAGIC)?;
        Ok(Self {
            encoder,
            tmp,
            path: path.to_owned(),
            tables: Vec::new(),
            open: None,
        })
    }

    fn record(&mut self, tag: u8, payload: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(payload.len())
            .map_err(|_| std::io::Error::other("backup record too large"))?;
        self.encoder.write_all(&[tag])?;
        self.encoder.write_all(&len.to_le_bytes())?;
        self.encoder.write_all(payload)
    }

    pub fn begin_table(&mut self, name: &str, columns: &[String]) -> std::io::Result<()> {
        if self.open.is_some() {
            return Err(std::io::Error::other("previous table not ended"));
        }
        let header = TableHeader {
            name: name.to_owned(),
            columns: columns.to_vec(),
        };
        let json = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        self.record(b'T', &json)?;
        self.open = Some(OpenTable {
            header,
            hasher: Sha256::new(),
            rows: 0,
            bytes: 0,
        });
        Ok(())
    }

    /// COPY text of the open table (any split; rows end with `\n`).
    pub fn data(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Err(std::io::Error::other("data outside a table"));
        };
        open.hasher.update(chunk);
        open.rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        open.bytes += chunk.len() as u64;
        for part in chunk.chunks(CHUNK) {
            self.record(b'D', part)?;
        }
        Ok(())
    }

    pub fn end_table(&mut self) -> std::io::Result<TableSummary> {
        let Some(open) = self.open.take() else {
            return Err(std::io::Error::other("no table to end"));
        };
        let summary = TableSummary {
            name: open.header.name,
            columns: open.header.columns,
            rows: open.rows,
            bytes: open.bytes,
            sha256: hex::encode(open.hasher.finalize()),
        };
        let json = serde_json::to_vec(&summary).map_err(std::io::Error::other)?;
        self.record(b'E', &json)?;
        self.tables.push(summary.clone());
        Ok(summary)
    }

    /// Writes the manifest (its `tables` are filled in here), syncs and
    /// renames the file into place. On failure (a full disk shows here, when
    /// the buffers are flushed) the unfinished file is removed.
    pub fn finish(self, manifest: Manifest) -> std::io::Result<Written> {
        let tmp = self.tmp.clone();
        let result = self.finish_inner(manifest);
        if result.is_err() {
            let _ = std::fs::remove_file(tmp);
        }
        result
    }

    fn finish_inner(mut self, mut manifest: Manifest) -> std::io::Result<Written> {
        if self.open.is_some() {
            return Err(std::io::Error::other("table not ended"));
        }
        manifest.tables = std::mem::take(&mut self.tables);
        let json = serde_json::to_vec(&manifest).map_err(std::io::Error::other)?;
        self.record(b'M', &json)?;
        let mut sink = self.encoder.finish()?;
        // Trailer: SHA-256 of the compressed bytes, so a change anywhere —
        // even in a zstd header field that would still decode — is caught.
        let digest = sink.hasher.clone().finalize();
        sink.inner.write_all(&digest)?;
        sink.hasher.update(digest);
        sink.written += digest.len() as u64;
        sink.flush()?;
        let file = sink.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path)?;
        if let Some(dir) = self.path.parent()
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(Written {
            manifest,
            size: sink.written,
            sha256: hex::encode(sink.hasher.finalize()),
        })
    }

    /// Removes the unfinished file.
    pub fn abandon(self) {
        let tmp = self.tmp.clone();
        drop(self);
        let _ = std::fs::remove_file(tmp);
    }
}

/// The temporary name a backup is written under.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// What a reader reports while it walks a file.
pub enum Item<'a> {
    Table {
        name: &'a str,
        columns: &'a [String],
    },
    Data(&'a [u8]),
    End(&'a TableSummary),
}

/// Reads a whole backup, calling `visit` for each table start, data chunk
/// and table end, and checks everything on the way. Returns the manifest
/// and the SHA-256 of the file. Errors name what is wrong.
pub fn read(
    path: &Path,
    mut visit: impl FnMut(Item<'_>) -> Result<(), FormatError>,
) -> Result<(Manifest, String), FormatError> {
    let file = File::open(path).map_err(|e| bad(format!("cannot open the file: {e}")))?;
    let mut hashed = HashingReader {
        inner: BufReader::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    let manifest = {
        let decoder = zstd::stream::read::Decoder::with_buffer(&mut hashed)
            .map_err(|e| bad(format!("cannot read the file: {e}")))?
            .single_frame();
        read_stream(decoder, &mut visit)?
    };
    // After the compressed stream: the SHA-256 of everything before it.
    let digest = hashed.hasher.clone().finalize();
    let mut trailer = Vec::new();
    hashed
        .inner
        .by_ref()
        .take(64)
        .read_to_end(&mut trailer)
        .map_err(|e| bad(format!("cannot read the file: {e}")))?;
    if trailer.len() < digest.len() {
        return Err(bad("the file is truncated: its checksum is missing"));
    }
    if trailer.len() > digest.len() {
        return Err(bad(
            "the file is damaged: unexpected data after the end of the backup",
        ));
    }
    if trailer[..] != digest[..] {
        return Err(bad("checksum mismatch: the file is damaged"));
    }
    hashed.hasher.update(&trailer);
    Ok((manifest, hex::encode(hashed.hasher.finalize())))
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl<R: std::io::BufRead> std::io::BufRead for HashingReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amt.min(buf.len());
            self.hasher.update(&buf[..n]);
        }
        self.inner.consume(amt);
    }
}

fn io_error(e: std::io::Error) -> FormatError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            bad("the file is truncated: it ends before the backup does")
        }
        _ => bad(format!(
            "the file is damaged (decompression failed: {e}); it is not a valid Leitstand backup"
        )),
    }
}

/// Reads the decompressed stream. Separate from [`read`] so it can be
/// tested on bytes.
pub fn read_stream(
    mut input: impl Read,
    visit: &mut impl FnMut(Item<'_>) -> Result<(), FormatError>,
) -> Result<Manifest, FormatError> {
    let mut magic = vec![0u8; MAGIC.len()];
    input.read_exact(&mut magic).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => bad("this is not a Leitstand backup (too short)"),
        _ => bad(format!(
            "this is not a Leitstand backup (not a zstd-compressed backup file: {e})"
        )),
    })?;
    if magic != MAGIC {
        return Err(bad("this is not a Leitstand backup (wrong file header)"));
    }
    let mut open: Option<(TableHeader, Sha256, u64, u64)> = None;
    let mut summaries: Vec<TableSummary> = Vec::new();
    let mut payload = Vec::new();
    loop {
        let mut head = [0u8; 5];
        input.read_exact(&mut head).map_err(io_error)?;
        let tag = head[0];
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
        if len > MAX_RECORD {
            return Err(bad(format!(
                "the file is damaged: a record claims {len} bytes"
            )));
        }
        payload.resize(len as usize, 0);
        input.read_exact(&mut payload).map_err(io_error)?;
        match tag {
            b'T' => {
                if open.is_some() {
                    return Err(bad("the file is damaged: a table starts inside another"));
                }
                let header: TableHeader = serde_json::from_slice(&payload)
                    .map_err(|e| bad(format!("the file is damaged: table header: {e}")))?;
                if summaries.iter().any(|s| s.name == header.name) {
                    return Err(bad(format!(
                        "the file is damaged: table {} appears twice",
                        header.name
                    )));
                }
                visit(Item::Table {
                    name: &header.name,
                    columns: &header.columns,
                })?;
                open = Some((header, Sha256::new(), 0, 0));
            }
            b'D' => {
                let Some((_, hasher, rows, bytes)) = open.as_mut() else {
                    return Err(bad("the file is damaged: data outside a table"));
                };
                hasher.update(&payload);
                *rows += payload.iter().filter(|&&b| b == b'\n').count() as u64;
                *bytes += payload.len() as u64;
                visit(Item::Data(&payload))?;
            }
            b'E' => {
                let Some((header, hasher, rows, bytes)) = open.take() else {
                    return Err(bad("the file is damaged: a table ends that never started"));
                };
                let summary: TableSummary = serde_json::from_slice(&payload)
                    .map_err(|e| bad(format!("the file is damaged: table summary: {e}")))?;
                let sha = hex::encode(hasher.finalize());
                if summary.name != header.name
                    || summary.columns != header.columns
                    || summary.rows != rows
                    || summary.bytes != bytes
                    || summary.sha256 != sha
                {
                    return Err(bad(format!(
                        "checksum mismatch in table {}: the file is damaged",
                        header.name
                    )));
                }
                visit(Item::End(&summary))?;
                summaries.push(summary);
            }
            b'M' => {
                if open.is_some() {
                    return Err(bad(
                        "the file is damaged: the manifest comes inside a table",
                    ));
                }
                let manifest: Manifest = serde_json::from_slice(&payload)
                    .map_err(|e| bad(format!("the file is damaged: manifest: {e}")))?;
                if manifest.format != FORMAT_VERSION {
                    return Err(bad(format!(
                        "backup format {} is not supported (this Leitstand reads format {FORMAT_VERSION})",
                        manifest.format
                    )));
                }
                if manifest.tables != summaries {
                    return Err(bad(
                        "the manifest does not match the tables in the file: the file is damaged",
                    ));
                }
                let mut trailing = [0u8; 1];
                match input.read(&mut trailing) {
                    Ok(0) => {}
                    Ok(_) => return Err(bad("the file is damaged: data after the manifest")),
                    Err(e) => return Err(io_error(e)),
                }
                return Ok(manifest);
            }
            other => {
                return Err(bad(format!(
                    "the file is damaged: unknown record type {other:#04x}"
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest as a writer gets it (tables filled in by `finish`).
    pub(super) fn manifest() -> Manifest {
        Manifest {
            format: FORMAT_VERSION,
            schema_version: 7,
            created_at: "2026-01-01T00:00:00Z".into(),
            leitstand_version: "0.1.0".into(),
            kind: "manual".into(),
            events_from: None,
            events_to: None,
            probe_results_from: None,
            probe_results_to: None,
            tables: Vec::new(),
        }
    }

    fn sample(dir: &Path) -> (PathBuf, Written) {
        let path = dir.join("b.lsbackup");
        let mut w = BackupWriter::create(&path).expect("create");
        w.begin_table("services", &["id".into(), "slug".into()])
            .expect("begin");
        w.data(b"1\tshop\n2\tap").expect("data");
        w.data(b"i\n").expect("data");
        w.end_table().expect("end");
        w.begin_table("events", &["id".into()]).expect("begin");
        w.end_table().expect("end");
        let written = w.finish(manifest()).expect("finish");
        (path, written)
    }

    fn read_all(path: &Path) -> Result<(Manifest, Vec<u8>), FormatError> {
        let mut data = Vec::new();
        let (m, _) = read(path, |item| {
            if let Item::Data(d) = item {
                data.extend_from_slice(d);
            }
            Ok(())
        })?;
        Ok((m, data))
    }

    #[test]
    fn a_written_backup_reads_back_identically() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, written) = sample(dir.path());
        assert!(!tmp_path(&path).exists(), "renamed into place");
        let (m, data) = read_all(&path).expect("reads");
        assert_eq!(data, b"1\tshop\n2\tapi\n");
        assert_eq!(m, written.manifest);
        assert_eq!(m.table("services").map(|t| t.rows), Some(2));
        assert_eq!(m.table("events").map(|t| t.rows), Some(0));
        assert_eq!(m.total_rows(), 2);
        let bytes = std::fs::read(&path).expect("file");
        assert_eq!(written.size, bytes.len() as u64);
        assert_eq!(written.sha256, hex::encode(Sha256::digest(&bytes)));
    }

    #[test]
    fn every_single_flipped_byte_is_detected() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, _) = sample(dir.path());
        let good = std::fs::read(&path).expect("file");
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            std::fs::write(&path, &bad).expect("write");
            assert!(read_all(&path).is_err(), "flip at byte {i} went unnoticed");
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, _) = sample(dir.path());
        let good = std::fs::read(&path).expect("file");
        for len in 0..good.len() {
            std::fs::write(&path, &good[..len]).expect("write");
            assert!(
                read_all(&path).is_err(),
                "truncation to {len} bytes accepted"
            );
        }
    }

    #[test]
    fn foreign_files_are_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x");
        std::fs::write(&path, b"hello, this is a text file\n").expect("write");
        let e = read_all(&path).expect_err("refused");
        assert!(e.0.contains("not a Leitstand backup"), "{e}");
        // A zstd file with other content.
        let other = zstd::encode_all(&b"PGDMP something else entirely"[..], 3).expect("zstd");
        std::fs::write(&path, other).expect("write");
        let e = read_all(&path).expect_err("refused");
        assert!(e.0.contains("not a Leitstand backup"), "{e}");
    }

    #[test]
    fn a_manifest_that_disagrees_with_the_tables_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("m.lsbackup");
        let mut w = BackupWriter::create(&path).expect("create");
        w.begin_table("services", &["id".into()]).expect("begin");
        w.data(b"1\n").expect("data");
        w.end_table().expect("end");
        // Hand-write a manifest that claims another table.
        let mut m = manifest();
        m.tables.push(TableSummary {
            name: "users".into(),
            columns: vec![],
            rows: 0,
            bytes: 0,
            sha256: String::new(),
        });
        let json = serde_json::to_vec(&m).expect("json");
        w.record(b'M', &json).expect("record");
        let sink = w.encoder.finish().expect("finish");
        let mut file = sink
            .inner
            .into_inner()
            .map_err(|e| e.into_error())
            .expect("file");
        file.flush().expect("flush");
        std::fs::rename(&w.tmp, &path).expect("rename");
        let e = read_all(&path).expect_err("refused");
        assert!(e.0.contains("manifest"), "{e}");
    }

    #[test]
    fn an_abandoned_writer_leaves_no_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.lsbackup");
        let mut w = BackupWriter::create(&path).expect("create");
        w.begin_table("services", &[]).expect("begin");
        w.abandon();
        assert!(!path.exists());
        assert!(!tmp_path(&path).exists());
    }
}

/// Property tests (`make fuzz` runs them longer): any tables and data
/// written read back identically; any damage to the file is detected; any
/// bytes given to the stream reader are refused or read, never a panic.
#[cfg(test)]
mod props {
    use super::tests::manifest;
    use super::*;
    use proptest::prelude::*;

    type Tables = Vec<(String, Vec<Vec<u8>>)>;

    fn tables() -> impl Strategy<Value = Tables> {
        prop::collection::vec(
            (
                "[a-z_]{1,12}",
                prop::collection::vec(
                    prop::collection::vec(prop::sample::select(b"ab\t\n\\0".to_vec()), 0..300),
                    0..5,
                ),
            ),
            0..4,
        )
        .prop_map(|mut t| {
            // Table names are unique in a backup.
            let mut seen = std::collections::HashSet::new();
            t.retain(|(name, _)| seen.insert(name.clone()));
            t
        })
    }

    fn write(dir: &Path, tables: &Tables) -> PathBuf {
        let path = dir.join("p.lsbackup");
        let mut w = BackupWriter::create(&path).expect("create");
        for (name, chunks) in tables {
            w.begin_table(name, &["c".into()]).expect("begin");
            for c in chunks {
                w.data(c).expect("data");
            }
            w.end_table().expect("end");
        }
        w.finish(manifest()).expect("finish");
        path
    }

    fn read_back(path: &Path) -> Result<Vec<(String, Vec<u8>)>, FormatError> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        read(path, |item| {
            match item {
                Item::Table { name, .. } => out.push((name.to_owned(), Vec::new())),
                Item::Data(d) => {
                    if let Some(last) = out.last_mut() {
                        last.1.extend_from_slice(d);
                    }
                }
                Item::End(_) => {}
            }
            Ok(())
        })?;
        Ok(out)
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
            )),
            ..ProptestConfig::default()
        })]

        #[test]
        fn written_tables_read_back_identically(tables in tables()) {
            let dir = tempfile::tempdir().expect("dir");
            let path = write(dir.path(), &tables);
            let expected: Vec<(String, Vec<u8>)> =
                tables.iter().map(|(n, c)| (n.clone(), c.concat())).collect();
            prop_assert_eq!(read_back(&path).map_err(|e| e.0), Ok(expected));
        }

        #[test]
        fn any_damage_is_detected(
            tables in tables(),
            at in any::<prop::sample::Index>(),
            mask in 1u8..=255,
            truncate in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().expect("dir");
            let path = write(dir.path(), &tables);
            let mut bytes = std::fs::read(&path).expect("file");
            let i = at.index(bytes.len());
            if truncate {
                bytes.truncate(i);
            } else {
                bytes[i] ^= mask;
            }
            std::fs::write(&path, &bytes).expect("write");
            prop_assert!(read_back(&path).is_err(), "damage at byte {} went unnoticed", i);
        }

        #[test]
        fn any_stream_is_refused_or_read_never_a_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..400),
            with_magic in any::<bool>(),
        ) {
            let mut input = if with_magic { MAGIC.to_vec() } else { Vec::new() };
            input.extend_from_slice(&bytes);
            let _ = read_stream(&input[..], &mut |_| Ok(()));
        }
    }
}
