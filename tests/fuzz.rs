//! Property tests (proptest) of everything that reads untrusted or hand-written input: the
//! tool-call parser, the config loader, the plugin manifest loader, the mcpServers importer,
//! the GGUF metadata reader and the conversation files sessions import. Whatever the input:
//! no panic, and every error is one line. Each property runs a bounded number of cases (2,000,
//! well under a second each); a failing case is shrunk and saved under
//! `tests/fuzz.proptest-regressions`, which is committed and replayed first.

use std::path::Path;

use libre_assistant::config::{self, Overrides};
use libre_assistant::paths::Dirs;
use libre_assistant::plugins::{import, manifest};
use libre_assistant::sessions::legacy;
use libre_assistant::tools::{self, ToolSpec};
use proptest::prelude::*;

/// Pieces the inputs are built from: the syntax each reader cares about, plus noise.
fn pieces(syntax: &'static [&'static str]) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(syntax).prop_map(str::to_string),
        1 => any::<String>(),
        1 => proptest::sample::select(&["\n", "\"", "\\", "{", "}", "[", "]", "\u{1b}[2J", "\0", "é"][..])
            .prop_map(str::to_string),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn one_line(e: &impl std::fmt::Display) -> bool {
    let text = e.to_string();
    !text.is_empty() && !text.contains('\n')
}

fn time_tool() -> Vec<ToolSpec> {
    vec![ToolSpec {
        name: "current_time".into(),
        description: "The time".into(),
        input_schema: serde_json::json!({
            "type": "object",
            "properties": {"timezone": {"type": "string"}},
            "required": ["timezone"]
        }),
    }]
}

const CALLS: &[&str] = &[
    "<tool_call>",
    "</tool_call>",
    "```json\n",
    "```",
    "{\"name\": \"current_time\"",
    ", \"arguments\": {",
    "\"timezone\": \"UTC\"",
    "}",
    "}}",
    "<|im_end|>",
    "[TOOL_CALLS]",
    "{\"name\":",
    "null",
    "\"arguments\": \"{}\"",
];

const TOML: &[&str] = &[
    "model = ",
    "\"x\"",
    "[engine]\n",
    "context = ",
    "8192",
    "-1",
    "[generation]\n",
    "temperature = ",
    "0.5",
    "[tools]\n",
    "allow = [",
    "\"time/*\"",
    "]",
    "[sessions]\n",
    "record = ",
    "true",
    "[backends.srv]\n",
    "url = ",
    "\"http://127.0.0.1:1\"",
    "rpc = ",
    "\"[::1]:5\"",
    "= ",
    "[[x]]\n",
    "#",
    "'''",
];

const MANIFEST: &[&str] = &[
    "id = ",
    "\"calc\"",
    "name = ",
    "command = ",
    "\"/bin/true\"",
    "args = [",
    "]",
    "[permissions]\n",
    "read = [",
    "\"~/x\"",
    "net = ",
    "\"none\"",
    "url = ",
    "\"https://h/\"",
    "timeout_secs = ",
    "30",
    "[env]\n",
    "env = [",
    "\"KEY\"",
];

const SERVERS: &[&str] = &[
    "{\"mcpServers\": {",
    "\"a\": {",
    "\"command\": ",
    "\"npx\"",
    ", \"args\": [",
    "\"-y\"",
    "]",
    "}",
    "}}",
    "\"url\": \"http://x\"",
    "\"env\": {\"K\": \"v\"}",
    "\"type\": \"stdio\"",
    "null",
    ",",
    "\"servers\": {",
];

const CONVERSATION: &[&str] = &[
    "{\"v\":1,",
    "\"v\":2,",
    "\"system\":\"s\",",
    "\"messages\":[",
    "{\"role\":\"user\",",
    "{\"role\":\"tool\",",
    "\"content\":\"c\"",
    ",\"partial\":true",
    "}",
    "]}",
    "\"role\":\"x\"",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_tool_call_parser_takes_anything(text in pieces(CALLS)) {
        let parsed = tools::parse(&text, &time_tool());
        for (call, _) in &parsed.calls {
            // A call it found is one the validator can judge (either way, without a panic).
            let _ = tools::validate(call, &time_tool());
        }
    }

    #[test]
    fn the_config_loader_takes_anything(text in pieces(TOML)) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, &text).unwrap();
        let dirs = Dirs {
            config: dir.path().join("c"),
            data: dir.path().join("d"),
            state: dir.path().join("s"),
            cache: dir.path().join("k"),
        };
        let flags = Overrides { config_path: Some(file), ..Overrides::default() };
        if let Err(e) = config::load(&dirs, &flags, &|_| None) {
            prop_assert!(one_line(&e), "{e}");
        }
    }

    #[test]
    fn the_manifest_loader_takes_anything(text in pieces(MANIFEST)) {
        if let Err(e) = manifest::parse(Path::new("/p/plugin.toml"), &text) {
            prop_assert!(one_line(&e), "{e}");
        }
    }

    #[test]
    fn the_mcp_servers_importer_takes_any_json(text in pieces(SERVERS)) {
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
            for entry in import::parse_servers(&json).unwrap_or_default() {
                if let Err(skipped) = entry {
                    prop_assert!(!skipped.reason.contains('\n'), "{}", skipped.reason);
                }
            }
        }
    }

    #[test]
    fn conversation_files_of_earlier_versions_take_anything(text in pieces(CONVERSATION)) {
        if let Err(e) = legacy::parse(text.as_bytes()) {
            prop_assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn the_gguf_reader_takes_any_bytes(
        head in proptest::collection::vec(any::<u8>(), 0..64),
        tail in proptest::collection::vec(any::<u8>(), 0..512),
        magic in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.gguf");
        // Half the cases start like a real file, so the reader gets past the magic number.
        let mut bytes = if magic { b"GGUF\x03\0\0\0".to_vec() } else { Vec::new() };
        bytes.extend(head);
        bytes.extend(tail);
        std::fs::write(&file, &bytes).unwrap();
        if let Err(e) = libre_assistant::models::gguf::metadata(&file) {
            prop_assert!(one_line(&e), "{e}");
        }
    }
}
