//! What a plugin's program needs to read to start: the program found on `PATH`, its install
//! directory, and the same for the interpreter its `#!` line names (and for the script an
//! interpreter is given as its first argument).
//!
//! Rules, from what interpreters and package managers lay out:
//! - a file under `node_modules`: the outermost `node_modules` (the package and its
//!   dependencies);
//! - a file in `PREFIX/bin` or `PREFIX/sbin`: `PREFIX` (a virtual environment, a pyenv or nvm
//!   version, `/usr/local`); for prefixes that hold other things too (the home directory,
//!   `~/.local`, `~/.cargo`, `/`) only `bin` and `lib` below them;
//! - a file in `ROOT/shims` (pyenv, rbenv, asdf): `ROOT`, where the shim finds the versions;
//! - any other file: its directory, unless that is the home directory or `/` (then the file).
//!
//! Both the path as found and its canonical form count, so a symlinked launcher and its target
//! are both readable.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How many `#!` hops are followed (`env` → `node` is two).
const MAX_HOPS: usize = 4;

/// Programs that take a script as their first argument.
const INTERPRETERS: [&str; 12] = [
    "node", "nodejs", "python", "python3", "bun", "deno", "ruby", "perl", "sh", "bash", "dash",
    "uv",
];

/// `command` as the child will run it: a path if it contains `/`, else the first executable
/// file of that name on `path_var`.
pub fn resolve(command: &str, path_var: Option<&OsStr>) -> Option<PathBuf> {
    if command.contains('/') {
        let path = PathBuf::from(command);
        return is_executable(&path).then_some(path);
    }
    std::env::split_paths(path_var?)
        .map(|dir| dir.join(command))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Everything `program` (already resolved) needs to read to start with `args`: install roots
/// of the program, of each interpreter on its `#!` chain, and of a script given to an
/// interpreter as its first argument. `home` is the user's home directory.
pub fn install_roots(
    program: &Path,
    args: &[String],
    path_var: Option<&OsStr>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    let mut next = Some(program.to_path_buf());
    let mut first_script = script_argument(program, args);
    for _ in 0..MAX_HOPS {
        let Some(exe) = next.take() else { break };
        let real = exe.canonicalize().unwrap_or_else(|_| exe.clone());
        for p in [&exe, &real] {
            push_new(&mut roots, root_of(p, home));
        }
        next = shebang(&real).and_then(|(interp, arg)| {
            // `#!/usr/bin/env node`: the interpreter is the argument, found on PATH.
            if interp.file_name() == Some(OsStr::new("env")) {
                push_new(&mut roots, root_of(&interp, home));
                resolve(&arg?, path_var)
            } else {
                Some(interp)
            }
        });
        if next.is_none() {
            next = first_script.take();
        }
    }
    roots
}

/// The script an interpreter runs, when `program` is one and its first non-flag argument is an
/// existing file.
fn script_argument(program: &Path, args: &[String]) -> Option<PathBuf> {
    let name = program.file_name()?.to_string_lossy();
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    if !INTERPRETERS.contains(&base) {
        return None;
    }
    let first = args.iter().find(|a| !a.starts_with('-'))?;
    let path = PathBuf::from(first);
    (path.is_absolute() && path.is_file()).then_some(path)
}

fn push_new(roots: &mut Vec<PathBuf>, found: Vec<PathBuf>) {
    for p in found {
        if !roots.contains(&p) {
            roots.push(p);
        }
    }
}

/// The install root(s) of the file at `path` (see the module's rules).
fn root_of(path: &Path, home: Option<&Path>) -> Vec<PathBuf> {
    let outermost_modules = path
        .ancestors()
        .filter(|a| a.file_name() == Some(OsStr::new("node_modules")))
        .last();
    if let Some(modules) = outermost_modules {
        return vec![modules.to_path_buf()];
    }
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    if dir.file_name() == Some(OsStr::new("shims"))
        && let Some(manager) = dir.parent()
    {
        return vec![manager.to_path_buf()];
    }
    let in_bin = matches!(
        dir.file_name().and_then(OsStr::to_str),
        Some("bin" | "sbin")
    );
    if let (true, Some(prefix)) = (in_bin, dir.parent()) {
        if !is_shared_prefix(prefix, home) {
            return vec![prefix.to_path_buf()];
        }
        return [dir.to_path_buf(), prefix.join("lib")]
            .into_iter()
            .filter(|p| p.exists())
            .collect();
    }
    if dir == Path::new("/") || Some(dir) == home {
        return vec![path.to_path_buf()];
    }
    vec![dir.to_path_buf()]
}

/// Prefixes that hold more than one program's files (credentials among them): only their
/// `bin` and `lib` are granted.
fn is_shared_prefix(prefix: &Path, home: Option<&Path>) -> bool {
    if prefix == Path::new("/") {
        return true;
    }
    let Some(home) = home else {
        return false;
    };
    prefix == home
        || [".local", ".cargo", ".config"]
            .iter()
            .any(|d| prefix == home.join(d))
}

/// The interpreter and its one optional argument from the `#!` line of `path`, if it has one.
fn shebang(path: &Path) -> Option<(PathBuf, Option<String>)> {
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let end = line.iter().position(|b| *b == b'\n').unwrap_or(line.len());
    let line = std::str::from_utf8(&line[..end]).ok()?.trim();
    let mut words = line.split_whitespace();
    let interp = PathBuf::from(words.next()?);
    // `env -S node --flag`: the first word that is not a flag.
    let arg = words.find(|w| !w.starts_with('-')).map(str::to_owned);
    Some((interp, arg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write_exe(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_node_package_bin_grants_its_node_modules_and_node() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let node = root.join("nodejs/bin/node");
        write_exe(&node, "\x7fELF");
        let script = root.join("plugin/node_modules/@scope/server/dist/index.js");
        write_exe(&script, "#!/usr/bin/env node\nconsole.log(1)\n");
        let bin = root.join("plugin/node_modules/.bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink("../@scope/server/dist/index.js", bin.join("server")).unwrap();
        let path_var = std::env::join_paths([root.join("nodejs/bin")]).unwrap();
        let roots = install_roots(&bin.join("server"), &[], Some(&path_var), None);
        assert_eq!(
            roots,
            [
                root.join("plugin/node_modules"),
                PathBuf::from("/usr"),
                root.join("nodejs"),
            ]
        );
    }

    #[test]
    fn a_script_given_to_an_interpreter_grants_its_directory() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let python = root.join("venv/bin/python3.11");
        write_exe(&python, "\x7fELF");
        let server = root.join("tools/weather/server.py");
        write_exe(&server, "print(1)\n");
        let args = ["-u".to_owned(), server.to_string_lossy().into_owned()];
        let roots = install_roots(&python, &args, None, None);
        assert_eq!(roots, [root.join("venv"), root.join("tools/weather")]);
    }

    #[test]
    fn shared_prefixes_grant_only_bin_and_lib() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().canonicalize().unwrap();
        let tool = home.join(".local/bin/tool");
        write_exe(&tool, "\x7fELF");
        std::fs::create_dir_all(home.join(".local/lib")).unwrap();
        std::fs::create_dir_all(home.join(".local/share/keyrings")).unwrap();
        let roots = install_roots(&tool, &[], None, Some(&home));
        assert_eq!(roots, [home.join(".local/bin"), home.join(".local/lib")]);
        let loose = home.join("server");
        write_exe(&loose, "\x7fELF");
        assert_eq!(install_roots(&loose, &[], None, Some(&home)), [loose]);
    }

    #[test]
    fn a_version_manager_shim_grants_the_manager() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let shim = root.join(".pyenv/shims/python3");
        write_exe(&shim, "\x7fELF");
        assert_eq!(
            install_roots(&shim, &[], None, Some(&root)),
            [root.join(".pyenv")]
        );
    }

    #[test]
    fn commands_resolve_on_the_given_path_only() {
        let t = tempfile::tempdir().unwrap();
        let exe = t.path().join("bin/mytool");
        write_exe(&exe, "#!/bin/sh\n");
        std::fs::write(t.path().join("bin/plain"), "not executable").unwrap();
        let path_var = std::env::join_paths([t.path().join("bin")]).unwrap();
        assert_eq!(resolve("mytool", Some(&path_var)), Some(exe.clone()));
        assert_eq!(resolve("plain", Some(&path_var)), None);
        assert_eq!(resolve("mytool", None), None);
        assert_eq!(resolve(&exe.to_string_lossy(), None), Some(exe));
    }
}
