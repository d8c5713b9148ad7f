//! The WASM module cargo-leptos builds: it takes over the server-rendered page, so every
//! interaction after the first paint runs in the browser without a full reload.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
