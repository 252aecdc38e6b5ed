//! The built-in plugins as their clients see them: `libre-assistant mcp-serve NAME` spawned as
//! a child through rmcp's client, handshake, tool list, and calls with good and bad input;
//! and the shipped manifests listed by `plugins list`.

mod support;

use std::path::Path;
use std::process::Stdio;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value, json};

type Client = RunningService<RoleClient, ()>;

const BIN: &str = env!("CARGO_BIN_EXE_libre-assistant");

async fn start(args: &[&str]) -> Client {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("mcp-serve").args(args).stderr(Stdio::null());
    let transport = TokioChildProcess::new(cmd).expect("spawn the built-in server");
    ().serve(transport).await.expect("MCP handshake")
}

async fn tool_names(client: &Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    names
}

async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(map) = args else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(map))
        .await
        .expect("tools/call")
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

fn structured(result: &CallToolResult) -> &Map<String, Value> {
    result
        .structured_content
        .as_ref()
        .and_then(Value::as_object)
        .expect("structured content")
}

#[tokio::test]
async fn time_tells_the_time_in_a_zone_and_converts() {
    let client = start(&["time"]).await;
    assert_eq!(tool_names(&client).await, ["convert_time", "current_time"]);
    let tokyo = call(&client, "current_time", json!({"timezone": "Asia/Tokyo"})).await;
    assert!(!is_error(&tokyo), "{}", text(&tokyo));
    assert!(text(&tokyo).contains("+09:00"), "{}", text(&tokyo));
    let utc = call(&client, "current_time", json!({})).await;
    assert!(
        text(&utc).contains("UTC") || text(&utc).contains("+00:00"),
        "{}",
        text(&utc)
    );
    let converted = call(
        &client,
        "convert_time",
        json!({"time": "12:00", "source_timezone": "UTC", "target_timezone": "Asia/Tokyo"}),
    )
    .await;
    assert!(text(&converted).contains("21:00"), "{}", text(&converted));
    // Cities, countries and abbreviations name a zone, and the reply says which.
    for (written, zone) in [
        ("Paris", "Europe/Paris"),
        ("New York", "America/New_York"),
        ("San Francisco", "America/Los_Angeles"),
        ("Japan", "Asia/Tokyo"),
        ("CET", "Europe/Paris"),
    ] {
        let now = call(&client, "current_time", json!({"timezone": written})).await;
        assert!(!is_error(&now), "{written}: {}", text(&now));
        assert!(
            text(&now).starts_with(&format!("In {zone} ")),
            "{}",
            text(&now)
        );
    }
    let unknown = call(&client, "current_time", json!({"timezone": "Mars/Olympus"})).await;
    assert!(is_error(&unknown));
    assert_eq!(text(&unknown).lines().count(), 1, "{}", text(&unknown));
    assert!(
        text(&unknown).contains("Asia/Tokyo"),
        "says how to write a zone"
    );
}

