//! A small HTTP/1.1 server side: read one request at a time from a connection (keep-alive,
//! `Expect: 100-continue`), within hard limits on the head, the headers and the body and a
//! deadline for the whole request; write responses with a `Content-Length`. Parsing is
//! `httparse` (the parser hyper uses); everything else is here so that every limit is ours to
//! set and test.
//!
//! Why not a server crate: ARCHITECTURE.md, "serve's HTTP layer". In short: `tiny_http` serves
//! each connection on a thread of an unbounded pool and sets no header-size limit; `hyper` 1.x
//! needs tokio and still leaves the body deadline to us. A fixed worker pool over `httparse`
//! keeps every limit explicit and tested.
//!
//! The request deadline: a worker serves one connection, so a client that trickles its request
//! in (a byte every few seconds) would hold its worker as long as it likes under a per-read
//! timeout. Instead, a request must arrive whole — head and body — within `request_deadline`
//! of its first byte (a connection's first request: of the worker taking the connection up);
//! past it the client gets 408 and the connection closes (OQ-95).
//!
//! Request bodies come with a `Content-Length` (the SDKs and tccli) or `Transfer-Encoding:
//! chunked` (RFC 9112 §7.1: sizes in hex, extensions ignored, trailers read and dropped), under
//! the same size cap. Not supported, on purpose: other transfer codings, pipelining beyond
//! reading requests in order, HTTP/2, TLS.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Limits applied while reading one request.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Request line plus headers, in bytes.
    pub head_bytes_max: usize,
    pub headers_max: usize,
    pub body_bytes_max: usize,
    /// How long a connection may stay idle between two requests.
    pub idle_timeout: Duration,
    /// How long one request, head and body, may take to arrive from its first byte (for a
    /// connection's first request: from the first read).
    pub request_deadline: Duration,
}

/// One request as read from the wire. Header names keep their case; look-ups ignore it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The query string without `?` (empty when absent).
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// The client asked to close the connection after this request (or spoke HTTP/1.0).
    pub close: bool,
}

