//! Sampling parameters and the llama.cpp sampler chain built from them.

use llama_cpp_2::sampling::LlamaSampler;

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// 0 means greedy (deterministic); higher is more random.
    pub temperature: f32,
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches this.
    pub top_p: f32,
    /// Keep only the k most likely tokens (0 disables).
    pub top_k: i32,
    /// The most tokens one answer may generate.
    pub max_tokens: u32,
    /// Seed for the random sampler; `None` picks one from the clock.
    pub seed: Option<u32>,
    /// Keep generating past end-of-generation tokens (for benchmarks that need a fixed count).
    pub ignore_eos: bool,
    /// Text that ends an answer where it first appears; it is not part of the answer.
    pub stop: Vec<String>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 0.7,
            top_p: 0.9,
            top_k: 40,
            max_tokens: 2048,
            seed: None,
            ignore_eos: false,
            stop: Vec::new(),
        }
    }
}

impl SamplingParams {
    /// True when the answer is fully determined by the prompt.
    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }

    /// The seed in use: the given one, or one drawn from the clock.
    pub fn effective_seed(&self) -> u32 {
        self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
                .unwrap_or(0x5eed)
        })
    }

    /// The llama.cpp sampler chain: the grammar if any, then greedy, or top-k → top-p →
    /// temperature → seeded draw. The grammar goes first so that nothing it forbids is drawn.
    pub fn sampler(&self, grammar: Option<LlamaSampler>) -> LlamaSampler {
        let mut chain = Vec::with_capacity(5);
        chain.extend(grammar);
        if self.is_greedy() {
            // Always a chain, even of one: a chain keeps its candidate buffer (one entry per
            // vocabulary token) between tokens, where a bare sampler allocates it every time.
            chain.push(LlamaSampler::greedy());
            return LlamaSampler::chain_simple(chain);
        }
        if self.top_k > 0 {
            chain.push(LlamaSampler::top_k(self.top_k));
        }
        if self.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(self.top_p, 1));
        }
        chain.push(LlamaSampler::temp(self.temperature));
        chain.push(LlamaSampler::dist(self.effective_seed()));
        LlamaSampler::chain_simple(chain)
    }
}
