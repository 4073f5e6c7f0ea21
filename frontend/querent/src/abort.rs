//! The abort signal a fetcher gets (TanStack's `signal` in the query
//! function context): raised when its fetch is cancelled (`cancel_queries`,
//! a refetch replacing it, `remove_queries`) and, if the fetcher read it,
//! when the query's last observer leaves before the fetch ends. An HTTP
//! client that can stop a request listens to it ([`AbortSignal::on_abort`],
//! [`AbortSignal::aborted`]); one that cannot ignores it, and the fetch then
//! runs on so its answer is cached.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::task::Waker;

#[derive(Default)]
struct Inner {
    aborted: Cell<bool>,
    /// The fetcher asked for the signal (TanStack's `abortSignalConsumed`).
    read: Cell<bool>,
    listeners: RefCell<Vec<Box<dyn FnOnce()>>>,
    wakers: RefCell<Vec<Waker>>,
}

/// Raised once, when the fetch it belongs to is abandoned. Cheap to clone:
/// clones are the same signal.
#[derive(Clone, Default)]
pub struct AbortSignal {
    inner: Rc<Inner>,
}

impl fmt::Debug for AbortSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortSignal")
            .field("aborted", &self.is_aborted())
            .finish()
    }
}

impl AbortSignal {
    /// A signal not raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether it was raised.
    pub fn is_aborted(&self) -> bool {
        self.inner.aborted.get()
    }

    /// Runs `listener` when the signal is raised (at once if it was).
    ///
    /// ```
    /// let signal = querent::abort::AbortSignal::new();
    /// let heard = std::rc::Rc::new(std::cell::Cell::new(false));
    /// let h = heard.clone();
    /// signal.on_abort(move || h.set(true));
    /// signal.abort();
    /// assert!(heard.get() && signal.is_aborted());
    /// ```
    pub fn on_abort(&self, listener: impl FnOnce() + 'static) {
        if self.is_aborted() {
            listener();
        } else {
            self.inner.listeners.borrow_mut().push(Box::new(listener));
        }
    }

    /// Completes when the signal is raised (e.g. to race a request with it).
    pub fn aborted(&self) -> impl Future<Output = ()> + 'static + use<> {
        let signal = self.clone();
        std::future::poll_fn(move |cx| {
            if signal.is_aborted() {
                std::task::Poll::Ready(())
            } else {
                signal.inner.wakers.borrow_mut().push(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
    }

    /// The browser's `AbortSignal` for this one (feature `web`): aborted
    /// when this is, so `fetch` (gloo-net's `RequestBuilder::abort_signal`)
    /// stops the request and its download. `None` outside a browser.
    #[cfg(feature = "web")]
    pub fn web(&self) -> Option<web_sys::AbortSignal> {
        let controller = web_sys::AbortController::new().ok()?;
        let browser = controller.signal();
        self.on_abort(move || controller.abort());
        Some(browser)
    }

    /// Raises the signal: listeners run once, waiting futures complete.
    pub fn abort(&self) {
        if self.inner.aborted.replace(true) {
            return;
        }
        let listeners = std::mem::take(&mut *self.inner.listeners.borrow_mut());
        for listener in listeners {
            listener();
        }
        let wakers = std::mem::take(&mut *self.inner.wakers.borrow_mut());
        for waker in wakers {
            waker.wake();
        }
    }

    /// Marks the signal as read by the fetcher.
    pub(crate) fn mark_read(&self) {
        self.inner.read.set(true);
    }

    /// Whether the fetcher read it: then the fetch is cancelled when its
    /// last observer leaves (it can stop), else it runs on.
    pub(crate) fn was_read(&self) -> bool {
        self.inner.read.get()
    }
}
