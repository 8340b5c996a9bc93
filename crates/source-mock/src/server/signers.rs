//! The fake sign servers: the main port's sign routes, and extra sign servers on ports of
//! their own (sharing the rooms), each of which can go down and come back, or misbehave.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::task::AbortHandle;

use super::Shared;

/// How a fake sign server answers its fetch routes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignBehaviour {
    /// A working sign server: `push_server` is this fake's push WebSocket.
    #[default]
    Normal,
    /// Like Euler on 2026-09-09/10: the answer is well-formed but `push_server` points at a
    /// `ws-fallback` socket (on this fake's port, path `/ws-fallback/`) that refuses every
    /// upgrade: HTTP 200, no upgrade, `Handshake-Msg: illegal app_id`.
    WsFallback,
    /// `push_server` is this URL, a host the client should not trust (e.g. another fake server
    /// on `127.0.0.2`, whose log then shows whether a client went there).
    UntrustedPush(String),
}

/// The name of the main port's sign server.
pub const PRIMARY_SIGNER: &str = "primary";

/// One fake sign server.
#[derive(Debug)]
pub(crate) struct SignServer {
    pub(crate) name: String,
    addr: Mutex<SocketAddr>,
    up: AtomicBool,
    behaviour: Mutex<SignBehaviour>,
    /// The accept loop of an extra sign server's own port (`None` for the primary, whose port
    /// is the main one, and while an extra one is down).
    accept: Mutex<Option<AbortHandle>>,
}

impl SignServer {
    pub(crate) fn new(name: &str, addr: SocketAddr) -> SignServer {
        SignServer {
            name: name.to_owned(),
            addr: Mutex::new(addr),
            up: AtomicBool::new(true),
            behaviour: Mutex::new(SignBehaviour::Normal),
            accept: Mutex::new(None),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr.lock().map_or(([127, 0, 0, 1], 0).into(), |a| *a)
    }

    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    pub(crate) fn behaviour(&self) -> SignBehaviour {
        self.behaviour.lock().map(|b| b.clone()).unwrap_or_default()
    }

    pub(crate) fn set_behaviour(&self, b: SignBehaviour) {
        if let Ok(mut cur) = self.behaviour.lock() {
            *cur = b;
        }
    }

    pub(crate) fn set_accept(&self, handle: Option<AbortHandle>) {
        if let Ok(mut a) = self.accept.lock()
            && let Some(old) = std::mem::replace(&mut *a, handle)
        {
            old.abort();
        }
    }

    /// Takes the sign server down: an extra one stops listening (connections are refused); the
    /// primary, which shares its port with the web routes, answers its sign routes with 503.
    pub(crate) fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.set_accept(None);
    }

    /// Brings it back: an extra one listens again on the same address.
    pub(crate) fn up(&self, index: usize, shared: &Arc<Shared>) -> io::Result<()> {
        if index != 0 {
            let listener = std::net::TcpListener::bind(self.addr())?;
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let weak: Weak<Shared> = Arc::downgrade(shared);
            let task = tokio::spawn(super::http::accept_loop(listener, weak, index));
            self.set_accept(Some(task.abort_handle()));
        }
        self.up.store(true, Ordering::SeqCst);
        Ok(())
    }
}
