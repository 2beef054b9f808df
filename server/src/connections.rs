//! Accepting plain-HTTP connections: HTTP/1.1 through hyper with time
//! limits, and live streams on their own.
//!
//! Every connection takes a slot of its client address (at most
//! `--max-connections-per-ip` at once; trusted proxies are exempt) and is
//! served by hyper with a header-read timeout, one request per hyper
//! connection: between requests the socket waits without hyper's buffers,
//! and a keep-alive connection idle for as long as the header timeout is
//! closed. A
//! connection whose first request is a live stream (`GET` of one of
//! [`STREAM_PATHS`]) is answered here instead: the request still runs
//! through the whole router (authentication, security headers, tracing),
//! but the response is written straight to the socket, `Connection: close`
//! and delimited by the close. hyper keeps two 8 KiB buffers for every
//! connection for as long as it lives; an SSE connection lives for hours
//! and idles almost all of that time, so this is what makes ten thousand
//! open streams cheap.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use app::events::live::LiveStats;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, Version, header};
use futures::FutureExt;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::security::Transport;
use crate::security::client::limit_key;

/// Requests answered here when they open a connection: the routes of
/// `api::stream` (the REST stream and the dashboard's).
pub const STREAM_PATHS: [&str; 2] = ["/api/v1/stream", "/live/stream"];
/// Largest request head read here (the rest goes to hyper).
const MAX_HEAD: usize = 16 * 1024;
/// A client whose socket takes no bytes for this long is disconnected (it
/// resumes with `Last-Event-ID` when it comes back).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of waiting stream messages gathered into one write.
const COALESCE_MAX: usize = 64 * 1024;
/// Largest non-stream response written here (errors such as 401).
const MAX_PLAIN_BODY: usize = 1024 * 1024;

/// Time and count limits of connections.
#[derive(Clone)]
pub struct ConnectionLimits {
    /// A request head must arrive within this; also the keep-alive idle time.
    pub header_read_timeout: Duration,
    /// Open connections per client address.
    pub slots: Arc<Slots>,
}

/// Open connections per client address (IPv6: per /64).
pub struct Slots {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
    transport: Arc<Transport>,
}

/// One open connection's place; given back when dropped.
pub struct Slot {
    slots: Arc<Slots>,
    key: Option<IpAddr>,
}

impl Slots {
    /// `max` connections per address (0 = no limit); trusted proxies are exempt.
    pub fn new(max: usize, transport: Arc<Transport>) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(HashMap::new()),
            transport,
        })
    }

    /// A slot for a connection from `peer`, or None when it has its share.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Slot> {
        if self.max == 0 || self.transport.is_trusted_proxy(peer) {
            return Some(Slot {
                slots: self.clone(),
                key: None,
            });
        }
        let key = limit_key(peer);
        let mut open = self.open.lock().ok()?;
        let n = open.entry(key).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self.clone(),
            key: Some(key),
        })
    }

    /// Connections currently open from `peer`'s address.
    pub fn open_from(&self, peer: IpAddr) -> usize {
        self.open
            .lock()
            .ok()
            .and_then(|o| o.get(&limit_key(peer)).copied())
            .unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(key) = self.key
            && let Ok(mut open) = self.slots.open.lock()
            && let Some(n) = open.get_mut(&key)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&key);
            }
        }
    }
}

/// Starts accepting on `listener`: live streams are served here, every
/// other connection by hyper (HTTP/1.1). Stops accepting when `shutdown`
/// fires; open connections finish their request and close.
pub fn accept(
    listener: TcpListener,
    router: Router,
    stats: Arc<LiveStats>,
    limits: ConnectionLimits,
    tracker: &TaskTracker,
    shutdown: CancellationToken,
) {
    let spawner = tracker.clone();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tracker.spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = shutdown.cancelled() => return,
            };
            let (tcp, addr) = match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off a little.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(slot) = limits.slots.admit(addr.ip()) else {
                tracing::debug!(%addr, "connection refused: too many from this address");
                continue;
            };
            spawner.spawn(route(
                Conn {
                    tcp,
                    addr,
                    router: router.clone(),
                    stats: stats.clone(),
                    _slot: slot,
                },
                http.clone(),
                limits.header_read_timeout,
                shutdown.clone(),
            ));
        }
    });
}

