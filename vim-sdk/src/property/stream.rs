//! `RetrievePropertiesEx` with `ContinueRetrievePropertiesEx` paging, decoded object by object.
//!
//! Each page is sent with [`Client::send`]. A small page (its body ends within
//! [`INLINE_PAGE_BYTES`], without pausing for [`INLINE_PAGE_GAP`]) is read whole and decoded
//! where it is, without a thread: most retrievals are one small page, and starting a thread
//! of tokio's blocking pool costs a short-lived program more than decoding it. A larger (or
//! pausing) page's body is read through
//! [`ResponseBody::into_blocking_reader`](crate::transport::ResponseBody::into_blocking_reader)
//! by a decoder on tokio's blocking pool, which walks `Envelope/Body/*Response/returnval` and
//! hands the decoded `ObjectContent`s over a small bounded channel in batches: a batch goes
//! when it holds [`BATCH_OBJECTS`] objects, or as soon as the decoder would wait for the
//! network, so objects are never held back while the connection is idle. (One hand-over per
//! object cost two thread switches per object, more CPU than decoding it.) Memory therefore
//! holds a few batches, not a page; a slow consumer slows the connection.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::managed::{decode_object_content, PropertySet, TypedObject};
use crate::mo;
use crate::soap::{enter_body, BodyContent};
use crate::transport::Collected;
use crate::types::{ObjectContent, PropertyFilterSpec, RetrieveOptions};
use crate::xml::{opt, DecodeError, Encode, Limits, NextChunk, XmlReader};

/// What a [`PropertyStream`] decodes each `ObjectContent` element into: the untyped
/// [`ObjectContent`], or a [`TypedObject`] of a generated property set
/// (`TypedObject<mo::VirtualMachineProperties>`), decoded straight from the XML.
pub trait StreamItem: Send + 'static {
    /// Decodes the `objects` element just entered; `None` for a nil element.
    fn decode_item(r: &mut XmlReader<'_>) -> Result<Option<Self>, DecodeError>
    where
        Self: Sized;
}

impl StreamItem for ObjectContent {
    fn decode_item(r: &mut XmlReader<'_>) -> Result<Option<Self>, DecodeError> {
        opt::<ObjectContent>(r)
    }
}

impl<P: PropertySet + Send + 'static> StreamItem for TypedObject<P> {
    fn decode_item(r: &mut XmlReader<'_>) -> Result<Option<Self>, DecodeError> {
        if r.is_nil() {
            r.skip()?;
            return Ok(None);
        }
        decode_object_content::<P>(r).map(Some)
    }
}

/// Batches buffered between the decoder and the consumer.
const CHANNEL_BATCHES: usize = 4;

/// Most objects in one batch.
const BATCH_OBJECTS: usize = 32;

/// A page whose raw body ends within this many bytes is read whole and decoded on the
/// caller's task (holding its async thread for the decoding of at most this much XML); a
/// larger one is streamed through a decoder on the blocking pool.
pub const INLINE_PAGE_BYTES: usize = 64 * 1024;

/// A page whose body pauses longer than this between two chunks (a server still producing
/// it) is streamed from there on, so the objects already received are not held back.
pub const INLINE_PAGE_GAP: std::time::Duration = std::time::Duration::from_millis(1);

/// Default of [`PropertyStream::max_pages`], unless the client sets another
/// ([`Client::set_max_pages`]).
pub use crate::client::DEFAULT_MAX_PAGES;

enum Item<T> {
    Objects(Vec<T>),
    Token(String),
    /// The page was read to its end.
    End,
}

/// An item of a page, or the error that ended it.
type PageItem<T> = Result<Item<T>, Error>;

/// The items of the page being read.
enum PageItems<T> {
    /// Decoded already (a small page).
    Decoded(std::vec::IntoIter<PageItem<T>>),
    /// From the decoder streaming a large page.
    Streamed(mpsc::Receiver<PageItem<T>>),
}

