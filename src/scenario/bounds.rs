//! Bounds of the file layer: the length of every string a scenario stores (Tencent's documented
//! lengths where there are some, OQ-70 elsewhere), readable errors whatever the input (quoted
//! values and paths cut to a readable length, with their size), and the TOML key depth.

use super::error::{FieldError, ScenarioError};
use super::file::{
    Fault, FaultsSection, GroupSection, LaunchConfigChange, LaunchConfigurationSection,
    ScenarioFile, TriggerEntry,
};

/// `UserData`: "Base64-encoded custom data of up to 16 KB" (S-MODELS
/// `CreateLaunchConfiguration`, `ModifyLaunchConfigurationAttributes`).
pub const MAX_USER_DATA_BYTES: usize = 16 * 1024;
/// `ScheduledActionName`: "a maximum length of 60 bytes" (S-MODELS `CreateScheduledAction`).
pub const MAX_SCHEDULED_ACTION_NAME_BYTES: usize = 60;
/// Ids, image ids and instance types, which Tencent gives no length for (OQ-70): ten times the
/// longest Tencent writes (`img-xxxxxxxx`, `S5.MEDIUM2`).
pub const MAX_ID_BYTES: usize = 128;
/// `InstanceStatusMessage` of a scripted failure (OQ-70).
pub const MAX_MESSAGE_BYTES: usize = 1024;
/// The scenario's own name and description (OQ-70).
pub const MAX_NAME_BYTES: usize = 256;
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// `EnhancedService`, `HostNameSettings`, `LoginSettings`, as JSON text (OQ-70).
pub const MAX_SETTINGS_JSON_BYTES: usize = 16 * 1024;

/// Longest quoted value (in characters) an error message shows in full.
const MAX_QUOTED_CHARS: usize = 64;
/// What is kept of a longer one.
const KEPT_QUOTED_CHARS: usize = 40;
/// Longest field path and message shown in full.
const MAX_FIELD_CHARS: usize = 200;
const MAX_MESSAGE_CHARS: usize = 2000;

/// Refuses `text` longer than `max` bytes; `what` names the value ("an image id").
pub fn check_len(field: &str, text: &str, max: usize, what: &str) -> Result<(), FieldError> {
    if text.len() <= max {
        return Ok(());
    }
    Err(FieldError::new(
        field,
        format!(
            "expected {what} of at most {max} bytes, found {} bytes ({})",
            text.len(),
            quote(text)
        ),
    ))
}

/// `text` quoted for a message: whole when short, else its start and `…`.
pub fn quote(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED_CHARS {
        return format!("{text:?}");
    }
    let kept: String = text.chars().take(KEPT_QUOTED_CHARS).collect();
    format!("{}…\"", format!("{kept:?}").trim_end_matches('"'))
}

/// A command-line argument (`--set KEY=VALUE`) as an error shows it: whole when short, else its
/// start, `…` and its size.
pub fn cut_argument(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED_CHARS {
        return text.to_string();
    }
    let kept: String = text.chars().take(KEPT_QUOTED_CHARS).collect();
    format!("{kept}… ({} bytes)", text.len())
}

/// A message with every quoted value in it cut (see `ScenarioError::readable`), for errors that
/// are not a `ScenarioError` (command-line settings).
pub fn readable_message(message: &str) -> String {
    cut_plain(&cut_quoted(message), MAX_MESSAGE_CHARS)
}

impl ScenarioError {
    /// The error with every quoted value, its field path and its message cut to a readable
    /// length, each cut saying how long the original was: a 1 MB value must not make a 1 MB
    /// message.
    pub fn readable(mut self) -> ScenarioError {
        self.field = cut_plain(&self.field, MAX_FIELD_CHARS);
        self.message = cut_plain(&cut_quoted(&self.message), MAX_MESSAGE_CHARS);
        self
    }
}

fn cut_plain(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let kept: String = text.chars().take(max_chars).collect();
    format!("{kept}… ({} bytes in all)", text.len())
}

/// Cuts every `"…"` (with `\` escapes) and `` `…` `` segment longer than `MAX_QUOTED_CHARS`.
fn cut_quoted(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len().min(4 * MAX_MESSAGE_CHARS));
    let mut i = 0;
    while i < chars.len() {
        let open = chars[i];
        if open != '"' && open != '`' {
            out.push(open);
            i += 1;
            continue;
        }
        let end = closing(&chars, i);
        let inner = &chars[i + 1..end];
        if inner.len() <= MAX_QUOTED_CHARS {
            out.extend(&chars[i..(end + 1).min(chars.len())]);
        } else {
            let bytes: usize = inner.iter().map(|c| c.len_utf8()).sum();
            out.push(open);
            out.extend(&inner[..KEPT_QUOTED_CHARS]);
            out.push('…');
            out.push(open);
            out.push_str(&format!(" ({bytes} bytes)"));
        }
        i = end + 1;
    }
    out
}

