//! A fake clock, fake timers and a single-threaded executor, for testing code
//! built on the core natively (feature `test-util`).
//!
//! Time moves only through [`Runner::advance`]; timers fire in deadline order
//! and every task runs until it blocks between steps, so tests are exact.

use crate::platform::Platform;
use futures::executor::{LocalPool, LocalSpawner};
use futures::future::LocalBoxFuture;
use futures::task::LocalSpawnExt;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct Clock {
    now: i64,
    seq: u64,
    timers: BTreeMap<(i64, u64), Option<Waker>>,
}

/// The fake platform handed to the client.
#[derive(Clone)]
pub struct FakePlatform {
    clock: Rc<RefCell<Clock>>,
    spawner: LocalSpawner,
    random: Rc<std::cell::Cell<u64>>,
    warnings: Rc<RefCell<Vec<String>>>,
}

/// Drives the fake platform: runs tasks and moves time.
pub struct Runner {
    pool: LocalPool,
    clock: Rc<RefCell<Clock>>,
}

/// The start of fake time (2026-01-01T00:00:00Z), so timestamps look real.
pub const START_MS: i64 = 1_767_225_600_000;

impl FakePlatform {
    /// A platform at [`START_MS`] and its runner.
    pub fn new() -> (Self, Runner) {
        let pool = LocalPool::new();
        let clock = Rc::new(RefCell::new(Clock {
            now: START_MS,
            ..Default::default()
        }));
        (
            Self {
                clock: Rc::clone(&clock),
                spawner: pool.spawner(),
                random: Rc::new(std::cell::Cell::new(0x5eed)),
                warnings: Rc::default(),
            },
            Runner { pool, clock },
        )
    }
}

impl FakePlatform {
    /// Every warning reported so far.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.borrow().clone()
    }
}

struct Sleep {
    clock: Rc<RefCell<Clock>>,
    slot: (i64, u64),
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut clock = self.clock.borrow_mut();
        if clock.now >= self.slot.0 {
            clock.timers.remove(&self.slot);
            return Poll::Ready(());
        }
        clock.timers.insert(self.slot, Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Ok(mut clock) = self.clock.try_borrow_mut() {
            clock.timers.remove(&self.slot);
        }
    }
}

impl Platform for FakePlatform {
    fn now_ms(&self) -> i64 {
        self.clock.borrow().now
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        // A dropped runner means the test is over: the task never runs.
        let _ = self.spawner.spawn_local(task);
    }

    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        let mut clock = self.clock.borrow_mut();
        clock.seq += 1;
        // `u64::MAX` (TanStack's `Infinity`) is a timer that never fires.
        let slot = (
            clock
                .now
                .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
            clock.seq,
        );
        clock.timers.insert(slot, None);
        Box::pin(Sleep {
            clock: Rc::clone(&self.clock),
            slot,
        })
    }

    fn random_u64(&self) -> u64 {
        // Deterministic (xorshift), so tests can predict keys if they want.
        let mut x = self.random.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random.set(x);
        x
    }

    fn warn(&self, message: &str) {
        self.warnings.borrow_mut().push(message.to_owned());
    }
}

impl Runner {
    /// Runs every task until none can make progress without time moving.
    pub fn run_until_stalled(&mut self) {
        self.pool.run_until_stalled();
    }

    /// The fake time now.
    pub fn now(&self) -> i64 {
        self.clock.borrow().now
    }

    /// Moves time forward by `ms`, firing due timers in order and running
    /// tasks after each.
    pub fn advance(&mut self, ms: u64) {
        let target = self
            .now()
            .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
        loop {
            self.pool.run_until_stalled();
            let due = {
                let clock = self.clock.borrow();
                clock
                    .timers
                    .keys()
                    .next()
                    .copied()
                    .filter(|(at, _)| *at <= target)
            };
            let Some(slot) = due else { break };
            let waker = {
                let mut clock = self.clock.borrow_mut();
                clock.now = clock.now.max(slot.0);
                clock.timers.remove(&slot).flatten()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
        self.clock.borrow_mut().now = target;
        self.pool.run_until_stalled();
    }

    /// Runs `future` to completion, moving time as far as needed.
    pub fn block_on<T>(&mut self, future: impl Future<Output = T> + 'static) -> T
    where
        T: 'static,
    {
        let out: Rc<RefCell<Option<T>>> = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&out);
        self.pool
            .spawner()
            .spawn_local(async move {
                let v = future.await;
                *slot.borrow_mut() = Some(v);
            })
            .expect("spawn");
        for _ in 0..100_000 {
            self.pool.run_until_stalled();
            if let Some(v) = out.borrow_mut().take() {
                return v;
            }
            let next = self.clock.borrow().timers.keys().next().copied();
            match next {
                Some((at, _)) => self.advance((at - self.now()).max(0) as u64),
                None => panic!("block_on: the future can never complete (no timers left)"),
            }
        }
        panic!("block_on: gave up after 100000 timer steps")
    }
}