#[tokio::test]
async fn calc_evaluates_and_computes_loans() {
    let client = start(&["calc"]).await;
    assert_eq!(
        tool_names(&client).await,
        ["compound_interest", "evaluate", "loan_payment"]
    );
    let sum = call(&client, "evaluate", json!({"expression": "2 + 3 * 4"})).await;
    assert!(!is_error(&sum));
    assert_eq!(structured(&sum)["result"], 14);
    assert!(text(&sum).contains("= 14"));

    let bad = call(&client, "evaluate", json!({"expression": "2 +"})).await;
    assert!(is_error(&bad));
    assert_eq!(text(&bad).lines().count(), 1);

    let loan = call(
        &client,
        "loan_payment",
        json!({"principal": 100000, "annual_rate_percent": 5, "term": "30 years"}),
    )
    .await;
    assert_eq!(structured(&loan)["monthly_payment"], 536.82);
    let months = call(
        &client,
        "loan_payment",
        json!({"principal": 100000, "annual_rate_percent": 5, "term": "360 months"}),
    )
    .await;
    assert_eq!(structured(&months)["monthly_payment"], 536.82);
    let bare = call(
        &client,
        "loan_payment",
        json!({"principal": 100000, "annual_rate_percent": 5, "term": "30"}),
    )
    .await;
    assert!(is_error(&bare));
    assert!(
        text(&bare).contains(r#"write it with its unit, e.g. "30 years" or "60 months""#),
        "{}",
        text(&bare)
    );
    let written = call(
        &client,
        "loan_payment",
        json!({"principal": "$100,000", "annual_rate_percent": "5%", "term": "30 years"}),
    )
    .await;
    assert_eq!(
        structured(&written)["monthly_payment"],
        536.82,
        "{}",
        text(&written)
    );
    let zero = call(
        &client,
        "loan_payment",
        json!({"principal": 1200, "annual_rate_percent": 0, "term": "1 year"}),
    )
    .await;
    assert_eq!(structured(&zero)["monthly_payment"], 100.0);
    let negative = call(
        &client,
        "loan_payment",
        json!({"principal": -5, "annual_rate_percent": 5, "term": "30 years"}),
    )
    .await;
    assert!(is_error(&negative));

    let grown = call(
        &client,
        "compound_interest",
        json!({"principal": 1000, "annual_rate_percent": 10, "years": 2, "compounds_per_year": 1}),
    )
    .await;
    let amount = structured(&grown)["final_amount"].as_f64().unwrap();
    assert!((amount - 1210.0).abs() < 1e-9);
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn password_generates_and_rates() {
    let client = start(&["password"]).await;
    assert_eq!(
        tool_names(&client).await,
        [
            "estimate_strength",
            "generate_passphrase",
            "generate_password"
        ]
    );
    let first = call(&client, "generate_password", json!({"length": 24})).await;
    let second = call(&client, "generate_password", json!({"length": 24})).await;
    let p1 = structured(&first)["password"].as_str().unwrap().to_owned();
    let p2 = structured(&second)["password"].as_str().unwrap().to_owned();
    assert_eq!(p1.chars().count(), 24);
    assert!(p1.chars().all(|c| c.is_ascii_graphic()), "{p1}");
    assert_ne!(p1, p2);
    let plain = call(
        &client,
        "generate_password",
        json!({"length": 16, "symbols": false}),
    )
    .await;
    let plain = structured(&plain)["password"].as_str().unwrap().to_owned();
    assert!(plain.chars().all(|c| c.is_ascii_alphanumeric()), "{plain}");
    assert!(is_error(
        &call(&client, "generate_password", json!({"length": 4})).await
    ));

    let phrase = call(
        &client,
        "generate_passphrase",
        json!({"words": 6, "separator": "."}),
    )
    .await;
    assert_eq!(
        structured(&phrase)["passphrase"]
            .as_str()
            .unwrap()
            .split('.')
            .count(),
        6
    );
    assert_eq!(structured(&phrase)["entropy_bits"], 66.0);
    assert!(is_error(
        &call(&client, "generate_passphrase", json!({"words": 50})).await
    ));

    let weak = call(
        &client,
        "estimate_strength",
        json!({"password": "password"}),
    )
    .await;
    assert_eq!(structured(&weak)["score"], 0);
    assert!(!text(&weak).contains("password\""));
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn files_reads_inside_and_refuses_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().join("allowed");
    let secret = dir.path().join("secret");
    std::fs::create_dir_all(&allowed).unwrap();
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(allowed.join("notes.txt"), "buy milk\n").unwrap();
    std::fs::write(allowed.join("image.bin"), [0u8, 159, 146, 150]).unwrap();
    std::fs::write(secret.join("key.txt"), "hunter2").unwrap();
    std::os::unix::fs::symlink(&secret, allowed.join("link")).unwrap();
    let allow = allowed.to_string_lossy().into_owned();
    let client = start(&["files", "--allow", &allow]).await;
    assert_eq!(
        tool_names(&client).await,
        ["list_directory", "read_text_file", "search_files"]
    );

    let read = call(&client, "read_text_file", json!({"path": "notes.txt"})).await;
    assert!(!is_error(&read), "{}", text(&read));
    assert_eq!(text(&read), "buy milk\n");
    let listed = call(&client, "list_directory", json!({"path": &allow})).await;
    assert!(text(&listed).contains("notes.txt"));
    let found = call(
        &client,
        "search_files",
        json!({"path": ".", "pattern": "MILK"}),
    )
    .await;
    assert!(
        text(&found).contains("notes.txt:1: buy milk"),
        "{}",
        text(&found)
    );

    let outside = secret.join("key.txt").to_string_lossy().into_owned();
    for path in [
        "../secret/key.txt",
        "link/key.txt",
        outside.as_str(),
        "/etc/hostname",
    ] {
        let refused = call(&client, "read_text_file", json!({"path": path})).await;
        assert!(is_error(&refused), "{path}: {}", text(&refused));
        assert!(!text(&refused).contains("hunter2"));
    }
    let binary = call(&client, "read_text_file", json!({"path": "image.bin"})).await;
    assert!(is_error(&binary));
    assert!(text(&binary).contains("binary"));
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn files_without_an_allowed_directory_offers_nothing() {
    let client = start(&["files"]).await;
    assert!(tool_names(&client).await.is_empty());
    let refused = client
        .call_tool(CallToolRequestParams::new("list_directory"))
        .await;
    assert!(refused.is_err() || refused.is_ok_and(|r| r.is_error == Some(true)));
    client.cancel().await.expect("close");
}

#[test]
fn unknown_names_and_stray_allow_are_usage_errors() {
    let out = std::process::Command::new(BIN)
        .args(["mcp-serve", "weather"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = std::process::Command::new(BIN)
        .args(["mcp-serve", "calc", "--allow", "/tmp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_shipped_builtins_are_listed() {
    let home = support::Home::new();
    let out = std::process::Command::new(BIN)
        .args(["plugins", "list"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("LIBRE_ASSISTANT_PLUGINS_DIR")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for id in ["time", "calc", "password", "files"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id} missing from:\n{stdout}"
        );
    }
    let plugins = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins");
    assert!(stdout.contains(&plugins.to_string_lossy().into_owned()));
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "{:?}",
        out.stderr
    );
}
