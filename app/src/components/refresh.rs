//! Keeps a live page fresh: a counter that ticks in the browser only, for resources to
//! depend on. On the server it never ticks, so the server render and the first browser
//! render agree and hydration reuses the server's data.

use std::time::Duration;

use leptos::prelude::*;

/// A signal that changes every `every` while the calling view is mounted and `active` is
/// true (a page can stop refreshing once nothing it shows is still changing).
pub fn use_refresh(every: Duration, active: Signal<bool>) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    Effect::new(move |_| {
        let step = move || {
            if active.get_untracked() {
                set_tick.update(|n| *n += 1);
            }
        };
        if let Ok(handle) = set_interval_with_handle(step, every) {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}
