//! Every OFX name dreamfx uses comes from the official headers, never from a hand-typed string.
//!
//! A mistyped property name once made the whole bundle fail in the official host library while
//! the project's own test host (typed by the same hands) accepted it. So:
//! - `src/sys/names.rs` is generated from the official headers (`third_party/openfx/include`,
//!   fetched by `scripts/fetch-openfx.sh`); the first test fails when regenerating would change
//!   it. Regenerate with
//!   `DREAMFX_REGENERATE_OFX_NAMES=1 cargo test -p dreamfx-host-adapter --test ofx_names`.
//! - The second test reads every source file of the workspace: an `"Ofx…"` string literal must be
//!   a value the headers `#define` (or a function the headers declare), and the crates that ship
//!   (`host-adapter`, `plugins`, `protocol`, `runtime`) may not spell one at all.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn headers_dir() -> PathBuf {
    let dir = workspace().join("third_party/openfx/include");
    assert!(
        dir.join("ofxCore.h").is_file(),
        "the official OpenFX headers are not in {}: run scripts/fetch-openfx.sh (scripts/setup.sh does)",
        dir.display()
    );
    dir
}

/// The right-hand side of one `#define kOfx…`.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Int(String),
    Alias(String),
}

struct Define {
    header: String,
    name: String,
    value: Value,
}

/// Every `#define kOfx…` of the official headers, in header order, each name once.
fn header_defines() -> Vec<Define> {
    let dir = headers_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "h"))
        .collect();
    files.sort();
    let mut out: Vec<Define> = Vec::new();
    let mut seen: BTreeMap<String, Value> = BTreeMap::new();
    let mut unparsed = Vec::new();
    for file in files {
        let header = file.file_name().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let Some(rest) = line.trim_start().strip_prefix('#') else {
                continue;
            };
            let Some(rest) = rest.trim_start().strip_prefix("define") else {
                continue;
            };
            let rest = rest.trim_start();
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.starts_with("kOfx") {
                continue;
            }
            let Some(value) = parse_value(rest[name.len()..].trim()) else {
                unparsed.push(format!("{header}: {line}"));
                continue;
            };
            match seen.get(&name) {
                Some(v) if *v == value => continue,
                Some(v) => {
                    panic!("{name} is defined twice with different values: {v:?}, {value:?}")
                }
                None => {}
            }
            seen.insert(name.clone(), value.clone());
            out.push(Define {
                header: header.clone(),
                name,
                value,
            });
        }
    }
    assert!(
        unparsed.is_empty(),
        "defines the generator does not understand:\n{}",
        unparsed.join("\n")
    );
    out
}

fn parse_value(text: &str) -> Option<Value> {
    // Drop a trailing comment.
    let text = match (text.find("/*"), text.find("//")) {
        (Some(a), Some(b)) => &text[..a.min(b)],
        (Some(a), None) | (None, Some(a)) => &text[..a],
        (None, None) => text,
    }
    .trim();
    if let Some(s) = text.strip_prefix('"') {
        let s = s.strip_suffix('"')?;
        return (!s.contains(['"', '\\'])).then(|| Value::Str(s.to_string()));
    }
    // `0`, `((int) 4)`, `0xFF08`, `INT_MAX`
    let bare = text
        .trim_start_matches('(')
        .trim_start_matches('(')
        .trim_start_matches("int)")
        .trim_end_matches(')')
        .trim();
    match bare {
        "INT_MAX" => return Some(Value::Int("c_int::MAX".into())),
        "INT_MIN" => return Some(Value::Int("c_int::MIN".into())),
        _ => {}
    }
    let is_int = if let Some(hex) = bare.strip_prefix("0x") {
        !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())
    } else {
        !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit())
    };
    if is_int {
        return Some(Value::Int(bare.to_string()));
    }
    if bare.starts_with("kOfx") && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(Value::Alias(bare.to_string()));
    }
    None
}

fn generate() -> String {
    let mut s = String::from(
        "// @generated from the official OpenFX headers (openfx-sys 0.1.0, fetched into\n\
         // third_party/openfx/include by scripts/fetch-openfx.sh) by host-adapter/tests/ofx_names.rs.\n\
         // Do not edit: regenerate with\n\
         //   DREAMFX_REGENERATE_OFX_NAMES=1 cargo test -p dreamfx-host-adapter --test ofx_names\n\
         use std::ffi::{c_int, CStr};\n\n\
         use super::OfxStatus;\n",
    );
    let defines = header_defines();
    let mut header = String::new();
    for d in &defines {
        if d.header != header {
            s.push_str(&format!("\n// {}\n", d.header));
            header = d.header.clone();
        }
        let line = match &d.value {
            Value::Str(v) => format!("pub const {}: &CStr = c\"{v}\";\n", d.name),
            Value::Int(v) if d.name.starts_with("kOfxStat") => {
                format!("pub const {}: OfxStatus = {v};\n", d.name)
            }
            Value::Int(v) => format!("pub const {}: c_int = {v};\n", d.name),
            Value::Alias(v) => format!("pub const {}: &CStr = {v};\n", d.name),
        };
        s.push_str(&line);
    }
    // For hosts that refuse names the standard does not define (the test host's strict mode).
    s.push_str("\n/// Every string the headers #define, in header order.\npub const ALL_STRING_DEFINES: &[&CStr] = &[\n");
    for d in &defines {
        if matches!(d.value, Value::Str(_)) {
            s.push_str(&format!("    {},\n", d.name));
        }
    }
    s.push_str("];\n");
    s
}