/// Index of the quote closing the one at `open` (or the end of the text).
fn closing(chars: &[char], open: usize) -> usize {
    let quote = chars[open];
    let mut j = open + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' if quote == '"' => j += 2,
            c if c == quote => return j,
            _ => j += 1,
        }
    }
    chars.len()
}

/// TOML refuses keys of more than `TOML_KEY_PARTS` dotted parts, with "recursion limit" and no
/// position (toml 1.2); this finds the first such key so the error can point at it.
pub const TOML_KEY_PARTS: usize = 80;

/// Byte offset and part count of the first key (in a header or before `=`, inline tables
/// included) with more than `TOML_KEY_PARTS` dotted parts. Strings and comments are skipped.
pub fn deep_toml_key(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    // The current run of `part.part.part`: its start and part count.
    let mut run: Option<(usize, usize)> = None;
    let mut after_dot = false;
    let too_deep = |run: Option<(usize, usize)>| run.filter(|(_, parts)| *parts > TOML_KEY_PARTS);
    while i < bytes.len() {
        let b = bytes[i];
        let part_end = match b {
            b'"' | b'\'' => Some(skip_string(bytes, i)),
            _ if is_bare_key_byte(b) => Some(
                i + bytes[i..]
                    .iter()
                    .take_while(|b| is_bare_key_byte(**b))
                    .count(),
            ),
            _ => None,
        };
        if let Some(end) = part_end {
            if !after_dot && too_deep(run).is_some() {
                return run;
            }
            run = extend_run(run, i, after_dot);
            after_dot = false;
            i = end;
            continue;
        }
        match b {
            b'.' if run.is_some() => after_dot = true,
            b' ' | b'\t' => {}
            _ => {
                if too_deep(run).is_some() {
                    return run;
                }
                run = None;
                after_dot = false;
                if b == b'#' {
                    i += bytes[i..].iter().take_while(|b| **b != b'\n').count();
                    continue;
                }
            }
        }
        i += 1;
    }
    too_deep(run)
}

fn is_bare_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn extend_run(
    run: Option<(usize, usize)>,
    start: usize,
    after_dot: bool,
) -> Option<(usize, usize)> {
    match run {
        Some((first, parts)) if after_dot => Some((first, parts + 1)),
        _ => Some((start, 1)),
    }
}