#[derive(Debug, Clone)]
pub enum Body {
    Complete(Vec<u8>),
    /// The declared `Content-Length` is over the limit: the body was not read.
    TooLarge {
        declared_bytes: u64,
    },
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` in the query string (no percent-decoding: control parameters are
    /// plain words and durations).
    pub fn query_param(&self, key: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed the connection (or stayed idle too long) between requests.
    Closed,
    Io(io::Error),
    /// The head exceeds `head_bytes_max` or `headers_max` (answered 431).
    HeadTooLarge,
    /// Not HTTP/1.x, a bad `Content-Length` or chunked body (answered 400).
    Malformed(String),
    /// The request had started but did not arrive whole within the deadline (answered 408).
    Deadline(Duration),
}

/// A response: status, content type, body, and whether to close the connection after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub close: bool,
}

pub const JSON: &str = "application/json";

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
            close: false,
        }
    }

    /// Tencent answers every API call, refused or not, with HTTP 200 and a JSON body. The SDKs
    /// read errors only from a `Content-Type` of exactly `application/json`.
    pub fn json(status: u16, body: Vec<u8>) -> Response {
        Response::new(status, JSON, body)
    }

    pub fn with_header(mut self, name: &str, value: String) -> Response {
        self.headers.push((name.to_string(), value));
        self
    }

    pub fn closing(mut self) -> Response {
        self.close = true;
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// What a connection reads requests from and writes responses to: a TCP stream when serving
/// (the fuzz suite's `serve_http` target reads bytes in memory).
pub trait Stream: Read + Write {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

impl Stream for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        TcpStream::shutdown(self, how)
    }
}

/// When the request being read must have arrived whole, and the deadline it came from.
#[derive(Debug, Clone, Copy)]
struct By {
    at: Instant,
    allowed: Duration,
}

/// One client connection: the stream and the bytes read past the current request.
pub struct Connection<S: Stream = TcpStream> {
    stream: S,
    pending: Vec<u8>,
    /// Requests whose head was read: the first one's deadline runs from the first read.
    requests_started: u64,
}

const READ_CHUNK_BYTES: usize = 8 * 1024;

impl<S: Stream> Connection<S> {
    pub fn new(stream: S) -> Connection<S> {
        Connection {
            stream,
            pending: Vec::new(),
            requests_started: 0,
        }
    }

    /// Reads the next request. `Err(ReadError::Closed)` at a clean end of the connection.
    pub fn read_request(&mut self, limits: &ReadLimits) -> Result<Request, ReadError> {
        let by = self.await_request(limits)?;
        self.requests_started += 1;
        let mut request = self.read_head(limits, by)?;
        let length = match body_framing(&request)? {
            Framing::Chunked => {
                self.continue_if_expected(&request)?;
                request.body = self.read_chunked(limits.body_bytes_max, by)?;
                return Ok(request);
            }
            Framing::Length(length) => length,
        };
        if length > limits.body_bytes_max as u64 {
            request.body = Body::TooLarge {
                declared_bytes: length,
            };
            return Ok(request);
        }
        self.continue_if_expected(&request)?;
        request.body = Body::Complete(self.read_body(length as usize, by)?);
        Ok(request)
    }

    /// Waits for the next request to start and returns the instant by which it must have
    /// arrived whole. A connection's first request has no idle allowance: its deadline runs
    /// from now. Later ones may wait `idle_timeout` for their first byte (`Closed` after it).
    fn await_request(&mut self, limits: &ReadLimits) -> Result<By, ReadError> {
        let from_now = || By {
            at: Instant::now() + limits.request_deadline,
            allowed: limits.request_deadline,
        };
        if self.requests_started == 0 || !self.pending.is_empty() {
            return Ok(from_now());
        }
        self.set_timeout(limits.idle_timeout)?;
        match self.fill() {
            Ok(0) => Err(ReadError::Closed),
            Ok(_) => Ok(from_now()),
            Err(e) if is_timeout(&e) => Err(ReadError::Closed),
            Err(e) => Err(ReadError::Io(e)),
        }
    }

    /// Reads more bytes, waiting at most until the deadline: `ReadError::Deadline` past it.
    fn fill_by(&mut self, by: By) -> Result<usize, ReadError> {
        let left = by.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadError::Deadline(by.allowed));
        }
        self.set_timeout(left)?;
        match self.fill() {
            Ok(n) => Ok(n),
            Err(e) if is_timeout(&e) => Err(ReadError::Deadline(by.allowed)),
            Err(e) => Err(ReadError::Io(e)),
        }
    }

    fn continue_if_expected(&mut self, request: &Request) -> Result<(), ReadError> {
        if request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            // curl waits a second for this before sending a body over 1 KiB.
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .map_err(ReadError::Io)?;
        }
        Ok(())
    }

    /// A chunked body: `Body::TooLarge` (with the bytes declared so far) as soon as the chunk
    /// sizes add up to more than `body_bytes_max`; the rest is not read (the connection closes).
    fn read_chunked(&mut self, body_bytes_max: usize, by: By) -> Result<Body, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(by)?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ReadError::Malformed(format!(
                    "bad chunk size {size_text:?} in a chunked body"
                )));
            }
            let size = u64::from_str_radix(size_text, 16).map_err(|_| {
                ReadError::Malformed(format!("chunk size {size_text:?} is too large"))
            })?;
            if size == 0 {
                // Trailer fields up to the empty line: read and dropped.
                while !self.read_line(by)?.is_empty() {}
                return Ok(Body::Complete(body));
            }
            let declared = body.len() as u64 + size;
            if declared > body_bytes_max as u64 {
                return Ok(Body::TooLarge {
                    declared_bytes: declared,
                });
            }
            let data = self.read_body(size as usize, by)?;
            body.extend_from_slice(&data);
            if !self.read_line(by)?.is_empty() {
                return Err(ReadError::Malformed(
                    "a chunk is longer than its declared size".into(),
                ));
            }
        }
    }

    /// One CRLF-terminated line of a chunked body (without the CRLF), at most 4 KiB.
    fn read_line(&mut self, by: By) -> Result<String, ReadError> {
        const LINE_BYTES_MAX: usize = 4096;
        loop {
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.pending.drain(..end + 2).take(end).collect();
                return String::from_utf8(line)
                    .map_err(|_| ReadError::Malformed("a chunk line is not UTF-8".into()));
            }
            if self.pending.len() > LINE_BYTES_MAX {
                return Err(ReadError::Malformed("a chunk line is too long".into()));
            }
            if self.fill_by(by)? == 0 {
                return Err(ReadError::Malformed("the chunked body is truncated".into()));
            }
        }
    }

    fn read_head(&mut self, limits: &ReadLimits, by: By) -> Result<Request, ReadError> {
        loop {
            if let Some(request) = self.parse_head(limits)? {
                return Ok(request);
            }
            if self.pending.len() >= limits.head_bytes_max {
                return Err(ReadError::HeadTooLarge);
            }
            let started = !self.pending.is_empty();
            match self.fill_by(by) {
                Ok(0) if started => {
                    return Err(ReadError::Malformed("the request head is truncated".into()));
                }
                Ok(0) => return Err(ReadError::Closed),
                Ok(_) => {}
                // A first request that never started: the client just went quiet.
                Err(ReadError::Deadline(_)) if !started => return Err(ReadError::Closed),
                Err(e) => return Err(e),
            }
        }
    }

    /// Parses the head from the pending bytes: `Ok(None)` when more bytes are needed.
    fn parse_head(&mut self, limits: &ReadLimits) -> Result<Option<Request>, ReadError> {
        let mut slots = vec![httparse::EMPTY_HEADER; limits.headers_max];
        let mut parsed = httparse::Request::new(&mut slots);
        let head_len = match parsed.parse(&self.pending) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(ReadError::HeadTooLarge),
            Err(e) => return Err(ReadError::Malformed(format!("bad request head: {e}"))),
        };
        if head_len > limits.head_bytes_max {
            return Err(ReadError::HeadTooLarge);
        }
        let target = parsed.path.unwrap_or("/");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = Vec::with_capacity(parsed.headers.len());
        for h in parsed.headers.iter() {
            let value = std::str::from_utf8(h.value)
                .map_err(|_| ReadError::Malformed(format!("header {} is not UTF-8", h.name)))?;
            headers.push((h.name.to_string(), value.trim().to_string()));
        }
        let http10 = parsed.version == Some(0);
        let connection = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .map(|(_, v)| v.to_ascii_lowercase());
        let close = match connection.as_deref() {
            Some("close") => true,
            Some("keep-alive") => false,
            _ => http10,
        };
        let request = Request {
            method: parsed.method.unwrap_or("").to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers,
            body: Body::Complete(Vec::new()),
            close,
        };
        self.pending.drain(..head_len);
        Ok(Some(request))
    }

    fn read_body(&mut self, length: usize, by: By) -> Result<Vec<u8>, ReadError> {
        while self.pending.len() < length {
            if self.fill_by(by)? == 0 {
                return Err(ReadError::Malformed("the request body is truncated".into()));
            }
        }
        let rest = self.pending.split_off(length);
        Ok(std::mem::replace(&mut self.pending, rest))
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; READ_CHUNK_BYTES];
        let n = self.stream.read(&mut chunk)?;
        self.pending.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn set_timeout(&self, timeout: Duration) -> Result<(), ReadError> {
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(ReadError::Io)
    }

    pub fn write_response(&mut self, response: &Response) -> io::Result<()> {
        let mut out = Vec::with_capacity(response.body.len() + 160);
        write!(
            out,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
            response.status,
            reason(response.status),
            response.content_type,
            response.body.len(),
            if response.close {
                "close"
            } else {
                "keep-alive"
            }
        )?;
        for (name, value) in &response.headers {
            write!(out, "{name}: {value}\r\n")?;
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&response.body);
        self.stream.write_all(&out)?;
        self.stream.flush()
    }

    /// Closes after a response the client may still be sending a body for: stop writing, read
    /// and drop what arrives (up to a bound), then close. Closing at once with unread bytes would
    /// reset the connection, and the client could lose the response.
    /// `timeout` bounds the whole drain (a trickling client cannot stretch it).
    pub fn linger_close(mut self, drain_bytes_max: usize, timeout: Duration) {
        let _ = self.stream.shutdown(Shutdown::Write);
        let end = Instant::now() + timeout;
        let mut drained = 0usize;
        let mut chunk = [0u8; READ_CHUNK_BYTES];
        while drained < drain_bytes_max {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    }

    /// Accepts a `CONNECT` (see `connect_target`): the tunnel is this connection, read on.
    pub fn write_tunnel_established(&mut self) -> io::Result<()> {
        // RFC 9110 §9.3.6: a 2xx answer to CONNECT has no Content-Length and no body.
        self.stream
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
        self.stream.flush()
    }

    /// Answers without reading a request (the server is full).
    pub fn refuse(mut self, response: &Response) {
        let _ = self.write_response(response);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Whether `serve` accepts `CONNECT target` as an HTTP proxy would: only to an Auto Scaling
/// endpoint (`as.tencentcloudapi.com` or `as.REGION.tencentcloudapi.com`) on port 80. A client
/// with `serve` as its proxy then sends, through the "tunnel" (the same connection, read on as
/// HTTP), exactly what it would send Tencent — the Host it signed included (OQ-94).
pub fn connect_target(target: &str) -> Result<(), String> {
    let (host, port) = target
        .rsplit_once(':')
        .ok_or_else(|| format!("CONNECT {target:?} has no port"))?;
    let host = host.to_ascii_lowercase();
    let endpoint = host
        .strip_prefix("as.")
        .and_then(|rest| rest.strip_suffix("tencentcloudapi.com"))
        .is_some_and(|middle| {
            middle.is_empty()
                || middle.strip_suffix('.').is_some_and(|region| {
                    !region.is_empty()
                        && region
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                })
        });
    if !endpoint {
        return Err(format!(
            "CONNECT {target:?}: serve is a proxy only to as.tencentcloudapi.com (or \
             as.REGION.tencentcloudapi.com)"
        ));
    }
    match port {
        "80" => Ok(()),
        "443" => Err(format!(
            "CONNECT {target:?}: HTTPS is not emulated; set the client's protocol to http://"
        )),
        _ => Err(format!("CONNECT {target:?}: only port 80 is served")),
    }
}

/// How the body is delimited.
enum Framing {
    Length(u64),
    Chunked,
}

/// `Transfer-Encoding: chunked`, or the declared `Content-Length` (0 when absent). Both at
/// once, or another transfer coding, is refused (RFC 9112 §6.1: a request smuggling risk).
fn body_framing(request: &Request) -> Result<Framing, ReadError> {
    if let Some(coding) = request.header("transfer-encoding") {
        if !coding.eq_ignore_ascii_case("chunked") {
            return Err(ReadError::Malformed(format!(
                "Transfer-Encoding {coding:?} is not supported: send chunked or a Content-Length"
            )));
        }
        if request.header("content-length").is_some() {
            return Err(ReadError::Malformed(
                "both Transfer-Encoding and Content-Length".into(),
            ));
        }
        return Ok(Framing::Chunked);
    }
    content_length(request).map(Framing::Length)
}

/// The declared body length: 0 when absent.
fn content_length(request: &Request) -> Result<u64, ReadError> {
    let mut declared: Option<u64> = None;
    for (name, value) in &request.headers {
        if !name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReadError::Malformed(format!(
                "Content-Length {value:?} is not a number"
            )));
        }
        let n: u64 = value
            .parse()
            .map_err(|_| ReadError::Malformed(format!("Content-Length {value:?} is too large")))?;
        if declared.is_some_and(|d| d != n) {
            return Err(ReadError::Malformed(
                "conflicting Content-Length headers".into(),
            ));
        }
        declared = Some(n);
    }
    Ok(declared.unwrap_or(0))
}

/// The response for a request that could not be read, or `None` when the connection just
/// ended: an HTTP 4xx status with a JSON body in the API 3.0 envelope, so that a client (the
/// SDKs parse any JSON body for `Response.Error`) can read why. No RequestId is issued: the
/// request never reached the API.
pub fn response_to_read_error(error: &ReadError) -> Option<Response> {
    use crate::api::{ApiError, ErrorCode};
    let envelope = |status: u16, code: ErrorCode, text: String| {
        let body = serde_json::to_vec(&ApiError::new(code, text).envelope(""))
            .expect("JSON values always serialize");
        Some(Response::json(status, body).closing())
    };
    match error {
        ReadError::Closed | ReadError::Io(_) => None,
        ReadError::HeadTooLarge => envelope(
            431,
            ErrorCode::RequestSizeLimitExceeded,
            "The request header exceeds the upper limit.".into(),
        ),
        ReadError::Malformed(why) => envelope(
            400,
            ErrorCode::UnsupportedProtocol,
            format!("HTTP(S) request protocol error: {why}."),
        ),
        ReadError::Deadline(allowed) => envelope(
            408,
            ErrorCode::UnsupportedProtocol,
            format!(
                "HTTP(S) request protocol error: the request did not arrive whole within {} ms \
                 of its first byte; the connection is closed.",
                allowed.as_millis()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    fn limits() -> ReadLimits {
        ReadLimits {
            head_bytes_max: 1024,
            headers_max: 8,
            body_bytes_max: 64,
            idle_timeout: Duration::from_secs(2),
            request_deadline: Duration::from_secs(2),
        }
    }

    /// Sends `bytes` to a fresh connection and reads requests from it until an error.
    fn read_all(bytes: &[u8]) -> (Vec<Request>, ReadError) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.write_all(bytes).unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let mut conn = Connection::new(server_side);
        let mut requests = Vec::new();
        loop {
            match conn.read_request(&limits()) {
                Ok(r) => requests.push(r),
                Err(e) => return (requests, e),
            }
        }
    }

    #[test]
    fn reads_keep_alive_requests_in_order() {
        let (requests, end) = read_all(
            b"POST /?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}\
              POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nConnection: close\r\n\r\n[1]",
        );
        assert!(matches!(end, ReadError::Closed));
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].query_param("a"), Some("1"));
        assert!(matches!(&requests[0].body, Body::Complete(b) if b == b"{}"));
        assert!(!requests[0].close);
        assert!(matches!(&requests[1].body, Body::Complete(b) if b == b"[1]"));
        assert!(requests[1].close);
        assert_eq!(requests[1].header("HOST"), Some("x"));
    }

    #[test]
    fn chunked_bodies_are_read_with_extensions_and_trailers() {
        let (requests, e) = read_all(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
              4;ext=1\r\n{\"Li\r\n9\r\nmit\": 10}\r\n0\r\nX-Trailer: y\r\n\r\n\
              POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
        );
        assert!(matches!(e, ReadError::Closed), "{e:?}");
        assert_eq!(requests.len(), 2);
        let Body::Complete(body) = &requests[0].body else {
            panic!("read")
        };
        assert_eq!(body, b"{\"Limit\": 10}");
        assert!(matches!(&requests[1].body, Body::Complete(b) if b.is_empty()));
    }

    #[test]
    fn chunked_bodies_have_the_same_cap_and_bad_ones_are_errors() {
        // 40 + 40 bytes > 64: too large once the second size is read.
        let mut bytes = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n".to_vec();
        bytes.extend_from_slice(&[b' '; 40]);
        bytes.extend_from_slice(b"\r\n28\r\n");
        let (requests, _) = read_all(&bytes);
        assert!(matches!(
            requests[0].body,
            Body::TooLarge { declared_bytes: 80 }
        ));
        for bad in [
            &b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..],
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
        ] {
            let (requests, e) = read_all(bad);
            assert!(requests.is_empty());
            assert!(matches!(e, ReadError::Malformed(_)), "{e:?}");
        }
    }

    /// A server side whose client writes `at_once`, then `trickled` a byte every `gap`, then
    /// keeps the connection open for a while (join the thread after the read).
    fn trickle(
        at_once: &'static [u8],
        trickled: &'static [u8],
        gap: Duration,
    ) -> (Connection, thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.write_all(at_once).unwrap();
        let writer = thread::spawn(move || {
            for b in trickled {
                if client.write_all(&[*b]).is_err() {
                    return;
                }
                thread::sleep(gap);
            }
            thread::sleep(Duration::from_secs(3));
        });
        (Connection::new(listener.accept().unwrap().0), writer)
    }

    fn deadline_limits() -> ReadLimits {
        ReadLimits {
            request_deadline: Duration::from_millis(600),
            idle_timeout: Duration::from_secs(5),
            ..limits()
        }
    }

    #[test]
    fn oq95_a_trickled_head_or_body_stops_at_the_deadline() {
        // Each byte comes well within any per-read timeout; the whole never within 600 ms.
        let gap = Duration::from_millis(100);
        for (at_once, trickled) in [
            (&b""[..], &b"POST / HTTP/1.1\r\nHost: x\r\n\r\n"[..]),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n",
                b"123456789",
            ),
        ] {
            let (mut conn, writer) = trickle(at_once, trickled, gap);
            let started = Instant::now();
            let error = conn.read_request(&deadline_limits()).unwrap_err();
            let took = started.elapsed();
            assert!(
                matches!(error, ReadError::Deadline(d) if d.as_millis() == 600),
                "{error:?}"
            );
            assert!(took >= Duration::from_millis(590), "{took:?}");
            assert!(took < Duration::from_millis(2500), "{took:?}");
            let response = response_to_read_error(&error).expect("answered");
            assert_eq!(response.status, 408);
            assert!(response.close);
            let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
            assert_eq!(body["Response"]["Error"]["Code"], "UnsupportedProtocol");
            let message = body["Response"]["Error"]["Message"].as_str().unwrap();
            assert!(message.contains("within 600 ms"), "{message}");
            drop(conn);
            writer.join().unwrap();
        }
    }

    #[test]
    fn the_deadline_runs_from_a_later_requests_first_byte_not_the_idle_wait() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut conn = Connection::new(listener.accept().unwrap().0);
        client.write_all(b"GET /a HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(conn.read_request(&deadline_limits()).unwrap().path, "/a");
        // Idle for longer than the deadline (within the idle timeout), then a prompt request.
        let writer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(900));
            client.write_all(b"GET /b HTTP/1.1\r\n\r\n").unwrap();
            client
        });
        assert_eq!(conn.read_request(&deadline_limits()).unwrap().path, "/b");
        drop(writer.join().unwrap());
    }

    #[test]
    fn a_first_request_that_never_starts_closes_quietly_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut conn = Connection::new(listener.accept().unwrap().0);
        let started = Instant::now();
        let error = conn.read_request(&deadline_limits()).unwrap_err();
        assert!(matches!(error, ReadError::Closed), "{error:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "not the idle timeout"
        );
        assert!(response_to_read_error(&error).is_none());
        drop(client);
    }

    #[test]
    fn oq94_connect_is_accepted_only_to_an_auto_scaling_endpoint_on_port_80() {
        for ok in [
            "as.tencentcloudapi.com:80",
            "AS.TencentCloudAPI.com:80",
            "as.ap-guangzhou.tencentcloudapi.com:80",
        ] {
            assert_eq!(connect_target(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("as.tencentcloudapi.com:443", "HTTPS is not emulated"),
            ("as.tencentcloudapi.com:8080", "only port 80"),
            ("as.tencentcloudapi.com", "no port"),
            ("cvm.tencentcloudapi.com:80", "only to as."),
            ("as.evil.com:80", "only to as."),
            ("as..tencentcloudapi.com:80", "only to as."),
            ("as.x_y.tencentcloudapi.com:80", "only to as."),
            ("127.0.0.1:80", "only to as."),
        ] {
            let error = connect_target(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    #[test]
    fn a_request_read_after_a_connect_is_the_tunnelled_one() {
        let (requests, end) = read_all(
            b"CONNECT as.tencentcloudapi.com:80 HTTP/1.1\r\nHost: as.tencentcloudapi.com:80\r\n\r\n\
              POST / HTTP/1.1\r\nHost: as.tencentcloudapi.com\r\nContent-Length: 2\r\n\r\n{}",
        );
        assert!(matches!(end, ReadError::Closed), "{end:?}");
        assert_eq!(requests[0].method, "CONNECT");
        assert_eq!(requests[0].path, "as.tencentcloudapi.com:80");
        assert_eq!(requests[1].header("host"), Some("as.tencentcloudapi.com"));
    }

    #[test]
    fn an_oversized_body_is_not_read() {
        let (requests, _) = read_all(b"POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n");
        assert!(matches!(
            requests[0].body,
            Body::TooLarge { declared_bytes: 65 }
        ));
    }

    #[test]
    fn limits_and_malformed_heads_are_errors() {
        let many: String = (0..9).map(|i| format!("X-{i}: y\r\n")).collect();
        let (_, e) = read_all(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes());
        assert!(matches!(e, ReadError::HeadTooLarge));
        let long = "a".repeat(2000);
        let (_, e) = read_all(format!("GET /{long} HTTP/1.1\r\n\r\n").as_bytes());
        assert!(matches!(e, ReadError::HeadTooLarge));
        let (_, e) = read_all(b"\x00\x01garbage\r\n\r\n");
        assert!(matches!(e, ReadError::Malformed(_)));
        let (_, e) = read_all(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n");
        assert!(matches!(e, ReadError::Malformed(_)));
        let (_, e) = read_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert!(matches!(e, ReadError::Malformed(_)));
        let (_, e) =
            read_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n");
        assert!(matches!(e, ReadError::Malformed(_)));
        let (_, e) = read_all(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}");
        assert!(matches!(e, ReadError::Malformed(_)));
        let (_, e) = read_all(b"POST / HTTP/1.1\r\nContent-Len");
        assert!(matches!(e, ReadError::Malformed(_)));
    }
}
