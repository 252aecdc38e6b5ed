//! Tests of the GGUF reader against small hand-built files.

use super::*;

/// Builds GGUF bytes by hand.
#[derive(Default)]
struct Builder {
    kv: Vec<u8>,
    kv_count: u64,
    tensors: Vec<u8>,
    tensor_count: u64,
}

fn push_str(b: &mut Vec<u8>, s: &str) {
    b.extend((s.len() as u64).to_le_bytes());
    b.extend(s.as_bytes());
}

impl Builder {
    fn key(&mut self, k: &str, ty: u32) -> &mut Vec<u8> {
        self.kv_count += 1;
        push_str(&mut self.kv, k);
        self.kv.extend(ty.to_le_bytes());
        &mut self.kv
    }
    fn str(mut self, k: &str, v: &str) -> Self {
        push_str(self.key(k, 8), v);
        self
    }
    fn u32(mut self, k: &str, v: u32) -> Self {
        self.key(k, 4).extend(v.to_le_bytes());
        self
    }
    fn f32(mut self, k: &str, v: f32) -> Self {
        self.key(k, 6).extend(v.to_le_bytes());
        self
    }
    fn bool(mut self, k: &str, v: bool) -> Self {
        self.key(k, 7).push(u8::from(v));
        self
    }
    fn str_array(mut self, k: &str, items: &[&str]) -> Self {
        let b = self.key(k, 9);
        b.extend(8u32.to_le_bytes());
        b.extend((items.len() as u64).to_le_bytes());
        for s in items {
            push_str(b, s);
        }
        self
    }
    fn i32_array(mut self, k: &str, items: &[i32]) -> Self {
        let b = self.key(k, 9);
        b.extend(5u32.to_le_bytes());
        b.extend((items.len() as u64).to_le_bytes());
        for v in items {
            b.extend(v.to_le_bytes());
        }
        self
    }
    fn tensor(mut self, name: &str, dims: &[u64]) -> Self {
        self.tensor_count += 1;
        push_str(&mut self.tensors, name);
        self.tensors.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            self.tensors.extend(d.to_le_bytes());
        }
        self.tensors.extend(0u32.to_le_bytes());
        self.tensors.extend(0u64.to_le_bytes());
        self
    }
    fn build(&self) -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(self.tensor_count.to_le_bytes());
        b.extend(self.kv_count.to_le_bytes());
        b.extend(&self.kv);
        b.extend(&self.tensors);
        b
    }
}

fn smol_like() -> Builder {
    Builder::default()
        .str("general.architecture", "llama")
        .str("general.name", "Tiny Test")
        .u32("general.file_type", 15)
        .u32("llama.context_length", 8192)
        .f32("llama.rope.freq_base", 10000.0)
        .bool("tokenizer.ggml.add_bos_token", true)
        .str_array("tokenizer.ggml.tokens", &["<s>", "</s>", "hello"])
        .i32_array("tokenizer.ggml.token_type", &[3, 3, 1])
        .str("tokenizer.chat_template", &"{% x %}".repeat(1000))
        .tensor("token_embd.weight", &[64, 1000])
        .tensor("output_norm.weight", &[64])
}

fn write(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.gguf");
    std::fs::write(&p, bytes).unwrap();
    (dir, p)
}

#[test]
fn reads_metadata_of_a_valid_file() {
    let bytes = smol_like().build();
    let (_d, p) = write(&bytes);
    let info = metadata(&p).unwrap();
    assert_eq!(
        info,
        GgufInfo {
            version: 3,
            architecture: "llama".into(),
            name: Some("Tiny Test".into()),
            size_label: None,
            parameter_count: 64_064,
            file_type: Some(15),
            quantization: Some("Q4_K_M".into()),
            context_length: Some(8192),
            has_chat_template: true,
            tensor_count: 2,
            file_size: bytes.len() as u64,
        }
    );
    assert_eq!(info.parameters_label(), "64K");
    check(&p).unwrap();
}

