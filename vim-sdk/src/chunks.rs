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
}

impl<S: ChunkSource> ChunkBuf<S> {
    /// A reader that starts with `first`, then reads `source`.
    pub(crate) fn new(first: Bytes, source: S) -> Self {
        ChunkBuf {
            current: first,
            source,
            done: false,
        }
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
            match self.source.next_chunk()? {
                Some(chunk) => self.current = chunk,
                None => self.done = true,
            }
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