/// The index just past the string starting at `i` (basic, literal, or multi-line).
fn skip_string(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let triple = bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]);
    let mut j = i + if triple { 3 } else { 1 };
    while j < bytes.len() {
        if quote == b'"' && bytes[j] == b'\\' {
            j += 2;
            continue;
        }
        if triple {
            if bytes.get(j..j + 3) == Some(&[quote, quote, quote][..]) {
                return j + 3;
            }
        } else if bytes[j] == quote || bytes[j] == b'\n' {
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

/// Checks the length of every string the scenario keeps, before anything copies one (a 1 MB
/// `image_id` would otherwise be copied into every generated instance).
pub fn check_strings(raw: &ScenarioFile) -> Result<(), FieldError> {
    let s = &raw.scenario;
    check_len("scenario.name", &s.name, MAX_NAME_BYTES, "a name")?;
    check_len(
        "scenario.description",
        &s.description,
        MAX_DESCRIPTION_BYTES,
        "a description",
    )?;
    check_group(&raw.group)?;
    check_launch_config(&raw.launch_configuration)?;
    check_faults(&raw.faults)?;
    for (i, a) in raw.actions.iter().enumerate() {
        let field = format!("actions[{i}]");
        opt_id(&format!("{field}.id"), &a.item.id)?;
        opt_id(&format!("{field}.activity"), &a.item.activity)?;
        check_trigger(&field, &a.trigger)?;
    }
    if let Some(e) = &raw.expect {
        opt_id("expect.activity", &e.activity)?;
        for (id, image) in e.instance_images.iter().flatten() {
            image_len(&format!("expect.instance_images.{id}"), image)?;
        }
        for (i, r) in e.responses.iter().enumerate() {
            let field = format!("expect.responses[{i}].pointer");
            check_len(&field, &r.pointer, MAX_MESSAGE_BYTES, "a JSON pointer")?;
        }
    }
    Ok(())
}

fn id_len(field: &str, text: &str) -> Result<(), FieldError> {
    check_len(field, text, MAX_ID_BYTES, "an id")
}

fn opt_id(field: &str, text: &Option<String>) -> Result<(), FieldError> {
    text.as_deref().map_or(Ok(()), |t| id_len(field, t))
}

fn image_len(field: &str, text: &str) -> Result<(), FieldError> {
    check_len(field, text, MAX_ID_BYTES, "an image id")
}

fn opt_image(field: &str, text: &Option<String>) -> Result<(), FieldError> {
    text.as_deref().map_or(Ok(()), |t| image_len(field, t))
}

fn opt_type(field: &str, text: &Option<String>) -> Result<(), FieldError> {
    let check = |t: &str| check_len(field, t, MAX_ID_BYTES, "an instance type");
    text.as_deref().map_or(Ok(()), check)
}

fn check_group(g: &GroupSection) -> Result<(), FieldError> {
    id_len("group.id", &g.id)?;
    opt_image("group.image_id", &g.image_id)?;
    opt_type("group.instance_type", &g.instance_type)?;
    for (i, e) in g.instances.iter().enumerate() {
        let field = format!("group.instances[{i}]");
        id_len(&format!("{field}.id"), &e.id)?;
        opt_image(&format!("{field}.image_id"), &e.image_id)?;
        opt_type(&format!("{field}.instance_type"), &e.instance_type)?;
    }
    for (i, h) in g.lifecycle_hooks.iter().enumerate() {
        id_len(&format!("group.lifecycle_hooks[{i}].id"), &h.id)?;
    }
    for (i, p) in g.scaling_policies.iter().enumerate() {
        id_len(&format!("group.scaling_policies[{i}].id"), &p.id)?;
    }
    Ok(())
}

fn check_launch_config(lc: &LaunchConfigurationSection) -> Result<(), FieldError> {
    opt_id("launch_configuration.id", &lc.id)?;
    image_len("launch_configuration.image_id", &lc.image_id)?;
    let settings = LaunchConfigChange {
        image_id: None,
        user_data: lc.user_data.clone(),
        enhanced_service: lc.enhanced_service.clone(),
        host_name_settings: lc.host_name_settings.clone(),
        login_settings: lc.login_settings.clone(),
        instance_type: lc.instance_type.clone(),
    };
    check_lc_settings("launch_configuration", &settings)?;
    for (i, c) in lc.changes.iter().enumerate() {
        let field = format!("launch_configuration.changes[{i}]");
        opt_image(&format!("{field}.image_id"), &c.item.image_id)?;
        check_lc_settings(&field, &c.item)?;
        check_trigger(&field, &c.trigger)?;
    }
    Ok(())
}

fn check_lc_settings(field: &str, c: &LaunchConfigChange) -> Result<(), FieldError> {
    if let Some(u) = &c.user_data {
        check_len(
            &format!("{field}.user_data"),
            u,
            MAX_USER_DATA_BYTES,
            "base64 user data",
        )?;
    }
    opt_type(&format!("{field}.instance_type"), &c.instance_type)?;
    for (name, value) in [
        ("enhanced_service", &c.enhanced_service),
        ("host_name_settings", &c.host_name_settings),
        ("login_settings", &c.login_settings),
    ] {
        if let Some(v) = value {
            let text = serde_json::to_string(v).unwrap_or_default();
            check_len(
                &format!("{field}.{name}"),
                &text,
                MAX_SETTINGS_JSON_BYTES,
                "settings (as JSON)",
            )?;
        }
    }
    Ok(())
}

fn check_faults(f: &FaultsSection) -> Result<(), FieldError> {
    for (name, list) in [
        ("missing_images", &f.missing_images),
        ("bad_images", &f.bad_images),
    ] {
        for (i, image) in list.iter().enumerate() {
            image_len(&format!("faults.{name}[{i}]"), image)?;
        }
    }
    for (i, s) in f.scripted.iter().enumerate() {
        let field = format!("faults.scripted[{i}]");
        id_len(&format!("{field}.instance"), &s.instance)?;
        if let Some(m) = &s.message {
            check_len(
                &format!("{field}.message"),
                m,
                MAX_MESSAGE_BYTES,
                "a message",
            )?;
        }
    }
    for (i, e) in f.events.iter().enumerate() {
        let field = format!("faults.events[{i}]");
        check_fault(&field, &e.item)?;
        check_trigger(&field, &e.trigger)?;
    }
    Ok(())
}

fn check_fault(field: &str, fault: &Fault) -> Result<(), FieldError> {
    match fault {
        Fault::Destroy(f)
        | Fault::Detach(f)
        | Fault::Remove(f)
        | Fault::Stop(f)
        | Fault::Start(f)
        | Fault::EnterStandby(f)
        | Fault::ExitStandby(f)
        | Fault::Unhealthy(f) => id_len(&format!("{field}.instance"), &f.instance),
        Fault::Image(f) => image_len(&format!("{field}.image"), &f.image),
        Fault::Alarm(f) => id_len(&format!("{field}.policy"), &f.policy),
        Fault::ScheduledAction(f) => match &f.name {
            None => Ok(()),
            Some(name) => check_len(
                &format!("{field}.name"),
                name,
                MAX_SCHEDULED_ACTION_NAME_BYTES,
                "a ScheduledActionName",
            ),
        },
        Fault::GroupStatus(_)
        | Fault::Role(_)
        | Fault::InternalError(_)
        | Fault::ScalingActivity(_)
        | Fault::CreateBlocked(_)
        | Fault::DestroyBlocked(_) => Ok(()),
    }
}

fn check_trigger(field: &str, t: &TriggerEntry) -> Result<(), FieldError> {
    let Some(c) = &t.when else {
        return Ok(());
    };
    let field = format!("{field}.when");
    opt_id(&format!("{field}.instance"), &c.instance)?;
    opt_id(&format!("{field}.activity"), &c.activity)?;
    opt_id(&format!("{field}.action"), &c.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quoted_values_are_cut_and_say_their_size() {
        let huge = "a".repeat(1 << 20);
        let message = format!("invalid type: string {huge:?}, expected u64");
        let cut = cut_quoted(&message);
        assert!(cut.len() < 200, "{cut}");
        assert!(cut.contains("1048576 bytes"), "{cut}");
        assert!(cut.starts_with("invalid type: string \"aaaa"), "{cut}");
        assert!(cut.ends_with(", expected u64"), "{cut}");
        let ticked = cut_quoted(&format!("unknown field `{huge}`, expected `a`"));
        assert!(
            ticked.contains("…` (1048576 bytes), expected `a`"),
            "{ticked}"
        );
        // Escaped quotes stay inside their value; short values are untouched.
        let short = "found \"a\\\"b\" and `c`";
        assert_eq!(cut_quoted(short), short);
        assert_eq!(quote("abc"), "\"abc\"");
        assert_eq!(
            quote(&huge),
            format!("\"{}…\"", "a".repeat(KEPT_QUOTED_CHARS))
        );
    }

    #[test]
    fn a_readable_error_has_a_short_field_and_message() {
        let e = ScenarioError {
            file: "f".into(),
            line: Some(1),
            column: Some(1),
            field: format!("group.{}", "k".repeat(10_000)),
            message: "m".repeat(1 << 20),
        }
        .readable();
        assert!(
            e.field.len() < 300 && e.field.contains("10006 bytes in all"),
            "{}",
            e.field
        );
        assert!(e.message.len() < 2100 && e.message.contains("1048576 bytes in all"));
    }

    #[test]
    fn the_too_deep_key_is_found_in_headers_and_inline_tables_but_not_in_strings() {
        let deep = vec!["a"; 90].join(".");
        let text = format!("x = \"{deep}\"\n# {deep}\n[{deep}]\n");
        let at = text.find('[').unwrap() + 1;
        assert_eq!(deep_toml_key(&text), Some((at, 90)));
        let inline = format!("y = {{ {} = 1 }}\n", vec!["\"q\""; 85].join(" . "));
        assert_eq!(deep_toml_key(&inline), Some((6, 85)));
        assert_eq!(deep_toml_key("a.b.c = 1.5\n[x.y]\n"), None);
        assert_eq!(deep_toml_key(&format!("s = '''\n{deep}\n'''\n")), None);
    }

    #[test]
    fn lengths_over_the_bound_are_refused_with_the_size() {
        assert!(check_len("f", &"x".repeat(60), 60, "a name").is_ok());
        let e = check_len("f", &"x".repeat(61), 60, "a name").unwrap_err();
        assert!(
            e.message
                .starts_with("expected a name of at most 60 bytes, found 61 bytes")
        );
    }
}
