//! What the first-run chooser needs to know about a catalog model beyond its file: whether it
//! calls tools, and how fast it generated on the reference machine. A side table keyed by
//! catalog name, so a catalog entry stays plain data and a new entry without a line here still
//! shows (its tool support unknown, its speed estimated from its size).

/// Facts about one catalog model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelFacts {
    /// Whether the model calls tools: its chat template offers them and the evaluation
    /// (`scripts/eval-tools`) saw it call them.
    pub calls_tools: bool,
    /// Generation speed on the reference machine ([`REFERENCE`]), tokens a second, when it was
    /// measured; `None` has it estimated from the file size.
    pub reference_tokens_per_second: Option<f64>,
}

/// The machine the reference speeds were measured on.
pub const REFERENCE: &str = "2 vCPU x86-64 VM with AVX-512, 2 threads, llama-bench tg128";

/// The facts about the catalog model `name`, if it has any.
pub fn facts(name: &str) -> Option<ModelFacts> {
    let (calls_tools, reference_tokens_per_second) = match name {
        // Its template has no tools and the evaluation never saw it call one.
        "smollm2-135m-instruct" => (false, Some(176.0)),
        "qwen2.5-coder-0.5b-instruct" => (true, Some(59.2)),
        // Measured 2026-12-06 with libre-assistant's engine (within 5% of llama-bench's tg):
        // 33.8 and 38.5 tokens a second over 128 tokens.
        "qwen2.5-coder-1.5b-instruct" => (true, Some(36.0)),
        _ => return None,
    };
    Some(ModelFacts {
        calls_tools,
        reference_tokens_per_second,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::catalog;

    #[test]
    fn every_catalog_model_has_facts() {
        for e in catalog::catalog() {
            assert!(facts(&e.name).is_some(), "no facts for {}", e.name);
        }
    }

    #[test]
    fn the_default_model_calls_no_tools_and_qwen_does() {
        assert!(!facts(catalog::DEFAULT_MODEL).unwrap().calls_tools);
        assert!(facts("qwen2.5-coder-0.5b-instruct").unwrap().calls_tools);
        assert!(facts("qwen2.5-coder-1.5b-instruct").unwrap().calls_tools);
        assert_eq!(facts("no-such-model"), None);
    }
}
