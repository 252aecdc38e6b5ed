//! A small GGUF header reader: magic, version, key/value metadata and tensor shapes.
//!
//! It never reads past the end of the file (a short file is "truncated", not a panic) and never
//! allocates by a length read from the file without first checking the bytes are there.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::{ModelError, io_reason};

/// The longest string value kept in memory; longer ones (chat templates) are skipped.
const MAX_KEPT_STRING: u64 = 4096;

/// What a GGUF file says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufInfo {
    /// Format version (2 or 3).
    pub version: u32,
    /// `general.architecture`, or `"unknown"`.
    pub architecture: String,
    /// `general.name`.
    pub name: Option<String>,
    /// `general.size_label`, e.g. `135M`.
    pub size_label: Option<String>,
    /// Total parameters, summed over the tensor shapes.
    pub parameter_count: u64,
    /// `general.file_type`, llama.cpp's `llama_ftype`.
    pub file_type: Option<u32>,
    /// The quantisation name for `file_type` (`Q4_K_M`), or `type N` for a code not known here.
    pub quantization: Option<String>,
    /// `{architecture}.context_length`: the training context.
    pub context_length: Option<u64>,
    /// Whether `tokenizer.chat_template` is present.
    pub has_chat_template: bool,
    /// Number of tensors.
    pub tensor_count: u64,
    /// File size in bytes.
    pub file_size: u64,
}

impl GgufInfo {
    /// The size label if the file has one, else one estimated from the parameter count.
    pub fn parameters_label(&self) -> String {
        self.size_label
            .clone()
            .unwrap_or_else(|| parameters_label(self.parameter_count))
    }
}

/// A short label for a parameter count: `135M`, `0.5B`, `7B`.
pub fn parameters_label(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        let b = n / 1e9;
        if b < 10.0 {
            format!("{:.1}B", b).replace(".0B", "B")
        } else {
            format!("{b:.0}B")
        }
    } else if n >= 1e6 {
        format!("{:.0}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.0}K", n / 1e3)
    } else {
        format!("{n}")
    }
}

/// The llama.cpp name of a `general.file_type` value.
pub fn quantization_name(file_type: u32) -> Option<&'static str> {
    Some(match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        _ => return None,
    })
}

/// Checks that `path` is a readable GGUF file whose header parses to the end.
pub fn check(path: &Path) -> Result<(), ModelError> {
    metadata(path).map(|_| ())
}

/// Reads the header and metadata of the GGUF file at `path`.
pub fn metadata(path: &Path) -> Result<GgufInfo, ModelError> {
    let file = File::open(path).map_err(|e| open_error(path, &e))?;
    let file_size = file.metadata().map_err(|e| open_error(path, &e))?.len();
    let mut r = Cursor {
        inner: BufReader::with_capacity(64 * 1024, file),
        pos: 0,
        size: file_size,
    };
    let fail = |e: Fail| match e {
        Fail::Io(e) => ModelError::Unreadable {
            path: path.to_path_buf(),
            reason: io_reason(&e),
        },
        Fail::NotGguf(reason) => ModelError::NotGguf {
            path: path.to_path_buf(),
            reason,
        },
        Fail::Short(reason) => ModelError::Truncated {
            path: path.to_path_buf(),
            reason,
        },
    };
    parse(&mut r).map_err(fail).map(|mut info| {
        info.file_size = file_size;
        info
    })
}

fn open_error(path: &Path, e: &io::Error) -> ModelError {
    match e.kind() {
        io::ErrorKind::NotFound => ModelError::Missing {
            path: path.to_path_buf(),
        },
        _ => ModelError::Unreadable {
            path: path.to_path_buf(),
            reason: io_reason(e),
        },
    }
}

enum Fail {
    Io(io::Error),
    NotGguf(String),
    Short(String),
}

/// A scalar or short string value we keep; everything else is skipped.
#[derive(Debug, Clone)]
enum Value {
    Int(u64),
    Str(String),
    Other,
}

/// A bounded reader: every read or skip first checks the file holds that many more bytes.
struct Cursor<R> {
    inner: BufReader<R>,
    pos: u64,
    size: u64,
}

