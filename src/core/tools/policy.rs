//! Who may grant a tool call without asking: rules from the config, headless flags, the
//! user's "always allow" answers (this session, or remembered in plugins.toml).
//!
//! Invariant: a rule from a user's answer carries the tool's definition hash, and stops
//! matching when the plugin changes the tool's definition, so the user is asked again. Rules
//! from the config and from flags name tools, not definitions. A `PLUGIN:read-only` rule
//! trusts the plugin's own annotations: it allows the tools the server declares read-only,
//! and nothing else of that plugin.

use crate::plugins::audit::Grant;

/// One rule: a plugin's tool (or all its tools) is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    plugin: String,
    /// `None`: every tool of the plugin.
    tool: Option<String>,
    /// For rules from the user's answers: the definition they approved.
    definition: Option<String>,
    /// Only the tools the server declares read-only.
    read_only: bool,
    grant: Grant,
}

/// A rule as written: `PLUGIN/TOOL`, `PLUGIN/*`, `PLUGIN` or `PLUGIN:read-only`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The plugin's id.
    pub plugin: String,
    /// One tool; `None`: every tool (or every read-only one).
    pub tool: Option<String>,
    /// Only the tools the server declares read-only.
    pub read_only: bool,
}

/// The rules that allow calls without asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    rules: Vec<Rule>,
}

impl Policy {
    /// Allows what `pattern` names: `PLUGIN/TOOL`, `PLUGIN/*`, `PLUGIN` or
    /// `PLUGIN:read-only`; a bad pattern is a one-line error saying how to write it.
    pub fn allow(&mut self, pattern: &str, grant: Grant) -> Result<(), String> {
        let Pattern {
            plugin,
            tool,
            read_only,
        } = parse_pattern(pattern)?;
        self.rules.push(Rule {
            plugin,
            tool,
            definition: None,
            read_only,
            grant,
        });
        Ok(())
    }

    /// Allows one tool while its definition stays `definition`.
    pub fn allow_definition(&mut self, plugin: &str, tool: &str, definition: &str, grant: Grant) {
        self.rules.push(Rule {
            plugin: plugin.to_owned(),
            tool: Some(tool.to_owned()),
            definition: Some(definition.to_owned()),
            read_only: false,
            grant,
        });
    }

    /// What allows a call to `plugin`'s `tool` (whose definition hashes to `definition`, and
    /// which its server declares `read_only` or not), if anything does.
    pub fn decide(
        &self,
        plugin: &str,
        tool: &str,
        definition: &str,
        read_only: bool,
    ) -> Option<Grant> {
        self.rules
            .iter()
            .find(|r| {
                r.plugin == plugin
                    && r.tool.as_deref().is_none_or(|t| t == tool)
                    && r.definition.as_deref().is_none_or(|d| d == definition)
                    && (read_only || !r.read_only)
            })
            .map(|r| r.grant)
    }

    /// Whether some user approval of this tool no longer matches its definition.
    pub fn approval_outdated(&self, plugin: &str, tool: &str, definition: &str) -> bool {
        self.rules.iter().any(|r| {
            r.plugin == plugin
                && r.tool.as_deref() == Some(tool)
                && r.definition.as_deref().is_some_and(|d| d != definition)
        })
    }
}

/// `PLUGIN/TOOL`, `PLUGIN/*`, `PLUGIN` or `PLUGIN:read-only`.
pub fn parse_pattern(pattern: &str) -> Result<Pattern, String> {
    let bad = || {
        format!(
            "{pattern:?} is not a tool rule; write PLUGIN/TOOL, PLUGIN/*, PLUGIN or PLUGIN:read-only (see `libre-assistant plugins list`)"
        )
    };
    let (pattern, read_only) = match pattern.split_once(':') {
        Some((plugin, "read-only")) if !plugin.contains('/') => (plugin, true),
        Some(_) => return Err(bad()),
        None => (pattern, false),
    };
    let (plugin, tool) = match pattern.split_once('/') {
        Some((p, "*")) => (p, None),
        Some((p, t)) if !t.is_empty() && !t.contains('/') => (p, Some(t.to_owned())),
        Some(_) => return Err(bad()),
        None => (pattern, None),
    };
    let plugin_ok = !plugin.is_empty()
        && plugin
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !plugin_ok {
        return Err(bad());
    }
    Ok(Pattern {
        plugin: plugin.to_owned(),
        tool,
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(plugin: &str, tool: Option<&str>, read_only: bool) -> Pattern {
        Pattern {
            plugin: plugin.into(),
            tool: tool.map(Into::into),
            read_only,
        }
    }

    #[test]
    fn patterns_name_a_tool_a_whole_plugin_or_its_read_only_tools() {
        assert_eq!(
            parse_pattern("time/current_time").unwrap(),
            pattern("time", Some("current_time"), false)
        );
        assert_eq!(
            parse_pattern("time/*").unwrap(),
            pattern("time", None, false)
        );
        assert_eq!(parse_pattern("time").unwrap(), pattern("time", None, false));
        assert_eq!(
            parse_pattern("git:read-only").unwrap(),
            pattern("git", None, true)
        );
        for bad in [
            "",
            "/x",
            "Time/x",
            "time/",
            "a/b/c",
            "git:",
            "git:write",
            "git/log:read-only",
            ":read-only",
        ] {
            assert!(
                parse_pattern(bad).unwrap_err().contains("PLUGIN/TOOL"),
                "{bad}"
            );
        }
    }

    #[test]
    fn rules_match_by_plugin_tool_and_definition() {
        let mut p = Policy::default();
        p.allow("calc", Grant::Config).unwrap();
        p.allow("time/current_time", Grant::HeadlessFlag).unwrap();
        p.allow_definition("files", "read", "h1", Grant::Session);
        p.allow("git:read-only", Grant::HeadlessFlag).unwrap();
        assert_eq!(
            p.decide("calc", "anything", "x", false),
            Some(Grant::Config)
        );
        assert_eq!(
            p.decide("time", "current_time", "x", false),
            Some(Grant::HeadlessFlag)
        );
        assert_eq!(p.decide("time", "convert_time", "x", true), None);
        assert_eq!(p.decide("files", "read", "h1", false), Some(Grant::Session));
        assert_eq!(p.decide("files", "read", "h2", false), None);
        assert_eq!(p.decide("git", "log", "x", true), Some(Grant::HeadlessFlag));
        assert_eq!(p.decide("git", "commit", "x", false), None);
        assert!(p.approval_outdated("files", "read", "h2"));
        assert!(!p.approval_outdated("files", "read", "h1"));
        assert!(!p.approval_outdated("time", "current_time", "h2"));
    }
}
