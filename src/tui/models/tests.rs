//! Tests of the model pane: scanning a store, the formatting helpers, the selection, and
//! snapshots of the drawn pane at 80×24 and 40×20.

use std::path::PathBuf;

use libre_assistant::engine::{ModelInfo, Placement, TemplateSource};
use libre_assistant::models::{GgufInfo, Store};

use super::*;

fn row(name: &str, size: u64, installed: bool) -> ModelRow {
    ModelRow {
        name: name.into(),
        title: name.into(),
        size,
        quantization: "Q4_K_M".into(),
        parameters: "0.5B".into(),
        context: installed.then_some(32768),
        installed,
        in_catalog: true,
        remote: None,
    }
}

fn mixed_rows() -> Vec<ModelRow> {
    vec![
        ModelRow {
            title: "SmolLM2 135M Instruct".into(),
            quantization: "Q4_1".into(),
            parameters: "135M".into(),
            context: Some(8192),
            ..row("smollm2-135m-instruct", 98_362_432, true)
        },
        row("qwen2.5-coder-0.5b-instruct", 491_400_064, false),
        ModelRow {
            quantization: "-".into(),
            parameters: "-".into(),
            context: None,
            in_catalog: false,
            remote: None,
            ..row("my-own-finetune-with-a-very-long-name", 1_234_567_890, true)
        },
    ]
}

fn loaded_smollm2() -> Loaded {
    Loaded {
        name: "smollm2-135m-instruct".into(),
        info: ModelInfo {
            path: PathBuf::from(
                "/home/u/.local/share/libre-assistant/models/SmolLM2-135M-Instruct.Q4_1.gguf",
            ),
            context: 4096,
            trained_context: 8192,
            parameters: 134_515_008,
            template: TemplateSource::Model,
            tool_template: true,
            load_ms: 120.0,
            runs: Placement::Local,
        },
        gguf: Some(GgufInfo {
            version: 3,
            architecture: "llama".into(),
            name: Some("SmolLM2 135M Instruct".into()),
            size_label: Some("135M".into()),
            parameter_count: 134_515_008,
            file_type: Some(3),
            quantization: Some("Q4_1".into()),
            context_length: Some(8192),
            has_chat_template: true,
            tensor_count: 272,
            file_size: 98_362_432,
        }),
    }
}

fn mixed_pane() -> ModelPane {
    let mut pane = ModelPane::new(mixed_rows());
    pane.loaded = Some(loaded_smollm2());
    pane.selected = 1;
    pane
}

/// The pane drawn unfocused into a `width`×`height` buffer, one text line per row.
fn snapshot(pane: &ModelPane, width: u16, height: u16) -> String {
    crate::tui::fit::drawn_text(width, height, |theme, area, buf| {
        render(pane, theme, area, buf, false)
    })
}