#[test]
fn generated_names_equal_the_official_headers() {
    let path = workspace().join("host-adapter/src/sys/names.rs");
    let fresh = generate();
    if std::env::var_os("DREAMFX_REGENERATE_OFX_NAMES").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} differs from what the official headers give: regenerate it with \
         DREAMFX_REGENERATE_OFX_NAMES=1 cargo test -p dreamfx-host-adapter --test ofx_names",
        path.display()
    );
}

/// Every `"Ofx…"` literal (plain, `c"…"` or `b"…"`) in a file, with its line number.
fn ofx_literals(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("\"Ofx") {
            let tail = &rest[i + 1..];
            let word: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // Only whole literals: `"OfxFoo"`, not prose that starts with Ofx inside a string.
            if tail[word.len()..].starts_with('"') {
                out.push((n + 1, word.clone()));
            }
            rest = &tail[word.len()..];
        }
    }
    out
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !matches!(name.as_ref(), "target" | "third_party" | ".git" | "out") {
                source_files(&path, out);
            }
        } else if ["rs", "cpp", "h", "c", "sh", "py"]
            .iter()
            .any(|e| path.extension().is_some_and(|x| x == *e))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_ofx_string_in_the_project_is_an_official_name() {
    let defines = header_defines();
    let values: BTreeSet<String> = defines
        .iter()
        .filter_map(|d| match &d.value {
            Value::Str(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    // The entry points a plug-in exports are declared (not #defined) in ofxCore.h.
    let core = std::fs::read_to_string(headers_dir().join("ofxCore.h")).unwrap();
    let declared = |w: &str| core.contains(&format!("{w}("));
    // The per-clip out-argument prefixes are only documented in ofxImageEffect.h's text
    // (``OfxImageClipPropRoI_`` …); `src/sys/mod.rs` spells each once.
    let effect_h = std::fs::read_to_string(headers_dir().join("ofxImageEffect.h")).unwrap();
    let documented_prefix = |w: &str| w.ends_with('_') && effect_h.contains(&format!("``{w}``"));
    let sys_mod = workspace().join("host-adapter/src/sys/mod.rs");
    let generated = workspace().join("host-adapter/src/sys/names.rs");
    let shipped = ["host-adapter", "plugins", "protocol", "runtime"];

    let mut files = Vec::new();
    source_files(&workspace(), &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("plugins/src/lib.rs")),
        "the scan did not reach the plugin's sources: is it reading the tree?"
    );
    let mut bad = Vec::new();
    for file in files {
        if file == generated || file.ends_with("host-adapter/tests/ofx_names.rs") {
            continue;
        }
        let rel = file.strip_prefix(workspace()).unwrap().to_path_buf();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (line, word) in ofx_literals(&text) {
            let spelled_once = file == sys_mod && documented_prefix(&word);
            let in_shipped = shipped.iter().any(|c| rel.starts_with(c)) && !declared(&word);
            if in_shipped && !spelled_once {
                bad.push(format!(
                    "{}:{line}: \"{word}\" typed by hand: use dreamfx_host_adapter::sys::*",
                    rel.display()
                ));
            } else if !values.contains(&word) && !declared(&word) && !documented_prefix(&word) {
                bad.push(format!(
                    "{}:{line}: \"{word}\" is not a name the official OFX headers define",
                    rel.display()
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_parser_reads_each_kind_of_define() {
    assert_eq!(
        parse_value("\"OfxPropName\""),
        Some(Value::Str("OfxPropName".into()))
    );
    assert_eq!(parse_value("((int) 4)"), Some(Value::Int("4".into())));
    assert_eq!(
        parse_value("0xFF08\t/* back space */"),
        Some(Value::Int("0xFF08".into()))
    );
    assert_eq!(
        parse_value("kOfxActionDescribe"),
        Some(Value::Alias("kOfxActionDescribe".into()))
    );
    assert_eq!(parse_value("extern"), None);
    assert_eq!(
        ofx_literals(r#"a("OfxPropName", c"OfxPropLabel") "Ofx is great" "#),
        vec![(1, "OfxPropName".into()), (1, "OfxPropLabel".into())]
    );
}