impl<R: Read + io::Seek> Cursor<R> {
    fn need(&self, n: u64, what: &str) -> Result<(), Fail> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(Fail::Short(format!(
                "file ends inside {what} at byte {}",
                self.pos
            ))),
        }
    }

    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Fail> {
        self.need(N as u64, what)?;
        let mut b = [0u8; N];
        self.inner.read_exact(&mut b).map_err(Fail::Io)?;
        self.pos += N as u64;
        Ok(b)
    }

    fn u32(&mut self, what: &str) -> Result<u32, Fail> {
        Ok(u32::from_le_bytes(self.bytes(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, Fail> {
        Ok(u64::from_le_bytes(self.bytes(what)?))
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), Fail> {
        self.need(n, what)?;
        let off = i64::try_from(n).map_err(|_| Fail::Short(format!("{what} is too long")))?;
        self.inner.seek_relative(off).map_err(Fail::Io)?;
        self.pos += n;
        Ok(())
    }

    /// A string; `None` (skipped) when longer than `keep`.
    fn string(&mut self, keep: u64, what: &str) -> Result<Option<String>, Fail> {
        let len = self.u64(what)?;
        if len > keep {
            self.skip(len, what)?;
            return Ok(None);
        }
        self.need(len, what)?;
        let mut b = vec![0u8; len as usize];
        self.inner.read_exact(&mut b).map_err(Fail::Io)?;
        self.pos += len;
        Ok(Some(String::from_utf8_lossy(&b).into_owned()))
    }

    fn value(&mut self, ty: u32, what: &str) -> Result<Value, Fail> {
        Ok(match ty {
            0 | 1 | 7 => Value::Int(u64::from(self.bytes::<1>(what)?[0])),
            2 | 3 => Value::Int(u64::from(u16::from_le_bytes(self.bytes(what)?))),
            4 | 5 => Value::Int(u64::from(self.u32(what)?)),
            10 | 11 => Value::Int(self.u64(what)?),
            6 => self.skip(4, what).map(|_| Value::Other)?,
            12 => self.skip(8, what).map(|_| Value::Other)?,
            8 => self
                .string(MAX_KEPT_STRING, what)?
                .map_or(Value::Other, Value::Str),
            9 => self.skip_array(what, 0)?,
            t => return Err(Fail::Short(format!("unknown value type {t} in {what}"))),
        })
    }

    fn skip_array(&mut self, what: &str, depth: u32) -> Result<Value, Fail> {
        if depth > 8 {
            return Err(Fail::Short(format!("arrays nested too deep in {what}")));
        }
        let ty = self.u32(what)?;
        let count = self.u64(what)?;
        let fixed = match ty {
            0 | 1 | 7 => Some(1),
            2 | 3 => Some(2),
            4..=6 => Some(4),
            10..=12 => Some(8),
            _ => None,
        };
        if let Some(width) = fixed {
            let n = count
                .checked_mul(width)
                .ok_or_else(|| Fail::Short(format!("{what} is too long")))?;
            self.skip(n, what)?;
            return Ok(Value::Other);
        }
        // Strings and arrays: each element is at least 8 bytes, so an absurd count fails here.
        self.need(count.saturating_mul(8), what)?;
        for _ in 0..count {
            match ty {
                8 => drop(self.string(0, what)?),
                9 => drop(self.skip_array(what, depth + 1)?),
                t => {
                    return Err(Fail::Short(format!(
                        "unknown array element type {t} in {what}"
                    )));
                }
            }
        }
        Ok(Value::Other)
    }
}

fn parse<R: Read + io::Seek>(r: &mut Cursor<R>) -> Result<GgufInfo, Fail> {
    if r.size < 4 || r.bytes::<4>("the magic")? != *b"GGUF" {
        return Err(Fail::NotGguf("bad magic".into()));
    }
    let version = r.u32("the version")?;
    if !(2..=3).contains(&version) {
        return Err(Fail::NotGguf(format!("unsupported GGUF version {version}")));
    }
    let tensor_count = r.u64("the tensor count")?;
    let kv_count = r.u64("the key/value count")?;
    let mut kv: HashMap<String, Value> = HashMap::new();
    for i in 0..kv_count {
        let what = format!("key/value {i} of {kv_count}");
        let key = r.string(u64::from(u16::MAX), &what)?;
        let ty = r.u32(&what)?;
        let value = r.value(ty, &what)?;
        if let Some(key) = key {
            kv.insert(key, value);
        }
    }
    let mut parameter_count = 0u64;
    for i in 0..tensor_count {
        let what = format!("tensor info {i} of {tensor_count}");
        r.string(0, &what)?;
        let dims = r.u32(&what)?;
        if dims > 8 {
            return Err(Fail::Short(format!("{what} has {dims} dimensions")));
        }
        let mut elements = 1u64;
        for _ in 0..dims {
            elements = elements.saturating_mul(r.u64(&what)?);
        }
        r.skip(4 + 8, &what)?; // element type and data offset
        parameter_count = parameter_count.saturating_add(elements);
    }
    Ok(info_from(version, tensor_count, parameter_count, &kv))
}

fn info_from(
    version: u32,
    tensor_count: u64,
    parameter_count: u64,
    kv: &HashMap<String, Value>,
) -> GgufInfo {
    let string = |k: &str| match kv.get(k) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let int = |k: &str| match kv.get(k) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    };
    let architecture = string("general.architecture").unwrap_or_else(|| "unknown".to_string());
    let file_type = int("general.file_type").and_then(|n| u32::try_from(n).ok());
    GgufInfo {
        version,
        context_length: int(&format!("{architecture}.context_length")),
        name: string("general.name"),
        size_label: string("general.size_label"),
        parameter_count,
        file_type,
        quantization: file_type
            .map(|t| quantization_name(t).map_or_else(|| format!("type {t}"), str::to_string)),
        has_chat_template: kv.contains_key("tokenizer.chat_template"),
        architecture,
        tensor_count,
        file_size: 0,
    }
}

#[cfg(test)]
#[path = "gguf_tests.rs"]
mod tests;
