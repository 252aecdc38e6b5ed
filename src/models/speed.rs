//! How fast a catalog model is likely to generate on this machine, and which model to
//! recommend on a first start: the best tool caller that runs at a usable speed here.
//!
//! Generating a token reads the whole model from memory once and does a little arithmetic per
//! byte, so on a CPU it is bound by memory bandwidth or by the cores, whichever runs out first.
//! An estimate scales the speed measured on the reference machine ([`facts::REFERENCE`]) by the
//! smaller of the two ratios, this machine's to the reference's: threads, and one-thread memory
//! read bandwidth (probed here in a few milliseconds). It is a guide for choosing, labelled as
//! an estimate wherever it is shown, never a promise.

use std::hint::black_box;
use std::time::Instant;

use super::catalog::CatalogEntry;
use super::facts::{self, ModelFacts};

/// Threads the reference speeds were measured with.
const REFERENCE_THREADS: f64 = 2.0;
/// One-thread memory read bandwidth of the reference machine as [`probe_bandwidth`] measures
/// it, bytes a second (docs/FACTS: 40 GB/s with one thread).
const REFERENCE_BANDWIDTH: f64 = 40e9;
/// Model bytes the reference machine streamed a second while generating, for a model with no
/// measured speed: Qwen2.5-Coder-0.5B's 491,400,064 bytes at 59.2 tokens a second.
const REFERENCE_MODEL_BYTES_PER_SECOND: f64 = 491_400_064.0 * 59.2;
/// More threads than this stop helping: generation is bound by memory long before.
const MAX_USEFUL_THREADS: u32 = 8;
/// The slowest generation that still feels like a conversation, tokens a second.
pub const USABLE_TOKENS_PER_SECOND: f64 = 5.0;
/// Memory a loaded model needs beyond its file: the KV cache of the default context and
/// llama.cpp's compute buffers.
const MEMORY_OVERHEAD: u64 = 512 * 1024 * 1024;

/// What decides a model's speed here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Machine {
    /// Threads the engine will use.
    pub threads: u32,
    /// One-thread memory read bandwidth, bytes a second, when it could be measured.
    pub bandwidth: Option<f64>,
    /// Memory available for a model, bytes, when the system says.
    pub available_memory: Option<u64>,
}

impl Machine {
    /// This machine, running the engine with `threads` threads: probes memory bandwidth (about
    /// 30 ms) and reads the available memory.
    pub fn probe(threads: u32) -> Machine {
        Machine {
            threads: threads.max(1),
            bandwidth: probe_bandwidth(),
            available_memory: available_memory(),
        }
    }
}

/// How one catalog model would do here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Suitability {
    /// Whether it calls tools; `None` when the catalog has no facts about it.
    pub calls_tools: Option<bool>,
    /// Estimated generation speed here, tokens a second.
    pub tokens_per_second: f64,
    /// Whether it fits in the available memory (true when that is unknown).
    pub fits: bool,
}

impl Suitability {
    /// Fast enough and small enough to use here.
    pub fn usable(&self) -> bool {
        self.fits && self.tokens_per_second >= USABLE_TOKENS_PER_SECOND
    }
}

/// How `entry` would do on `machine`.
pub fn assess(entry: &CatalogEntry, machine: &Machine) -> Suitability {
    let known = facts::facts(&entry.name);
    Suitability {
        calls_tools: known.map(|f| f.calls_tools),
        tokens_per_second: estimate(entry.size, known, machine),
        fits: machine
            .available_memory
            .is_none_or(|free| entry.size.saturating_add(MEMORY_OVERHEAD) <= free),
    }
}

/// Estimated tokens a second for a model of `size` bytes.
fn estimate(size: u64, known: Option<ModelFacts>, machine: &Machine) -> f64 {
    let reference = known
        .and_then(|f| f.reference_tokens_per_second)
        .unwrap_or(REFERENCE_MODEL_BYTES_PER_SECOND / size.max(1) as f64);
    let cores = f64::from(machine.threads.clamp(1, MAX_USEFUL_THREADS)) / REFERENCE_THREADS;
    let memory = machine.bandwidth.map_or(1.0, |b| b / REFERENCE_BANDWIDTH);
    reference * cores.min(memory)
}

/// The index of the model to recommend among `models`: the largest usable tool caller (a
/// bigger model of the same family picks tools and values better), else `default` if it is
/// there, else none.
pub fn recommend(models: &[(CatalogEntry, Suitability)], default: &str) -> Option<usize> {
    models
        .iter()
        .enumerate()
        .filter(|(_, (_, s))| s.calls_tools == Some(true) && s.usable())
        .max_by_key(|(_, (e, _))| e.size)
        .map(|(i, _)| i)
        .or_else(|| models.iter().position(|(e, _)| e.name == default))
}

