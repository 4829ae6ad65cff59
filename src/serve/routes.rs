//! What each HTTP request does: `POST /` is a Tencent Cloud API 3.0 call; paths under
//! `/_refreshsim/` (a path no Tencent action uses) control the emulator.
//!
//! | method | path | does |
//! |---|---|---|
//! | POST | `/` | an API call (headers `X-TC-Action`, `X-TC-Version`, `X-TC-Region`, ...) |
//! | GET | `/_refreshsim/health` | `{"status": "ok" | "stopped", ...}` |
//! | GET | `/_refreshsim/time` | current simulated time and next event |
//! | POST | `/_refreshsim/advance?by=90s`, `?to=next-event`, `?to=idle` | moves simulated time |
//! | GET | `/_refreshsim/timeline?format=jsonl` or `csv` | the timeline so far |
//! | POST | `/_refreshsim/reset` | back to the scenario's start |

use super::Shared;
use super::http::{Body, JSON, Request, Response};
use super::session::{Advance, ControlError, Session, TimelineFormat};
use super::tencent::{body_too_large, read_api_call};
use crate::time::parse_duration_ms;
use serde_json::{Value, json};
use std::sync::MutexGuard;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub const CONTROL_PREFIX: &str = "/_refreshsim/";

pub fn route(shared: &Shared, request: &Request) -> Response {
    if request.path == "/" {
        return api_call(shared, request);
    }
    match request.path.strip_prefix(CONTROL_PREFIX) {
        Some(endpoint) => control(shared, request, endpoint),
        None => not_found(&request.path),
    }
}

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values always serialize")
}

fn lock(shared: &Shared) -> MutexGuard<'_, Session> {
    // A panic while holding the lock cannot leave a half-applied request behind that matters
    // more than serving the next one: keep going with the state as it is.
    shared
        .session
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unix_now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `POST /`: refusals and engine responses alike are HTTP 200 with the 3.0 envelope.
fn api_call(shared: &Shared, request: &Request) -> Response {
    let real_now = Instant::now();
    let checked = match &request.body {
        Body::TooLarge { declared_bytes } => Err(body_too_large(
            *declared_bytes,
            shared.config.limits.body_bytes_max,
        )),
        Body::Complete(body) => read_api_call(
            request,
            body,
            shared.config.credentials.as_ref(),
            unix_now_secs(),
        ),
    };
    let mut session = lock(shared);
    session.catch_up(real_now);
    let envelope = match checked {
        Ok((action, body)) => session.call(&shared.template, action, &body),
        Err(error) => session.refuse(&shared.template, &error),
    };
    drop(session);
    Response::json(200, to_bytes(&envelope))
}

fn control_error(status: u16, message: &str) -> Response {
    Response::json(status, to_bytes(&json!({ "error": message })))
}

/// An unknown path: the control endpoints' `error` field, and the API 3.0 error envelope for
/// a client that sent an API call to the wrong path (no RequestId: it never reached the API).
fn not_found(path: &str) -> Response {
    let message = format!(
        "no such endpoint {path:?}: API calls are POST /, control endpoints are under {CONTROL_PREFIX}"
    );
    let mut body =
        crate::api::ApiError::new(crate::api::ErrorCode::UnsupportedOperation, message.clone())
            .envelope("");
    body["error"] = json!(message);
    Response::json(404, to_bytes(&body))
}

/// The control endpoints under `/_refreshsim/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Health,
    Time,
    Timeline,
    Advance,
    Reset,
}

impl Endpoint {
    fn parse(name: &str) -> Option<Endpoint> {
        match name {
            "health" => Some(Endpoint::Health),
            "time" => Some(Endpoint::Time),
            "timeline" => Some(Endpoint::Timeline),
            "advance" => Some(Endpoint::Advance),
            "reset" => Some(Endpoint::Reset),
            _ => None,
        }
    }

