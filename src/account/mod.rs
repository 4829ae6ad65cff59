//! Reading Tencent Cloud API responses as users get them (issue 12): the API 3.0 envelope
//! `{"Response": {...}}`, tccli's printed inner object, the Python SDK's `to_json_string()`
//! (every field present, unset ones `null`), one response per file or one per line (JSONL of
//! polls or pages), and the lines of a run's `responses.jsonl`.
//!
//! Every error names the file (and line, for JSONL) and the JSON path of what is wrong. No
//! printing, no exit codes: callers map [`AccountError`] to both.

pub mod json;
pub mod refresh;
pub mod scaling;

use serde_json::Value;

/// Largest input file read (256 MiB): a 2,000-instance group's pages are a few MiB.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;
/// Most responses (lines) one file may hold.
pub const MAX_DOCUMENTS: usize = 1_000_000;

/// The Describe actions whose responses refreshsim reads, each known by its result set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    DescribeRefreshActivities,
    DescribeAutoScalingActivities,
    DescribeAutoScalingGroups,
    DescribeAutoScalingInstances,
    DescribeLaunchConfigurations,
    DescribeLifecycleHooks,
    /// CVM's `DescribeInstances`.
    DescribeInstances,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::DescribeRefreshActivities,
        Action::DescribeAutoScalingActivities,
        Action::DescribeAutoScalingGroups,
        Action::DescribeAutoScalingInstances,
        Action::DescribeLaunchConfigurations,
        Action::DescribeLifecycleHooks,
        Action::DescribeInstances,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::DescribeRefreshActivities => "DescribeRefreshActivities",
            Action::DescribeAutoScalingActivities => "DescribeAutoScalingActivities",
            Action::DescribeAutoScalingGroups => "DescribeAutoScalingGroups",
            Action::DescribeAutoScalingInstances => "DescribeAutoScalingInstances",
            Action::DescribeLaunchConfigurations => "DescribeLaunchConfigurations",
            Action::DescribeLifecycleHooks => "DescribeLifecycleHooks",
            Action::DescribeInstances => "DescribeInstances (CVM)",
        }
    }

    /// The response field that holds the result list (Tencent's SDK models).
    pub fn set_key(self) -> &'static str {
        match self {
            Action::DescribeRefreshActivities => "RefreshActivitySet",
            Action::DescribeAutoScalingActivities => "ActivitySet",
            Action::DescribeAutoScalingGroups => "AutoScalingGroupSet",
            Action::DescribeAutoScalingInstances => "AutoScalingInstanceSet",
            Action::DescribeLaunchConfigurations => "LaunchConfigurationSet",
            Action::DescribeLifecycleHooks => "LifecycleHookSet",
            Action::DescribeInstances => "InstanceSet",
        }
    }

    /// The action named in a `responses.jsonl` line (`action`), if it is this one.
    fn api_name(self) -> &'static str {
        match self {
            Action::DescribeInstances => "DescribeInstances",
            other => other.name(),
        }
    }
}

/// Why an input cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccountError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}:{column}: not JSON: {message}")]
    NotJson {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{at}: {path}: an error response, not a result: {code}: {message}")]
    ErrorResponse {
        at: String,
        path: String,
        code: String,
        message: String,
    },
    #[error("{at}: {path}: expected a {expected} response (with {key}), found {found}")]
    WrongAction {
        at: String,
        path: String,
        expected: &'static str,
        key: &'static str,
        found: String,
    },
    #[error("{at}: {path}: {message}")]
    Invalid {
        at: String,
        path: String,
        message: String,
    },
}

impl AccountError {
    pub fn invalid(at: &str, path: &str, message: impl Into<String>) -> AccountError {
        AccountError::Invalid {
            at: at.to_string(),
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// One response body (the object that holds the result set), with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// `file` or `file:line` (JSONL), for messages.
    pub at: String,
    /// The JSON path of the body inside its document: `Response`, `response.Response` or ``.
    pub path: String,
    /// 0-based position among all documents read from the file (poll order).
    pub index: usize,
    pub value: Value,
}

/// A document that is not a response of the wanted action but may be passed over: the header
/// line or another action's call in a run's `responses.jsonl`, an error poll in a JSONL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub at: String,
    pub why: String,
}

/// What [`read_responses`] does with an error response (`Response.Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Always an error (import: a failed page is a missing page).
    Refuse,
    /// A JSONL of polls may contain failed polls (e.g. `RequestLimitExceeded`): skip those
    /// with a note; a file holding one response that is an error is still refused.
    SkipPolls,
}

