//! The focus and online managers: whether the app is online and its window
//! focused, and waiting for either to come back.
//!
//! The browser layer (`web`) tells the client; the engine only reads the
//! state and waits on it: a fetch or mutation started offline pauses until
//! the app is online, and retries also wait while the window is hidden.

use crate::signal::Signal;
use std::cell::Cell;

/// Online and focus state, and a signal for either coming back.
pub(crate) struct Environment {
    online: Cell<bool>,
    focused: Cell<bool>,
    resumed: Signal,
}

impl Default for Environment {
    fn default() -> Self {
        Self {
            online: Cell::new(true),
            focused: Cell::new(true),
            resumed: Signal::default(),
        }
    }
}

/// Which flag changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    Online,
    Focused,
}

impl Environment {
    pub(crate) fn is_online(&self) -> bool {
        self.online.get()
    }

    pub(crate) fn is_focused(&self) -> bool {
        self.focused.get()
    }

    /// Sets a flag; returns whether it changed. A flag turning true wakes
    /// everything waiting on [`Environment::resumed`].
    pub(crate) fn set(&self, flag: Flag, value: bool) -> bool {
        let cell = match flag {
            Flag::Online => &self.online,
            Flag::Focused => &self.focused,
        };
        if cell.replace(value) == value {
            return false;
        }
        if value {
            self.resumed.notify();
        }
        true
    }

    /// Completes the next time the app comes online or regains focus.
    pub(crate) async fn resumed(&self) {
        let _ = self.resumed.wait().await;
    }

    /// Completes once the app is online (at once if it is).
    pub(crate) async fn until_online(&self) {
        while !self.is_online() {
            self.resumed().await;
        }
    }
}