impl<T> PageItems<T> {
    /// The next item; `None` when the decoder stopped without saying so.
    async fn next(&mut self) -> Option<PageItem<T>> {
        match self {
            PageItems::Decoded(items) => items.next(),
            PageItems::Streamed(rx) => rx.recv().await,
        }
    }
}

/// The objects of a retrieval, page after page, as they are decoded: [`ObjectContent`]s, or
/// typed [`TypedObject`]s (see [`StreamItem`]).
///
/// Dropping the stream before its end stops the decoder and, if the server still holds
/// pages, cancels them with a best-effort `CancelRetrievePropertiesEx`.
pub struct PropertyStream<T: StreamItem = ObjectContent> {
    client: Client,
    collector: mo::PropertyCollector,
    page: Option<PageItems<T>>,
    /// Objects of the last batch not handed out yet.
    ready: std::vec::IntoIter<T>,
    token: Option<String>,
    pages: usize,
    max_pages: usize,
}

impl<T: StreamItem> std::fmt::Debug for PropertyStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PropertyStream")
            .field("collector", &self.collector)
            .field("pages", &self.pages)
            .field("more", &self.token.is_some())
            .finish()
    }
}

impl PropertyStream {
    /// Sends `RetrievePropertiesEx` for `specs` to `collector`; at most `max_objects` objects
    /// come per page (the server's choice when `None`). The objects come as
    /// [`ObjectContent`]s; [`PropertyStream::start_as`] decodes them into another
    /// [`StreamItem`].
    pub async fn start(
        client: &Client,
        collector: &mo::PropertyCollector,
        specs: &[PropertyFilterSpec],
        max_objects: Option<i32>,
    ) -> Result<Self, Error> {
        Self::start_as(client, collector, specs, max_objects).await
    }
}

impl<T: StreamItem> PropertyStream<T> {
    /// [`PropertyStream::start`], decoding each object as a `T`
    /// (`PropertyStream::<TypedObject<mo::VirtualMachineProperties>>::start_as(..)`).
    pub async fn start_as(
        client: &Client,
        collector: &mo::PropertyCollector,
        specs: &[PropertyFilterSpec],
        max_objects: Option<i32>,
    ) -> Result<Self, Error> {
        let mut q = client.request("RetrievePropertiesEx", collector.reference());
        for s in specs {
            s.encode(q.writer(), "specSet");
        }
        RetrieveOptions { max_objects }.encode(q.writer(), "options");
        let mut stream = PropertyStream {
            client: client.clone(),
            collector: collector.clone(),
            page: None,
            ready: Vec::new().into_iter(),
            token: None,
            pages: 0,
            max_pages: client.max_pages(),
        };
        stream.page = Some(stream.open_page(q).await?);
        Ok(stream)
    }

    async fn open_page(&mut self, q: crate::soap::Request) -> Result<PageItems<T>, Error> {
        let op = q.op();
        let object = q.object().to_string();
        let resp = self.client.send(q).await?;
        self.pages += 1;
        let limits = self.client.decode_limits();
        let body = match resp
            .body
            .collect_small(
                INLINE_PAGE_BYTES,
                INLINE_PAGE_GAP,
                self.client.transport().config().max_body,
            )
            .await
        {
            Ok(Collected::Whole(bytes)) => {
                let items = decode_whole_page(&bytes, limits, op, object);
                return Ok(PageItems::Decoded(items.into_iter()));
            }
            Ok(Collected::Large(body)) => body,
            Err(e) => return Err(Error::new(op, Some(object), ErrorKind::Transport(e))),
        };
        let reader = body.into_blocking_reader();
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        tokio::task::spawn_blocking(move || decode_page(reader, limits, &tx, op, object));
        Ok(PageItems::Streamed(rx))
    }

