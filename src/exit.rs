//! Process exit codes: one per class of failure, documented in docs/headless.md.

/// How the process ends. The numbers are a public interface: scripts depend on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked.
    Ok = 0,
    /// An unexpected internal failure.
    Internal = 1,
    /// Bad flags or arguments, an empty prompt.
    Usage = 2,
    /// The config file or an environment variable is malformed.
    Config = 3,
    /// The model is missing, unreadable, not GGUF, fails its checksum, or is not in the catalog.
    Model = 4,
    /// Generation failed (including a prompt longer than the context).
    Generation = 5,
    /// A download failed from every source.
    Download = 6,
    /// A directory we must write to is not writable.
    Storage = 7,
    /// A plugin failed to start (under its sandbox policy, or at all), or its tool call failed.
    Plugin = 8,
    /// A remote inference server could not be reached, refused the request, failed, or cut
    /// its answer off (what came of the answer is printed first).
    Server = 9,
    /// Ctrl-C stopped the work (128 + SIGINT).
    Interrupted = 130,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> i32 {
        self as i32
    }
}
