//! OQ-94: `serve` as an HTTP proxy for clients that sign the endpoint they think they reach (the
//! Node.js SDK: README "Node.js SDK"). `CONNECT as.tencentcloudapi.com:80` opens a "tunnel" (the
//! same connection, read on); a call signed for `Host: as.tencentcloudapi.com` then passes the
//! unchanged signature check, and a signature over a host without its port still fails — the
//! check is not relaxed for anyone. Other CONNECT targets are refused with a reason.

use crate::serve_common::{HttpResponse, ServeProcess};
use refreshsim::serve::auth::{CanonicalRequest, Credentials, authorization_header, sha256_hex};
use std::time::{SystemTime, UNIX_EPOCH};

const LIFECYCLE: &str = "tests/sdk/scenarios/sdk-lifecycle.toml";

fn credentials() -> Credentials {
    Credentials {
        secret_id: "AKIDproxy".into(),
        secret_key: "pr0xy".into(),
    }
}

fn server() -> ServeProcess {
    ServeProcess::start(
        LIFECYCLE,
        &["--secret-id", "AKIDproxy", "--secret-key", "pr0xy"],
    )
}

/// A DescribeRefreshActivities call with `Host: sent_host`, signed over `signed_host`.
fn signed_request(sent_host: &str, signed_host: &str) -> Vec<u8> {
    let body = "{}";
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let canonical = CanonicalRequest {
        method: "POST",
        uri: "/",
        query: "",
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), signed_host.into()),
        ],
        hashed_payload: sha256_hex(body.as_bytes()),
    };
    let authorization = authorization_header(&credentials(), &canonical, timestamp);
    format!(
        "POST / HTTP/1.1\r\nHost: {sent_host}\r\nContent-Type: application/json\r\n\
         X-TC-Action: DescribeRefreshActivities\r\nX-TC-Version: 2018-04-19\r\n\
         X-TC-Region: ap-guangzhou\r\nX-TC-Timestamp: {timestamp}\r\n\
         Authorization: {authorization}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn connect(target: &str) -> Vec<u8> {
    format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").into_bytes()
}

/// Reads the `200 Connection Established` head (no body) and nothing more.
fn read_tunnel_head(client: &mut crate::serve_common::Client) -> String {
    use std::io::BufRead;
    let reader = client.reader_mut();
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a head line");
        head.push_str(&line);
        if line == "\r\n" || line.is_empty() {
            return head;
        }
    }
}

#[test]
fn oq94_a_call_tunnelled_through_connect_is_checked_as_tencent_would_see_it() {
    let server = server();
    let mut client = server.client();
    client.write_raw(&connect("as.tencentcloudapi.com:80"));
    let head = read_tunnel_head(&mut client);
    assert_eq!(head, "HTTP/1.1 200 Connection Established\r\n\r\n");
    // Through the tunnel, keep-alive: the SDK's view of the world, signed and checked as is.
    for _ in 0..2 {
        let answer = client.send_raw(&signed_request(
            "as.tencentcloudapi.com",
            "as.tencentcloudapi.com",
        ));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.error_code(), None, "{}", answer.json());
        assert!(answer.json()["Response"]["RefreshActivitySet"].is_array());
    }
    // A signature over another host than the one sent still fails.
    let answer = client.send_raw(&signed_request(
        "as.tencentcloudapi.com",
        "cvm.tencentcloudapi.com",
    ));
    assert_eq!(
        answer.error_code().as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
}

#[test]
fn oq94_the_check_is_not_relaxed_for_a_host_signed_without_its_port() {
    let server = server();
    let mut client = server.client();
    let host_only = server.addr.split(':').next().unwrap().to_string();
    let answer: HttpResponse = client.send_raw(&signed_request(&server.addr, &host_only));
    assert_eq!(
        answer.error_code().as_deref(),
        Some("AuthFailure.SignatureFailure"),
        "what the Node.js SDK signs when pointed at HOST:PORT directly"
    );
    let answer = client.send_raw(&signed_request(&server.addr, &server.addr));
    assert_eq!(answer.error_code(), None, "{}", answer.json());
}

#[test]
fn oq94_connect_elsewhere_is_refused_with_a_reason() {
    let server = server();
    for (target, why) in [
        ("as.tencentcloudapi.com:443", "HTTPS is not emulated"),
        (
            "cvm.tencentcloudapi.com:80",
            "only to as.tencentcloudapi.com",
        ),
        ("example.com:80", "only to as.tencentcloudapi.com"),
    ] {
        let mut client = server.client();
        let answer = client.send_raw(&connect(target));
        assert_eq!(answer.status, 400, "{target}");
        assert_eq!(answer.header("Connection"), Some("close"));
        assert_eq!(answer.error_code().as_deref(), Some("UnsupportedProtocol"));
        let message = answer.json()["Response"]["Error"]["Message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains(why), "{target}: {message}");
    }
}
