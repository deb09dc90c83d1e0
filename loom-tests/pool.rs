//! loom models of the pool's shelf: checking a client in (or adding a new
//! one, or taking one) races with closing the pool. Whatever the
//! interleaving, each client is closed exactly once: by the close if it was
//! on the shelf, by the check-in if the shelf had closed first.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_pool`
#![cfg(loom)]

mod support;

use loom::sync::Arc;
use loom::thread;

use leakless::Close;
use leakless::pool::Shelf;
use support::{Res, assert_closed_once, unbounded};

/// What a pool does with a client the shelf hands back or gives up.
fn close_all(items: Vec<Res>) {
    for item in items {
        item.close().unwrap();
    }
}

#[test]
fn check_in_vs_close() {
    unbounded(|| {
        let shelf = Arc::new(Shelf::new());
        let (client, closes) = Res::new();
        shelf.add(client).unwrap();
        let lent = shelf.take().unwrap();
        let holder = {
            let shelf = shelf.clone();
            thread::spawn(move || {
                if let Err(client) = shelf.put_back(lent) {
                    client.close().unwrap(); // the pool closed first
                }
            })
        };
        let (idle, _still_out) = shelf.close();
        close_all(idle);
        holder.join().unwrap();
        assert_closed_once(&closes);
    });
}

#[test]
fn add_vs_close() {
    unbounded(|| {
        let shelf = Arc::new(Shelf::new());
        let (client, closes) = Res::new();
        let connector = {
            let shelf = shelf.clone();
            thread::spawn(move || {
                if let Err(client) = shelf.add(client) {
                    client.close().unwrap();
                }
            })
        };
        let (idle, _) = shelf.close();
        close_all(idle);
        connector.join().unwrap();
        assert_closed_once(&closes);
    });
}

#[test]
fn take_and_check_in_vs_close() {
    unbounded(|| {
        let shelf = Arc::new(Shelf::new());
        let (client, closes) = Res::new();
        shelf.add(client).unwrap();
        let borrower = {
            let shelf = shelf.clone();
            thread::spawn(move || {
                if let Some(client) = shelf.take() {
                    if let Err(client) = shelf.put_back(client) {
                        client.close().unwrap();
                    }
                }
            })
        };
        let (idle, _) = shelf.close();
        close_all(idle);
        borrower.join().unwrap();
        assert_closed_once(&closes);
    });
}