/// One thread's best read speed over 64 MiB, three passes; `None` if the clock saw nothing.
fn probe_bandwidth() -> Option<f64> {
    const WORDS: usize = 8 << 20;
    // Non-zero, so every page is really allocated and read from memory.
    let data = vec![1u64; WORDS];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let sum = black_box(&data)
            .iter()
            .fold(0u64, |acc, &w| acc.wrapping_add(w));
        black_box(sum);
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best.is_finite() && best > 0.0).then(|| (WORDS * 8) as f64 / best)
}

/// `MemAvailable` from /proc/meminfo, bytes (Linux); `None` elsewhere.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_available(&text)
}

fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::catalog;

    fn entry(name: &str, size: u64) -> CatalogEntry {
        CatalogEntry {
            name: name.into(),
            size,
            ..catalog::find(catalog::DEFAULT_MODEL).unwrap()
        }
    }

    fn reference() -> Machine {
        Machine {
            threads: 2,
            bandwidth: Some(REFERENCE_BANDWIDTH),
            available_memory: Some(8 << 30),
        }
    }

    #[test]
    fn the_reference_machine_gets_the_measured_speed() {
        let s = assess(
            &entry("qwen2.5-coder-0.5b-instruct", 491_400_064),
            &reference(),
        );
        assert_eq!(s.calls_tools, Some(true));
        assert!((s.tokens_per_second - 59.2).abs() < 1e-9);
        assert!(s.fits && s.usable());
    }

    #[test]
    fn the_scarcer_of_cores_and_bandwidth_decides() {
        let qwen = entry("qwen2.5-coder-0.5b-instruct", 491_400_064);
        let one_core = Machine {
            threads: 1,
            ..reference()
        };
        assert!((assess(&qwen, &one_core).tokens_per_second - 29.6).abs() < 1e-9);
        let slow_memory = Machine {
            threads: 16,
            bandwidth: Some(10e9),
            ..reference()
        };
        assert!((assess(&qwen, &slow_memory).tokens_per_second - 14.8).abs() < 1e-9);
        let big = Machine {
            threads: 64,
            bandwidth: Some(400e9),
            ..reference()
        };
        assert!((assess(&qwen, &big).tokens_per_second - 4.0 * 59.2).abs() < 1e-9);
    }

    #[test]
    fn an_unmeasured_model_is_estimated_from_its_size() {
        let s = assess(&entry("someones-1.5b", 1_117_320_768), &reference());
        assert_eq!(s.calls_tools, None);
        assert!((s.tokens_per_second - 26.04).abs() < 0.01, "{s:?}");
        let unknown = assess(&entry("someones-model", 491_400_064), &reference());
        assert_eq!(unknown.calls_tools, None);
        assert!((unknown.tokens_per_second - 59.2).abs() < 1e-9);
    }

    #[test]
    fn a_model_bigger_than_free_memory_does_not_fit() {
        let tight = Machine {
            available_memory: Some(1 << 30),
            ..reference()
        };
        let s = assess(&entry("qwen2.5-coder-1.5b-instruct", 1_117_320_768), &tight);
        assert!(!s.fits && !s.usable());
        let unknown = Machine {
            available_memory: None,
            ..tight
        };
        assert!(assess(&entry("x", 1_117_320_768), &unknown).fits);
    }

    fn suited(name: &str, size: u64, tools: Option<bool>, tps: f64) -> (CatalogEntry, Suitability) {
        let s = Suitability {
            calls_tools: tools,
            tokens_per_second: tps,
            fits: true,
        };
        (entry(name, size), s)
    }

    #[test]
    fn the_largest_usable_tool_caller_is_recommended() {
        let models = [
            suited("smollm2-135m-instruct", 98, Some(false), 176.0),
            suited("qwen-small", 491, Some(true), 59.0),
            suited("qwen-big", 1117, Some(true), 26.0),
            suited("unknown-huge", 5000, None, 9.0),
        ];
        assert_eq!(recommend(&models, catalog::DEFAULT_MODEL), Some(2));
    }

    #[test]
    fn a_slow_tool_caller_gives_way_to_a_faster_one_then_the_default() {
        let mut models = vec![
            suited("smollm2-135m-instruct", 98, Some(false), 40.0),
            suited("qwen-small", 491, Some(true), 5.0),
            suited("qwen-big", 1117, Some(true), 4.9),
        ];
        assert_eq!(recommend(&models, catalog::DEFAULT_MODEL), Some(1));
        models[1].1.tokens_per_second = 3.0;
        assert_eq!(recommend(&models, catalog::DEFAULT_MODEL), Some(0));
        assert_eq!(recommend(&models[1..], catalog::DEFAULT_MODEL), None);
    }

    #[test]
    fn mem_available_is_read_in_kib() {
        let text = "MemTotal:  16000000 kB\nMemFree: 1 kB\nMemAvailable:    2048 kB\n";
        assert_eq!(parse_mem_available(text), Some(2 * 1024 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn the_probe_sees_some_bandwidth() {
        let m = Machine::probe(0);
        assert_eq!(m.threads, 1);
        assert!(m.bandwidth.is_some_and(|b| b > 1e8), "{m:?}");
    }
}
