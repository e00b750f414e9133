// Unless explicitly stated otherwise all files in this repository are licensed
// under the MIT/Apache-2.0 License, at your convenience
//
// This product includes software developed at Datadog (https://www.datadoghq.com/). Copyright 2020 Datadog, Inc.
//
use crate::{
    reactor::Reactor,
    sys::{self, Source, SourceType},
};
use futures_lite::ready;
use nix::sys::socket::MsgFlags;
use std::{
    cell::Cell,
    io,
    net::Shutdown,
    os::unix::io::{AsRawFd, FromRawFd, RawFd},
    rc::{Rc, Weak},
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

type Result<T> = crate::Result<T, ()>;

/// Root trait for socket stream receive buffer
pub trait RxBuf {
    fn read(&mut self, buf: &mut [u8]) -> usize;
    fn peek(&self, buf: &mut [u8]) -> usize;
    fn is_empty(&self) -> bool;
    fn as_bytes(&self) -> &[u8];
    fn consume(&mut self, amt: usize);
    fn buffer_size(&self) -> usize;
    fn handle_result(&mut self, result: usize);
    fn unfilled(&mut self) -> &mut [u8];
}

#[derive(Debug, Default)]
pub struct NonBuffered;

impl RxBuf for NonBuffered {
    fn read(&mut self, _buf: &mut [u8]) -> usize {
        0
    }

    fn peek(&self, _buf: &mut [u8]) -> usize {
        0
    }

    fn is_empty(&self) -> bool {
        true
    }

    fn as_bytes(&self) -> &[u8] {
        &[]
    }

    fn consume(&mut self, _amt: usize) {}

    fn buffer_size(&self) -> usize {
        0
    }

    fn handle_result(&mut self, _result: usize) {}

    fn unfilled(&mut self) -> &mut [u8] {
        &mut []
    }
}

/// Trait for receive buffer implementations
pub trait Buffered: RxBuf {}

/// Non-shared fixed sized receive buffer allocated
/// when buffered stream is created
#[derive(Debug)]
pub struct Preallocated {
    buf: Vec<u8>,
    head: usize,
    tail: usize,
    cap: usize,
}

impl Preallocated {
    const DEFAULT_BUFFER_SIZE: usize = 8192;

    /// Creates a fixed sized receive buffer
    pub fn new(size: usize) -> Self {
        Self {
            buf: vec![0; size],
            tail: 0,
            head: 0,
            cap: size,
        }
    }
}

impl Default for Preallocated {
    fn default() -> Self {
        Self::new(Self::DEFAULT_BUFFER_SIZE)
    }
}

impl Preallocated {
    fn len(&self) -> usize {
        self.tail - self.head
    }
}

impl Buffered for Preallocated {}

impl RxBuf for Preallocated {
    fn read(&mut self, buf: &mut [u8]) -> usize {
        let sz = std::cmp::min(self.len(), buf.len());
        if sz > 0 {
            buf[..sz].copy_from_slice(&self.buf[self.head..self.head + sz]);
            self.head += sz;
        }
        sz
    }

    fn peek(&self, buf: &mut [u8]) -> usize {
        let sz = std::cmp::min(self.len(), buf.len());
        if sz > 0 {
            buf[..sz].copy_from_slice(&self.buf[self.head..self.head + sz]);
        }
        sz
    }

    fn is_empty(&self) -> bool {
        self.head >= self.tail
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[self.head..self.tail]
    }

    fn consume(&mut self, amt: usize) {
        self.head += std::cmp::min(self.len(), amt);
    }

    fn buffer_size(&self) -> usize {
        self.cap
    }

    fn handle_result(&mut self, result: usize) {
        self.tail += result;
    }

    fn unfilled(&mut self) -> &mut [u8] {
        if self.len() == 0 {
            self.head = 0;
            self.tail = 0;
        }
        &mut self.buf[self.tail..]
    }
}

#[derive(Debug)]
struct Timeout {
    id: u64,
    timeout: Cell<Option<Duration>>,
    timer: Cell<Option<Instant>>,
}

impl Timeout {
    fn new(id: u64) -> Self {
        Self {
            id,
            timeout: Cell::new(None),
            timer: Cell::new(None),
        }
    }

    fn get(&self) -> Option<Duration> {
        self.timeout.get()
    }

    fn set(&self, dur: Option<Duration>) -> Result<()> {
        if let Some(dur) = dur.as_ref() {
            if dur.as_nanos() == 0 {
                return Err(io::Error::from_raw_os_error(libc::EINVAL).into());
            }
        }
        self.timeout.set(dur);
        Ok(())
    }

    fn maybe_set_timer(&self, reactor: &Reactor, waker: &Waker) {
        if let Some(timeout) = self.timeout.get() {
            if self.timer.get().is_none() {
                let deadline = Instant::now() + timeout;
                reactor.insert_timer(self.id, deadline, waker.clone());
                self.timer.set(Some(deadline));
            }
        }
    }

    fn cancel_timer(&self, reactor: &Reactor) {
        if self.timer.take().is_some() {
            reactor.remove_timer(self.id);
        }
    }

    fn check(&self, reactor: &Reactor) -> io::Result<()> {
        if let Some(deadline) = self.timer.get() {
            if !reactor.timer_exists(&(deadline, self.id)) {
                reactor.remove_timer(self.id);
                self.timer.take();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "Operation timed out",
                ));
            }
        }
        Ok(())
    }
}

