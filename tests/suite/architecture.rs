//! The layering ARCHITECTURE.md describes is the layering the code has (issue 11): the module
//! graph is read from the source (every `crate::…` path in `use` items, expressions, types and
//! macro bodies of non-test code, and every `super::…` that climbs out of a top-level module),
//! and every edge must be allowed by the table under "## Layering" in ARCHITECTURE.md. The
//! table itself must be acyclic, so no cycle between modules can pass.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `module → modules it may use`, from ARCHITECTURE.md's layering table.
type Allowed = BTreeMap<String, BTreeSet<String>>;

/// Rows `| \`from\` | \`a\`, \`b\` |` of the table after the "## Layering" heading.
fn allowed_from_markdown(markdown: &str) -> Allowed {
    let section = markdown
        .split("\n## Layering")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"## Layering\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut allowed = Allowed::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 2, "layering row with two cells: {line}");
        let names = |cell: &str| -> BTreeSet<String> {
            cell.split(',')
                .map(|n| n.trim().trim_matches('`').to_string())
                .filter(|n| !n.is_empty() && n != "—")
                .collect()
        };
        let from = names(cells[0]);
        assert_eq!(from.len(), 1, "one module per row: {line}");
        let from = from.into_iter().next().unwrap();
        let previous = allowed.insert(from.clone(), names(cells[1]));
        assert!(
            previous.is_none(),
            "`{from}` has two rows in the layering table"
        );
    }
    assert!(!allowed.is_empty(), "the layering table has rows");
    allowed
}

/// A module's path inside the crate, from its file: `src/sweep/store.rs` → `[sweep, store]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// Collects the top-level modules a file's non-test code names.
struct Uses<'a> {
    module: &'a [String],
    found: BTreeSet<String>,
}

impl Uses<'_> {
    /// The top-level module a path starting with these segments reaches, if it leaves the file's
    /// own top-level module.
    fn note(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let target = if first == "crate" {
            segments.get(1).cloned()
        } else if first == "super" {
            let climbs = segments.iter().take_while(|s| *s == "super").count();
            if climbs < self.module.len() {
                None
            } else {
                segments.get(climbs).cloned()
            }
        } else {
            None
        };
        if let Some(target) = target {
            self.found.insert(target);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.note(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.note(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.note(prefix),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item);
                }
            }
        }
    }

    /// `crate :: name` inside a macro's tokens (e.g. `format!("{}", crate::x::y())`).
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Ident(id) if id == "crate" => {
                    let colons = trees.get(i + 1..i + 3).is_some_and(|p| {
                        p.iter()
                            .all(|t| matches!(t, TokenTree::Punct(c) if c.as_char() == ':'))
                    });
                    if let (true, Some(TokenTree::Ident(name))) = (colons, trees.get(i + 3)) {
                        self.note(&["crate".to_string(), name.to_string()]);
                    }
                }
                TokenTree::Ident(_) | TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }
}

/// `#[cfg(test)]` or `#[test]`: test code may use anything.
fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || (a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test"))
    })
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if !is_test(&u.attrs) {
            self.use_tree(&mut Vec::new(), &u.tree);
        }
    }
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.note(&segments);
        syn::visit::visit_path(self, path);
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// The top-level modules one file's non-test code uses, other than its own.
fn uses_of(relative: &Path, source: &str) -> BTreeSet<String> {
    let file = syn::parse_file(source).unwrap_or_else(|e| panic!("{}: {e}", relative.display()));
    let module = module_path(relative);
    let mut uses = Uses {
        module: &module,
        found: BTreeSet::new(),
    };
    uses.visit_file(&file);
    if let Some(own) = module.first() {
        uses.found.remove(own);
    }
    uses.found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every edge of the module graph that the table does not allow, as messages.
fn forbidden_edges(files: &[(PathBuf, String)], allowed: &Allowed) -> Vec<String> {
    let mut problems = Vec::new();
    for (relative, source) in files {
        let module = module_path(relative);
        let Some(from) = module.first() else {
            continue; // lib.rs and main.rs: the crate root declares the modules
        };
        let Some(may_use) = allowed.get(from) else {
            problems.push(format!(
                "src/{}: module `{from}` has no row in ARCHITECTURE.md's layering table",
                relative.display()
            ));
            continue;
        };
        for target in uses_of(relative, source) {
            if !may_use.contains(&target) {
                problems.push(format!(
                    "src/{}: `{from}` uses `crate::{target}`, which the layering table does not allow (`{from}` may use: {})",
                    relative.display(),
                    may_use.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    problems
}

/// A cycle in the table, if there is one.
fn cycle(allowed: &Allowed) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        allowed: &Allowed,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in allowed.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, allowed, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    allowed
        .keys()
        .find_map(|node| visit(node, allowed, &mut Vec::new(), &mut done))
}

fn source_files() -> Vec<(PathBuf, String)> {
    let src = root().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(&src).unwrap().to_path_buf(), text)
        })
        .collect()
}

fn architecture_table() -> Allowed {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    allowed_from_markdown(&text)
}

#[test]
fn every_module_edge_is_in_the_layering_table() {
    let problems = forbidden_edges(&source_files(), &architecture_table());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_layering_table_is_acyclic_and_names_only_real_modules() {
    let allowed = architecture_table();
    assert_eq!(cycle(&allowed), None, "a cycle in the layering table");
    let modules: BTreeSet<String> = source_files()
        .iter()
        .filter_map(|(p, _)| module_path(p).first().cloned())
        .collect();
    for (from, targets) in &allowed {
        assert!(modules.contains(from), "table row `{from}` is not a module");
        for t in targets {
            assert!(modules.contains(t), "`{from}` may use `{t}`, not a module");
        }
    }
    for m in &modules {
        assert!(allowed.contains_key(m), "module `{m}` has no table row");
    }
}

/// The test catches what it is for: a forbidden `use` added to the engine, in any of the forms
/// a path can take, is reported; the same code in a test module is not.
#[test]
fn a_forbidden_use_is_reported() {
    let allowed = architecture_table();
    let forbidden = [
        "use crate::app::EXIT_OK;",
        "use crate::{time::SimTime, sweep::Plan};",
        "fn f() -> i32 { crate::app::EXIT_BAD_INPUT }",
        "fn f() { println!(\"{}\", crate::report::files::RUN_OUTPUTS.len()); }",
        "fn f() { let _ = super::super::serve::DEFAULT_LISTEN; }",
    ];
    for source in forbidden {
        let files = [(PathBuf::from("model/refresh.rs"), source.to_string())];
        let problems = forbidden_edges(&files, &allowed);
        assert_eq!(problems.len(), 1, "{source}: {problems:?}");
        assert!(problems[0].contains("`model` uses"), "{}", problems[0]);
    }
    let allowed_sources = [
        "use crate::api::ActionName; use super::world::World;",
        "#[cfg(test)] mod tests { use crate::app::EXIT_OK; }",
    ];
    for source in allowed_sources {
        let files = [(PathBuf::from("model/refresh.rs"), source.to_string())];
        assert_eq!(forbidden_edges(&files, &allowed), Vec::<String>::new());
    }
    let mut cyclic = allowed.clone();
    cyclic.get_mut("api").unwrap().insert("app".into());
    assert!(
        cycle(&cyclic).is_some(),
        "a cycle through app and api is found"
    );
}
