//! A loopback HTTP proxy in front of a plain-HTTP simulator that counts the requests going
//! through it and, when request N arrives ([`KillAt::Before`]: not forwarded) or right after
//! request N's reply reached the client ([`KillAt::AfterReply`]), SIGKILLs a process (the
//! driver under test). Once it has killed, it forwards nothing more until [`reset`]
//! (KillProxy::reset), so the victim cannot get one more request through on its way down.
//!
//! Both kill points are exact, whatever the scheduler does: at `Before`, the victim is waiting
//! for the reply it will never get; at `AfterReply`, the victim is stopped (SIGSTOP, and the
//! proxy waits until every thread of it is) before the reply is handed to its socket, then
//! killed. The victim therefore never acts on that reply, and can never exit on its own
//! before the kill lands (which, when the proxy killed from its own thread a moment late, let
//! a victim finish first, or let the kill land after the test had reset the proxy).
//! It can also cut off any request body longer than a limit ([`KillProxy::cut_bodies_after`]):
//! an upload broken midway, while the small SOAP calls go through. The server has finished
//! with the cut request (its connection closed) before the client sees the cut, so what the
//! client does next cannot be overtaken by the server's handling of the cut upload.
//!
//! HTTP/1.1 only, as the drivers speak it: bodies framed by `Content-Length` or chunked
//! (responses without either run to the end of the connection).

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// When to kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillAt {
    /// When request N has arrived, before it is forwarded.
    Before(u64),
    /// When request N's reply has been passed on to the client.
    AfterReply(u64),
}

#[derive(Debug, Default)]
struct State {
    /// Requests seen since the last reset.
    requests: u64,
    /// What to do, and to whom.
    plan: Option<(KillAt, u32)>,
    /// Whether the plan was carried out.
    killed: bool,
    /// Request bodies longer than this are cut off after this many bytes.
    cut_after: Option<u64>,
}

/// The proxy (runs until the test process ends).
#[derive(Debug, Clone)]
pub struct KillProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl KillProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> KillProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the kill proxy");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || {
                    if let Ok(server) = TcpStream::connect(upstream) {
                        let _ = serve(client, server, &state);
                    }
                });
            }
        });
        KillProxy { addr, state }
    }

    /// The address to point the drivers at.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Zeroes the count and forgets the plan: everything passes again (a body limit set with
    /// [`cut_bodies_after`](Self::cut_bodies_after) stays).
    pub fn reset(&self) {
        let mut s = self.lock();
        *s = State {
            cut_after: s.cut_after,
            ..State::default()
        };
    }

    /// Zeroes the count and arms `at` against process `pid`.
    pub fn arm(&self, at: KillAt, pid: u32) {
        let mut s = self.lock();
        *s = State {
            plan: Some((at, pid)),
            cut_after: s.cut_after,
            ..State::default()
        };
    }

    /// From now on, a request whose body is longer than `limit` bytes gets only `limit`
    /// of them forwarded, then both connections are closed (`None`: no limit).
    pub fn cut_bodies_after(&self, limit: Option<u64>) {
        self.lock().cut_after = limit;
    }

    /// Requests seen since the last reset or arm.
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Whether the armed kill happened.
    pub fn killed(&self) -> bool {
        self.lock().killed
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) with a pid the test spawned (not reaped before the proxy is done with
    // it: the victim cannot exit while it waits for a reply); no memory involved.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

fn kill(pid: u32) {
    signal(pid, libc::SIGKILL);
}

/// Whether every thread of `pid` is stopped (`T` in `/proc/<pid>/task/*/stat`).
fn all_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return true; // gone
    };
    tasks.flatten().all(|t| {
        std::fs::read_to_string(t.path().join("stat")).map_or(true, |stat| {
            // The state follows the command name, which is in parentheses.
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            state.is_none_or(|s| s.starts_with(['T', 't', 'Z', 'X']))
        })
    })
}