/// percore: what every later read of a stream returns once its multishot
/// receive ended with `result`: end of stream (`Ok(0)`) or the error; or
/// `None` when it ended for a reason of its own (after data because the
/// CQ was full, out of provided buffers, cancelled for read-ahead), and
/// the socket's data is still to be received by a new one.
fn final_read(result: io::Result<usize>) -> Option<io::Result<usize>> {
    match result {
        Ok(0) => Some(Ok(0)),
        Ok(_) => None,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOBUFS) | Some(libc::ECANCELED)) => None,
        Err(e) => Some(Err(e)),
    }
}

#[derive(Debug)]
pub(crate) struct NonBufferedStream<S> {
    reactor: Weak<Reactor>,
    stream: S,
    source_tx: Option<Source>,
    source_rx: Option<Source>,
    /// percore: the multishot receive this stream reads from, when the
    /// reactor supports them (then `source_rx` is unused).
    multishot: Option<Source>,
    /// percore: the io_uring SEND in flight, when the reactor sends with
    /// io_uring (then `source_tx` is unused), and the buffer it gives back.
    send: Option<Source>,
    send_buffer: Vec<u8>,
    /// percore: the source of the last send, completed, kept to carry the
    /// next one (`Reactor::resend_owned`): no allocation per send.
    send_done: Option<Source>,
    /// percore: reads with `multishot` and writes with `send`, decided once
    /// when the stream is made (the reactor has provided buffers).
    completion_io: bool,
    write_timeout: Timeout,
    read_timeout: Timeout,
}

impl<S: AsRawFd> NonBufferedStream<S> {
    fn init(&mut self) {
        let reactor = self.reactor.upgrade().unwrap();
        let stream_fd = self.stream.as_raw_fd();
        if self.completion_io {
            // percore: receive from the start, with one submission.
            self.multishot = Some(reactor.recv_multishot(stream_fd));
        } else {
            self.source_rx = Some(reactor.poll_read_ready(stream_fd));
        }
    }