#[test]
fn snapshot_mixed_rows_with_loaded_details() {
    let pane = mixed_pane();
    insta::assert_snapshot!("mixed_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("mixed_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn snapshot_a_model_without_a_template_says_it_runs_with_chatml() {
    let mut pane = mixed_pane();
    let mut loaded = loaded_smollm2();
    loaded.name = "my-own-finetune-with-a-very-long-name".into();
    loaded.info.template = TemplateSource::Fallback;
    if let Some(gguf) = loaded.gguf.as_mut() {
        gguf.has_chat_template = false;
    }
    pane.loaded = Some(loaded);
    insta::assert_snapshot!("no_template_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("no_template_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn snapshot_download_in_progress() {
    let mut pane = mixed_pane();
    pane.download = Some(Download {
        name: "qwen2.5-coder-0.5b-instruct".into(),
        phase: "downloading".into(),
        done: 221_130_028,
        total: 491_400_064,
        bytes_per_second: 35_200_000.0,
    });
    insta::assert_snapshot!("download_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("download_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn snapshot_delete_confirmation() {
    let mut pane = mixed_pane();
    pane.selected = 0;
    pane.confirm_delete = Some("smollm2-135m-instruct".into());
    pane.message = Some("removed old-model".into());
    insta::assert_snapshot!("confirm_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("confirm_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn snapshot_loading_and_failed() {
    let mut pane = mixed_pane();
    pane.loaded = None;
    pane.loading = Loading::InProgress {
        name: "smollm2-135m-instruct".into(),
        fraction: 0.6,
    };
    insta::assert_snapshot!("loading_80x24", snapshot(&pane, 80, 24));
    insta::assert_snapshot!("loading_40x20", snapshot(&pane, 40, 20));
    pane.loading = Loading::Failed {
        name: "qwen2.5-coder-0.5b-instruct".into(),
        error: "cannot create a 32768-token context: out of memory; try a smaller --ctx".into(),
    };
    insta::assert_snapshot!("failed_40x20", snapshot(&pane, 40, 20));
}

#[test]
fn details_collapse_before_the_list_when_short() {
    let mut pane = mixed_pane();
    pane.confirm_delete = Some("smollm2-135m-instruct".into());
    let text = snapshot(&pane, 80, 8);
    assert!(text.contains("qwen2.5-coder"), "{text}");
    assert!(text.contains("Delete smollm2"), "{text}");
    assert!(text.contains("Enter load"), "{text}");
    assert!(!text.contains("architecture"), "{text}");
}

#[test]
fn narrow_panes_show_names_only_and_never_panic() {
    let mut pane = mixed_pane();
    let text = snapshot(&pane, 28, 10);
    assert!(text.contains("›   qwen2.5-coder-0.5b-in…"), "{text}");
    assert!(!text.contains("MB"), "{text}");
    pane.download = Some(Download {
        name: "x".into(),
        phase: "verifying".into(),
        done: 5,
        total: 0,
        bytes_per_second: 0.0,
    });
    pane.confirm_delete = Some("x".into());
    pane.message = Some("a message".into());
    pane.loading = Loading::Failed {
        name: "x".into(),
        error: "e".into(),
    };
    for (w, h) in [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 3),
        (5, 4),
        (12, 6),
        (30, 3),
        (80, 5),
    ] {
        snapshot(&pane, w, h);
    }
    snapshot(&ModelPane::new(Vec::new()), 20, 5);
}

#[test]
fn the_selection_stays_in_view() {
    let rows = (0..30)
        .map(|i| row(&format!("model-{i:02}"), 1, true))
        .collect();
    let mut pane = ModelPane::new(rows);
    for _ in 0..25 {
        pane.select_next();
    }
    assert!(snapshot(&pane, 40, 10).contains("› ✓ model-25"));
}

#[test]
fn selection_moves_within_the_rows_and_follows_the_name() {
    let mut pane = ModelPane::new(mixed_rows());
    pane.select_prev();
    assert_eq!(pane.selected, 0);
    pane.select_next();
    pane.select_next();
    pane.select_next();
    assert_eq!(pane.selected, 2);
    pane.select_prev();
    assert_eq!(
        pane.selected_row().map(|r| r.name.as_str()),
        Some("qwen2.5-coder-0.5b-instruct")
    );

    let mut rows = mixed_rows();
    rows.reverse();
    pane.set_rows(rows);
    assert_eq!(pane.selected, 1);
    pane.selected = 2;
    pane.set_rows(mixed_rows()[..1].to_vec());
    assert_eq!(pane.selected, 0);
    pane.set_rows(Vec::new());
    assert_eq!((pane.selected, pane.selected_row()), (0, None));
    pane.select_next();
    assert_eq!(pane.selected, 0);
}

#[test]
fn sizes_speeds_and_etas_read_like_the_cli() {
    assert_eq!(human_size(98_362_432), "98 MB");
    assert_eq!(human_size(1_234_567_890), "1.2 GB");
    assert_eq!(human_size(12_345), "12 kB");
    assert_eq!(human_size(512), "512 B");
    assert_eq!(human_speed(35_200_000.0), "35.2 MB/s");
    assert_eq!(human_speed(0.0), "--");
    assert_eq!(eta(385_000_000, 35_000_000.0), "0:11");
    assert_eq!(eta(3723, 1.0), "1:02:03");
    assert_eq!(eta(10, 0.0), "--");
    assert_eq!(eta(10, f64::NAN), "--");
    assert_eq!(eta(0, 5.0), "0:00");
    assert_eq!(context_label(Some(8192)), "8k");
    assert_eq!(context_label(Some(131_072)), "128k");
    assert_eq!(context_label(Some(500)), "500");
    assert_eq!(context_label(None), "-");
}

/// A minimal GGUF v3 file: no tensors, a few metadata keys.
fn tiny_gguf() -> Vec<u8> {
    fn push_str(b: &mut Vec<u8>, s: &str) {
        b.extend((s.len() as u64).to_le_bytes());
        b.extend(s.as_bytes());
    }
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend(4u64.to_le_bytes());
    for (key, value) in [
        ("general.architecture", "llama"),
        ("general.size_label", "1B"),
    ] {
        push_str(&mut b, key);
        b.extend(8u32.to_le_bytes());
        push_str(&mut b, value);
    }
    for (key, value) in [
        ("llama.context_length", 16384u32),
        ("general.file_type", 15),
    ] {
        push_str(&mut b, key);
        b.extend(4u32.to_le_bytes());
        b.extend(value.to_le_bytes());
    }
    b
}

#[test]
fn scan_lists_the_catalog_then_imports_and_survives_junk() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("x.gguf"), b"not a gguf file").expect("write junk");
    std::fs::write(dir.path().join("tiny.gguf"), tiny_gguf()).expect("write tiny");
    std::fs::write(dir.path().join("SmolLM2-135M-Instruct.Q4_1.gguf"), b"junk").expect("write");
    let rows = scan(&Store::new(dir.path()));

    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "smollm2-135m-instruct",
            "qwen2.5-coder-0.5b-instruct",
            "qwen2.5-coder-1.5b-instruct",
            "tiny",
            "x"
        ]
    );
    let smol = &rows[0];
    assert!(smol.installed && smol.in_catalog);
    assert_eq!(
        (smol.size, smol.quantization.as_str(), smol.context),
        (4, "Q4_1", None)
    );
    let qwen = &rows[1];
    assert!(!qwen.installed && qwen.in_catalog);
    assert_eq!(qwen.size, 491_400_064);
    assert_eq!(rows[2].size, 1_117_320_768);
    let tiny = &rows[3];
    assert_eq!(
        (
            tiny.quantization.as_str(),
            tiny.parameters.as_str(),
            tiny.context
        ),
        ("Q4_K_M", "1B", Some(16384))
    );
    assert_eq!(
        rows[4],
        ModelRow {
            name: "x".into(),
            title: "x".into(),
            size: 15,
            quantization: "-".into(),
            parameters: "-".into(),
            context: None,
            installed: true,
            in_catalog: false,
            remote: None,
        }
    );
}

#[test]
fn scan_of_a_missing_store_is_the_catalog() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = scan(&Store::new(dir.path().join("absent")));
    assert_eq!(rows.len(), libre_assistant::models::catalog().len());
    assert!(rows.iter().all(|r| !r.installed && r.in_catalog));
}
