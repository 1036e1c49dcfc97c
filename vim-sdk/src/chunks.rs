//! A `BufRead` over a sequence of `Bytes` chunks (a response body as it arrives): the current
//! chunk is served in place, and the source is asked for the next one only when it is used up.
//! Both the transport's streaming reader and the XML reader's chunk input are built on it.

use std::io::{self, BufRead, Read};

use bytes::Bytes;

/// Where a [`ChunkBuf`] gets its chunks.
pub(crate) trait ChunkSource {
    /// The next chunk, `Ok(None)` at the end.
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>>;
}

impl ChunkSource for Box<dyn FnMut() -> io::Result<Option<Bytes>> + '_> {
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        self()
    }
}

/// Chunks from `S` as a `BufRead`.
pub(crate) struct ChunkBuf<S> {
    current: Bytes,
    source: S,
    done: bool,
    /// Bytes taken from the source so far (the first chunk included).
    taken: u64,
    /// Most bytes taken from the source before reads fail with [`InputTooLarge`].
    limit: u64,
}

/// The error a bounded [`ChunkBuf`] or [`LimitedRead`] fails with once its input passes the
/// limit (inside an `io::Error` of kind `InvalidData`).
#[derive(Debug)]
pub(crate) struct InputTooLarge;

impl std::fmt::Display for InputTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the input exceeds its size limit")
    }
}

impl std::error::Error for InputTooLarge {}

fn too_large() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, InputTooLarge)
}

/// Whether `e` is the error of an input past its limit.
pub(crate) fn is_too_large(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<InputTooLarge>())
}

impl<S: ChunkSource> ChunkBuf<S> {
    /// A reader that starts with `first`, then reads `source`.
    pub(crate) fn new(first: Bytes, source: S) -> Self {
        ChunkBuf {
            taken: first.len() as u64,
            current: first,
            source,
            done: false,
            limit: u64::MAX,
        }
    }

    /// Fails reads with [`InputTooLarge`] once more than `limit` bytes came from the source:
    /// checked as each chunk arrives, so a reader that buffers until a delimiter (a text node
    /// without end) holds at most `limit` bytes and a chunk.
    pub(crate) fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The source, e.g. to configure it.
    pub(crate) fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// The rest of the current chunk, or the next chunk, whole (handed on without copying);
    /// `Ok(None)` at the end.
    pub(crate) fn take_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if self.current.is_empty() {
            self.refill()?;
        }
        let chunk = std::mem::take(&mut self.current);
        Ok(Some(chunk).filter(|c| !c.is_empty()))
    }

    #[cold]
    fn refill(&mut self) -> io::Result<()> {
        while self.current.is_empty() && !self.done {
            if self.taken > self.limit {
                return Err(too_large());
            }
            match self.source.next_chunk()? {
                Some(chunk) => {
                    self.taken = self.taken.saturating_add(chunk.len() as u64);
                    self.current = chunk;
                }
                None => self.done = true,
            }
        }
        if self.taken > self.limit {
            self.current = Bytes::new();
            return Err(too_large());
        }
        Ok(())
    }
}

impl<S: ChunkSource> Read for ChunkBuf<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<S: ChunkSource> BufRead for ChunkBuf<S> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.current.is_empty() {
            self.refill()?;
        }
        Ok(&self.current)
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        // `advance` moves the start in place; `split_to` would clone and drop a shared
        // handle (two atomic operations) on every small read the XML parser makes.
        let amt = amt.min(self.current.len());
        bytes::Buf::advance(&mut self.current, amt);
    }
}

/// A `BufRead` that fails with [`InputTooLarge`] once more than `limit` bytes were consumed
/// from it (the XML reader's bound on a stream, for text nodes too).
pub(crate) struct LimitedRead<R> {
    inner: R,
    consumed: u64,
    limit: u64,
}

impl<R: BufRead> LimitedRead<R> {
    /// `inner`, unbounded until [`set_limit`](Self::set_limit).
    pub(crate) fn new(inner: R) -> Self {
        LimitedRead {
            inner,
            consumed: 0,
            limit: u64::MAX,
        }
    }

    /// See [`ChunkBuf::set_limit`].
    pub(crate) fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }
}

impl<R: BufRead> Read for LimitedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LimitedRead<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed > self.limit {
            return Err(too_large());
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.consumed = self.consumed.saturating_add(amt as u64);
        self.inner.consume(amt);
    }
}
