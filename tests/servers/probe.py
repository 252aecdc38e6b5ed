#!/usr/bin/env python3
"""The escape suite's probe: a minimal MCP server (stdio, standard library only) whose one
tool, `probe`, tries one thing a sandboxed plugin must or must not be able to do and reports
what happened as JSON: {"ok": true, ...} or {"ok": false, "errno": "EACCES"}.

Usage: python3 probe.py   (the tests run it as a plugin child under the default policy)
"""
import ctypes
import errno
import json
import os
import socket
import subprocess
import sys
import time


def attempt(fn):
    try:
        value = fn()
        return {"ok": True, "value": value}
    except OSError as e:
        return {"ok": False, "errno": errno.errorcode.get(e.errno, str(e.errno))}


def read_file(a):
    with open(a["path"], "rb") as f:
        return len(f.read())


def write_file(a):
    with open(a["path"], "w") as f:
        f.write("probe")
    return True


def symlink_write(a):
    os.symlink(a["target"], a["link"])
    return write_file({"path": a["link"]})


def connect(family, address):
    def go():
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(address)
        return True
    return go


def udp(a):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"probe", (a["host"], a["port"]))
    return True


def io_uring_setup(_a):
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 4, params)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "io_uring_setup")
    os.close(fd)
    return True


def raw_syscall(number, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    ctypes.set_errno(0)
    result = libc.syscall(number, *[ctypes.c_long(a) for a in args])
    if result == -1:
        raise OSError(ctypes.get_errno(), f"syscall {number}")
    return result


def status(_a):
    with open("/proc/self/status") as f:
        lines = [l.strip() for l in f if l.startswith(("NoNewPrivs", "Seccomp:"))]
    return lines


def spawn_setsid(_a):
    child = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    return child.pid


HELD = []


def allocate(a):
    # Written, not just reserved, so every page is resident.
    HELD.append(b"\x01" * (a["mb"] * 1024 * 1024))
    time.sleep(a.get("hold", 0))
    return True


def hang(_a):
    with open(os.path.join(os.environ["TMPDIR"], "pid"), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(1000)
    return True


CASES = {
    "read_file": read_file,
    "list_dir": lambda a: sorted(os.listdir(a["path"])),
    "stat": lambda a: os.stat(a["path"]).st_size,
    "write_file": write_file,
    "truncate": lambda a: os.truncate(a["path"], 0),
    "symlink_write": symlink_write,
    "hardlink": lambda a: os.link(a["src"], a["dst"]),
    "rename": lambda a: os.rename(a["src"], a["dst"]),
    "chmod": lambda a: os.chmod(a["path"], 0o777),
    "chown": lambda a: os.chown(a["path"], os.getuid(), os.getgid()),
    "utime": lambda a: os.utime(a["path"], (0, 0)),
    "setxattr": lambda a: os.setxattr(a["path"], "user.probe", b"1"),
    "tcp4": lambda a: connect(socket.AF_INET, ("127.0.0.1", a["port"]))(),
    "tcp6": lambda a: connect(socket.AF_INET6, ("::1", a["port"]))(),
    "udp": udp,
    "unix": lambda a: connect(socket.AF_UNIX, a["path"])(),
    "abstract": lambda a: connect(socket.AF_UNIX, "\0" + a["name"])(),
    "io_uring_setup": io_uring_setup,
    # getpid through the x32 ABI (__X32_SYSCALL_BIT | 39).
    "x32_getpid": lambda a: raw_syscall(0x40000000 | 39),
    # PTRACE_ATTACH (16) and process_vm_readv (310) of another process.
    "ptrace": lambda a: raw_syscall(101, 16, a["pid"], 0, 0),
    "process_vm_readv": lambda a: raw_syscall(310, a["pid"], 0, 0, 0, 0, 0),
    "kill": lambda a: os.kill(a["pid"], 0),
    "environ": lambda a: read_file({"path": f"/proc/{a['pid']}/environ"}),
    "status": status,
    "pid": lambda a: os.getpid(),
    "spawn_setsid": spawn_setsid,
    "hang": hang,
    "allocate": allocate,
}


def answer(message):
    method = message.get("method")
    params = message.get("params") or {}
    if method == "initialize":
        return {
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "probe", "version": "1.0.0"},
        }
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": [{
            "name": "probe",
            "description": "Tries one thing and reports what happened.",
            "inputSchema": {
                "type": "object",
                "properties": {"case": {"type": "string", "enum": sorted(CASES)}},
                "required": ["case"],
            },
        }]}
    if method == "tools/call":
        args = params.get("arguments") or {}
        case = CASES.get(args.get("case"))
        if case is None:
            return {"content": [{"type": "text", "text": "unknown case"}], "isError": True}
        result = attempt(lambda: case(args))
        return {"content": [{"type": "text", "text": json.dumps(result)}]}
    raise LookupError(method)


def main():
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if "id" not in message or "method" not in message:
            continue
        try:
            reply = {"jsonrpc": "2.0", "id": message["id"], "result": answer(message)}
        except LookupError as e:
            reply = {"jsonrpc": "2.0", "id": message["id"],
                     "error": {"code": -32601, "message": f"unknown method {e}"}}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