/// Stops `pid` (SIGSTOP) and waits until all its threads are stopped (at most 10 s).
fn stop(pid: u32) {
    signal(pid, libc::SIGSTOP);
    let started = std::time::Instant::now();
    while !all_stopped(pid) && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// What happens to one request, decided when its head arrives.
enum Verdict {
    Forward { kill_after: Option<u32> },
    Drop,
}

fn on_request(state: &Mutex<State>) -> (Verdict, Option<u64>) {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if s.killed {
        return (Verdict::Drop, None);
    }
    s.requests += 1;
    let n = s.requests;
    let verdict = match s.plan {
        Some((KillAt::Before(at), pid)) if at == n => {
            kill(pid);
            s.killed = true;
            Verdict::Drop
        }
        Some((KillAt::AfterReply(at), pid)) if at == n => Verdict::Forward {
            kill_after: Some(pid),
        },
        _ => Verdict::Forward { kill_after: None },
    };
    (verdict, s.cut_after)
}

fn serve(client: TcpStream, server: TcpStream, state: &Mutex<State>) -> io::Result<()> {
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let mut from_server = BufReader::new(server.try_clone()?);
    let mut to_server = server;
    loop {
        let Some(head) = read_head(&mut from_client)? else {
            return Ok(());
        };
        let (verdict, cut_after) = on_request(state);
        let kill_after = match verdict {
            Verdict::Drop => {
                let _ = to_client.shutdown(Shutdown::Both);
                return Ok(());
            }
            Verdict::Forward { kill_after } => kill_after,
        };
        let head_text = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let is_head = head_text.starts_with("head ");
        to_server.write_all(&head)?;
        let body = framing(&head_text, true);
        if let (Framing::Length(n), Some(limit)) = (&body, cut_after) {
            if *n > limit {
                copy_exact(&mut from_client, &mut to_server, limit)?;
                // The server gets the end of its stream and finishes with the cut request
                // (its reply is thrown away) before the client learns of the cut: otherwise
                // the bytes still in the server's socket buffer could be handled after the
                // client's next requests on another connection (a cleanup that then sees its
                // work undone by the server's handler of the cut upload).
                let _ = to_server.shutdown(Shutdown::Write);
                from_server
                    .get_ref()
                    .set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
                let _ = io::copy(&mut from_server, &mut io::sink());
                let _ = to_client.shutdown(Shutdown::Both);
                return Ok(());
            }
        }
        copy_body(&mut from_client, &mut to_server, body)?;
        to_server.flush()?;
        let reply = read_head(&mut from_server)?.ok_or(io::ErrorKind::UnexpectedEof)?;
        let reply_text = String::from_utf8_lossy(&reply).to_ascii_lowercase();
        let body = if is_head || no_body_status(&reply_text) {
            Framing::Length(0)
        } else {
            framing(&reply_text, false)
        };
        let Some(pid) = kill_after else {
            to_client.write_all(&reply)?;
            copy_body(&mut from_server, &mut to_client, body)?;
            to_client.flush()?;
            continue;
        };
        // The reply whole from the server first, then: victim stopped, reply handed over (the
        // victim's socket buffer takes a SOAP reply; a write that cannot finish gives up after
        // a few seconds), victim killed.
        let mut whole = reply;
        copy_body(&mut from_server, &mut whole, body)?;
        stop(pid);
        to_client.set_write_timeout(Some(std::time::Duration::from_secs(5)))?;
        let handed = to_client.write_all(&whole).and_then(|()| to_client.flush());
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        kill(pid);
        s.killed = true;
        drop(s);
        return handed;
    }
}

/// A message head up to and including the blank line; `None` at a clean end of stream.
fn read_head(r: &mut BufReader<TcpStream>) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let n = r.read_until(b'\n', &mut head)?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        if head.ends_with(b"\r\n\r\n") || head == b"\r\n" {
            if head == b"\r\n" {
                head.clear();
                continue;
            }
            return Ok(Some(head));
        }
    }
}

enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// How the body after `head` (lower-cased) is framed.
fn framing(head: &str, request: bool) -> Framing {
    if header(head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        return Framing::Chunked;
    }
    match header(head, "content-length").and_then(|v| v.parse().ok()) {
        Some(n) => Framing::Length(n),
        None if request => Framing::Length(0),
        None => Framing::UntilClose,
    }
}

fn no_body_status(head: &str) -> bool {
    let status = head.split_whitespace().nth(1).unwrap_or("");
    status.starts_with('1') || status == "204" || status == "304"
}

fn copy_body(
    from: &mut BufReader<TcpStream>,
    to: &mut impl io::Write,
    framing: Framing,
) -> io::Result<()> {
    match framing {
        Framing::Length(n) => copy_exact(from, to, n),
        Framing::UntilClose => io::copy(from, to).map(|_| ()),
        Framing::Chunked => loop {
            let mut line = Vec::new();
            from.read_until(b'\n', &mut line)?;
            to.write_all(&line)?;
            let text = String::from_utf8_lossy(&line);
            let size = text.trim().split(';').next().unwrap_or("");
            let size = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))?;
            if size == 0 {
                // Trailers, up to the blank line.
                loop {
                    let mut t = Vec::new();
                    from.read_until(b'\n', &mut t)?;
                    to.write_all(&t)?;
                    if t == b"\r\n" || t.is_empty() {
                        return Ok(());
                    }
                }
            }
            copy_exact(from, to, size + 2)?;
        },
    }
}

fn copy_exact(from: &mut BufReader<TcpStream>, to: &mut impl io::Write, n: u64) -> io::Result<()> {
    let copied = io::copy(&mut from.take(n), to)?;
    if copied < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}
