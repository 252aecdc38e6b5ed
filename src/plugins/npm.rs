//! Imported `npx -y PACKAGE ARGS` servers, made to run sandboxed: at import the package is
//! installed with npm into the plugin's own directory, and the plugin runs `node` on the
//! package's entry script from there, read-only and offline.
//!
//! Why: under the sandbox npx cannot work as it does outside. It checks the registry at every
//! start (and hangs for minutes without the network), and it needs a writable cache that, if
//! shared, would let one plugin change another's code.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// Where the package goes, relative to the plugin's directory.
pub const NODE_DIR: &str = "node";

/// npx's flags that take no value and change nothing we need.
const NPX_FLAGS: [&str; 4] = ["-y", "--yes", "-q", "--quiet"];

/// The package and its arguments, if `command args` is a plain `npx [-y] PACKAGE ARGS…`.
pub fn npx_package(command: &str, args: &[String]) -> Option<(String, Vec<String>)> {
    let name = Path::new(command).file_name()?.to_str()?;
    if name != "npx" {
        return None;
    }
    let mut rest = args.iter().skip_while(|a| NPX_FLAGS.contains(&a.as_str()));
    let package = rest.next()?;
    if package.starts_with('-') {
        return None;
    }
    Some((package.clone(), rest.cloned().collect()))
}

/// The package name without a version: `@scope/name@1.2` → `@scope/name`.
pub fn package_name(spec: &str) -> &str {
    let at = if let Some(scoped) = spec.strip_prefix('@') {
        scoped.find('@').map(|i| i + 1)
    } else {
        spec.find('@')
    };
    at.map_or(spec, |i| &spec[..i])
}

/// Installs `spec` into `<plugin_dir>/node` with npm and returns the entry script's path
/// relative to `plugin_dir`. Errors are one line.
pub fn install(spec: &str, plugin_dir: &Path) -> Result<PathBuf, String> {
    let prefix = plugin_dir.join(NODE_DIR);
    let out = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--omit=dev",
            "--prefer-offline",
        ])
        .arg("--prefix")
        .arg(&prefix)
        .arg(spec)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("npm install {spec} failed: {}", last.trim()));
    }
    let package = Path::new(NODE_DIR)
        .join("node_modules")
        .join(package_name(spec));
    let manifest = plugin_dir.join(&package).join("package.json");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let entry = entry_script(&json, package_name(spec))
        .ok_or_else(|| format!("{}: no \"bin\" entry to run", manifest.display()))?;
    Ok(package.join(entry))
}

/// The script a package's `bin` runs: the only one, the one named like the package, or the
/// first.
fn entry_script(package_json: &Value, name: &str) -> Option<String> {
    match package_json.get("bin")? {
        Value::String(path) => Some(path.clone()),
        Value::Object(bins) => {
            let short = name.rsplit('/').next().unwrap_or(name);
            bins.get(short)
                .or_else(|| bins.values().next())
                .and_then(Value::as_str)
                .map(str::to_owned)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn npx_commands_give_the_package_and_its_arguments() {
        assert_eq!(
            npx_package(
                "npx",
                &strings(&["-y", "@modelcontextprotocol/server-filesystem", "/data"])
            ),
            Some((
                "@modelcontextprotocol/server-filesystem".to_owned(),
                strings(&["/data"])
            ))
        );
        assert_eq!(
            npx_package("/usr/bin/npx", &strings(&["pkg@2"])),
            Some(("pkg@2".to_owned(), Vec::new()))
        );
        assert_eq!(npx_package("npx", &strings(&["-p", "pkg", "cmd"])), None);
        assert_eq!(npx_package("node", &strings(&["x.js"])), None);
        assert_eq!(npx_package("npx", &strings(&["-y"])), None);
    }

    #[test]
    fn versions_come_off_package_names() {
        assert_eq!(package_name("@scope/name@1.2.3"), "@scope/name");
        assert_eq!(package_name("@scope/name"), "@scope/name");
        assert_eq!(package_name("name@latest"), "name");
        assert_eq!(package_name("name"), "name");
    }

    #[test]
    fn the_entry_is_the_bin_named_like_the_package() {
        let one = json!({"bin": "dist/index.js"});
        assert_eq!(entry_script(&one, "x").as_deref(), Some("dist/index.js"));
        let many = json!({"bin": {"helper": "h.js", "server-x": "s.js"}});
        assert_eq!(entry_script(&many, "@s/server-x").as_deref(), Some("s.js"));
        assert_eq!(entry_script(&many, "other").as_deref(), Some("h.js"));
        assert_eq!(entry_script(&json!({}), "x"), None);
    }
}
