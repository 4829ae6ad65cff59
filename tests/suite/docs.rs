//! The documentation stands on its own (issue 15): every relative link in README.md,
//! ARCHITECTURE.md, INVARIANTS.md and docs/*.md resolves to a file of the repository (and an
//! anchor to a heading of it), none leaves the repository; every decision (OQ-n), documented
//! rule (§n.m) and determinism rule (Dn) that code, tests or docs cite is written in docs/;
//! the README's recipes are the files CI runs (the Slurm script, the Containerfile, the
//! Kubernetes Job, whose command is run with the real binary); README states Cargo.toml's
//! `rust-version`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Markdown files a user reads: the three at the top and everything under docs/.
fn markdown_files() -> Vec<String> {
    let mut files: Vec<String> = ["README.md", "ARCHITECTURE.md", "INVARIANTS.md"]
        .map(String::from)
        .to_vec();
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Every file under `dir` (relative to the repository) whose name ends with `extension`.
fn files_under(dir: &str, extension: &str) -> Vec<PathBuf> {
    walk(&root().join(dir))
        .into_iter()
        .filter(|path| path.to_string_lossy().ends_with(extension))
        .collect()
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

// --- Markdown: links, headings, anchors ----------------------------------------------------------

/// GitHub's anchor for a heading: lower case, spaces to hyphens, punctuation and symbols dropped.
fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

struct Doc {
    /// (heading level, heading text as rendered).
    headings: Vec<(HeadingLevel, String)>,
    /// Destinations of links and images.
    links: Vec<String>,
}

fn parse_markdown(text: &str) -> Doc {
    let mut doc = Doc {
        headings: Vec::new(),
        links: Vec::new(),
    };
    let mut heading: Option<(HeadingLevel, String)> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => doc.headings.extend(heading.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, h)) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => doc.links.push(dest_url.into_string()),
            _ => {}
        }
    }
    doc
}

/// The anchors of a Markdown file's headings, with GitHub's `-1`, `-2` for repeated ones.
fn anchors(doc: &Doc) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    for (_, text) in &doc.headings {
        let base = slug(text);
        let n = seen.entry(base.clone()).or_insert(0);
        anchors.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    anchors
}

/// `from` (a repository file) joined with a relative link target, normalised; None when the
/// result would leave the repository.
fn resolve(from: &str, target: &str) -> Option<String> {
    let mut parts: Vec<String> = Path::new(from)
        .parent()
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for component in Path::new(target).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// What is wrong with one link of `file`, if anything.
fn link_problem(file: &str, link: &str) -> Option<String> {
    if link.starts_with("https://") {
        return None; // a web page, not a file the clone lacks
    }
    if link.contains("://") || link.starts_with("mailto:") || link.starts_with('/') {
        return Some("points outside the repository".into());
    }
    let (path, anchor) = match link.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (link, None),
    };
    let target = if path.is_empty() {
        file.to_string()
    } else {
        match resolve(file, path) {
            Some(target) => target,
            None => return Some("leaves the repository".into()),
        }
    };
    let on_disk = root().join(&target);
    if !on_disk.exists() {
        return Some(format!("{target} does not exist"));
    }
    let anchor = anchor?;
    if !target.ends_with(".md") {
        return Some(format!("an anchor into {target}, which is not Markdown"));
    }
    let doc = parse_markdown(&std::fs::read_to_string(on_disk).unwrap());
    if anchors(&doc).contains(anchor) {
        None
    } else {
        Some(format!("{target} has no heading with the anchor #{anchor}"))
    }
}