    /// percore: reads what the multishot receive has received, arming a new
    /// one when the last ended for a reason other than end of stream or an
    /// error (buffers ran out, read-ahead cancelled).
    fn poll_read_multishot(
        &mut self,
        cx: &Context<'_>,
        buf: &mut [u8],
        reactor: &Reactor,
    ) -> Poll<io::Result<usize>> {
        loop {
            let source = match &self.multishot {
                Some(source) => source,
                None => {
                    let source = reactor.recv_multishot(self.stream.as_raw_fd());
                    self.multishot.insert(source)
                }
            };
            let n = source.take_received(buf);
            if n > 0 || buf.is_empty() {
                self.read_timeout.cancel_timer(reactor);
                return Poll::Ready(Ok(n));
            }
            match source.result() {
                None => {
                    poll_err!(self.read_timeout.check(reactor));
                    source.add_waiter_single(cx.waker());
                    self.read_timeout.maybe_set_timer(reactor, cx.waker());
                    return Poll::Pending;
                }
                Some(result) => match final_read(result) {
                    // The finished receive is kept, so that every later
                    // read says so again, as recv(2) on the socket would.
                    Some(result) => {
                        self.read_timeout.cancel_timer(reactor);
                        return Poll::Ready(result);
                    }
                    None => self.multishot = None,
                },
            }
        }
    }

    /// percore: what a peek sees while a multishot receive is taking the
    /// socket's data: what it holds, its end of stream or error, or `None`
    /// when it holds nothing yet (`Pending`) or has ended without either (the
    /// data is then still in the socket).
    fn peek_multishot(&self, buf: &mut [u8], cx: Option<&Context<'_>>) -> Option<Poll<io::Result<usize>>> {
        let source = self.multishot.as_ref()?;
        let n = source.peek_received(buf);
        if n > 0 || buf.is_empty() {
            return Some(Poll::Ready(Ok(n)));
        }
        match source.result() {
            None => {
                if let Some(cx) = cx {
                    source.add_waiter_many(cx.waker().clone());
                }
                Some(Poll::Pending)
            }
            Some(result) => final_read(result).map(Poll::Ready),
        }
    }

    pub(crate) fn try_peek(&self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        match self.peek_multishot(buf, None) {
            Some(Poll::Ready(result)) => return Some(result),
            Some(Poll::Pending) => return None,
            None => {}
        }
        super::yolo_peek(self.stream.as_raw_fd(), buf)
    }

    pub(crate) async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        if self.multishot.is_some() {
            let multishot = futures_lite::future::poll_fn(|cx| match self.peek_multishot(buf, Some(cx)) {
                Some(Poll::Ready(result)) => Poll::Ready(Some(result)),
                Some(Poll::Pending) => Poll::Pending,
                None => Poll::Ready(None),
            })
            .await;
            if let Some(result) = multishot {
                return result;
            }
        }
        let source = self.reactor.upgrade().unwrap().recv(
            self.stream.as_raw_fd(),
            buf.len(),
            MsgFlags::MSG_PEEK,
        );

