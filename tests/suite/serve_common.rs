//! Helpers for the `serve` tests: start the real binary on a free port, and a raw HTTP/1.1
//! client (keep-alive), raw so that tests can also send what no well-behaved client would.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A well-formed `Authorization` header that a server without credentials accepts unchecked.
pub const UNCHECKED_AUTHORIZATION: &str = "TC3-HMAC-SHA256 Credential=AKIDtest/2023-11-14/as/tc3_request, SignedHeaders=content-type;host, Signature=0000";

pub const LISTENING: &str = "refreshsim serve: listening on http://";

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// A `refreshsim serve` process, killed when dropped.
pub struct ServeProcess {
    child: Child,
    pub addr: String,
}

impl ServeProcess {
    /// Starts `refreshsim serve SCENARIO --listen 127.0.0.1:0 ARGS...` and reads the address
    /// it prints.
    pub fn start(scenario: &str, args: &[&str]) -> ServeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_refreshsim"))
            .arg("serve")
            .arg(fixture(scenario))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("refreshsim starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("a first line");
        let addr = line
            .trim()
            .strip_prefix(LISTENING)
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        ServeProcess { child, addr }
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.addr)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Response.Error.Code` of an API answer, `None` on success.
    pub fn error_code(&self) -> Option<String> {
        self.json()["Response"]["Error"]["Code"]
            .as_str()
            .map(str::to_string)
    }
}

/// One keep-alive connection.
pub struct Client {
    reader: BufReader<TcpStream>,
    addr: String,
}

impl Client {
    pub fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            reader: BufReader::new(stream),
            addr: addr.to_string(),
        }
    }

    /// Writes raw bytes without reading anything.
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("writes");
    }

    /// The connection's reader, for answers that are not a whole response.
    pub fn reader_mut(&mut self) -> &mut BufReader<TcpStream> {
        &mut self.reader
    }

    /// Writes raw bytes and reads one response.
    pub fn send_raw(&mut self, bytes: &[u8]) -> HttpResponse {
        self.reader.get_mut().write_all(bytes).expect("writes");
        self.read_response()
    }

    pub fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes)
    }

    /// An API call with the headers the SDKs send (a signature the server, without
    /// credentials, does not check).
    pub fn api(&mut self, action: &str, body: &Value) -> HttpResponse {
        let body = serde_json::to_vec(body).unwrap();
        self.request(
            "POST",
            "/",
            &[
                ("Content-Type", "application/json"),
                ("X-TC-Action", action),
                ("X-TC-Version", "2018-04-19"),
                ("X-TC-Region", "ap-guangzhou"),
                ("X-TC-Timestamp", "1700000000"),
                ("Authorization", UNCHECKED_AUTHORIZATION),
            ],
            &body,
        )
    }

    pub fn control(&mut self, method: &str, target: &str) -> HttpResponse {
        self.request(method, &format!("/_refreshsim/{target}"), &[], b"")
    }

    pub fn advance(&mut self, query: &str) -> Value {
        let response = self.control("POST", &format!("advance?{query}"));
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        response.json()
    }

    fn read_response(&mut self) -> HttpResponse {
        let mut status_line = String::new();
        self.reader
            .read_line(&mut status_line)
            .expect("a status line");
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("a header line");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("name: value");
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().expect("a number"))
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body).expect("the body");
        HttpResponse {
            status,
            headers,
            body,
        }
    }
}
