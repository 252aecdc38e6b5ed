//! The tools on offer: every running plugin's tools, under the names the model calls them by.
//!
//! Invariants: a tool's model name is its own name when no other plugin offers one of that
//! name, else `PLUGIN__TOOL`, so every model name maps to exactly one (plugin, tool). Only
//! running plugins' tools are offered; a crashed plugin's tools leave until it runs again.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::plugins::host::{PluginState, ToolInfo};
use crate::tools::ToolSpec;

/// One tool on offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Offered {
    /// The plugin's id.
    pub plugin: String,
    /// The tool as the plugin describes it.
    pub info: ToolInfo,
    /// The name the model calls it by.
    pub model_name: String,
    /// SHA-256 of its name, description and input schema.
    pub definition: String,
}

/// Every plugin's tools and whether it runs.
#[derive(Debug, Default)]
pub struct Registry {
    tools: BTreeMap<String, Vec<ToolInfo>>,
    running: BTreeMap<String, bool>,
    offered: Vec<Offered>,
}

impl Registry {
    /// Records a plugin's (new) tool list.
    pub fn set_tools(&mut self, plugin: &str, tools: Vec<ToolInfo>) {
        self.tools.insert(plugin.to_owned(), tools);
        self.rebuild();
    }

    /// Records a plugin's state.
    pub fn set_state(&mut self, plugin: &str, state: &PluginState) {
        self.running
            .insert(plugin.to_owned(), *state == PluginState::Running);
        self.rebuild();
    }

    /// The tools on offer now, in plugin then tool order.
    pub fn offered(&self) -> &[Offered] {
        &self.offered
    }

    /// The offered tools as the model sees them: schema keys that say nothing to a model
    /// (`$schema`, `title`) are left out, since every token of them is read on every turn.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.offered
            .iter()
            .map(|o| {
                let mut schema = o.info.input_schema.clone();
                if let Some(map) = schema.as_object_mut() {
                    map.remove("$schema");
                    map.remove("title");
                }
                ToolSpec::new(&o.model_name, &o.info.description, schema)
            })
            .collect()
    }

    /// The tool the model calls `model_name`.
    pub fn find(&self, model_name: &str) -> Option<&Offered> {
        self.offered.iter().find(|o| o.model_name == model_name)
    }

    fn rebuild(&mut self) {
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        let live = || {
            self.tools
                .iter()
                .filter(|(p, _)| self.running.get(*p).copied().unwrap_or(false))
        };
        for (_, tools) in live() {
            for t in tools {
                *count.entry(t.name.as_str()).or_default() += 1;
            }
        }
        let offered = live()
            .flat_map(|(plugin, tools)| {
                let count = &count;
                tools.iter().map(move |t| Offered {
                    plugin: plugin.clone(),
                    model_name: if count[t.name.as_str()] > 1 {
                        format!("{plugin}__{}", t.name)
                    } else {
                        t.name.clone()
                    },
                    definition: definition(t),
                    info: t.clone(),
                })
            })
            .collect();
        self.offered = offered;
    }
}

/// The hash that changes when a tool's name, description or input schema does.
pub fn definition(tool: &ToolInfo) -> String {
    let text = serde_json::json!([tool.name, tool.description, tool.input_schema]).to_string();
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str) -> ToolInfo {
        ToolInfo {
            name: name.into(),
            description: format!("{name} tool"),
            input_schema: serde_json::json!({"type": "object"}),
            hints: Default::default(),
        }
    }

    #[test]
    fn only_running_plugins_are_offered_and_clashes_are_qualified() {
        let mut r = Registry::default();
        r.set_tools("a", vec![tool("read"), tool("list")]);
        r.set_tools("b", vec![tool("read")]);
        assert!(r.offered().is_empty());
        r.set_state("a", &PluginState::Running);
        let names: Vec<&str> = r.offered().iter().map(|o| o.model_name.as_str()).collect();
        assert_eq!(names, ["read", "list"]);
        r.set_state("b", &PluginState::Running);
        let names: Vec<&str> = r.offered().iter().map(|o| o.model_name.as_str()).collect();
        assert_eq!(names, ["a__read", "list", "b__read"]);
        assert_eq!(r.find("b__read").unwrap().plugin, "b");
        r.set_state(
            "a",
            &PluginState::Crashed {
                restarts: 0,
                error: "x".into(),
            },
        );
        assert_eq!(
            r.specs()
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            ["read"]
        );
    }

    #[test]
    fn the_definition_hash_follows_the_definition() {
        let a = tool("read");
        let mut b = a.clone();
        assert_eq!(definition(&a), definition(&b));
        b.description.push('!');
        assert_ne!(definition(&a), definition(&b));
    }
}
