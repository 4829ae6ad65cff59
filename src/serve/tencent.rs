//! The Tencent Cloud API 3.0 side of an HTTP request: common headers, signature, version,
//! action and JSON body, checked in a fixed order before the call reaches the engine. Each
//! refusal is the documented common error code (S-COMMON-ERR).

use super::auth::{self, Credentials};
use super::http::Request;
use crate::api::{Action, ApiError, ErrorCode};
use serde_json::Value;

/// The only API version of Auto Scaling (`X-TC-Version`).
pub const API_VERSION: &str = "2018-04-19";

fn missing(parameter: &str, header: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MissingParameter,
        format!("The request is missing a required parameter `{parameter}` (header {header})."),
    )
}

fn required_header<'a>(
    request: &'a Request,
    header: &str,
    parameter: &str,
) -> Result<&'a str, ApiError> {
    match request.header(header) {
        Some(value) if !value.is_empty() => Ok(value),
        Some(_) | None => Err(missing(parameter, header)),
    }
}

/// The action and JSON body of an API request, or the error Tencent would answer, checking in
/// this order (OQ-58): method, signature (when credentials are set; without them, only that an
/// `Authorization` and an `X-TC-Timestamp` header are there), `X-TC-Action` present,
/// `X-TC-Version` present and `2018-04-19`, action known, `X-TC-Region` present, body JSON.
pub fn read_api_call(
    request: &Request,
    body: &[u8],
    credentials: Option<&Credentials>,
    now_unix_secs: u64,
) -> Result<(Action, Value), ApiError> {
    check_method(&request.method)?;
    match credentials {
        Some(credentials) => auth::verify(request, body, credentials, now_unix_secs)?,
        None => require_signature_headers(request)?,
    }
    let action_name = required_header(request, "x-tc-action", "Action")?;
    let version = required_header(request, "x-tc-version", "Version")?;
    if version != API_VERSION {
        return Err(ApiError::new(
            ErrorCode::NoSuchVersion,
            format!(
                "The API version `{version}` does not exist; Auto Scaling has `{API_VERSION}`."
            ),
        ));
    }
    let action = Action::parse(action_name).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidAction,
            format!("The API `{action_name}` does not exist (or is not emulated by refreshsim)."),
        )
    })?;
    required_header(request, "x-tc-region", "Region")?;
    Ok((action, parse_body(body)?))
}

/// Without credentials any signature is accepted, but not none: every API 3.0 request carries
/// `Authorization` and `X-TC-Timestamp` (the SDKs and tccli always send both). Tencent's
/// common error codes (e.g. https://www.tencentcloud.com/document/api/1131/45350, "Common
/// Error Codes") answer a missing or malformed header `AuthFailure.InvalidAuthorization`
/// ("Authorization in the request header is invalid") and a missing common parameter
/// (`Timestamp` is one, sent as `X-TC-Timestamp`) `MissingParameter`; these are the codes
/// `auth::verify` gives with credentials, checked in the same order.
fn require_signature_headers(request: &Request) -> Result<(), ApiError> {
    match request.header("authorization") {
        Some(value) if !value.is_empty() => {}
        _ => {
            return Err(ApiError::new(
                ErrorCode::AuthFailureInvalidAuthorization,
                "Authorization in the request header is invalid: the Authorization header is missing.",
            ));
        }
    }
    required_header(request, "x-tc-timestamp", "Timestamp")?;
    Ok(())
}

/// The SDKs send `POST` with a JSON body. Tencent also takes `GET` with form parameters, which
/// refreshsim does not emulate; other methods are `UnsupportedProtocol` as Tencent answers them.
fn check_method(method: &str) -> Result<(), ApiError> {
    match method {
        "POST" => Ok(()),
        "GET" => Err(ApiError::new(
            ErrorCode::UnsupportedOperation,
            "refreshsim emulates POST requests with a JSON body (what the SDKs and tccli send); GET is not emulated.",
        )),
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedProtocol,
            format!(
                "HTTP(S) request protocol error; only GET and POST requests are supported, found {method}."
            ),
        )),
    }
}

/// An empty body is `{}`; anything else must be JSON (OQ-59) (a wrong shape is the engine's to refuse,
/// with `InvalidParameter`, `UnknownParameter` or `MissingParameter` as in `run`).
fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("The request body is not valid JSON: {e}."),
        )
    })
}

