//! The prompt cache on disk: saved KV states of sequence 0, per model file, so that reopening a
//! long conversation after a model reload restores its prefix instead of decoding it again.
//!
//! Layout: `<dir>/<model key>/index.json` and one `<digest>-<n>.state` file per entry, in
//! llama.cpp's sequence-state format (which stores the token ids too). The index records each
//! entry's token count, the sha256 of its token ids, shorter digests of its prefixes every
//! [`BLOCK`] tokens, the file's size and when it was last used, so a lookup never opens a state
//! file. The tokens a restored file holds are compared with the prompt again, so a digest is
//! only a filter; the file's own sha256, also in the index, is checked before it is restored,
//! and a file that fails it is removed. The directory is 0700, every file 0600 from creation. Writes are atomic (temp file, then rename); the entries' total size is capped,
//! least recently used first out. Every failure is logged and skipped: the cache never fails a
//! turn. Two processes saving at once may lose one index update; the orphaned file is removed
//! by a later save.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::token::LlamaToken;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PromptCacheConfig;

/// The fewest tokens worth saving, and the fewest more than the KV cache already holds that
/// are worth loading: a shorter prefix decodes about as fast as its file reads.
pub const MIN_TOKENS: usize = 256;
/// Prefix digests are kept every this many tokens, so that a prompt which shares only the
/// start of a saved conversation (an edited message, a re-tokenised answer) still uses it.
const BLOCK: usize = 64;
/// Hex digits kept of each block digest (64 bits; a collision only costs a wasted load).
const BLOCK_HEX: usize = 16;
const INDEX: &str = "index.json";
/// 2: entries carry their file's sha256 (version 1's are dropped: they cannot be checked).
const INDEX_VERSION: u32 = 2;
/// A state file the index does not name is removed once it is this old (younger ones may be
/// another process's save, its index update not written yet).
const ORPHAN_AGE: Duration = Duration::from_secs(60);

/// A model's key from its store sidecar's sha256, else from its canonical path, size and mtime
/// (a file outside the store: a changed file gets a new key). `None` if the file is unreadable.
pub fn model_key(path: &Path) -> Option<String> {
    if let Some(sha) = crate::models::Store::recorded_sha256(path) {
        return Some(format!("sha256-{}", sha.to_ascii_lowercase()));
    }
    let meta = fs::metadata(path).ok()?;
    let canonical = fs::canonicalize(path).ok()?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut h = Sha256::new();
    h.update(canonical.as_os_str().as_encoded_bytes());
    h.update(meta.len().to_le_bytes());
    h.update(mtime.to_le_bytes());
    Some(format!("file-{}", &hex(&h.finalize())[..32]))
}

/// One model's directory of saved states.
#[derive(Debug)]
pub(super) struct PromptCache {
    dir: PathBuf,
    max_bytes: u64,
}

/// The index of a model's directory.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    version: u32,
    entries: Vec<Entry>,
}

/// One saved state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    /// The file name in the model's directory.
    file: String,
    n_tokens: usize,
    /// sha256 of all the token ids (little-endian i32s).
    sha256: String,
    /// Short digests of the first `BLOCK * (i + 1)` tokens.
    blocks: Vec<String>,
    bytes: u64,
    /// sha256 of the state file, checked before it is restored.
    file_sha256: String,
    /// Milliseconds since the Unix epoch.
    last_used: u64,
}

/// The entry a prompt can use best, and how many of its tokens.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Hit {
    file: String,
    bytes: u64,
    /// The prompt tokens it should restore.
    pub usable: usize,
}

/// The digests of a token list: its prefixes every `BLOCK` tokens, and the whole.
struct Digests {
    blocks: Vec<String>,
    full: String,
}

fn digests(tokens: &[LlamaToken]) -> Digests {
    let mut h = Sha256::new();
    let mut blocks = Vec::with_capacity(tokens.len() / BLOCK);
    for chunk in tokens.chunks(BLOCK) {
        for t in chunk {
            h.update(t.0.to_le_bytes());
        }
        if chunk.len() == BLOCK {
            blocks.push(hex(&h.clone().finalize())[..BLOCK_HEX].to_string());
        }
    }
    Digests {
        blocks,
        full: hex(&h.finalize()),
    }
}