    /// Reads are GET; what changes the session is POST.
    fn method(self) -> &'static str {
        match self {
            Endpoint::Health | Endpoint::Time | Endpoint::Timeline => "GET",
            Endpoint::Advance | Endpoint::Reset => "POST",
        }
    }
}

fn control(shared: &Shared, request: &Request, name: &str) -> Response {
    let Some(endpoint) = Endpoint::parse(name) else {
        return not_found(&request.path);
    };
    if request.method != endpoint.method() {
        return control_error(
            405,
            &format!(
                "{CONTROL_PREFIX}{name} takes {}, not {}",
                endpoint.method(),
                request.method
            ),
        );
    }
    let real_now = Instant::now();
    let mut session = lock(shared);
    session.catch_up(real_now);
    match endpoint {
        Endpoint::Health => health(shared, &session),
        Endpoint::Time => Response::json(200, to_bytes(&session.time_report(&shared.template))),
        Endpoint::Timeline => timeline(shared, &mut session, request),
        Endpoint::Advance => advance(shared, &mut session, request, real_now),
        Endpoint::Reset => {
            session.reset(&shared.template, real_now);
            Response::json(200, to_bytes(&session.time_report(&shared.template)))
        }
    }
}

fn health(shared: &Shared, session: &Session) -> Response {
    let template = &shared.template;
    let now = session.now();
    let body = json!({
        "status": if session.stopped().is_some() { "stopped" } else { "ok" },
        "error": session.stopped(),
        "tool": "refreshsim",
        "version": template.meta.version,
        "scenario": template.meta.scenario_name,
        "scenario_sha256": template.meta.scenario_sha256,
        "seed": template.seed,
        "group": template.scenario.world.group_id,
        "clock": session.clock_mode().to_string(),
        "signature_check": shared.config.credentials.is_some(),
        "time_ms": now.as_ms(),
        "time": template.scenario.epoch.render(now),
    });
    Response::json(200, to_bytes(&body))
}

fn parse_advance(request: &Request) -> Result<Advance, String> {
    match (request.query_param("by"), request.query_param("to")) {
        (Some(by), None) => parse_duration_ms(by).map(|duration_ms| Advance::By { duration_ms }),
        (None, Some("next-event")) => Ok(Advance::NextEvent),
        (None, Some("idle")) => Ok(Advance::Idle),
        _ => Err(
            "use ?by=DURATION (e.g. by=90s), ?to=next-event or ?to=idle, exactly one of them"
                .into(),
        ),
    }
}

fn advance(
    shared: &Shared,
    session: &mut Session,
    request: &Request,
    real_now: Instant,
) -> Response {
    let how = match parse_advance(request) {
        Ok(how) => how,
        Err(why) => return control_error(400, &why),
    };
    match session.advance(&shared.template, how, real_now) {
        Ok(report) => Response::json(200, to_bytes(&report)),
        Err(ControlError::Refused(why)) => control_error(422, &why),
        Err(ControlError::Stopped(why)) => control_error(409, &why),
    }
}

fn timeline(shared: &Shared, session: &mut Session, request: &Request) -> Response {
    let (format, content_type) = match request.query_param("format") {
        None | Some("jsonl") => (TimelineFormat::Jsonl, "application/x-ndjson"),
        Some("csv") => (TimelineFormat::Csv, "text/csv"),
        Some(other) => {
            return control_error(400, &format!("format is jsonl or csv, found {other:?}"));
        }
    };
    match session.timeline(&shared.template, format) {
        Ok(bytes) => Response::new(200, content_type, bytes).with_header(
            "X-Refreshsim-Timeline-Dropped",
            session.timeline_dropped().to_string(),
        ),
        Err(e) => control_error(500, &format!("cannot render the timeline: {e}")),
    }
}

/// The answer when every worker is busy and the queue is full.
pub fn server_busy() -> Response {
    Response::new(
        503,
        JSON,
        to_bytes(&json!({ "error": "refreshsim serve is at its connection limit; retry" })),
    )
    .closing()
}