/// An accepted connection and what serving it needs.
struct Conn {
    tcp: TcpStream,
    addr: SocketAddr,
    router: Router,
    stats: Arc<LiveStats>,
    _slot: Slot,
}

/// Reads enough of the first request to tell a live stream from anything
/// else, then serves the stream or hands the connection to hyper.
async fn route(
    mut conn: Conn,
    http: hyper::server::conn::http1::Builder,
    head_timeout: Duration,
    shutdown: CancellationToken,
) {
    let deadline = tokio::time::Instant::now() + head_timeout;
    let mut buf = Vec::new();
    let head = loop {
        if buf.len() >= MAX_HEAD || !could_be_stream(&buf) {
            break None;
        }
        buf.reserve(1024);
        tokio::select! {
            read = tokio::time::timeout_at(deadline, conn.tcp.read_buf(&mut buf)) => match read {
                Ok(Ok(n)) if n > 0 => {}
                // Closed, failed or too slow before saying what it wants.
                _ => return,
            },
            () = shutdown.cancelled() => return,
        }
        match parse_stream_head(&buf) {
            Parsed::Stream(head) => break Some(head),
            Parsed::Other => break None,
            Parsed::Partial => {}
        }
    };
    match head {
        // Ends by itself at shutdown (the stream does), cleanly.
        Some(head) => {
            drop(buf);
            serve_stream(conn, head).await;
        }
        None => serve_http(conn, buf, http, head_timeout, shutdown).await,
    }
}

/// Serves a connection with hyper, one request per hyper connection: hyper
/// keeps two 8 KiB buffers for as long as its connection lives, so between
/// two requests the socket is taken back and waited on with nothing else
/// held (an idle keep-alive connection then costs its socket and a small
/// task). The next request's bytes start a new hyper connection; bytes hyper
/// had already read are handed to it first. Idle for `idle`: closed. At
/// shutdown the request in flight finishes and the connection closes.
async fn serve_http(
    conn: Conn,
    prefix: Vec<u8>,
    http: hyper::server::conn::http1::Builder,
    idle: Duration,
    shutdown: CancellationToken,
) {
    let Conn {
        tcp,
        addr,
        router,
        _slot,
        ..
    } = conn;
    let mut io = Rewind::new(prefix, tcp);
    loop {
        let turn = Arc::new(Turn::default());
        let service = {
            let turn = turn.clone();
            let router = router.clone();
            hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let unread = turn.begin(&req);
                let body_turn = turn.clone();
                let mut req = req.map(|body| {
                    Body::new(TrackedBody {
                        inner: body,
                        turn: body_turn,
                        unread,
                    })
                });
                req.extensions_mut().insert(ConnectInfo(addr));
                let response = router.clone().oneshot(req);
                let turn = turn.clone();
                Box::pin(async move {
                    let Ok(response) = response.await;
                    turn.answered(&response);
                    Ok::<_, std::convert::Infallible>(
                        response.map(|body| Body::new(ReleasedBody { inner: body, turn })),
                    )
                })
            })
        };
        // Boxed: an idle connection's task keeps none of hyper's state.
        let mut connection = Box::new(http.serve_connection(TokioIo::new(io), service));
        let mut handing_back = false;
        let mut stopping = false;
        let ended = loop {
            tokio::select! {
                ended = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => break ended,
                // Every request so far is answered and out of the router's
                // hands (hyper runs only inside this task, so no request
                // can start meanwhile): hyper finishes writing, then gives
                // the socket back. Pipelined requests are all answered
                // first.
                () = turn.released.notified(), if !handing_back => {
                    if turn.all_answered() {
                        handing_back = true;
                        Pin::new(&mut *connection).graceful_shutdown();
                    }
                }
                () = shutdown.cancelled(), if !stopping => {
                    stopping = true;
                    Pin::new(&mut *connection).graceful_shutdown();
                }
            }
        };
        if let Err(e) = ended {
            tracing::debug!(error = %e, %addr, "connection ended with an error");
            return;
        }
        // Closed by the client, by hyper (a malformed request), by a
        // request or response that does not keep the connection, or with a
        // request body left unread (its rest would be taken for the next
        // request): the socket closes.
        if stopping || !handing_back || !turn.reusable() {
            return;
        }
        let parts = connection.into_parts();
        let mut rewind = parts.io.into_inner();
        let mut pending = rewind.take_unread();
        pending.extend_from_slice(&parts.read_buf);
        let tcp = rewind.inner;
        if pending.is_empty() {
            tokio::select! {
                ready = tokio::time::timeout(idle, tcp.readable()) => {
                    if !matches!(ready, Ok(Ok(()))) {
                        return;
                    }
                }
                () = shutdown.cancelled() => return,
            }
        }
        io = Rewind::new(pending, tcp);
    }
}