/// The error for a body over the size limit (the body is not read).
pub fn body_too_large(declared_bytes: u64, body_bytes_max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::RequestSizeLimitExceeded,
        format!(
            "The request size exceeds the upper limit: {declared_bytes} bytes, at most {body_bytes_max}."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::http::Body;

    fn request(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Body::Complete(Vec::new()),
            close: false,
        }
    }

    const GOOD: &[(&str, &str)] = &[
        ("X-TC-Action", "DescribeRefreshActivities"),
        ("X-TC-Version", "2018-04-19"),
        ("X-TC-Region", "ap-guangzhou"),
        ("X-TC-Timestamp", "1700000000"),
        (
            "Authorization",
            "TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/as/tc3_request, SignedHeaders=content-type;host, Signature=00",
        ),
    ];

    fn code(headers: &[(&str, &str)], body: &[u8]) -> Option<ErrorCode> {
        read_api_call(&request(headers), body, None, 0)
            .err()
            .map(|e| e.code)
    }

    fn without(name: &str) -> Vec<(&'static str, &'static str)> {
        GOOD.iter().copied().filter(|(n, _)| *n != name).collect()
    }

    #[test]
    fn a_good_request_gives_its_action_and_body() {
        let (action, body) = read_api_call(&request(GOOD), b" {\"Limit\": 1} ", None, 0).unwrap();
        assert_eq!(action, Action::DescribeRefreshActivities);
        assert_eq!(body["Limit"], 1);
        let (_, empty) = read_api_call(&request(GOOD), b"", None, 0).unwrap();
        assert_eq!(empty, serde_json::json!({}));
    }

    #[test]
    fn oq58_oq59_each_bad_header_or_body_has_its_common_code() {
        assert_eq!(
            code(&without("X-TC-Action"), b"{}"),
            Some(ErrorCode::MissingParameter)
        );
        assert_eq!(
            code(&without("X-TC-Version"), b"{}"),
            Some(ErrorCode::MissingParameter)
        );
        assert_eq!(
            code(&without("X-TC-Region"), b"{}"),
            Some(ErrorCode::MissingParameter)
        );
        let mut old = GOOD.to_vec();
        old[1] = ("X-TC-Version", "2017-03-12");
        assert_eq!(code(&old, b"{}"), Some(ErrorCode::NoSuchVersion));
        let mut unknown = GOOD.to_vec();
        unknown[0] = ("X-TC-Action", "DescribeInstances");
        assert_eq!(code(&unknown, b"{}"), Some(ErrorCode::InvalidAction));
        assert_eq!(code(GOOD, b"{not json"), Some(ErrorCode::InvalidParameter));
        assert_eq!(code(GOOD, &[0xff, 0xfe]), Some(ErrorCode::InvalidParameter));
    }

    #[test]
    fn without_credentials_any_signature_passes_but_not_a_missing_one() {
        let mut other = GOOD.to_vec();
        other[4] = ("Authorization", "anything at all");
        assert_eq!(code(&other, b"{}"), None);
        assert_eq!(
            code(&without("Authorization"), b"{}"),
            Some(ErrorCode::AuthFailureInvalidAuthorization)
        );
        other[4] = ("Authorization", "");
        assert_eq!(
            code(&other, b"{}"),
            Some(ErrorCode::AuthFailureInvalidAuthorization)
        );
        let e = read_api_call(&request(&without("X-TC-Timestamp")), b"{}", None, 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::MissingParameter);
        assert!(e.message.contains("Timestamp"), "{}", e.message);
    }

    #[test]
    fn oq58_methods_other_than_post_are_refused() {
        let mut get = request(GOOD);
        get.method = "GET".into();
        let e = read_api_call(&get, b"", None, 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedOperation);
        get.method = "PUT".into();
        let e = read_api_call(&get, b"", None, 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedProtocol);
    }

    #[test]
    fn oq58_the_signature_is_checked_before_the_headers() {
        let credentials = Credentials {
            secret_id: "AKIDx".into(),
            secret_key: "k".into(),
        };
        let headers: Vec<_> = without("X-TC-Action")
            .into_iter()
            .filter(|(n, _)| *n != "Authorization")
            .collect();
        let e = read_api_call(&request(&headers), b"{}", Some(&credentials), 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::AuthFailureInvalidAuthorization);
    }
}