    /// How many pages were requested so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Requests at most `pages` pages in all (the first one included; default
    /// [`DEFAULT_MAX_PAGES`]): a server that keeps answering with a continuation token
    /// then fails [`next`](Self::next) with [`ErrorKind::TooManyPages`] instead of being
    /// followed forever. The pages it still holds are cancelled when the stream is dropped.
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages;
        self
    }

    /// The next object, `Ok(None)` after the last one. The next page is requested once the
    /// current one is consumed.
    pub async fn next(&mut self) -> Result<Option<T>, Error> {
        loop {
            if let Some(o) = self.ready.next() {
                return Ok(Some(o));
            }
            if let Some(page) = &mut self.page {
                match page.next().await {
                    Some(Ok(Item::Objects(batch))) => self.ready = batch.into_iter(),
                    Some(Ok(Item::Token(t))) => self.token = Some(t).filter(|t| !t.is_empty()),
                    Some(Ok(Item::End)) => self.page = None,
                    Some(Err(e)) => {
                        self.page = None;
                        self.token = None;
                        return Err(e);
                    }
                    None => {
                        self.page = None;
                        self.token = None;
                        return Err(self.stopped());
                    }
                }
            } else if self.token.is_some() && self.pages >= self.max_pages {
                return Err(Error::new(
                    "ContinueRetrievePropertiesEx",
                    Some(self.collector.reference().to_string()),
                    ErrorKind::TooManyPages {
                        limit: self.max_pages,
                    },
                ));
            } else if let Some(token) = self.token.take() {
                let mut q = self
                    .client
                    .request("ContinueRetrievePropertiesEx", self.collector.reference());
                token.as_str().encode(q.writer(), "token");
                self.page = Some(self.open_page(q).await?);
            } else {
                return Ok(None);
            }
        }
    }

    fn stopped(&self) -> Error {
        Error::new(
            "RetrievePropertiesEx",
            Some(self.collector.reference().to_string()),
            ErrorKind::Decode(DecodeError::new(
                crate::xml::DecodeErrorKind::Unexpected(
                    "the reply decoder stopped before the end of the page".into(),
                ),
                String::new(),
                0,
            )),
        )
    }

    /// Calls `f` with each object in turn; returns how many there were.
    pub async fn for_each(mut self, mut f: impl FnMut(T)) -> Result<usize, Error> {
        let mut n = 0;
        while let Some(o) = self.next().await? {
            f(o);
            n += 1;
        }
        Ok(n)
    }

    /// Reads every remaining object into a vector.
    pub async fn collect(mut self) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        while let Some(o) = self.next().await? {
            out.push(o);
        }
        Ok(out)
    }

    /// Stops early: the current page's decoder stops and pages still held by the server are
    /// released with `CancelRetrievePropertiesEx` (whose own failure is returned).
    pub async fn cancel(mut self) -> Result<(), Error> {
        self.page = None;
        match self.token.take() {
            Some(token) => {
                self.collector
                    .cancel_retrieve_properties_ex(&self.client, &token)
                    .await
            }
            None => Ok(()),
        }
    }
}

impl<T: StreamItem> Drop for PropertyStream<T> {
    fn drop(&mut self) {
        self.page = None;
        let Some(token) = self.token.take() else {
            return;
        };
        let client = self.client.clone();
        let collector = self.collector.clone();
        super::cleanup::spawn_best_effort("CancelRetrievePropertiesEx", async move {
            collector
                .cancel_retrieve_properties_ex(&client, &token)
                .await
        });
    }
}

/// Sends `RetrievePropertiesEx` (paging with `max_objects`) and calls `f` with each object as
/// it is decoded; returns how many objects there were.
pub async fn retrieve_each(
    client: &Client,
    collector: &mo::PropertyCollector,
    specs: &[PropertyFilterSpec],
    max_objects: Option<i32>,
    f: impl FnMut(ObjectContent),
) -> Result<usize, Error> {
    PropertyStream::start(client, collector, specs, max_objects)
        .await?
        .for_each(f)
        .await
}