#[test]
fn size_label_wins_over_the_estimate_and_template_may_be_absent() {
    let bytes = Builder::default()
        .str("general.architecture", "qwen2")
        .str("general.size_label", "0.5B")
        .build();
    let (_d, p) = write(&bytes);
    let info = metadata(&p).unwrap();
    assert_eq!(info.parameters_label(), "0.5B");
    assert!(!info.has_chat_template);
    assert_eq!(info.context_length, None);
    assert_eq!(info.quantization, None);
}

#[test]
fn bad_magic_is_not_gguf() {
    let (_d, p) = write(b"PK\x03\x04 this is a zip");
    let e = check(&p).unwrap_err();
    assert!(matches!(e, ModelError::NotGguf { .. }), "{e:?}");
    assert!(e.to_string().contains("(bad magic)"));
    let (_d, p) = write(b"GG");
    assert!(matches!(check(&p).unwrap_err(), ModelError::NotGguf { .. }));
}

#[test]
fn an_unknown_file_type_still_gets_a_name() {
    let bytes = Builder::default().u32("general.file_type", 4242).build();
    let (_d, p) = write(&bytes);
    let info = metadata(&p).unwrap();
    assert_eq!(
        (info.architecture.as_str(), info.quantization.as_deref()),
        ("unknown", Some("type 4242"))
    );
}

#[test]
fn unsupported_version_is_not_gguf() {
    let mut bytes = smol_like().build();
    bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
    let (_d, p) = write(&bytes);
    let e = check(&p).unwrap_err();
    assert!(e.to_string().contains("unsupported GGUF version 1"), "{e}");
}

#[test]
fn every_cut_inside_the_header_is_truncated() {
    let bytes = smol_like().build();
    for cut in (8..bytes.len()).step_by(7) {
        let (_d, p) = write(&bytes[..cut]);
        let e = check(&p).unwrap_err();
        assert!(
            matches!(e, ModelError::Truncated { .. }),
            "cut at {cut}: {e:?}"
        );
    }
}

#[test]
fn truncated_mid_kv_names_the_pair() {
    let bytes = smol_like().build();
    let (_d, p) = write(&bytes[..60]);
    let e = check(&p).unwrap_err().to_string();
    assert!(e.contains("truncated") && e.contains("key/value"), "{e}");
}

#[test]
fn absurd_lengths_fail_without_allocating() {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend(1u64.to_le_bytes());
    push_str(&mut b, "k");
    b.extend(9u32.to_le_bytes()); // array
    b.extend(8u32.to_le_bytes()); // of strings
    b.extend(u64::MAX.to_le_bytes());
    let (_d, p) = write(&b);
    assert!(matches!(
        check(&p).unwrap_err(),
        ModelError::Truncated { .. }
    ));
}

#[test]
fn missing_file_is_missing() {
    let e = check(Path::new("/nonexistent/dir/m.gguf")).unwrap_err();
    assert!(matches!(e, ModelError::Missing { .. }), "{e:?}");
}

#[test]
fn quantization_names() {
    let pairs = [
        (0, "F32"),
        (1, "F16"),
        (2, "Q4_0"),
        (3, "Q4_1"),
        (7, "Q8_0"),
        (15, "Q4_K_M"),
        (18, "Q6_K"),
    ];
    for (n, name) in pairs {
        assert_eq!(quantization_name(n), Some(name));
    }
    assert_eq!(quantization_name(4), None);
    assert_eq!(quantization_name(9999), None);
}

#[test]
fn parameter_labels() {
    assert_eq!(parameters_label(134_515_008), "135M");
    assert_eq!(parameters_label(494_032_768), "494M");
    assert_eq!(parameters_label(1_543_714_304), "1.5B");
    assert_eq!(parameters_label(7_000_000_000), "7B");
    assert_eq!(parameters_label(13_000_000_000), "13B");
}