        let sz = source.collect_rw().await?;
        match source.extract_source_type() {
            SourceType::SockRecv(mut src) => {
                buf[0..sz].copy_from_slice(&src.take().unwrap().as_bytes()[0..sz]);
            }
            _ => unreachable!(),
        }
        Ok(sz)
    }

    pub(crate) fn poll_read(
        &mut self,
        cx: &Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let reactor = self.reactor.upgrade().unwrap();
        let reactor = reactor.as_ref();

        if self.completion_io {
            return self.poll_read_multishot(cx, buf, reactor);
        }

        let no_pending_poll = self
            .source_rx
            .as_ref()
            .map(|src| src.result().is_some())
            .unwrap_or(true);

        if no_pending_poll {
            if let Some(result) = super::yolo_recv(self.stream.as_raw_fd(), buf) {
                self.source_rx.take();
                self.read_timeout.cancel_timer(reactor);
                let result = poll_err!(result);
                // Start an early poll if the buffer is not fully filled. So when
                // the next time `poll_read` is called, it will be known immediately
                // whether the underlying stream is ready for reading.
                if result > 0 && result < buf.len() {
                    self.source_rx = Some(reactor.poll_read_ready(self.stream.as_raw_fd()));
                    // The `rush_dispatch`s here and after could be removed to
                    // improve performance if #458 is handled appropriately.
                    // reactor.rush_dispatch(self.source_rx.as_ref().unwrap());
                }
                return Poll::Ready(Ok(result));
            }
        }

        poll_err!(self.read_timeout.check(reactor));

        if no_pending_poll {
            self.source_rx = Some(reactor.poll_read_ready(self.stream.as_raw_fd()));
            // reactor.rush_dispatch(self.source_rx.as_ref().unwrap());
        }

        let source = self.source_rx.as_ref().unwrap();
        source.add_waiter_single(cx.waker());
        self.read_timeout.maybe_set_timer(reactor, cx.waker());
        Poll::Pending
    }

    /// percore: writes with an io_uring SEND of a copy of `buf` (at most
    /// `SEND_CHUNK` bytes), submitted with every other request of the loop
    /// pass in one `io_uring_enter`. The first call copies and queues; the
    /// next call, with the same `buf` as `AsyncWrite` requires, returns how
    /// much was sent.
    fn poll_write_uring(
        &mut self,
        cx: &Context<'_>,
        buf: &[u8],
        reactor: &Reactor,
    ) -> Poll<io::Result<usize>> {
        /// Bounds the copy a connection keeps; a longer write is partial.
        const SEND_CHUNK: usize = 256 * 1024;
        if let Some(source) = &self.send {
            match source.result() {
                None => {
                    poll_err!(self.write_timeout.check(reactor));
                    source.add_waiter_single(cx.waker());
                    self.write_timeout.maybe_set_timer(reactor, cx.waker());
                    return Poll::Pending;
                }
                Some(result) => {
                    let source = self.send.take().expect("checked above");
                    self.write_timeout.cancel_timer(reactor);
                    return Poll::Ready(self.sent(source, result));
                }
            }
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut buffer = std::mem::take(&mut self.send_buffer);
        buffer.clear();
        buffer.extend_from_slice(&buf[..buf.len().min(SEND_CHUNK)]);
        let source = match self.send_done.take() {
            Some(source) if source.is_done() => {
                reactor.resend_owned(&source, buffer);
                source
            }
            _ => reactor.send_owned(self.stream.as_raw_fd(), buffer),
        };
        // A prompt send may have completed already (`send_owned` reaps
        // after submitting it): the write is done without a wait.
        if let Some(result) = source.result() {
            return Poll::Ready(self.sent(source, result));
        }
        source.add_waiter_single(cx.waker());
        self.write_timeout.maybe_set_timer(reactor, cx.waker());
        self.send = Some(source);
        Poll::Pending
    }

    /// percore: a send of `source` has completed with `result`: its buffer
    /// and its source are kept for the next write.
    fn sent(&mut self, source: Source, result: io::Result<usize>) -> io::Result<usize> {
        if let SourceType::SockSendOwned(buffer) = source.take_source_type() {
            // Kept for the next write, unless a large write
            // grew it: an idle connection holds at most this.
            const KEEP_SEND_BUFFER: usize = 16 * 1024;
            if buffer.capacity() <= KEEP_SEND_BUFFER {
                self.send_buffer = buffer;
            }
        }
        self.send_done = Some(source);
        result
    }

    pub(crate) fn poll_write(&mut self, cx: &Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.completion_io {
            let reactor = self.reactor.upgrade().unwrap();
            return self.poll_write_uring(cx, buf, &reactor);
        }
        // On the write path, we always start with calling `yolo_send`, because
        // it is very likely to success. It could be a waste if it already timed
        // out since the last `poll_write`, but it would not cost much more to
        // give it one last chance in this case.
        if let Some(result) = super::yolo_send(self.stream.as_raw_fd(), buf) {
            let reactor = self.reactor.upgrade().unwrap();
            self.write_timeout.cancel_timer(reactor.as_ref());
            self.source_tx.take();
            return Poll::Ready(result);
        }

        let reactor = self.reactor.upgrade().unwrap();
        let reactor = reactor.as_ref();
        poll_err!(self.write_timeout.check(reactor));

        let no_pending_poll = self
            .source_tx
            .as_ref()
            .map(|src| src.result().is_some())
            .unwrap_or(true);

        if no_pending_poll {
            self.source_tx = Some(reactor.poll_write_ready(self.stream.as_raw_fd()));
        }

        let source = self.source_tx.as_ref().unwrap();
        source.add_waiter_single(cx.waker());
        self.write_timeout.maybe_set_timer(reactor, cx.waker());
        Poll::Pending
    }

    pub(crate) fn poll_close(&mut self, cx: &Context<'_>) -> Poll<io::Result<()>> {
        // percore: a SEND still queued or in flight goes out before the FIN.
        if let Some(source) = &self.send {
            if source.result().is_none() {
                source.add_waiter_single(cx.waker());
                return Poll::Pending;
            }
            self.send = None;
        }
        self.source_tx.take();
        Poll::Ready(sys::shutdown(self.stream.as_raw_fd(), Shutdown::Write))
    }

    /// percore: ends this stream's I/O on this executor and gives back its
    /// socket, open, with the bytes received for it and not yet read (for a
    /// connection handed to another executor: `TcpStream::detach`). A SEND
    /// still queued or in flight completes first; a multishot receive is
    /// cancelled and its last completion awaited, so nothing the kernel took
    /// from the socket is lost, and what it left there the next reader gets.
    pub(crate) async fn detach(mut self) -> io::Result<(S, Vec<u8>)> {
        let reactor = self.reactor.upgrade().unwrap();
        if let Some(send) = self.send.take() {
            send.collect_rw().await?;
        }
        self.read_timeout.cancel_timer(&reactor);
        self.write_timeout.cancel_timer(&reactor);
        let mut unread = Vec::new();
        if let Some(source) = self.multishot.take() {
            if source.cancel_multishot() {
                futures_lite::future::poll_fn(|cx| {
                    if source.result().is_some() {
                        return Poll::Ready(());
                    }
                    source.add_waiter_many(cx.waker().clone());
                    Poll::Pending
                })
                .await;
            }
            unread = source.take_all_received();
        }
        // The readiness polls of the older path hold no data: dropping them
        // cancels them, and the socket keeps what it has.
        self.source_rx.take();
        self.source_tx.take();
        Ok((self.stream, unread))
    }

    /// io_uring has support for shutdown now, but it is not in any released
    /// kernel. Even with my "let's use latest" policy it would be crazy to
    /// mandate a kernel that doesn't even exist. So in preparation for that
    /// we'll sync-emulate this but already on an async wrapper
    pub(crate) fn poll_shutdown(
        &self,
        _cx: &mut Context<'_>,
        how: Shutdown,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(sys::shutdown(self.stream.as_raw_fd(), how))
    }
}