#[test]
fn every_relative_link_resolves_inside_the_repository() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = read(&file);
        if text.contains("../shared") {
            problems.push(format!("{file}: names ../shared, which is not in a clone"));
        }
        for link in parse_markdown(&text).links {
            checked += 1;
            if let Some(problem) = link_problem(&file, &link) {
                problems.push(format!("{file}: ({link}) {problem}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        checked > 100,
        "only {checked} links found: is the parser reading the files?"
    );
}

#[test]
fn the_link_checker_refuses_what_it_must() {
    assert_eq!(link_problem("README.md", "docs/rules.md"), None);
    assert_eq!(
        link_problem("docs/rules.md", "decisions.md#oq-1-batch-sizes"),
        None
    );
    assert_eq!(link_problem("docs/decisions.md", "../INVARIANTS.md"), None);
    assert_eq!(link_problem("README.md", "#performance"), None);
    let bad = [
        (
            "README.md",
            "../shared/spec/refresh-spec.md",
            "leaves the repository",
        ),
        ("README.md", "docs/missing.md", "does not exist"),
        ("README.md", "docs/rules.md#no-such-heading", "no heading"),
        ("README.md", "Cargo.toml#package", "not Markdown"),
        ("README.md", "/etc/passwd", "outside"),
        ("README.md", "file:///etc/passwd", "outside"),
        ("docs/rules.md", "../../x.md", "leaves the repository"),
    ];
    for (file, link, expected) in bad {
        let problem = link_problem(file, link).unwrap_or_default();
        assert!(problem.contains(expected), "{link}: {problem:?}");
    }
}

#[test]
fn anchors_are_github_s() {
    assert_eq!(
        slug("§1.5 CancelInstanceRefresh"),
        "15-cancelinstancerefresh"
    );
    assert_eq!(
        slug("OQ-13. After a batch ends"),
        "oq-13-after-a-batch-ends"
    );
    assert_eq!(
        slug("Capacity planning (sweeps)"),
        "capacity-planning-sweeps"
    );
    assert_eq!(
        slug("Test your automation against refreshsim"),
        "test-your-automation-against-refreshsim"
    );
    let doc = parse_markdown("# A\n## A\n## `code` B\n");
    assert_eq!(
        anchors(&doc),
        ["a", "a-1", "code-b"].map(String::from).into()
    );
}

// --- Citations: OQ-n, §n.m, Dn -------------------------------------------------------------------

/// The numbers that follow `prefix` in `text` (e.g. "OQ-" → 13 for "OQ-13").
fn numbers_after(text: &str, prefix: &str) -> Vec<u32> {
    text.match_indices(prefix)
        .filter_map(|(at, _)| {
            let digits: String = text[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

/// Names of the test (and other) functions in the repository's Rust code.
fn function_names() -> Vec<String> {
    let mut names = Vec::new();
    for file in [files_under("src", ".rs"), files_under("tests", ".rs")].concat() {
        let text = std::fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices("fn ") {
            let name: String = text[at + 3..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

/// What a test's name cites at its start: `oq23_oq64_…` → OQ 23 and 64; `oq44_s3_4_…` → OQ 44
/// and §3.4; `s5_…` → §5; `d7_…` → D7.
#[derive(Default, Debug, PartialEq)]
struct Cites {
    decisions: Vec<u32>,
    sections: Vec<String>,
    determinism: Vec<u32>,
}

fn cites(name: &str) -> Cites {
    let mut cites = Cites::default();
    let segments: Vec<&str> = name.split('_').collect();
    let number = |s: &str, prefix: &str| -> Option<u32> {
        s.strip_prefix(prefix)
            .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
    };
    let mut i = 0;
    while i < segments.len() {
        if let Some(n) = number(segments[i], "oq") {
            cites.decisions.push(n);
        } else if let Some(n) = number(segments[i], "s") {
            match segments.get(i + 1).and_then(|s| s.parse::<u32>().ok()) {
                Some(m) => {
                    cites.sections.push(format!("§{n}.{m}"));
                    i += 1;
                }
                None => cites.sections.push(format!("§{n}")),
            }
        } else if let Some(n) = number(segments[i], "d") {
            cites.determinism.push(n);
        } else {
            break;
        }
        i += 1;
    }
    cites
}

#[test]
fn test_names_are_read_as_citations() {
    assert_eq!(
        cites("oq44_s3_4_a_failed_instance_stays_in_standby"),
        Cites {
            decisions: vec![44],
            sections: vec!["§3.4".into()],
            determinism: vec![]
        }
    );
    assert_eq!(cites("oq23_oq64_internal_error").decisions, [23, 64]);
    assert_eq!(cites("s5_every_code").sections, ["§5"]);
    assert_eq!(cites("d12_runs_are_bounded").determinism, [12]);
    assert_eq!(cites("surge_ids_are_unique"), Cites::default());
    assert_eq!(cites("s_plain").sections, Vec::<String>::new());
}

/// The decisions docs/decisions.md writes down: its `### OQ-n. Title` headings, in order.
fn documented_decisions() -> Vec<u32> {
    let doc = parse_markdown(&read("docs/decisions.md"));
    doc.headings
        .iter()
        .filter(|(level, _)| *level == HeadingLevel::H3)
        .filter_map(|(_, text)| text.strip_prefix("OQ-"))
        .map(|rest| {
            let (n, title) = rest.split_once(". ").expect("`### OQ-n. Title`");
            assert!(!title.is_empty());
            n.parse().unwrap()
        })
        .collect()
}

#[test]
fn every_cited_decision_is_documented_once_with_its_reason() {
    let documented = documented_decisions();
    assert!(documented.len() >= 65, "{documented:?}");
    assert!(
        documented.windows(2).all(|w| w[0] < w[1]),
        "decisions out of order or repeated: {documented:?}"
    );
    let mut cited: BTreeMap<u32, String> = BTreeMap::new();
    for name in function_names() {
        for n in cites(&name).decisions {
            cited.entry(n).or_insert(format!("fn {name}"));
        }
    }
    let mut texts: Vec<PathBuf> = markdown_files().iter().map(|f| root().join(f)).collect();
    for (dir, extension) in [
        ("src", ".rs"),
        ("tests", ".rs"),
        ("benches", ".rs"),
        ("scenarios", ".toml"),
        ("scenarios", ".json"),
    ] {
        texts.extend(files_under(dir, extension));
    }
    for path in texts {
        let text = std::fs::read_to_string(&path).unwrap();
        for n in numbers_after(&text, "OQ-") {
            cited.entry(n).or_insert(path.display().to_string());
        }
    }
    let missing: Vec<String> = cited
        .iter()
        .filter(|(n, _)| !documented.contains(n))
        .map(|(n, by)| format!("OQ-{n} (cited by {by})"))
        .collect();
    assert!(
        missing.is_empty(),
        "cited but not in docs/decisions.md (add `### OQ-n. Title` with **Decision.** and \
         **Why.**): {}",
        missing.join(", ")
    );

    // Each decision says what and why, and the index at the top links to it.
    let text = read("docs/decisions.md");
    let doc = parse_markdown(&text);
    let anchors_linked: BTreeSet<&str> = doc
        .links
        .iter()
        .filter_map(|l| l.strip_prefix('#'))
        .collect();
    for part in text.split("\n### OQ-").skip(1) {
        let n = part.split('.').next().unwrap();
        let body = part.split("\n## ").next().unwrap();
        assert!(body.contains("**Decision.**"), "OQ-{n}: no **Decision.**");
        assert!(body.contains("**Why.**"), "OQ-{n}: no **Why.**");
        let heading = format!("OQ-{}", part.lines().next().unwrap());
        assert!(
            anchors_linked.contains(slug(&heading).as_str()),
            "OQ-{n} is missing from the index at the top of docs/decisions.md"
        );
    }
}

/// The numbered sections (`§1.5`) docs/rules.md and docs/decisions.md have as headings.
fn documented_sections() -> BTreeSet<String> {
    let mut sections = BTreeSet::new();
    for file in ["docs/rules.md", "docs/decisions.md"] {
        for (_, text) in parse_markdown(&read(file)).headings {
            if let Some(rest) = text.strip_prefix('§') {
                let number: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                sections.insert(format!("§{number}"));
            }
        }
    }
    sections
}

#[test]
fn every_cited_rule_section_is_documented() {
    let documented = documented_sections();
    for expected in [
        "§0.2", "§1.1", "§1.6", "§2.2", "§3.10", "§4.6", "§5", "§6.8", "§8", "§10",
    ] {
        assert!(documented.contains(expected), "{expected}: {documented:?}");
    }
    let mut missing = Vec::new();
    for name in function_names() {
        for section in cites(&name).sections {
            if !documented.contains(&section) {
                missing.push(format!("{section} (fn {name})"));
            }
        }
    }
    // Sections cited in the docs' own text (`§3.4`, `spec §10`).
    for file in markdown_files() {
        let text = read(&file);
        for (at, _) in text.match_indices('§') {
            let number: String = text[at + '§'.len_utf8()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.');
            if !number.is_empty() && !documented.contains(&format!("§{number}")) {
                missing.push(format!("§{number} ({file})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cited but not a heading of docs/: {missing:?}"
    );
}

#[test]
fn every_cited_determinism_rule_is_documented() {
    let text = read("docs/determinism.md");
    for name in function_names() {
        for n in cites(&name).determinism {
            assert!(text.contains(&format!("**D{n}. ")), "D{n} (fn {name})");
        }
    }
    for n in 1..=12 {
        assert!(text.contains(&format!("**D{n}. ")), "D{n}");
    }
}

// --- README and the files it shows ---------------------------------------------------------------

/// The fenced code blocks of a Markdown text: (info string, content).
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::CodeBlock(pulldown_cmark::CodeBlockKind::Fenced(info))) => {
                current = Some((info.into_string(), String::new()))
            }
            Event::Text(t) => {
                if let Some((_, content)) = current.as_mut() {
                    content.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

#[test]
fn readme_states_the_rust_version_of_cargo_toml() {
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    let version = manifest["package"]["rust-version"].as_str().unwrap();
    let readme = read("README.md");
    let stated = format!("Rust toolchain ({version} or newer");
    assert!(readme.contains(&stated), "README should say {stated:?}");
}

#[test]
fn readme_shows_the_slurm_script_ci_runs_verbatim() {
    let script = read("examples/slurm-sweep.sh");
    let readme = read("README.md");
    assert!(
        code_blocks(&readme)
            .iter()
            .any(|(info, content)| info == "sh" && *content == script),
        "README's Slurm recipe must be examples/slurm-sweep.sh, byte for byte"
    );
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == "tests/slurm/run.sh"),
        ".ci/run must run tests/slurm/run.sh"
    );
    assert!(read("tests/slurm/run.sh").contains("examples/slurm-sweep.sh"));
}

/// One instruction of a Containerfile: keyword and its arguments (continuations joined).
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

fn containerfile() -> Vec<Instruction> {
    let mut instructions = Vec::new();
    let mut pending = String::new();
    for line in read("Containerfile").lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && pending.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => {
                pending.push_str(start);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                let (keyword, args) = pending.trim().split_once(' ').unwrap();
                instructions.push(Instruction {
                    keyword: keyword.to_uppercase(),
                    args: args.trim().to_string(),
                });
                pending.clear();
            }
        }
    }
    instructions
}

/// The tag the Containerfile's header says to build, which README must also use.
fn documented_tag() -> String {
    let text = read("Containerfile");
    let command = text
        .lines()
        .find_map(|l| {
            l.trim_start_matches('#')
                .trim()
                .strip_prefix("podman build ")
        })
        .expect("a `podman build` line in the Containerfile's header");
    let words: Vec<&str> = command.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "-t").expect("-t TAG");
    words[at + 1].to_string()
}

/// The stages (FROM … to the next FROM), each with its name and instructions.
fn stages(instructions: &[Instruction]) -> Vec<(Option<String>, Vec<&Instruction>)> {
    let mut stages: Vec<(Option<String>, Vec<&Instruction>)> = Vec::new();
    for instruction in instructions {
        if instruction.keyword == "FROM" {
            let words: Vec<&str> = instruction.args.split_whitespace().collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                [_] => None,
                other => panic!("FROM {other:?}"),
            };
            stages.push((name, Vec::new()));
        } else {
            stages
                .last_mut()
                .expect("an instruction before FROM")
                .1
                .push(instruction);
        }
    }
    stages
}

/// A COPY's `--from` stage (if any), sources and destination.
fn copy_parts(args: &str) -> (Option<String>, Vec<String>, String) {
    assert!(
        !args.starts_with('['),
        "COPY in JSON form is not handled: {args}"
    );
    let mut from = None;
    let mut paths = Vec::new();
    for word in args.split_whitespace() {
        match word.strip_prefix("--from=") {
            Some(stage) => from = Some(stage.to_string()),
            None => {
                assert!(!word.starts_with("--"), "COPY flag {word}");
                paths.push(word.to_string());
            }
        }
    }
    let destination = paths.pop().expect("COPY destination");
    (from, paths, destination)
}

fn workdir(stage: &[&Instruction]) -> String {
    stage
        .iter()
        .rev()
        .find(|i| i.keyword == "WORKDIR")
        .map(|i| i.args.clone())
        .expect("WORKDIR")
}

#[test]
fn the_containerfile_builds_from_this_repository_what_the_job_runs() {
    let instructions = containerfile();
    let stages = stages(&instructions);
    assert_eq!(stages.len(), 2, "a builder and a runtime stage");
    let (build_name, build) = &stages[0];
    let build_name = build_name.as_deref().expect("FROM … AS build");
    let (_, runtime) = &stages[1];

    // Every file the build context gives exists in the repository.
    let mut copied_into_build: Vec<String> = Vec::new();
    for instruction in instructions.iter().filter(|i| i.keyword == "COPY") {
        let (from, sources, _) = copy_parts(&instruction.args);
        if from.is_none() {
            for source in &sources {
                assert!(
                    root().join(source).exists(),
                    "COPY {source}: not in the repository"
                );
            }
        }
    }
    for instruction in build.iter().filter(|i| i.keyword == "COPY") {
        copied_into_build.extend(copy_parts(&instruction.args).1);
    }
    let repository = root().canonicalize().unwrap();
    let in_build = |path: &Path| {
        let path = path.canonicalize().unwrap();
        let relative = path.strip_prefix(&repository).unwrap();
        copied_into_build
            .iter()
            .any(|c| relative.starts_with(c) || relative == Path::new(c))
    };
    // ...and is all the build reads: the manifest's targets and whatever the code embeds.
    for file in ["Cargo.toml", "Cargo.lock", "src/main.rs", "src/lib.rs"] {
        assert!(
            in_build(&root().join(file)),
            "{file} is not copied into the build stage"
        );
    }
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    for bench in manifest["bench"].as_array().unwrap() {
        let path = root().join(format!("benches/{}.rs", bench["name"].as_str().unwrap()));
        assert!(in_build(&path), "{} is not copied", path.display());
    }
    for file in files_under("src", ".rs") {
        let text = std::fs::read_to_string(&file).unwrap();
        for marker in ["include_str!(\"", "include_bytes!(\""] {
            for (at, _) in text.match_indices(marker) {
                let relative = text[at + marker.len()..].split('"').next().unwrap();
                let embedded = file.parent().unwrap().join(relative);
                assert!(
                    in_build(&embedded),
                    "{} embeds {}, which the build stage does not copy",
                    file.display(),
                    embedded.display()
                );
            }
        }
    }

    // The runtime stage takes the binary the build stage made, and the bundled scenarios.
    let package = manifest["package"]["name"].as_str().unwrap();
    let build_run = build
        .iter()
        .find(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        .expect("RUN cargo build");
    for flag in ["--release", "--locked", &format!("--bin {package}")] {
        assert!(build_run.args.contains(flag), "cargo build without {flag}");
    }
    let mut binary = None;
    let mut scenarios = None;
    for instruction in runtime.iter().filter(|i| i.keyword == "COPY") {
        match copy_parts(&instruction.args) {
            (Some(from), sources, destination) => {
                assert_eq!(from, build_name);
                assert_eq!(
                    sources,
                    [format!("{}/target/release/{package}", workdir(build))]
                );
                binary = Some(destination);
            }
            (None, sources, destination) if sources == ["scenarios"] => {
                scenarios = Some(destination)
            }
            (None, sources, _) => panic!("runtime COPY of {sources:?}"),
        }
    }
    let binary = binary.expect("COPY --from=build of the binary");
    assert_eq!(
        binary,
        format!("/usr/local/bin/{package}"),
        "on the image's PATH"
    );
    let scenarios = scenarios.expect("COPY scenarios");
    let user = runtime
        .iter()
        .find(|i| i.keyword == "USER")
        .map(|i| i.args.split(':').next().unwrap().to_string())
        .expect("an unprivileged USER");
    assert_ne!(user, "0");
    let entrypoint = runtime.iter().find(|i| i.keyword == "ENTRYPOINT").unwrap();
    assert_eq!(entrypoint.args, format!("[\"{package}\"]"));

    // The Job README shows runs this image as built: tag, paths, user.
    let job = readme_job();
    let pod = &job["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"].as_str(), Some(documented_tag().as_str()));
    assert_eq!(
        pod["securityContext"]["fsGroup"]
            .as_i64()
            .map(|g| g.to_string()),
        Some(user)
    );
    let args = container["args"][0].as_str().unwrap();
    let scenario = args
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{scenarios}/")))
        .expect("the Job sweeps a scenario of the image");
    let in_repo = scenario.replacen(&scenarios, "scenarios", 1);
    assert!(root().join(&in_repo).is_file(), "{scenario}: no {in_repo}");
    assert!(args.starts_with(&format!("{package} ")), "{args}");

    // README tells how to build it under the same tag.
    let build_line = format!("podman build -f Containerfile -t {} .", documented_tag());
    assert!(
        read("README.md").contains(&build_line),
        "README: {build_line}"
    );
}

fn readme_job() -> Yaml {
    let readme = read("README.md");
    let yaml: Vec<String> = code_blocks(&readme)
        .into_iter()
        .filter(|(info, _)| info == "yaml")
        .map(|(_, content)| content)
        .collect();
    assert_eq!(yaml.len(), 1, "one YAML block in README: the Job");
    let mut docs = YamlLoader::load_from_str(&yaml[0]).expect("the Job is valid YAML");
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

/// The README's Kubernetes Indexed Job, checked as Kubernetes would read it, then its command
/// run with the real binary for every completion index (the image's /scenarios and the Job's
/// volume mapped to temporary directories), and the README's merge of the shards: the result is
/// the unsharded sweep, byte for byte.
#[test]
fn the_kubernetes_job_parses_and_its_command_runs_with_the_real_binary() {
    let job = readme_job();
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    assert!(job["metadata"]["name"].as_str().is_some());
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_i64().expect("completions");
    assert_eq!(spec["parallelism"].as_i64(), Some(completions));
    let pod = &spec["template"]["spec"];
    assert!(matches!(
        pod["restartPolicy"].as_str(),
        Some("OnFailure" | "Never")
    ));
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    assert!(container["name"].as_str().is_some());
    let command: Vec<&str> = container["command"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(command, ["/bin/sh", "-c"]);
    let args = container["args"].as_vec().unwrap();
    assert_eq!(args.len(), 1, "one shell command");
    let script = args[0].as_str().unwrap();
    assert!(
        script.contains(&format!("/{completions} ")),
        "--shard K/{completions}: {script}"
    );
    let mount = &container["volumeMounts"][0];
    let mount_path = mount["mountPath"].as_str().unwrap();
    let volume = pod["volumes"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume is declared");
    assert!(
        volume["persistentVolumeClaim"]["claimName"]
            .as_str()
            .is_some()
    );

    // The pods, one per completion index, on a stand-in scenario: the documented example (one
    // variant, 5 instances) under the Job's file name, so that --runs 5000 takes milliseconds.
    let temp = tempfile::tempdir().unwrap();
    let image_scenarios = temp.path().join("image-scenarios");
    let volume_dir = temp.path().join("volume");
    std::fs::create_dir_all(&image_scenarios).unwrap();
    std::fs::create_dir_all(&volume_dir).unwrap();
    let scenario = script
        .split_whitespace()
        .find(|w| w.starts_with("/scenarios/"))
        .unwrap();
    let stand_in = image_scenarios.join(scenario.trim_start_matches("/scenarios/"));
    std::fs::copy(
        root().join("scenarios/tencent-documented-example.toml"),
        &stand_in,
    )
    .unwrap();
    let mapped = |command: &str| {
        command
            .replace(
                &format!("{mount_path}/"),
                &format!("{}/", volume_dir.display()),
            )
            .replace("/scenarios/", &format!("{}/", image_scenarios.display()))
    };
    let binary = Path::new(env!("CARGO_BIN_EXE_refreshsim"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let sh = |command: &str, index: Option<i64>| {
        let mut sh = Command::new("/bin/sh");
        sh.arg("-c").arg(command).env("PATH", &path);
        if let Some(index) = index {
            sh.env("JOB_COMPLETION_INDEX", index.to_string());
        }
        let output = sh.output().unwrap();
        assert!(
            output.status.success(),
            "{command}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    };
    for index in 0..completions {
        sh(&mapped(script), Some(index));
        assert!(
            volume_dir
                .join(format!("shard-{index}/plan.json"))
                .is_file()
        );
    }
    // A restarted pod (--resume) continues its shard instead of failing.
    sh(&mapped(script), Some(0));

    let readme = read("README.md");
    let merge = readme
        .split('`')
        .find(|s| s.starts_with(&format!("refreshsim merge {mount_path}/shard-*")))
        .expect("README's merge of the Job's shards");
    sh(&mapped(merge), None);
    let merged = merge.split_whitespace().last().unwrap();
    let merged = PathBuf::from(mapped(&format!("{merged}/")));

    let runs = script
        .split_whitespace()
        .skip_while(|w| *w != "--runs")
        .nth(1)
        .unwrap();
    let whole = temp.path().join("whole");
    let status = Command::new(binary)
        .args([
            "sweep",
            stand_in.to_str().unwrap(),
            "--runs",
            runs,
            "--quiet",
            "--out",
        ])
        .arg(&whole)
        .status()
        .unwrap();
    assert!(status.success());
    assert_same_tree(&whole, &merged);
}

fn assert_same_tree(a: &Path, b: &Path) {
    let list = |dir: &Path| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = walk(dir)
            .into_iter()
            .map(|p| p.strip_prefix(dir).unwrap().to_path_buf())
            .collect();
        files.sort();
        files
    };
    let files = list(a);
    assert!(!files.is_empty());
    assert_eq!(
        files,
        list(b),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    for file in files {
        assert!(
            std::fs::read(a.join(&file)).unwrap() == std::fs::read(b.join(&file)).unwrap(),
            "{} differs",
            file.display()
        );
    }
}