/// What one hyper connection's requests did, to tell whether the socket
/// may serve the next one.
#[derive(Default)]
struct Turn {
    /// Requests hyper handed to the router.
    started: std::sync::atomic::AtomicUsize,
    /// Responses whose body hyper let go of.
    answered: std::sync::atomic::AtomicUsize,
    /// Request bodies not (yet) read to their end.
    unread: std::sync::atomic::AtomicUsize,
    /// A request or a response asked to close the connection.
    close: std::sync::atomic::AtomicBool,
    /// Signalled whenever a response's body is let go of.
    released: tokio::sync::Notify,
}

impl Turn {
    /// Notes a request; true when its body has yet to be read.
    fn begin<B: hyper::body::Body>(&self, req: &Request<B>) -> bool {
        self.started.fetch_add(1, Ordering::Relaxed);
        if req.version() != Version::HTTP_11 || says_close(req.headers()) {
            self.close.store(true, Ordering::Relaxed);
        }
        let unread = !req.body().is_end_stream();
        if unread {
            self.unread.fetch_add(1, Ordering::Relaxed);
        }
        unread
    }

    fn answered(&self, res: &axum::response::Response) {
        if says_close(res.headers()) {
            self.close.store(true, Ordering::Relaxed);
        }
    }

    fn all_answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed) == self.started.load(Ordering::Relaxed)
    }

    fn reusable(&self) -> bool {
        self.started.load(Ordering::Relaxed) > 0
            && self.all_answered()
            && !self.close.load(Ordering::Relaxed)
            && self.unread.load(Ordering::Relaxed) == 0
    }
}

/// Whether a `Connection` header asks to close.
fn says_close(headers: &axum::http::HeaderMap) -> bool {
    crate::headers::list_items(headers, header::CONNECTION).any(|t| t.eq_ignore_ascii_case("close"))
}

/// A request body that notes when it was read to its end.
struct TrackedBody {
    inner: hyper::body::Incoming,
    turn: Arc<Turn>,
    /// Counted in `turn.unread` until read to its end.
    unread: bool,
}

impl hyper::body::Body for TrackedBody {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) && self.unread {
            self.unread = false;
            self.turn.unread.fetch_sub(1, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that says when hyper let go of it.
struct ReleasedBody {
    inner: Body,
    turn: Arc<Turn>,
}

impl hyper::body::Body for ReleasedBody {
    type Data = hyper::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ReleasedBody {
    fn drop(&mut self) {
        self.turn.answered.fetch_add(1, Ordering::Relaxed);
        self.turn.released.notify_one();
    }
}

/// Whether the bytes so far may still become `GET <stream path>`.
fn could_be_stream(buf: &[u8]) -> bool {
    /// `a` and `b` agree as far as both go.
    fn agree(a: &[u8], b: &[u8]) -> bool {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    }
    let method = b"GET ";
    if !agree(buf, method) {
        return false;
    }
    let rest = buf.get(method.len()..).unwrap_or_default();
    STREAM_PATHS.iter().any(|path| agree(rest, path.as_bytes()))
}

/// The parts of a live-stream request head.
#[derive(Debug, PartialEq)]
struct StreamHead {
    /// Path and query.
    target: String,
    version: Version,
    headers: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, PartialEq)]
enum Parsed {
    Stream(StreamHead),
    Other,
    Partial,
}

fn parse_stream_head(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    let (Some("GET"), Some(target)) = (req.method, req.path) else {
        return Parsed::Other;
    };
    let path = target.split('?').next().unwrap_or_default();
    // Anything after the head (a body, pipelined requests) is hyper's job.
    if !STREAM_PATHS.contains(&path) || len != buf.len() {
        return Parsed::Other;
    }
    Parsed::Stream(StreamHead {
        target: target.to_owned(),
        version: if req.version == Some(0) {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        },
        headers: req
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect(),
    })
}

/// Status line and headers, `Connection: close`; without the blank line.
fn response_head(parts: axum::http::response::Parts) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            parts.status.as_u16(),
            parts.status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    for (name, value) in &parts.headers {
        if matches!(
            *name,
            header::CONTENT_LENGTH | header::TRANSFER_ENCODING | header::CONNECTION
        ) {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "date: {}\r\nconnection: close\r\n",
            httpdate::fmt_http_date(SystemTime::now())
        )
        .as_bytes(),
    );
    out
}

fn build_request(head: StreamHead, addr: SocketAddr) -> Option<Request<Body>> {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(head.target)
        .version(head.version)
        .body(Body::empty())
        .ok()?;
    for (name, value) in head.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(&value).ok()?;
        req.headers_mut().append(name, value);
    }
    req.extensions_mut().insert(ConnectInfo(addr));
    Some(req)
}

