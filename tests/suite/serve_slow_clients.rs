//! Slow clients cannot starve `refreshsim serve` (the real binary, default limits): 64 clients
//! (as many as there are workers) each trickle a request in, one byte every 2 s, which no
//! per-read timeout would ever cut. A normal client's API call and the health endpoint, made
//! while every worker is held, still complete — once the slow requests hit the request deadline
//! (10 s from a worker taking the connection up) — and each slow client gets a clear 408 with
//! the API envelope and a closed connection, at the deadline and not before.
//!
//! Bounded: a slow client reads until the server closes (40 s at most), every read has a
//! timeout, and the margins are generous (this is not a timing benchmark: a loaded 2-core
//! machine may be slow, so only "not before the deadline" and "well within twice the deadline"
//! are asserted).

use crate::serve_common::{Client, ServeProcess};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// `DEFAULT_LIMITS.workers`: every worker is held by a slow client.
const SLOW_CLIENTS: usize = 64;
/// `DEFAULT_LIMITS.request_deadline`.
const DEADLINE: Duration = Duration::from_secs(10);
const BYTE_GAP: Duration = Duration::from_secs(2);
/// The request each slow client would send, if it ever got there.
const SLOW_REQUEST: &[u8] = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-TC-Action: DescribeAutoScalingGroups\r\n\r\n";

/// What a slow client saw: the whole answer (until EOF), and how long after its first byte
/// the connection closed.
struct Slow {
    answered_after: Duration,
    sent: usize,
    /// The read error that ended it, if not a clean close.
    error: Option<std::io::Error>,
    answer: Vec<u8>,
}

fn slow_client(addr: &str) -> Slow {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let first_byte = Instant::now();
    let mut answer = Vec::new();
    let mut next = 0usize;
    let mut error = None;
    let mut last_write = first_byte - BYTE_GAP;
    let give_up = first_byte + Duration::from_secs(40);
    loop {
        if next < SLOW_REQUEST.len() && last_write.elapsed() >= BYTE_GAP {
            // The server may close the connection first: a failed write ends the trickle.
            if stream.write_all(&SLOW_REQUEST[next..=next]).is_ok() {
                next += 1;
            }
            last_write = Instant::now();
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        if Instant::now() > give_up {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    Slow {
        error,
        sent: next,
        answered_after: first_byte.elapsed(),
        answer,
    }
}

#[test]
fn sixty_four_trickling_clients_do_not_hold_the_server_past_the_request_deadline() {
    let server = ServeProcess::start("tests/fixtures/serve/load.toml", &[]);
    let slow: Vec<thread::JoinHandle<Slow>> = (0..SLOW_CLIENTS)
        .map(|_| {
            let addr = server.addr.clone();
            thread::spawn(move || slow_client(&addr))
        })
        .collect();
    // Let every slow client connect and be taken up by a worker.
    thread::sleep(Duration::from_millis(1500));

    let normal_started = Instant::now();
    let (health, call) = thread::scope(|scope| {
        let health = scope.spawn(|| {
            let mut client = Client::connect(&server.addr);
            let response = client.control("GET", "health");
            (response, normal_started.elapsed())
        });
        let call = scope.spawn(|| {
            let mut client = Client::connect(&server.addr);
            let body = json!({ "AutoScalingGroupIds": ["asg-load0001"] });
            let response = client.api("DescribeAutoScalingGroups", &body);
            (response, normal_started.elapsed())
        });
        (health.join().unwrap(), call.join().unwrap())
    });
    let slow: Vec<Slow> = slow.into_iter().map(|h| h.join().unwrap()).collect();

    // The normal client and the health endpoint got their answers...
    assert_eq!(health.0.status, 200);
    assert_eq!(health.0.json()["status"], "ok");
    assert_eq!(call.0.status, 200);
    let group = &call.0.json()["Response"]["AutoScalingGroupSet"][0];
    assert_eq!(
        group["AutoScalingGroupId"],
        "asg-load0001",
        "{}",
        call.0.json()
    );
    // ...within the deadline that freed the workers (plus a generous margin), not never.
    for (what, took) in [("health", health.1), ("API call", call.1)] {
        assert!(took < DEADLINE * 2, "the {what} took {took:?}");
    }
    // Every slow client got a clear 408 at its deadline (not before), then the connection
    // closed; none got as far as the API.
    for (n, s) in slow.iter().enumerate() {
        let text = String::from_utf8_lossy(&s.answer);
        assert!(
            text.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "slow client {n} (after {:?}, sent {} bytes, error {:?}): {text:?}",
            s.answered_after,
            s.sent,
            s.error
        );
        assert!(text.contains("Connection: close\r\n"), "{text}");
        let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).expect("a body"))
            .expect("a JSON body");
        assert_eq!(body["Response"]["Error"]["Code"], "UnsupportedProtocol");
        let message = body["Response"]["Error"]["Message"].as_str().unwrap();
        assert!(message.contains("within 10000 ms"), "{message}");
        assert!(
            s.answered_after >= DEADLINE - Duration::from_millis(200),
            "slow client {n} cut after {:?}",
            s.answered_after
        );
        assert!(
            s.answered_after < DEADLINE * 2 + Duration::from_secs(2),
            "{:?}",
            s.answered_after
        );
    }
    // And the server is still fine.
    let mut after = server.client();
    assert_eq!(after.control("GET", "health").status, 200);
}