/// Sends `RetrievePropertiesEx` (paging with `max_objects`) and returns every object.
pub async fn retrieve(
    client: &Client,
    collector: &mo::PropertyCollector,
    specs: &[PropertyFilterSpec],
    max_objects: Option<i32>,
) -> Result<Vec<ObjectContent>, Error> {
    PropertyStream::start(client, collector, specs, max_objects)
        .await?
        .collect()
        .await
}

/// Why a page's walk ended early.
enum Stop {
    /// The consumer is gone.
    Closed,
    Decode(DecodeError),
    Fault(crate::error::Fault),
}

impl Stop {
    /// The error of a walk over a page read whole (whose consumer cannot be gone).
    fn into_kind(self) -> ErrorKind {
        match self {
            Stop::Decode(e) => ErrorKind::Decode(e),
            Stop::Fault(f) => ErrorKind::Fault(Box::new(f)),
            Stop::Closed => ErrorKind::Decode(DecodeError::new(
                crate::xml::DecodeErrorKind::Unexpected("the page's receiver closed".into()),
                String::new(),
                0,
            )),
        }
    }
}

/// Where a page walk hands its items: the channel to the consumer (a streamed page's
/// decoder thread) or a vector (a page read whole).
trait PageSink<T> {
    /// Hands `item` on; `false` when the consumer is gone.
    fn put(&mut self, item: Item<T>) -> bool;
}

impl<T> PageSink<T> for &mpsc::Sender<PageItem<T>> {
    fn put(&mut self, item: Item<T>) -> bool {
        self.blocking_send(Ok(item)).is_ok()
    }
}

impl<T> PageSink<T> for Vec<PageItem<T>> {
    fn put(&mut self, item: Item<T>) -> bool {
        self.push(Ok(item));
        true
    }
}

impl From<DecodeError> for Stop {
    fn from(e: DecodeError) -> Self {
        Stop::Decode(e)
    }
}

/// Decoded objects not sent yet, shared between the page walk and the reader's wait hook.
type Pending<T> = Arc<Mutex<Vec<T>>>;

/// Sends the pending objects, if any; `false` when the consumer is gone.
fn flush<T>(pending: &Pending<T>, sink: &mut impl PageSink<T>) -> bool {
    let batch = std::mem::take(&mut *pending.lock().unwrap_or_else(|p| p.into_inner()));
    batch.is_empty() || sink.put(Item::Objects(batch))
}

/// Decodes one page from `reader`, sending its objects, its token and its end to `tx`.
fn decode_page<T: StreamItem>(
    mut reader: crate::transport::BlockingBodyReader,
    limits: Limits,
    tx: &mpsc::Sender<Result<Item<T>, Error>>,
    op: &'static str,
    object: String,
) {
    let pending: Pending<T> = Arc::new(Mutex::new(Vec::with_capacity(BATCH_OBJECTS)));
    {
        let (pending, tx) = (pending.clone(), tx.clone());
        reader.on_wait(move || {
            // A closed channel is noticed by the walk at its next send.
            flush(&pending, &mut &tx);
        });
    }
    let mut sink = tx;
    let walked = walk_page(
        &mut XmlReader::from_chunks(Box::new(|| reader.next_chunk())).with_limits(limits),
        &mut sink,
        &pending,
    );
    if !flush(&pending, &mut sink) {
        return;
    }
    let kind = match walked {
        Ok(()) => {
            // Read the envelope's closing tags so the connection can be reused.
            let _ = std::io::copy(
                &mut std::io::Read::take(&mut reader, 1 << 16),
                &mut std::io::sink(),
            );
            let _ = tx.blocking_send(Ok(Item::End));
            return;
        }
        Err(Stop::Closed) => return,
        // A read that failed because the body's stream broke (an idle timeout, a reset) is
        // that transport error, not malformed XML.
        Err(Stop::Decode(e)) => ErrorKind::of_streamed_decode(e, &mut reader),
        Err(Stop::Fault(f)) => ErrorKind::Fault(Box::new(f)),
    };
    let _ = tx.blocking_send(Err(Error::new(op, Some(object), kind)));
}