/// The sha256 of the file at `path`, read in blocks.
fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0; 1 << 20];
    loop {
        match std::io::Read::read(&mut file, &mut block)? {
            0 => return Ok(hex(&hasher.finalize())),
            n => hasher.update(&block[..n]),
        }
    }
}

/// Creates (or empties) `path` as a file only its owner may read and write.
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How many of `prompt`'s tokens `entry` holds, judged by digests only.
fn usable(entry: &Entry, prompt: &[LlamaToken], prompt_blocks: &[String]) -> usize {
    if entry.n_tokens <= prompt.len() && digests(&prompt[..entry.n_tokens]).full == entry.sha256 {
        return entry.n_tokens;
    }
    let shared = entry
        .blocks
        .iter()
        .zip(prompt_blocks)
        .take_while(|(a, b)| a == b)
        .count();
    (shared * BLOCK).min(entry.n_tokens)
}

/// The entry offering the most of `prompt`, among those that fit an `n_ctx` context.
fn best(index: &Index, prompt: &[LlamaToken], n_ctx: usize) -> Option<Hit> {
    let prompt_blocks = digests(prompt).blocks;
    index
        .entries
        .iter()
        .filter(|e| e.n_tokens <= n_ctx)
        .map(|e| (e, usable(e, prompt, &prompt_blocks)))
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(e, n)| (*n, e.last_used))
        .map(|(e, n)| Hit {
            file: e.file.clone(),
            bytes: e.bytes,
            usable: n,
        })
}

/// Adds `new`, drops the entries it supersedes (its own prefixes), then the least recently used
/// until the total fits `max_bytes`. Returns the files no longer named.
fn admit(index: &mut Index, new: Entry, tokens: &[LlamaToken], max_bytes: u64) -> Vec<String> {
    let mut gone = Vec::new();
    index.entries.retain(|e| {
        let superseded = e.file == new.file
            || (e.n_tokens <= tokens.len() && digests(&tokens[..e.n_tokens]).full == e.sha256);
        if superseded && e.file != new.file {
            gone.push(e.file.clone());
        }
        !superseded
    });
    index.entries.push(new);
    index
        .entries
        .sort_by_key(|e| std::cmp::Reverse(e.last_used));
    let mut total = 0u64;
    index.entries.retain(|e| {
        total += e.bytes;
        let keep = total <= max_bytes;
        if !keep {
            gone.push(e.file.clone());
        }
        keep
    });
    gone
}

impl PromptCache {
    /// The cache for `config`'s model; creates nothing until the first save.
    pub(super) fn new(config: &PromptCacheConfig) -> PromptCache {
        PromptCache {
            dir: config.dir.join(&config.model_key),
            max_bytes: config.max_bytes,
        }
    }

    /// The entry that restores the most of `prompt` into an `n_ctx` context, if any.
    pub(super) fn lookup(&self, prompt: &[LlamaToken], n_ctx: usize) -> Option<Hit> {
        best(&self.read_index()?, prompt, n_ctx)
    }