/// Reads one file's text as responses of `action`.
pub fn read_responses(
    file: &str,
    text: &str,
    action: Action,
    on_error: OnError,
) -> Result<(Vec<Body>, Vec<Skipped>), AccountError> {
    let documents = json::documents(file, text)?;
    let single = documents.len() == 1;
    let mut bodies = Vec::new();
    let mut skipped = Vec::new();
    for (index, (at, document)) in documents.into_iter().enumerate() {
        match classify(&at, &document, action)? {
            Classified::Body { path, value } => bodies.push(Body {
                at,
                path,
                index,
                value,
            }),
            Classified::Pass(why) => skipped.push(Skipped { at, why }),
            Classified::Error {
                path,
                code,
                message,
            } => {
                if single || on_error == OnError::Refuse {
                    return Err(AccountError::ErrorResponse {
                        at,
                        path,
                        code,
                        message,
                    });
                }
                skipped.push(Skipped {
                    at,
                    why: format!("an error response ({code}), not a result: skipped"),
                });
            }
        }
    }
    // A run's responses.jsonl (its header line read) may hold no call of this action.
    let run_log = skipped.iter().any(|s| s.why == HEADER);
    if bodies.is_empty() && !run_log {
        return Err(AccountError::invalid(
            file,
            "",
            format!(
                "no {} response in the file{}",
                action.name(),
                match skipped.first() {
                    Some(s) => format!(" (first passed over: {}: {})", s.at, s.why),
                    None => String::new(),
                }
            ),
        ));
    }
    Ok((bodies, skipped))
}

const HEADER: &str = "refreshsim's header line";

enum Classified {
    Body {
        path: String,
        value: Value,
    },
    Pass(String),
    Error {
        path: String,
        code: String,
        message: String,
    },
}

/// Finds the response body in one document and checks it is `action`'s.
fn classify(at: &str, document: &Value, action: Action) -> Result<Classified, AccountError> {
    let Some(object) = document.as_object() else {
        return Err(AccountError::invalid(
            at,
            "",
            format!(
                "expected a JSON object (a {} response), found {}",
                action.name(),
                json::kind(document)
            ),
        ));
    };
    // A run's responses.jsonl: a header line, then {"time_ms", "action", "request", "response"}.
    if object.contains_key("_refreshsim") && !object.contains_key("Response") {
        return Ok(Classified::Pass(HEADER.into()));
    }
    let (prefix, inner) = match (object.get("response"), object.get("action")) {
        (Some(response), Some(name)) => {
            let name = name.as_str().unwrap_or("?");
            if name != action.api_name() {
                return Ok(Classified::Pass(format!(
                    "a {name} call, not {}",
                    action.name()
                )));
            }
            ("response", response)
        }
        _ => ("", document),
    };
    let (path, body) = match inner.get("Response") {
        Some(body) => (json::join(prefix, "Response"), body),
        None => (prefix.to_string(), inner),
    };
    let Some(body_object) = body.as_object() else {
        return Err(AccountError::invalid(
            at,
            &path,
            format!("expected an object, found {}", json::kind(body)),
        ));
    };
    if let Some(error) = body_object.get("Error").filter(|e| !e.is_null()) {
        let text = |key: &str| {
            error
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        };
        return Ok(Classified::Error {
            path: json::join(&path, "Error"),
            code: text("Code"),
            message: text("Message"),
        });
    }
    if body_object.contains_key(action.set_key()) {
        return Ok(Classified::Body {
            path,
            value: body.clone(),
        });
    }
    let found = Action::ALL
        .iter()
        .find(|other| body_object.contains_key(other.set_key()))
        .map(|other| format!("a {} response (with {})", other.name(), other.set_key()))
        .unwrap_or_else(|| {
            let keys: Vec<&str> = body_object.keys().map(String::as_str).take(8).collect();
            format!("an object with keys [{}]", keys.join(", "))
        });
    Err(AccountError::WrongAction {
        at: at.to_string(),
        path: if path.is_empty() { "$".into() } else { path },
        expected: action.name(),
        key: action.set_key(),
        found,
    })
}