async fn serve_stream(conn: Conn, head: StreamHead) {
    let Conn {
        mut tcp,
        addr,
        router,
        stats,
        _slot,
    } = conn;
    let _ = tcp.set_nodelay(true);
    // Boxed: the router's future is only needed until the response is ready.
    let response = match build_request(head, addr) {
        Some(req) => match Box::pin(router.oneshot(req)).await {
            Ok(res) => res,
            Err(never) => match never {},
        },
        None => {
            let mut res = axum::response::Response::new(Body::from("malformed request header"));
            *res.status_mut() = StatusCode::BAD_REQUEST;
            res
        }
    };
    let (parts, body) = response.into_parts();
    let streaming = parts.status == StatusCode::OK
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    // The head is written once; nothing of it is kept for the stream's life.
    let mut out = response_head(parts);

    let (mut reader, mut writer) = tcp.split();
    if !streaming {
        // An error (401, 403, 422, …): small, sent whole.
        let bytes = match http_body_util::Limited::new(body, MAX_PLAIN_BODY)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Default::default(),
        };
        out.extend_from_slice(format!("content-length: {}\r\n\r\n", bytes.len()).as_bytes());
        out.extend_from_slice(&bytes);
        let _ = tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(&out)).await;
        let _ = writer.shutdown().await;
        return;
    }
    out.extend_from_slice(b"\r\n");
    if !matches!(
        tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(&out)).await,
        Ok(Ok(()))
    ) {
        return;
    }
    drop(out);

    let mut body = body;
    // Whatever the client sends now is ignored; reading tells when it left.
    let mut ignored = [0u8; 32];
    loop {
        tokio::select! {
            frame = body.frame() => {
                let Some(first) = frame_bytes(frame) else {
                    break;
                };
                // Events already waiting go out in the same write: a
                // group-commit batch reaches every stream at once, and one
                // system call per stream for the burst is far cheaper than
                // one per event.
                let mut more: Option<Vec<u8>> = None;
                let mut ended = false;
                while more.as_ref().map_or(first.len(), Vec::len) < COALESCE_MAX {
                    let Some(next) = body.frame().now_or_never() else {
                        break;
                    };
                    match frame_bytes(next) {
                        Some(next) => more.get_or_insert_with(|| first.to_vec()).extend_from_slice(&next),
                        None => {
                            ended = true;
                            break;
                        }
                    }
                }
                let data: &[u8] = more.as_deref().unwrap_or(&first);
                if !data.is_empty() {
                    match tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(data)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return,
                        // A client that stopped reading is let go rather than held.
                        Err(_) => {
                            stats.clients_dropped.fetch_add(1, Ordering::Relaxed);
                            tracing::info!("live stream client stopped reading; disconnected (it resumes on reconnect)");
                            return;
                        }
                    }
                }
                if ended {
                    break;
                }
            }
            read = reader.read(&mut ignored) => {
                if matches!(read, Ok(0) | Err(_)) {
                    return;
                }
            }
        }
    }
    let _ = writer.shutdown().await;
}

