//! The hook a blocking command's owner side needs (issue 27): the key space
//! tells it of every key a write may just have filled, as Redis's
//! `signalKeyAsReady` does from its `dbAdd`. A key a client blocks on is
//! absent (an emptied list or sorted set is deleted), so only a push, an add
//! or a whole value stored (RENAME, COPY, the STORE forms) can make it
//! ready; those writes call [`filled`]. The hook is one thread-local
//! function pointer, so a write pays one look-up when nothing blocks.

use std::cell::Cell;

/// Told every key a write may have filled.
pub type FilledHook = fn(&[u8]);

thread_local! {
    static ON_FILLED: Cell<Option<FilledHook>> = const { Cell::new(None) };
}

/// Calls `hook` with every key this shard's writes may fill from now on.
pub fn on_filled(hook: FilledHook) {
    ON_FILLED.with(|cell| cell.set(Some(hook)));
}

/// A write just put elements under `key`.
pub(super) fn filled(key: &[u8]) {
    if let Some(hook) = ON_FILLED.with(Cell::get) {
        hook(key);
    }
}
