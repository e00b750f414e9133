//! The file calls the durable key space makes, on glommio's io_uring file
//! API (no blocking call on a shard's thread), each in one place: a new
//! empty file (O_DSYNC where every write must be on stable storage when it
//! completes), a whole buffer written at an offset, a whole file read.

use std::path::Path;

use glommio::io::{BufferedFile, OpenOptions};

/// Read a file this much at a time.
const READ_CHUNK: usize = 8 << 20;

/// Creates `path` empty (truncating it if it exists). With `dsync`, each
/// write completes only once it is on stable storage.
pub async fn create_empty(path: &Path, dsync: bool) -> Result<BufferedFile, String> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if dsync {
        options.custom_flags(libc::O_DSYNC);
    }
    options.buffered_open(path).await.map_err(|e| e.to_string())
}

/// Writes all of `bytes` at offset `at`.
pub async fn write_all_at(file: &BufferedFile, bytes: &[u8], at: u64) -> Result<(), String> {
    let mut written = 0;
    while written < bytes.len() {
        let n = file
            .write_at(bytes[written..].to_vec(), at + written as u64)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the disk took no bytes".into());
        }
        written += n;
    }
    Ok(())
}

/// The whole of the file at `path`.
pub async fn read_all(path: &Path) -> Result<Vec<u8>, String> {
    let file = BufferedFile::open(path).await.map_err(|e| e.to_string())?;
    let size = file.file_size().await.map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(size as usize);
    while (bytes.len() as u64) < size {
        let chunk = file
            .read_at(bytes.len() as u64, READ_CHUNK)
            .await
            .map_err(|e| e.to_string())?;
        if chunk.is_empty() {
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    let _ = file.close().await;
    Ok(bytes)
}
