//! How the context computes attention and stores its keys and values: llama.cpp's flash
//! attention, and the KV cache's number type (`engine.flash_attention`,
//! `engine.kv_cache_type`).

use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams};

/// Whether llama.cpp's flash attention kernel is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlashAttention {
    /// llama.cpp decides per device (on for the CPU). Off makes a question after a long
    /// history faster on the CPU, but a token's numbers then depend on how it was batched, so
    /// a greedy answer regenerated from the KV cache can differ (docs/performance.md).
    #[default]
    Auto,
    /// Always.
    On,
    /// Never; a quantised V cache then cannot be used.
    Off,
}

impl FlashAttention {
    /// The names the config takes.
    pub const NAMES: [&'static str; 3] = ["auto", "on", "off"];

    /// From a config value; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(FlashAttention::Auto),
            "on" => Some(FlashAttention::On),
            "off" => Some(FlashAttention::Off),
            _ => None,
        }
    }
}

/// The number type of the KV cache's keys and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KvType {
    /// 16-bit floats: llama.cpp's default.
    #[default]
    F16,
    /// bfloat16.
    Bf16,
    /// 8-bit blocks: about half the memory of f16.
    Q8_0,
    /// 5-bit blocks.
    Q5_1,
    /// 5-bit blocks.
    Q5_0,
    /// 4-bit blocks.
    Q4_1,
    /// 4-bit blocks: about a quarter of f16.
    Q4_0,
}

impl KvType {
    /// The names the config takes.
    pub const NAMES: [&'static str; 7] = ["f16", "bf16", "q8_0", "q5_1", "q5_0", "q4_1", "q4_0"];

    /// From a config value; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "f16" => KvType::F16,
            "bf16" => KvType::Bf16,
            "q8_0" => KvType::Q8_0,
            "q5_1" => KvType::Q5_1,
            "q5_0" => KvType::Q5_0,
            "q4_1" => KvType::Q4_1,
            "q4_0" => KvType::Q4_0,
            _ => return None,
        })
    }

    /// A block-quantised type, which llama.cpp stores in the V cache only with flash
    /// attention.
    pub fn quantised(self) -> bool {
        !matches!(self, KvType::F16 | KvType::Bf16)
    }

    fn llama(self) -> KvCacheType {
        match self {
            KvType::F16 => KvCacheType::F16,
            KvType::Bf16 => KvCacheType::BF16,
            KvType::Q8_0 => KvCacheType::Q8_0,
            KvType::Q5_1 => KvCacheType::Q5_1,
            KvType::Q5_0 => KvCacheType::Q5_0,
            KvType::Q4_1 => KvCacheType::Q4_1,
            KvType::Q4_0 => KvCacheType::Q4_0,
        }
    }
}

/// `params` with the attention kernel and the cache's number type (keys and values alike).
pub(super) fn apply(
    params: LlamaContextParams,
    flash: FlashAttention,
    kv: KvType,
) -> LlamaContextParams {
    let policy = match flash {
        FlashAttention::Auto => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
        FlashAttention::On => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
        FlashAttention::Off => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
    };
    params
        .with_flash_attention_policy(policy)
        .with_type_k(kv.llama())
        .with_type_v(kv.llama())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back() {
        for name in FlashAttention::NAMES {
            assert!(FlashAttention::from_name(name).is_some(), "{name}");
        }
        for name in KvType::NAMES {
            assert!(KvType::from_name(name).is_some(), "{name}");
        }
        assert_eq!(FlashAttention::from_name("yes"), None);
        assert_eq!(KvType::from_name("q8"), None);
        assert!(KvType::Q8_0.quantised() && !KvType::Bf16.quantised());
    }

    #[test]
    fn the_choices_reach_the_context_parameters() {
        let params = apply(
            LlamaContextParams::default(),
            FlashAttention::Off,
            KvType::Q8_0,
        );
        assert_eq!(
            params.flash_attention_policy(),
            llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED
        );
        assert_eq!(params.type_k(), KvCacheType::Q8_0);
        assert_eq!(params.type_v(), KvCacheType::Q8_0);
        let params = apply(
            LlamaContextParams::default(),
            FlashAttention::On,
            KvType::F16,
        );
        assert_eq!(
            params.flash_attention_policy(),
            llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED
        );
        assert_eq!(params.type_v(), KvCacheType::F16);
    }
}
