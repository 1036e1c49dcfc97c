//! Streaming transfers of datastore files over HTTP, never holding a whole file in memory.
//!
//! Requests carry the session cookie. Through vCenter they go to vCenter, which relays them
//! to a host; a host service ticket (`AcquireGenericServiceTicket`) is not used yet.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::transport::TransportError;

use super::DatastoreFiles;

/// Size of the chunks a download hands from the reading thread to the writer.
const DOWNLOAD_CHUNK: usize = 64 * 1024;

impl DatastoreFiles {
    /// An error of a transfer of `path`, which [`url`](Self::url) has checked.
    fn error(&self, method: &str, path: &str, e: TransportError) -> Error {
        let name = format!("[{}] {path}", self.location.datastore);
        Error::new(method, Some(name), ErrorKind::Transport(e))
    }

    fn url(&self, method: &str, path: &str) -> Result<String, Error> {
        self.location
            .url_path(path)
            .map_err(|e| Error::new(method, None, ErrorKind::DatastorePath(e)))
    }

    /// Uploads exactly `length` bytes from `source` to `path` (relative to the datastore
    /// root, `/`-separated), creating or replacing the file. `progress` gets the size of
    /// each chunk sent; the calls add up to `length`. A source shorter than `length` fails
    /// the upload.
    pub async fn upload<R, F>(
        &self,
        client: &Client,
        path: &str,
        source: R,
        length: u64,
        progress: F,
    ) -> Result<(), Error>
    where
        R: AsyncRead + Send + Unpin + 'static,
        F: Fn(u64) + Send + 'static,
    {
        const OP: &str = "datastore upload";
        let url = self.url(OP, path)?;
        let cookie = client.session_cookie();
        client
            .transport()
            .put_stream(&url, cookie.as_deref(), length, source, progress)
            .await
            .map_err(|e| self.error(OP, path, e))?;
        Ok(())
    }

    /// Uploads the local file `local` to `path`, with progress as for
    /// [`upload`](Self::upload).
    pub async fn upload_file<F>(
        &self,
        client: &Client,
        local: &Path,
        path: &str,
        progress: F,
    ) -> Result<(), Error>
    where
        F: Fn(u64) + Send + 'static,
    {
        const OP: &str = "datastore upload";
        let io = |e: std::io::Error| self.error(OP, path, TransportError::Io(e));
        let file = tokio::fs::File::open(local).await.map_err(io)?;
        let length = file.metadata().await.map_err(io)?.len();
        self.upload(client, path, file, length, progress).await
    }

    /// Downloads `path` into `sink`, calling `progress` with the size of each chunk written;
    /// returns the number of bytes written. The body streams through a small bounded buffer
    /// (a reading thread hands 64 KiB chunks to this task). `sink` is flushed, not shut down.
    pub async fn download<W, F>(
        &self,
        client: &Client,
        path: &str,
        sink: &mut W,
        mut progress: F,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin,
        F: FnMut(u64),
    {
        const OP: &str = "datastore download";
        let url = self.url(OP, path)?;
        let cookie = client.session_cookie();
        let (_, body) = client
            .transport()
            .get(&url, cookie.as_deref())
            .await
            .map_err(|e| self.error(OP, path, e))?;
        let mut reader = body.into_blocking_reader();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, TransportError>>(4);
        let pump = tokio::task::spawn_blocking(move || loop {
            let mut buf = vec![0u8; DOWNLOAD_CHUNK];
            let item = match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    Ok(buf)
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // A body whose stream broke (an idle timeout, a reset) fails with that
                // transport error, typed, not with the I/O error the reader saw.
                Err(e) => Err(reader.take_stream_error().unwrap_or(TransportError::Io(e))),
            };
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
        });
        let mut total = 0u64;
        let mut outcome = Ok(());
        while let Some(item) = rx.recv().await {
            let written = match item {
                Ok(chunk) => sink
                    .write_all(&chunk)
                    .await
                    .map(|_| chunk.len() as u64)
                    .map_err(TransportError::Io),
                Err(e) => Err(e),
            };
            match written {
                Ok(n) => {
                    total += n;
                    progress(n);
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        // Dropping the receiver stops the reading thread on its next chunk.
        drop(rx);
        let _ = pump.await;
        outcome
            .and(sink.flush().await.map_err(TransportError::Io))
            .map_err(|e| self.error(OP, path, e))?;
        Ok(total)
    }

    /// Downloads `path` into the local file `local`; returns the number of bytes written.
    ///
    /// The bytes go to a new temporary file beside `local` (`.<name>.<pid>.<n>.part`, created
    /// exclusively), which is synced and renamed over `local` once the whole body has
    /// arrived. On any failure (a 404, a broken connection, a full disk) or when the future is
    /// dropped, the temporary file is removed and an existing `local` is left as it was.
    pub async fn download_file<F>(
        &self,
        client: &Client,
        path: &str,
        local: &Path,
        progress: F,
    ) -> Result<u64, Error>
    where
        F: FnMut(u64),
    {
        const OP: &str = "datastore download";
        // Refuse a bad remote path before touching the local file system.
        self.url(OP, path)?;
        let io = |e: std::io::Error| self.error(OP, path, TransportError::Io(e));
        let (file, temp) = TempFile::create_beside(local).map_err(io)?;
        let mut file = tokio::fs::File::from_std(file);
        let n = self.download(client, path, &mut file, progress).await?;
        file.sync_all().await.map_err(io)?;
        drop(file);
        temp.persist(local).map_err(io)?;
        Ok(n)
    }
}

/// A temporary file that is removed when dropped, unless renamed into place.
struct TempFile {
    path: Option<PathBuf>,
}

impl TempFile {
    /// Creates `.<name>.<pid>.<n>.part` in `target`'s directory, exclusively (never opening
    /// an existing file or following a symbolic link there).
    fn create_beside(target: &Path) -> std::io::Result<(std::fs::File, TempFile)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the local path names no file",
            )
        })?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tries = 0;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut temp_name = std::ffi::OsString::from(".");
            temp_name.push(name);
            temp_name.push(format!(".{}.{n}.part", std::process::id()));
            let path = dir.join(temp_name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => return Ok((file, TempFile { path: Some(path) })),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 16 => {
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Renames the file over `target`.
    fn persist(mut self, target: &Path) -> std::io::Result<()> {
        let path = self
            .path
            .take()
            .expect("a temporary file is persisted once");
        match std::fs::rename(&path, target) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A progress callback that adds what it is given to a shared counter, for callers that
/// want a running total (e.g. a progress bar polled elsewhere).
pub fn counting_progress() -> (Arc<AtomicU64>, impl Fn(u64) + Send + Sync + 'static) {
    let total = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&total);
    (total, move |n| {
        counter.fetch_add(n, Ordering::Relaxed);
    })
}