    /// Loads `hit` into sequence 0 (which must be empty) and returns the tokens it holds. A file
    /// that fails to load is removed from the cache; the caller must then clear the KV cache.
    pub(super) fn restore(
        &self,
        context: &mut LlamaContext<'_>,
        hit: &Hit,
    ) -> Option<Vec<LlamaToken>> {
        let path = self.dir.join(&hit.file);
        let size = fs::metadata(&path).map(|m| m.len());
        if size.as_ref().ok() != Some(&hit.bytes) {
            tracing::warn!(file = %path.display(), ?size, expected = hit.bytes, "prompt cache file is missing or truncated; removing it");
            self.forget(&hit.file);
            return None;
        }
        let hit_entry = self
            .read_index()
            .and_then(|index| index.entries.into_iter().find(|e| e.file == hit.file));
        let expected = hit_entry.map(|e| e.file_sha256);
        let found = file_sha256(&path);
        if expected.is_none() || found.as_ref().ok() != expected.as_ref() {
            tracing::warn!(file = %path.display(), "prompt cache file fails its checksum (damaged); removing it");
            self.forget(&hit.file);
            let _ = fs::remove_file(&path);
            return None;
        }
        let capacity = context.n_ctx() as usize;
        match context.state_seq_load_file(&path, 0, capacity) {
            Ok((tokens, _)) => {
                self.touch(&hit.file);
                Some(tokens)
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "llama.cpp rejected a prompt cache file; removing it");
                self.forget(&hit.file);
                None
            }
        }
    }

    /// Saves sequence 0, which holds `tokens`, unless it is too short, larger than the whole
    /// cache may be, or a saved entry already holds all but fewer than [`MIN_TOKENS`] of it (a
    /// one-shot question after a long shared system prompt is not saved again and again).
    pub(super) fn save(&self, context: &LlamaContext<'_>, tokens: &[LlamaToken]) {
        if tokens.len() < MIN_TOKENS {
            return;
        }
        let started = std::time::Instant::now();
        let mut index = self.read_index().unwrap_or_default();
        if let Some(hit) = best(&index, tokens, usize::MAX)
            && hit.usable + MIN_TOKENS > tokens.len()
        {
            self.touch(&hit.file);
            return;
        }
        let d = digests(tokens);
        if let Err(e) = fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot create the prompt cache directory");
            return;
        }
        let file = format!("{}-{}.state", &d.full[..BLOCK_HEX], tokens.len());
        let path = self.dir.join(&file);
        let temp = self.dir.join(format!(".{file}.{}.tmp", std::process::id()));
        // Made private before llama.cpp writes into it (its fopen keeps the mode).
        if let Err(e) = private_file(&temp) {
            tracing::warn!(file = %temp.display(), error = %e, "cannot save the prompt cache");
            return;
        }
        let bytes = match context.state_seq_save_file(&temp, 0, tokens) {
            Ok(n) => n as u64,
            Err(e) => {
                tracing::warn!(file = %temp.display(), error = %e, "cannot save the prompt cache");
                let _ = fs::remove_file(&temp);
                return;
            }
        };
        if bytes > self.max_bytes {
            tracing::info!(
                bytes,
                cap = self.max_bytes,
                "prompt state larger than the cache; not kept"
            );
            let _ = fs::remove_file(&temp);
            return;
        }
        let file_sha256 = match file_sha256(&temp) {
            Ok(sha) => sha,
            Err(e) => {
                tracing::warn!(file = %temp.display(), error = %e, "cannot save the prompt cache");
                let _ = fs::remove_file(&temp);
                return;
            }
        };
        if let Err(e) = fs::rename(&temp, &path) {
            tracing::warn!(file = %path.display(), error = %e, "cannot save the prompt cache");
            let _ = fs::remove_file(&temp);
            return;
        }
        let entry = Entry {
            file,
            n_tokens: tokens.len(),
            sha256: d.full,
            blocks: d.blocks,
            bytes,
            file_sha256,
            last_used: now_ms(),
        };
        let gone = admit(&mut index, entry, tokens, self.max_bytes);
        self.write_index(&index);
        for file in gone {
            let _ = fs::remove_file(self.dir.join(file));
        }
        self.remove_orphans(&index);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(tokens = tokens.len(), bytes, ms, dir = %self.dir.display(), "saved the prompt cache");
    }

    /// The index; `None` when there is none yet or it cannot be read (logged).
    fn read_index(&self) -> Option<Index> {
        let text = match fs::read_to_string(self.dir.join(INDEX)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot read the prompt cache index");
                return None;
            }
        };
        match serde_json::from_str::<Index>(&text) {
            Ok(index) if index.version == INDEX_VERSION => Some(index),
            Ok(_) | Err(_) => {
                tracing::warn!(dir = %self.dir.display(), "prompt cache index unreadable; starting afresh");
                None
            }
        }
    }

    /// Writes the index atomically; a failure is logged.
    fn write_index(&self, index: &Index) {
        let index = Index {
            version: INDEX_VERSION,
            entries: index.entries.clone(),
        };
        let temp = self
            .dir
            .join(format!(".{INDEX}.{}.tmp", std::process::id()));
        let written = serde_json::to_vec(&index)
            .map_err(std::io::Error::other)
            .and_then(|json| {
                let mut f = private_file(&temp)?;
                f.write_all(&json)?;
                f.sync_all()
            })
            .and_then(|()| fs::rename(&temp, self.dir.join(INDEX)));
        if let Err(e) = written {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write the prompt cache index");
            let _ = fs::remove_file(&temp);
        }
    }

    /// Marks `file` as just used.
    fn touch(&self, file: &str) {
        let Some(mut index) = self.read_index() else {
            return;
        };
        if let Some(e) = index.entries.iter_mut().find(|e| e.file == file) {
            e.last_used = now_ms();
            self.write_index(&index);
        }
    }

    /// Removes `file` and its entry.
    fn forget(&self, file: &str) {
        let _ = fs::remove_file(self.dir.join(file));
        if let Some(mut index) = self.read_index() {
            index.entries.retain(|e| e.file != file);
            self.write_index(&index);
        }
    }

    /// Removes state and temp files the index does not name, once they are old enough.
    fn remove_orphans(&self, index: &Index) {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return;
        };
        for item in dir.filter_map(Result::ok) {
            let name = item.file_name().to_string_lossy().into_owned();
            let ours = name.ends_with(".state") || name.ends_with(".tmp");
            let named = index.entries.iter().any(|e| e.file == name);
            let old = item
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > ORPHAN_AGE);
            if ours && !named && old {
                let _ = fs::remove_file(item.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(ids: impl IntoIterator<Item = i32>) -> Vec<LlamaToken> {
        ids.into_iter().map(LlamaToken).collect()
    }

    fn entry(file: &str, tokens: &[LlamaToken], bytes: u64, last_used: u64) -> Entry {
        let d = digests(tokens);
        Entry {
            file: file.into(),
            n_tokens: tokens.len(),
            sha256: d.full,
            blocks: d.blocks,
            bytes,
            file_sha256: String::new(),
            last_used,
        }
    }

    #[test]
    fn the_longest_entry_that_is_a_prefix_of_the_prompt_wins() {
        let prompt = toks(0..1000);
        let index = Index {
            version: INDEX_VERSION,
            entries: vec![
                entry("short", &prompt[..300], 1, 1),
                entry("long", &prompt[..700], 1, 1),
                entry("longer-than-prompt", &toks(0..1100), 1, 1),
                entry("other", &toks(5000..5900), 1, 1),
            ],
        };
        // The 1100-token entry shares 15 whole blocks (960 tokens) of the prompt.
        let hit = best(&index, &prompt, 4096).unwrap();
        assert_eq!((hit.file.as_str(), hit.usable), ("longer-than-prompt", 960));
        // In a context too small for it, the 700-token prefix is the best.
        let hit = best(&index, &prompt, 1024).unwrap();
        assert_eq!((hit.file.as_str(), hit.usable), ("long", 700));
    }

    #[test]
    fn a_diverging_prompt_uses_only_the_shared_blocks() {
        let saved = toks(0..600);
        let mut prompt = toks(0..600);
        prompt[200] = LlamaToken(-1);
        let index = Index {
            version: INDEX_VERSION,
            entries: vec![entry("a", &saved, 1, 1)],
        };
        assert_eq!(best(&index, &prompt, 4096).unwrap().usable, 192);
        prompt[10] = LlamaToken(-1);
        assert_eq!(best(&index, &prompt, 4096), None);
    }

    #[test]
    fn admitting_drops_superseded_then_least_recently_used_entries() {
        let a = toks(0..300);
        let b = toks(1000..1300);
        let c = toks(2000..2300);
        let mut index = Index {
            version: INDEX_VERSION,
            entries: vec![
                entry("a", &a, 10, 1),
                entry("b", &b, 10, 3),
                entry("c", &c, 10, 2),
            ],
        };
        let a_longer = toks(0..400);
        let gone = admit(&mut index, entry("a2", &a_longer, 10, 4), &a_longer, 25);
        assert_eq!(gone, vec!["a".to_string(), "c".to_string()]);
        let kept: Vec<&str> = index.entries.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(kept, vec!["a2", "b"]);
    }
}
