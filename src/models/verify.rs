//! SHA-256 checking: a hashing writer for downloads and a streaming hash of files on disk.
//!
//! Nothing here holds a whole model in memory; data moves in fixed-size chunks.

use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::progress::Progress;

/// Chunk size for streaming copies and hashes.
pub(crate) const CHUNK: usize = 256 * 1024;

/// A writer that hashes and counts every byte it passes on.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// Hashes and counts what `r` yields without writing it: the bytes already in a file that
    /// a resumed download appends to.
    pub fn absorb(&mut self, r: &mut dyn Read) -> io::Result<u64> {
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0u64;
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.hasher.update(&buf[..n]);
            self.written += n as u64;
            total += n as u64;
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The wrapped writer, the lowercase hex SHA-256 and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        (
            self.inner,
            hex::encode(self.hasher.finalize()),
            self.written,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lowercase hex SHA-256 and length of everything `r` yields.
pub fn sha256_reader(mut r: impl Read) -> io::Result<(String, u64)> {
    let mut w = HashingWriter::new(io::sink());
    io::copy(&mut r, &mut w)?;
    let (_, hash, n) = w.finish();
    Ok((hash, n))
}

/// Lowercase hex SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let f = std::fs::File::open(path)?;
    Ok(sha256_reader(io::BufReader::with_capacity(CHUNK, f))?.0)
}

/// Lowercase hex SHA-256 of a file, reporting progress while hashing.
pub(crate) fn sha256_file_with(path: &Path, progress: &dyn Progress) -> io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let total = f.metadata()?.len();
    progress.begin(&format!("verifying {}", path.display()), total);
    let mut w = HashingWriter::new(io::sink());
    let r = copy_chunks(&mut f, &mut w, u64::MAX, progress);
    progress.end();
    r.map_err(|e| match e {
        CopyError::Read(e) | CopyError::Write(e) => e,
    })?;
    Ok(w.finish().1)
}

/// Which side of a streaming copy failed.
#[derive(Debug)]
pub(crate) enum CopyError {
    /// Reading the source failed (or it yielded more bytes than allowed).
    Read(io::Error),
    /// Writing the destination failed.
    Write(io::Error),
}

/// Copies `r` into `w` in chunks, reporting progress; fails once more than `limit` bytes arrive.
pub(crate) fn copy_chunks(
    r: &mut dyn Read,
    w: &mut dyn Write,
    limit: u64,
    progress: &dyn Progress,
) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        total += n as u64;
        if total > limit {
            let e = io::Error::other(format!("more than the expected {limit} bytes"));
            return Err(CopyError::Read(e));
        }
        w.write_all(&buf[..n]).map_err(CopyError::Write)?;
        progress.advance(n as u64);
    }
}

/// Whether two hex digests are equal, ignoring case.
pub fn same_digest(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::NoProgress;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn known_digests() {
        assert_eq!(sha256_reader(&b""[..]).unwrap(), (EMPTY.to_string(), 0));
        assert_eq!(sha256_reader(&b"abc"[..]).unwrap(), (ABC.to_string(), 3));
    }

    #[test]
    fn hashing_writer_passes_bytes_through() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"a").unwrap();
        w.write_all(b"bc").unwrap();
        assert_eq!(w.written(), 3);
        let (inner, hash, n) = w.finish();
        assert_eq!((inner.as_slice(), hash.as_str(), n), (&b"abc"[..], ABC, 3));
    }

    #[test]
    fn absorbed_bytes_count_in_the_hash_but_are_not_written() {
        let mut w = HashingWriter::new(Vec::new());
        assert_eq!(w.absorb(&mut &b"ab"[..]).unwrap(), 2);
        w.write_all(b"c").unwrap();
        let (inner, hash, n) = w.finish();
        assert_eq!((inner.as_slice(), hash.as_str(), n), (&b"c"[..], ABC, 3));
    }

    #[test]
    fn file_hash_matches_reader_hash_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 2 + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let want = sha256_reader(data.as_slice()).unwrap().0;
        assert_eq!(sha256_file(&p).unwrap(), want);
        assert_eq!(sha256_file_with(&p, &NoProgress).unwrap(), want);
    }

    #[test]
    fn copy_chunks_enforces_the_limit() {
        let mut out = Vec::new();
        let err = copy_chunks(&mut &b"abcdef"[..], &mut out, 5, &NoProgress).unwrap_err();
        assert!(matches!(&err, CopyError::Read(e) if e.to_string().contains("expected 5 bytes")));
        let mut out = Vec::new();
        assert_eq!(
            copy_chunks(&mut &b"abcde"[..], &mut out, 5, &NoProgress).unwrap(),
            5
        );
    }

    #[test]
    fn digest_comparison_ignores_case() {
        assert!(same_digest(ABC, &ABC.to_uppercase()));
        assert!(!same_digest(ABC, EMPTY));
    }
}
