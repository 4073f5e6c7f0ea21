//! The SPA's static files, kept in memory with their compressed forms.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// One static file.
pub struct Asset {
    pub bytes: actix_web::web::Bytes,
    pub content_type: String,
    /// Trunk put a content hash in the name: cache it forever.
    pub immutable: bool,
    /// Brotli (quality 11) and gzip (level 9) forms, made once in the
    /// background after start; until then responses are compressed per
    /// request (faster, bigger). Compressing the wasm at quality 11 per
    /// request would cost over a second.
    pub brotli: OnceLock<actix_web::web::Bytes>,
    pub gzip: OnceLock<actix_web::web::Bytes>,
}

impl Asset {
    fn compressible(&self) -> bool {
        let t = self.content_type.as_str();
        t.starts_with("text/")
            || t.starts_with("application/wasm")
            || t.starts_with("application/json")
            || t.starts_with("image/svg")
    }

    pub(super) fn precompress(&self) {
        if !self.compressible() {
            return;
        }
        if let Some(br) = brotli_bytes(&self.bytes, 11) {
            let _ = self.brotli.set(br);
        }
        if let Some(gz) = gzip_bytes(&self.bytes) {
            let _ = self.gzip.set(gz);
        }
    }
}

/// Brotli at `quality` (0..=11).
pub fn brotli_bytes(data: &[u8], quality: u32) -> Option<actix_web::web::Bytes> {
    use std::io::Write as _;
    let mut br = brotli::CompressorWriter::new(Vec::new(), 4096, quality, 22);
    br.write_all(data).ok()?;
    Some(br.into_inner().into())
}

/// Gzip at level 9.
pub fn gzip_bytes(data: &[u8]) -> Option<actix_web::web::Bytes> {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(data).ok()?;
    gz.finish().ok().map(Into::into)
}

fn is_hashed_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    // Trunk writes its 64-bit hash as unpadded hex: up to 16 digits.
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

pub(super) fn collect_assets_into(
    root: &Path,
    dir: &Path,
    out: &mut HashMap<String, Arc<Asset>>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_assets_into(root, &path, out)?;
            continue;
        }
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
        if url == "/index.html" {
            continue;
        }
        let content_type = match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => "application/wasm".to_owned(),
            Some("js") => "text/javascript; charset=utf-8".to_owned(),
            Some("css") => "text/css; charset=utf-8".to_owned(),
            _ => mime_guess::from_path(&path)
                .first_or_octet_stream()
                .to_string(),
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        out.insert(
            url,
            Arc::new(Asset {
                bytes: std::fs::read(&path)?.into(),
                content_type,
                immutable: is_hashed_name(&name),
                brotli: OnceLock::new(),
                gzip: OnceLock::new(),
            }),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precompressed_forms_decode_to_the_original() {
        use std::io::Read as _;
        let asset = Asset {
            bytes: "let x = 1;\n".repeat(500).into(),
            content_type: "text/javascript; charset=utf-8".into(),
            immutable: true,
            brotli: OnceLock::new(),
            gzip: OnceLock::new(),
        };
        asset.precompress();
        let mut out = Vec::new();
        brotli::Decompressor::new(&asset.brotli.get().unwrap()[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, asset.bytes);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&asset.gzip.get().unwrap()[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, asset.bytes);
        assert!(asset.brotli.get().unwrap().len() < asset.bytes.len() / 10);
    }

    #[test]
    fn trunk_hashed_names_are_recognised() {
        assert!(is_hashed_name("frontend-0123456789abcdef_bg.wasm"));
        assert!(is_hashed_name("frontend-0123456789abcdef.js"));
        assert!(is_hashed_name("style-0123456789abcdef.css"));
        assert!(
            is_hashed_name("frontend-5e6ad22c1212985_bg.wasm"),
            "hashes are unpadded"
        );
        assert!(!is_hashed_name("sw.js"));
        assert!(!is_hashed_name("favicon.ico"));
        assert!(!is_hashed_name("front-end.js"));
    }
}