/// The bytes of a stream's frame (none for a frame without data); None when
/// the stream ended or failed.
fn frame_bytes(
    frame: Option<Result<hyper::body::Frame<hyper::body::Bytes>, axum::Error>>,
) -> Option<hyper::body::Bytes> {
    match frame {
        Some(Ok(frame)) => Some(frame.into_data().unwrap_or_default()),
        Some(Err(_)) | None => None,
    }
}

/// A connection whose first bytes were already read: hands them out again
/// before reading on from the socket.
pub struct Rewind {
    prefix: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl Rewind {
    fn new(prefix: Vec<u8>, inner: TcpStream) -> Self {
        Self {
            prefix,
            pos: 0,
            inner,
        }
    }

    /// The prefix's bytes not yet read.
    fn take_unread(&mut self) -> Vec<u8> {
        let mut prefix = std::mem::take(&mut self.prefix);
        prefix.drain(..self.pos);
        self.pos = 0;
        prefix
    }
}

impl AsyncRead for Rewind {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = buf.remaining().min(self.prefix.len() - self.pos);
            let start = self.pos;
            buf.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            if self.pos == self.prefix.len() {
                self.prefix = Vec::new();
                self.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The per-address connection limit for HTTPS (axum-server accepts those
/// connections itself; this runs before the TLS handshake).
#[derive(Clone)]
pub struct SlotAcceptor {
    slots: Arc<Slots>,
}

impl SlotAcceptor {
    pub fn new(slots: Arc<Slots>) -> Self {
        Self { slots }
    }
}

impl<S> axum_server::accept::Accept<TcpStream, S> for SlotAcceptor {
    type Stream = SlotStream;
    type Service = S;
    type Future = std::future::Ready<io::Result<(SlotStream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let slot = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.slots.admit(peer.ip()));
        std::future::ready(match slot {
            Some(slot) => Ok((
                SlotStream {
                    inner: stream,
                    _slot: slot,
                },
                service,
            )),
            None => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "too many connections from this address",
            )),
        })
    }
}

/// A TCP stream holding its address's connection slot.
pub struct SlotStream {
    inner: TcpStream,
    _slot: Slot,
}

impl AsyncRead for SlotStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SlotStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_get_of_a_stream_path_may_be_a_stream() {
        assert!(could_be_stream(b""));
        assert!(could_be_stream(b"GE"));
        assert!(could_be_stream(b"GET /api/v1/str"));
        assert!(could_be_stream(
            b"GET /live/stream?level=error HTTP/1.1\r\n"
        ));
        assert!(!could_be_stream(b"POST /api/v1/stream"));
        assert!(!could_be_stream(b"GET /api/v1/events"));
        assert!(!could_be_stream(b"GET / HTTP/1.1"));
    }

    #[test]
    fn stream_heads_are_parsed_and_everything_else_is_handed_over() {
        let head =
            b"GET /api/v1/stream?service=shop HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 42\r\n\r\n";
        let Parsed::Stream(parsed) = parse_stream_head(head) else {
            panic!("not parsed as a stream");
        };
        assert_eq!(parsed.target, "/api/v1/stream?service=shop");
        assert_eq!(parsed.version, Version::HTTP_11);
        assert_eq!(
            parsed.headers,
            vec![
                ("Host".to_owned(), b"x".to_vec()),
                ("Last-Event-ID".to_owned(), b"42".to_vec())
            ]
        );
        assert_eq!(parse_stream_head(&head[..30]), Parsed::Partial);
        // A different path, a body or pipelined bytes, garbage: hyper's.
        assert_eq!(
            parse_stream_head(b"GET /api/v1/streams HTTP/1.1\r\n\r\n"),
            Parsed::Other
        );
        let mut pipelined = head.to_vec();
        pipelined.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(parse_stream_head(&pipelined), Parsed::Other);
        assert_eq!(
            parse_stream_head(b"GET \x00\x01 junk\r\n\r\n"),
            Parsed::Other
        );
    }
}