/// Reads a file into text, bounded.
pub fn read_file(path: &std::path::Path) -> Result<String, AccountError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| AccountError::Io {
        file: file.clone(),
        message: e.to_string(),
    };
    let length = std::fs::metadata(path).map_err(io)?.len();
    if length > MAX_INPUT_BYTES {
        return Err(AccountError::Io {
            file: file.clone(),
            message: format!("{length} bytes, more than the {MAX_INPUT_BYTES} read"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|e| AccountError::Io {
        file: file.clone(),
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fixture of tests/fixtures/account/ (read at run time: the library embeds no test data).
    pub(crate) fn fixture(action: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/account/{action}.response.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    const INNER: &str = r#"{"TotalCount": 0, "RefreshActivitySet": [], "RequestId": "r"}"#;

    fn read(text: &str) -> Result<(Vec<Body>, Vec<Skipped>), AccountError> {
        read_responses(
            "f.json",
            text,
            Action::DescribeRefreshActivities,
            OnError::SkipPolls,
        )
    }

    #[test]
    fn the_three_forms_give_the_same_body() {
        let envelope = format!(r#"{{"Response": {INNER}}}"#);
        let line = format!(
            r#"{{"time_ms": 0, "action": "DescribeRefreshActivities", "request": {{}}, "response": {{"Response": {INNER}}}}}"#
        );
        let (a, _) = read(&envelope).unwrap();
        let (b, _) = read(INNER).unwrap();
        let (c, _) = read(&line).unwrap();
        assert_eq!(a[0].value, b[0].value);
        assert_eq!(a[0].value, c[0].value);
        assert_eq!(a[0].path, "Response");
        assert_eq!(b[0].path, "");
        assert_eq!(c[0].path, "response.Response");
    }

    #[test]
    fn an_error_response_is_refused_with_its_code_and_path() {
        let text = r#"{"Response": {"Error": {"Code": "AuthFailure.SignatureExpire", "Message": "expired"}, "RequestId": "r"}}"#;
        let err = read(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.json: Response.Error: an error response, not a result: AuthFailure.SignatureExpire: expired"
        );
    }

    #[test]
    fn error_polls_in_a_jsonl_are_skipped_but_refused_for_import() {
        let text = format!(
            "{{\"Response\": {INNER}}}\n{{\"Response\": {{\"Error\": {{\"Code\": \"RequestLimitExceeded\", \"Message\": \"m\"}}}}}}\n"
        );
        let (bodies, skipped) = read(&text).unwrap();
        assert_eq!(bodies.len(), 1);
        assert_eq!(skipped[0].at, "f.json:2");
        let err = read_responses(
            "f.json",
            &text,
            Action::DescribeRefreshActivities,
            OnError::Refuse,
        )
        .unwrap_err();
        assert!(matches!(err, AccountError::ErrorResponse { .. }), "{err}");
    }

    #[test]
    fn the_wrong_action_is_named() {
        let text =
            r#"{"Response": {"TotalCount": 1, "AutoScalingGroupSet": [], "RequestId": "r"}}"#;
        let err = read(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.json: Response: expected a DescribeRefreshActivities response (with RefreshActivitySet), found a DescribeAutoScalingGroups response (with AutoScalingGroupSet)"
        );
    }

    #[test]
    fn other_calls_of_a_responses_jsonl_are_passed_over() {
        let text = format!(
            "{{\"_refreshsim\": {{}}}}\n{{\"action\": \"StartInstanceRefresh\", \"response\": {{}}}}\n{{\"action\": \"DescribeRefreshActivities\", \"response\": {{\"Response\": {INNER}}}}}\n"
        );
        let (bodies, skipped) = read(&text).unwrap();
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies[0].index, 2);
        assert_eq!(skipped.len(), 2);
    }

    #[test]
    fn a_file_without_any_response_is_refused() {
        let err = read("{\"action\": \"StartInstanceRefresh\", \"response\": {}}\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("no DescribeRefreshActivities response"),
            "{err}"
        );
        // A run's responses.jsonl without any Describe call holds none, and that is no error.
        let (bodies, skipped) = read("{\"_refreshsim\": {}}\n").unwrap();
        assert!(bodies.is_empty() && skipped.len() == 1);
        let err = read("[1, 2]").unwrap_err();
        assert!(err.to_string().contains("expected a JSON object"), "{err}");
    }
}
