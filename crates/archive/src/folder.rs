//! A folder packed into one zip, every entry encrypted with WinZip
//! AES-256 when a password is given (the DB assistant's finished run
//! folders, as the vendor zips and encrypts its scripts).

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use transit_core::IoContext;
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

use crate::error::ArchiveError;
use crate::hashing::BUF_SIZE;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ArchiveError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .at(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()
        .at(dir)?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Packs every file under `src` into the zip `dest` (entries named by
/// their path under `src`, with `/`), written to a partial file and renamed
/// onto `dest`, which must not exist. Returns the number of files.
pub fn pack_folder(src: &Path, dest: &Path, password: Option<&str>) -> Result<u64, ArchiveError> {
    if dest.exists() {
        return Err(ArchiveError::Exists {
            path: dest.to_path_buf(),
        });
    }
    let mut files = Vec::new();
    walk(src, &mut files)?;
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let named = tempfile::Builder::new()
        .prefix(".pack-")
        .tempfile_in(dir)
        .at(dest)?;
    let (file, temp) = named.into_parts();
    let mut zip = ZipWriter::new(BufWriter::with_capacity(BUF_SIZE, file));
    for path in &files {
        let name = path
            .strip_prefix(src)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let size = path.metadata().at(path)?.len();
        let opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .large_file(size >= u32::MAX as u64);
        let opts = match password {
            Some(p) => opts.with_aes_encryption(AesMode::Aes256, p),
            None => opts,
        };
        zip.start_file(name.as_str(), opts)
            .map_err(|e| ArchiveError::from_zip(&temp, &name, e))?;
        let mut input = File::open(path).at(path)?;
        io::copy(&mut input, &mut zip).at(&temp)?;
    }
    let buffered = zip
        .finish()
        .map_err(|e| ArchiveError::from_zip(&temp, "", e))?;
    let file = buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .at(&temp)?;
    file.sync_all().at(&temp)?;
    drop(file);
    temp.persist_noclobber(dest)
        .map_err(|e| ArchiveError::at(dest, e.error))?;
    Ok(files.len() as u64)
}
