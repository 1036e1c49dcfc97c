//! Streaming transfers of datastore files over HTTP, never holding a whole file in memory.
//!
//! Requests carry the session cookie. Through vCenter they go to vCenter, which relays them
//! to a host; a host service ticket (`AcquireGenericServiceTicket`) is not used yet.

use std::io::Read;
use std::path::Path;
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
    fn error(&self, method: &str, path: &str, e: TransportError) -> Error {
        Error::new(
            method,
            Some(self.location.datastore_path(path)),
            ErrorKind::Transport(e),
        )
    }

    fn url(&self, method: &str, path: &str) -> Result<String, Error> {
        self.location
            .url_path(path)
            .map_err(|message| self.error(method, path, TransportError::InvalidUrl { message }))
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
        let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
        let pump = tokio::task::spawn_blocking(move || loop {
            let mut buf = vec![0u8; DOWNLOAD_CHUNK];
            let item = match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    Ok(buf)
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
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
                Ok(chunk) => sink.write_all(&chunk).await.map(|_| chunk.len() as u64),
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
            .and(sink.flush().await)
            .map_err(|e| self.error(OP, path, TransportError::Io(e)))?;
        Ok(total)
    }

    /// Downloads `path` into the local file `local` (created or truncated); returns the
    /// number of bytes written.
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
        let mut file = tokio::fs::File::create(local)
            .await
            .map_err(|e| self.error("datastore download", path, TransportError::Io(e)))?;
        let n = self.download(client, path, &mut file, progress).await?;
        file.sync_all()
            .await
            .map_err(|e| self.error("datastore download", path, TransportError::Io(e)))?;
        Ok(n)
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
