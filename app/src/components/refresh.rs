//! Keeps a live page fresh: a counter that ticks in the browser only, for resources to
//! depend on. On the server it never ticks, so the server render and the first browser
//! render agree and hydration reuses the server's data.

use std::time::Duration;

use leptos::prelude::*;

/// A signal that changes every `every` while the calling view is mounted.
pub fn use_refresh(every: Duration) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || set_tick.update(|n| *n += 1), every) {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}