#[derive(Debug)]
pub(crate) struct GlommioStream<S, B> {
    stream: NonBufferedStream<S>,
    rx_buf: B,
    rx_done: Cell<bool>,
}

impl<S> From<socket2::Socket> for GlommioStream<S, NonBuffered>
where
    S: AsRawFd + From<socket2::Socket> + Unpin,
{
    fn from(socket: socket2::Socket) -> Self {
        let reactor = crate::executor().reactor();
        let mut stream = NonBufferedStream {
            reactor: Rc::downgrade(&reactor),
            stream: socket.into(),
            source_tx: None,
            source_rx: None,
            multishot: None,
            send: None,
            send_buffer: Vec::new(),
            send_done: None,
            completion_io: reactor.multishot_recv_supported(),
            write_timeout: Timeout::new(reactor.register_timer()),
            read_timeout: Timeout::new(reactor.register_timer()),
        };
        stream.init();
        GlommioStream {
            stream,
            rx_buf: NonBuffered,
            rx_done: Cell::new(false),
        }
    }
}

impl<S: AsRawFd> AsRawFd for GlommioStream<S, NonBuffered> {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.stream.as_raw_fd()
    }
}

impl<S> FromRawFd for GlommioStream<S, NonBuffered>
where
    S: AsRawFd + FromRawFd + From<socket2::Socket> + Unpin,
{
    unsafe fn from_raw_fd(fd: RawFd) -> Self {
        let socket = socket2::Socket::from_raw_fd(fd);
        GlommioStream::from(socket)
    }
}

