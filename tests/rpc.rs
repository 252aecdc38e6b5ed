//! llama.cpp's RPC back end: with `engine.rpc` pointing at a `ggml-rpc-server` (built from the
//! same llama.cpp as the app by `scripts/test-llama`) on a loopback port, the model's layers
//! are split between this process and the server, and greedy output equals the local
//! engine's. A server that is not there, or speaks another protocol, is one clear line.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;

use serde_json::json;
use support::Home;
use support::events::{answer, events, of_type, stderr};

const QUESTION: &str = "What is the capital of France? Answer in one sentence.";

fn ask(home: &Home) -> std::process::Output {
    home.with_model()
        .args(["--json", "-p", QUESTION])
        .output()
        .unwrap()
}

#[test]
fn half_the_layers_on_an_rpc_server_give_the_local_engines_greedy_output() {
    let local = ask(&Home::new());
    assert_eq!(local.status.code(), Some(0), "{}", stderr(&local));
    let local = answer(&events(&local));
    assert!(!local.is_empty());

    let server = support::llama::rpc_server();
    let home = Home::new();
    let endpoint = format!("127.0.0.1:{}", server.port);
    home.write_config(&format!(
        "[engine]\nrpc = [\"{endpoint}\"]\nn_gpu_layers = 15\n"
    ));
    let split = ask(&home);
    assert_eq!(split.status.code(), Some(0), "{}", stderr(&split));
    let events = events(&split);
    assert_eq!(
        of_type(&events, "start")[0]["runs"],
        json!({"kind": "rpc", "servers": [endpoint], "offloaded": 15, "layers": 30})
    );
    assert_eq!(answer(&events), local);
}

#[test]
fn an_rpc_server_that_is_not_there_is_one_line() {
    let home = Home::new();
    let endpoint = format!("127.0.0.1:{}", support::http::free_port());
    home.write_config(&format!("[engine]\nrpc = [\"{endpoint}\"]\n"));
    let out = home.with_model().args(["-p", "Hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "libre-assistant: RPC server {endpoint}: cannot connect ("
        )) && err
            .trim_end()
            .ends_with("is ggml-rpc-server running there (docs/scaling.md)?"),
        "{err}"
    );
}

#[test]
fn an_rpc_server_of_another_protocol_version_is_refused_before_ggml_sees_it() {
    // A server that greets with protocol 6.2.0: ggml itself would abort the process.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut hello = [0; 1 + 8 + 24];
        stream.read_exact(&mut hello).unwrap();
        assert_eq!(hello[0], 14, "the HELLO command");
        let mut reply = 28u64.to_le_bytes().to_vec();
        reply.extend_from_slice(&[6, 2, 0, 0]);
        reply.extend_from_slice(&[0; 24]);
        stream.write_all(&reply).unwrap();
    });
    let home = Home::new();
    home.write_config(&format!("[engine]\nrpc = [\"127.0.0.1:{port}\"]\n"));
    let out = home.with_model().args(["-p", "Hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "libre-assistant: RPC server 127.0.0.1:{port}: it speaks RPC protocol 6.2.0, this build 7.0; run ggml-rpc-server from the same llama.cpp revision (docs/scaling.md)"
        )
    );
}

#[test]
fn an_rpc_entry_that_is_not_host_and_port_is_a_config_error() {
    let home = Home::new();
    home.write_config("[engine]\nrpc = [\"127.0.0.1:50052\", \"gpu-box\"]\n");
    let out = home.with_model().args(["-p", "Hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(":2:") && err.contains("\"gpu-box\" is not HOST:PORT"),
        "{err}"
    );
}
