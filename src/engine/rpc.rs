//! llama.cpp's RPC back end: remote `ggml-rpc-server`s become devices that hold some of the
//! model's layers.
//!
//! A server is added to ggml's back-end registry once per process (the registry is global and
//! has no removal), the way llama.cpp's own `--rpc` does it: `ggml_backend_reg_by_name("RPC")`,
//! its `ggml_backend_rpc_add_server` entry point, then `ggml_backend_register`. ggml aborts the
//! whole process when it cannot connect or the protocol differs, so each server is first
//! greeted here (the protocol's HELLO) and a problem becomes a one-line error instead.

use std::collections::HashSet;
use std::ffi::{CString, c_char};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::time::Duration;

use llama_cpp_sys_2 as sys;

use super::EngineError;

/// The protocol version this build's ggml speaks (`ggml-rpc.h`).
const PROTOCOL_MAJOR: u8 = 7;
const PROTOCOL_MINOR: u8 = 0;
/// `RPC_CMD_HELLO`, and the size of the capabilities in its request.
const HELLO: u8 = 14;
const CAPS: usize = 24;
/// The longest wait for a server to connect and greet.
const GREETING: Duration = Duration::from_secs(5);

/// The servers registered so far in this process.
static REGISTERED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Makes each of `servers` (`host:port`) a device the next model load can use.
pub(super) fn register(servers: &[String]) -> Result<(), EngineError> {
    let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    let registered = registered.get_or_insert_with(HashSet::new);
    for server in servers {
        if registered.contains(server) {
            continue;
        }
        greet(server)?;
        add(server)?;
        registered.insert(server.clone());
        tracing::info!(server, "RPC server registered");
    }
    Ok(())
}

/// Checks that `server` answers and speaks this build's protocol.
fn greet(server: &str) -> Result<(), EngineError> {
    let fail = |why: String| EngineError::Server(format!("RPC server {server}: {why}"));
    let address = server
        .to_socket_addrs()
        .map_err(|e| {
            fail(format!(
                "cannot resolve it ({e}); engine.rpc takes HOST:PORT"
            ))
        })?
        .next()
        .ok_or_else(|| fail("its host has no address".into()))?;
    let mut stream = TcpStream::connect_timeout(&address, GREETING).map_err(|e| {
        fail(format!(
            "cannot connect ({e}); is ggml-rpc-server running there (docs/scaling.md)?"
        ))
    })?;
    stream
        .set_read_timeout(Some(GREETING))
        .and_then(|()| stream.set_write_timeout(Some(GREETING)))
        .map_err(|e| fail(e.to_string()))?;
    let mut request = vec![HELLO];
    request.extend_from_slice(&(CAPS as u64).to_le_bytes());
    request.extend_from_slice(&[0; CAPS]);
    stream
        .write_all(&request)
        .map_err(|e| fail(format!("it closed the connection ({e})")))?;
    let mut size = [0; 8];
    stream.read_exact(&mut size).map_err(|e| {
        fail(format!(
            "it did not answer the RPC greeting ({e}); is it a ggml-rpc-server?"
        ))
    })?;
    let size = u64::from_le_bytes(size);
    if !(3..=1024).contains(&size) {
        return Err(fail(
            "it answered the greeting with something else; is it a ggml-rpc-server?".into(),
        ));
    }
    let mut answer = vec![0; size as usize];
    stream
        .read_exact(&mut answer)
        .map_err(|e| fail(format!("its greeting broke off ({e})")))?;
    let (major, minor, patch) = (answer[0], answer[1], answer[2]);
    if major != PROTOCOL_MAJOR || minor > PROTOCOL_MINOR {
        return Err(fail(format!(
            "it speaks RPC protocol {major}.{minor}.{patch}, this build {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}; run ggml-rpc-server from the same llama.cpp revision (docs/scaling.md)"
        )));
    }
    Ok(())
}

/// Registers `server`'s devices with ggml.
fn add(server: &str) -> Result<(), EngineError> {
    let fail = |why: &str| EngineError::Backend(format!("RPC server {server}: {why}"));
    let endpoint = CString::new(server).map_err(|_| fail("the address holds a NUL byte"))?;
    // SAFETY: the names are NUL-terminated; the registry and the entry point are ggml's own,
    // the pointer is cast to the signature ggml-rpc.h declares for it, and the endpoint
    // outlives the call (ggml copies it).
    unsafe {
        let rpc = sys::ggml_backend_reg_by_name(c"RPC".as_ptr());
        if rpc.is_null() {
            return Err(fail(
                "this build has no RPC back end; build it with GGML_RPC=ON (.cargo/config.toml)",
            ));
        }
        let entry =
            sys::ggml_backend_reg_get_proc_address(rpc, c"ggml_backend_rpc_add_server".as_ptr());
        if entry.is_null() {
            return Err(fail("this build's RPC back end cannot add servers"));
        }
        type AddServer = unsafe extern "C" fn(*const c_char) -> sys::ggml_backend_reg_t;
        let add_server: AddServer = std::mem::transmute(entry);
        let reg = add_server(endpoint.as_ptr());
        if reg.is_null() {
            return Err(fail("it offers no devices"));
        }
        sys::ggml_backend_register(reg);
    }
    Ok(())
}
