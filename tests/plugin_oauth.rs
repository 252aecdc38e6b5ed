//! Remote plugins whose server asks for OAuth: the reference SDK's example server with its demo
//! authorization server (`simpleStreamableHttp.js --oauth`, on loopback ports) refuses us
//! until `plugins login ID` has run; the login prints the address to open, a stand-in browser
//! opens it (the demo signs in at once and redirects to our loopback callback), and the tokens
//! go into the secret store, with which the plugin then connects.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use support::Home;

/// The SDK's example server with OAuth, on two free loopback ports.
struct OAuthServer {
    child: Child,
    url: String,
}

impl OAuthServer {
    fn start() -> OAuthServer {
        let (mcp, auth) = (support::http::free_port(), support::http::free_port());
        let script = support::test_servers()
            .join("../node/node_modules/@modelcontextprotocol/sdk/dist/cjs/examples/server/simpleStreamableHttp.js");
        let mut child = Command::new("node")
            .arg(&script)
            .arg("--oauth")
            .env("MCP_PORT", mcp.to_string())
            .env("MCP_AUTH_PORT", auth.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts the example server");
        let mut lines = BufReader::new(child.stdout.take().expect("its stdout")).lines();
        let mut listening = 0;
        for line in lines.by_ref().map_while(Result::ok) {
            listening += usize::from(line.contains("listening on port"));
            if listening == 2 {
                break;
            }
        }
        assert_eq!(listening, 2, "the MCP and the authorization servers listen");
        std::thread::spawn(move || lines.for_each(drop));
        OAuthServer {
            child,
            url: format!("http://localhost:{mcp}/mcp"),
        }
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A remote plugin `demo` at `url`, enabled.
fn install(home: &Home, url: &str) {
    let dir = home.path().join("config/libre-assistant/plugins/demo");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = format!("id = \"demo\"\nname = \"Demo\"\nurl = \"{url}\"\n");
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    let enabled = home
        .command()
        .args(["plugins", "enable", "demo"])
        .output()
        .unwrap();
    assert!(enabled.status.success(), "{enabled:?}");
}

fn tools(home: &Home) -> Output {
    home.command()
        .args(["plugins", "tools", "demo"])
        .output()
        .unwrap()
}

#[test]
fn a_server_that_asks_for_oauth_is_signed_in_to_and_then_answers() {
    let server = OAuthServer::start();
    let home = Home::new();
    install(&home, &server.url);

    let refused = tools(&home);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("asks for a sign-in: run `libre-assistant plugins login demo`"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let mut login = home
        .command()
        .args(["plugins", "login", "demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(login.stdout.take().unwrap()).lines();
    let address = out
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().starts_with("http").then(|| l.trim().to_owned()))
        .expect("the login prints the address to open");
    assert!(address.contains("code_challenge="), "PKCE: {address}");
    assert!(address.contains("code_challenge_method=S256"), "{address}");
    // The browser: the demo server signs in at once and sends it to our callback.
    let page = ureq::get(&address)
        .call()
        .expect("the sign-in page and the callback answer")
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(page.starts_with("Signed in."), "{page}");
    let rest: Vec<String> = out.map_while(Result::ok).collect();
    let status = login.wait().unwrap();
    assert!(status.success(), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l == "Signed in to demo; its tokens are in the secret store."),
        "{rest:?}"
    );
    let secrets = home
        .command()
        .args(["plugins", "secret", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&secrets.stdout);
    assert!(listed.contains("OAUTH"), "{listed}");

    let answered = tools(&home);
    let listed = String::from_utf8_lossy(&answered.stdout);
    assert!(
        answered.status.success(),
        "{}",
        String::from_utf8_lossy(&answered.stderr)
    );
    assert!(listed.contains("greet"), "{listed}");
}

#[test]
fn a_plugin_on_this_machine_does_not_sign_in() {
    let home = Home::new();
    let out = home
        .command()
        .args(["plugins", "login", "time"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "libre-assistant: time runs on this machine; only a remote plugin (a manifest with `url`) signs in"
    );
}
