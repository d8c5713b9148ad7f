//! The document title of a page whose title follows its route, such as an order's number.

use leptos::prelude::*;
use leptos::text_prop::TextProp;
use leptos_meta::Title;

/// `<Title>` for a title read from the route. In the browser it follows the route as it
/// changes. On the server it is read once, here, while the page renders: leptos_meta reads a
/// title's text only after rendering, outside the request's reactive arena, where reading a
/// signal can look in another request's arena and panic ("already been disposed") — seen when
/// several pages were rendered at once.
#[component]
pub fn RouteTitle<F>(text: F) -> impl IntoView
where
    F: Fn() -> String + Send + Sync + 'static,
{
    let text: TextProp = if cfg!(feature = "ssr") { text().into() } else { text.into() };
    view! { <Title text /> }
}
