//! Regenerates `crates/source-mock/data/demo.ttlrec` (deterministic: fixed seed).
//!
//! ```sh
//! cargo run -p ttlive-source-mock --example generate_demo_recording
//! ```

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/demo.ttlrec");
    let recording = ttlive_source_mock::generate_demo_recording();
    let bytes = recording.to_bytes();
    std::fs::write(&path, &bytes)?;
    println!(
        "wrote {} ({} bytes, {} units, {} ms)",
        path.display(),
        bytes.len(),
        recording.units.len(),
        recording.duration_ms()
    );
    Ok(())
}
