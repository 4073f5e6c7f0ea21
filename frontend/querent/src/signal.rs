//! A one-shot broadcast: futures that wait until the next `notify`.

use futures::channel::oneshot;
use std::cell::RefCell;

#[derive(Default)]
pub(crate) struct Signal {
    waiters: RefCell<Vec<oneshot::Sender<()>>>,
}

impl Signal {
    /// Completes at the next [`Signal::notify`] (or when the signal is dropped).
    pub(crate) fn wait(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().push(tx);
        rx
    }

    pub(crate) fn notify(&self) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for w in waiters {
            let _ = w.send(());
        }
    }
}