impl<S: AsRawFd> GlommioStream<S, NonBuffered> {
    /// percore: see `NonBufferedStream::detach`.
    pub(crate) async fn detach(self) -> io::Result<(S, Vec<u8>)> {
        self.stream.detach().await
    }
}

impl<S> GlommioStream<S, NonBuffered> {
    pub(crate) fn buffered_with<B: Buffered>(self, rx_buf: B) -> GlommioStream<S, B> {
        GlommioStream {
            stream: self.stream,
            rx_buf,
            rx_done: self.rx_done,
        }
    }
}

impl<S: AsRawFd, B: RxBuf> GlommioStream<S, B> {
    /// Receives data on the socket from the remote address to which it is
    /// connected, without removing that data from the queue.
    ///
    /// On success, returns the number of bytes peeked.
    /// Successive calls return the same data. This is accomplished by passing
    /// `MSG_PEEK` as a flag to the underlying `recv` system call.
    pub(crate) async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut pos = self.rx_buf.peek(buf);
        if pos < buf.len() && !self.rx_done.get() {
            if let Some(result) = self.stream.try_peek(&mut buf[pos..]) {
                match result {
                    Err(e) => return Err(e),
                    Ok(len) => {
                        pos += len;
                        if len == 0 {
                            self.rx_done.set(true);
                        }
                    }
                }
            }
        }
        if pos > 0 || self.rx_done.get() {
            return Ok(pos);
        }
        self.stream.peek(buf).await
    }

    pub(crate) fn poll_read(
        &mut self,
        cx: &Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.rx_buf.is_empty() {
            if buf.len() >= self.rx_buf.buffer_size() {
                return self.stream.poll_read(cx, buf);
            }
            if !self.rx_done.get() {
                poll_err!(ready!(self.poll_replenish_buffer(cx)));
            }
        }
        Poll::Ready(Ok(self.rx_buf.read(buf)))
    }

    fn poll_replenish_buffer(&mut self, cx: &Context<'_>) -> Poll<io::Result<usize>> {
        let result = poll_err!(ready!(self.stream.poll_read(cx, self.rx_buf.unfilled())));
        self.rx_buf.handle_result(result);
        if result == 0 {
            self.rx_done.set(true);
        }
        Poll::Ready(Ok(result))
    }

    pub(crate) fn poll_write(&mut self, cx: &Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.stream.poll_write(cx, buf)
    }

    pub(crate) fn poll_flush(&self, _cx: &Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    pub(crate) fn poll_close(&mut self, cx: &Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_close(cx)
    }

    pub(crate) fn poll_shutdown(
        &self,
        cx: &mut Context<'_>,
        how: Shutdown,
    ) -> Poll<io::Result<()>> {
        self.stream.poll_shutdown(cx, how)
    }

    pub(crate) fn set_write_timeout(&self, dur: Option<Duration>) -> Result<()> {
        self.stream.write_timeout.set(dur)
    }

    pub(crate) fn set_read_timeout(&self, dur: Option<Duration>) -> Result<()> {
        self.stream.read_timeout.set(dur)
    }

    pub(crate) fn write_timeout(&self) -> Option<Duration> {
        self.stream.write_timeout.get()
    }

    pub(crate) fn read_timeout(&self) -> Option<Duration> {
        self.stream.read_timeout.get()
    }

    pub(crate) fn stream(&self) -> &S {
        &self.stream.stream
    }
}

impl<S: AsRawFd, B: Buffered> GlommioStream<S, B> {
    pub(crate) fn poll_fill_buf(&mut self, cx: &Context<'_>) -> Poll<io::Result<&[u8]>> {
        if self.rx_buf.is_empty() {
            poll_err!(ready!(self.poll_replenish_buffer(cx)));
        }
        Poll::Ready(Ok(self.rx_buf.as_bytes()))
    }

    pub(crate) fn consume(&mut self, amt: usize) {
        self.rx_buf.consume(amt);
    }
}
