//! Signing in to a remote plugin's server with OAuth 2.1 (authorization code with PKCE, as MCP
//! specifies): `plugins login ID` finds the server's authorization server, registers this app
//! (dynamic client registration), shows the URL to open in a browser and waits on a loopback
//! port for the browser to come back with the code; the tokens it is exchanged for are kept
//! in the secret store as the plugin's secret [`SECRET`], and refreshed there.
//!
//! Invariants: the callback listens on 127.0.0.1 only, for one sign-in, and accepts only the
//! state it sent (rmcp checks the CSRF state and PKCE verifier); nothing is opened without the
//! user; the tokens never reach a file outside the secret store or a log.

use std::time::Duration;

use rmcp::transport::auth::{
    AuthClient, AuthError, AuthorizationManager, AuthorizationRequest, CredentialStore, OAuthState,
    StoredCredentials,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::secrets::SecretStore;
use crate::text::one_line;

/// The secret that holds a plugin's OAuth client id and tokens (JSON).
pub const SECRET: &str = "OAUTH";

/// How long a sign-in waits for the browser to come back.
pub const WAIT: Duration = Duration::from_secs(300);

/// A plugin's OAuth credentials in the secret store.
#[derive(Clone)]
pub struct SecretCredentials {
    /// The store.
    pub store: SecretStore,
    /// The plugin they belong to.
    pub plugin: String,
}

impl SecretCredentials {
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SecretStore, &str) -> Result<T, String> + Send + 'static,
    ) -> Result<T, AuthError> {
        let (store, plugin) = (self.store.clone(), self.plugin.clone());
        tokio::task::spawn_blocking(move || f(&store, &plugin))
            .await
            .map_err(|e| AuthError::InternalError(e.to_string()))?
            .map_err(AuthError::InternalError)
    }

    /// Whether a sign-in is stored.
    pub async fn stored(&self) -> Result<bool, String> {
        self.blocking(|store, plugin| {
            Ok(store
                .get(plugin, SECRET)
                .map_err(|e| e.to_string())?
                .is_some())
        })
        .await
        .map_err(|e| e.to_string())
    }
}

#[async_trait::async_trait]
impl CredentialStore for SecretCredentials {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        self.blocking(|store, plugin| match store.get(plugin, SECRET) {
            Ok(Some(json)) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| format!("the stored sign-in of {plugin} is damaged ({e}); run `libre-assistant plugins login {plugin}` again")),
            Ok(None) => Ok(None),
            Err(e) => Err(e.to_string()),
        })
        .await
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let json = serde_json::to_string(&credentials)
            .map_err(|e| AuthError::InternalError(e.to_string()))?;
        self.blocking(move |store, plugin| {
            store
                .set(plugin, SECRET, &json)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
    }

    async fn clear(&self) -> Result<(), AuthError> {
        self.blocking(|store, plugin| {
            store
                .remove(plugin, SECRET)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
    }
}

/// An HTTP client that sends the stored access token (refreshing it when it expires), or
/// `None` when the plugin has no stored sign-in.
pub async fn client(
    url: &str,
    credentials: SecretCredentials,
) -> Result<Option<AuthClient<reqwest::Client>>, String> {
    if !credentials.stored().await? {
        return Ok(None);
    }
    let plugin = credentials.plugin.clone();
    let mut manager = AuthorizationManager::new(url)
        .await
        .map_err(|e| one_line(&e.to_string()))?;
    manager.set_credential_store(credentials);
    let signed_in = manager
        .initialize_from_store()
        .await
        .map_err(|e| one_line(&e.to_string()))?;
    if !signed_in {
        return Err(format!(
            "the stored sign-in of {plugin} is for another authorization server; run \
             `libre-assistant plugins login {plugin}` again"
        ));
    }
    Ok(Some(AuthClient::new(reqwest::Client::default(), manager)))
}

/// Signs in to the server at `url` for `credentials.plugin`: `show` gets the URL to open in
/// a browser; returns when the tokens are stored, or why not (one line).
pub async fn login(
    url: &str,
    credentials: SecretCredentials,
    show: impl FnOnce(&str),
) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen on a loopback port for the sign-in: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let failed = |e: AuthError| format!("signing in to {url} failed: {}", one_line(&e.to_string()));
    let mut manager = AuthorizationManager::new(url).await.map_err(failed)?;
    manager.set_credential_store(credentials);
    let mut state = OAuthState::Unauthorized(manager);
    let request = AuthorizationRequest::new(&redirect).with_client_name("libre-assistant");
    state.start_authorization(request).await.map_err(failed)?;
    let address = state.get_authorization_url().await.map_err(failed)?;
    show(&address);
    let path = tokio::time::timeout(WAIT, callback(&listener))
        .await
        .map_err(|_| {
            format!(
                "no sign-in came back within {} minutes; run the command again",
                WAIT.as_secs() / 60
            )
        })??;
    state
        .handle_callback_url(&format!("http://127.0.0.1:{port}{path}"))
        .await
        .map_err(failed)
}

/// Waits for the browser's request to `/callback` and answers it; returns its path and
/// query. Other requests (a favicon) get 404 and are waited past.
async fn callback(listener: &TcpListener) -> Result<String, String> {
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 8192];
        let mut read = 0;
        // The request line is all we need; it ends at the first CRLF.
        while read < buf.len() && !buf[..read].windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut buf[read..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
        let head = String::from_utf8_lossy(&buf[..read]);
        let target = head
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("GET "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or("");
        if !target.starts_with("/callback?") {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let body = "Signed in. You can close this tab and go back to libre-assistant.";
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(reply.as_bytes()).await;
        return Ok(target.to_owned());
    }
}