/// Walks a page `r` reads to its end, every item (objects in batches, the token) in a
/// vector: for a page whose bytes are all at hand.
fn walk_whole<T: StreamItem>(r: &mut XmlReader<'_>) -> (Vec<PageItem<T>>, Result<(), Stop>) {
    let pending: Pending<T> = Arc::new(Mutex::new(Vec::new()));
    let mut items = Vec::new();
    let walked = walk_page(r, &mut items, &pending);
    flush(&pending, &mut items);
    (items, walked)
}

/// Decodes a page read whole, on the caller's thread: its items, then its end or the error
/// that stopped it.
fn decode_whole_page<T: StreamItem>(
    bytes: &[u8],
    limits: Limits,
    op: &'static str,
    object: String,
) -> Vec<PageItem<T>> {
    let (mut items, walked) = walk_whole(&mut XmlReader::from_slice(bytes).with_limits(limits));
    items.push(match walked {
        Ok(()) => Ok(Item::End),
        Err(stop) => Err(Error::new(op, Some(object), stop.into_kind())),
    });
    items
}

/// The reader [`decode_page_chunks`] decodes with: the default limits, `max_bytes` for the
/// size (a stream uses its client's [`decode_limits`](Client::decode_limits)).
fn page_reader(next: NextChunk<'_>, max_bytes: u64) -> XmlReader<'_> {
    let limits = Limits {
        max_bytes,
        ..Limits::default()
    };
    XmlReader::from_chunks(next).with_limits(limits)
}

/// One page's content, as [`decode_page_chunks`] returns it.
#[derive(Debug)]
pub struct Page<T> {
    /// The objects, in document order.
    pub objects: Vec<T>,
    /// The page's `token` (the last one, if the page held several), if any.
    pub token: Option<String>,
}

/// Decodes one `RetrievePropertiesEx` page delivered by `next` in chunks, with the same reader,
/// limits and walk as a [`PropertyStream`]'s decoder, but without a connection: for fuzzing
/// and tests of the streamed reader. Must not be called from an async context.
pub fn decode_page_chunks<T: StreamItem>(
    next: NextChunk<'_>,
    max_bytes: u64,
) -> Result<Page<T>, Error> {
    let (items, walked) = walk_whole(&mut page_reader(next, max_bytes));
    let mut page = Page {
        objects: Vec::new(),
        token: None,
    };
    for item in items {
        match item {
            Ok(Item::Objects(batch)) => page.objects.extend(batch),
            Ok(Item::Token(t)) => page.token = Some(t),
            Ok(Item::End) | Err(_) => {}
        }
    }
    walked
        .map(|()| page)
        .map_err(|stop| Error::new("RetrievePropertiesEx", None, stop.into_kind()))
}

fn walk_page<T: StreamItem>(
    r: &mut XmlReader<'_>,
    sink: &mut impl PageSink<T>,
    pending: &Pending<T>,
) -> Result<(), Stop> {
    if let BodyContent::Fault(f) = enter_body(r)? {
        r.finish()?;
        return Err(Stop::Fault(f));
    }
    while r.enter_child()? {
        if r.current_name() != b"returnval" || r.is_nil() {
            r.skip()?;
            continue;
        }
        while r.enter_child()? {
            match r.current_name() {
                b"objects" => {
                    if let Some(o) = T::decode_item(r)? {
                        let full = {
                            let mut p = pending.lock().unwrap_or_else(|p| p.into_inner());
                            p.push(o);
                            p.len() >= BATCH_OBJECTS
                        };
                        if full && !flush(pending, sink) {
                            return Err(Stop::Closed);
                        }
                    }
                }
                b"token" => {
                    let token = r.read_text()?;
                    if !flush(pending, sink) || !sink.put(Item::Token(token)) {
                        return Err(Stop::Closed);
                    }
                }
                _ => r.skip()?,
            }
        }
    }
    // The closing tags: a page cut after its last object is an error, not a complete page.
    r.finish()?;
    Ok(())
}
