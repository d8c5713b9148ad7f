//! `/admin` (administrators): the people who sign in — invite, change a role, disable or
//! enable, issue a new invitation link — and the integrators' API keys — create (the key is
//! shown once) and revoke.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use platform::api::auth::{ApiKey, NewApiKey, NewUser, Permission, Role, User, UserStatus};

use crate::api::{self, session, ServiceError, ServiceResult, ServiceUrls};
use crate::components::{Empty, Loading, ServiceProblem};
use crate::format;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm";
const BUTTON: &str =
    "rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50";
const SMALL_BUTTON: &str =
    "rounded-md border border-slate-300 bg-white px-2 py-1 text-xs font-medium hover:bg-slate-50 disabled:opacity-50";

#[component]
pub fn AdminPage() -> impl IntoView {
    if !session::may(Permission::Administer) {
        return view! {
            <Title text="Administration" />
            <h1 class="text-2xl font-semibold">"Administration"</h1>
            <div class="mt-4"><Empty>"Only administrators manage people and API keys."</Empty></div>
        }
        .into_any();
    }
    view! {
        <Title text="Administration" />
        <h1 class="text-2xl font-semibold">"Administration"</h1>
        <People />
        <ApiKeys />
    }
    .into_any()
}

/// The address invitation links point at: this dashboard, as the browser reached it.
fn dashboard_origin() -> String {
    #[cfg(not(feature = "ssr"))]
    {
        leptos::prelude::window().location().origin().unwrap_or_default()
    }
    #[cfg(feature = "ssr")]
    {
        String::new()
    }
}

fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| view! { <option value=role.as_str() selected=role == selected>{role.label()}</option> })
        .collect_view()
}

#[component]
fn People() -> impl IntoView {
    let urls = ServiceUrls::current();
    let version = RwSignal::new(0u32);
    let people = Resource::new(move || version.get(), {
        let urls = urls.clone();
        move |_| {
            let urls = urls.clone();
            async move { api::users::list(&urls).await }
        }
    });
    // The last link handed out: shown once, until the next action.
    let link = RwSignal::new(None::<(String, String)>);
    let changed = move |result: &ServiceResult<()>| {
        if result.is_ok() {
            version.update(|v| *v += 1);
        }
    };

    let invite = Action::new({
        let urls = urls.clone();
        move |new: &NewUser| {
            let (urls, new) = (urls.clone(), new.clone());
            async move {
                let invited = api::users::invite(&urls, &new).await?;
                link.set(Some((
                    invited.user.email,
                    api::users::invitation_link(&dashboard_origin(), &invited.invitation.token),
                )));
                Ok(())
            }
        }
    });
    let act = Action::new({
        let urls = urls.clone();
        move |(id, action): &(i64, PersonAction)| {
            let (urls, id, action) = (urls.clone(), *id, *action);
            async move {
                match action {
                    PersonAction::Role(role) => api::users::set_role(&urls, id, role).await.map(drop),
                    PersonAction::Disable(disabled) => api::users::set_disabled(&urls, id, disabled).await.map(drop),
                    PersonAction::Reinvite => {
                        let invited = api::users::reinvite(&urls, id).await?;
                        let href = api::users::invitation_link(&dashboard_origin(), &invited.invitation.token);
                        link.set(Some((invited.user.email, href)));
                        Ok(())
                    }
                }
            }
        }
    });
    Effect::new(move |_| invite.value().with(|result| result.as_ref().map(changed)));
    Effect::new(move |_| act.value().with(|result| result.as_ref().map(changed)));

    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        invite.dispatch(NewUser {
            email: email.get_untracked(),
            display_name: name.get_untracked(),
            role: role.get_untracked(),
        });
    };
    let problem = move || [invite.value().get(), act.value().get()].into_iter().flatten().find_map(Result::err);

    view! {
        <section aria-labelledby="people-heading" class="mt-6">
            <h2 id="people-heading" class="text-lg font-semibold">"People"</h2>
            <form class="mt-3 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-4 sm:items-end" on:submit=submit aria-label="Invite a person">
                <TextField id="invite-email" label="E-mail address" kind="email" value=email />
                <TextField id="invite-name" label="Name" kind="text" value=name />
                <RoleField id="invite-role" role />
                <button type="submit" class=BUTTON disabled=move || invite.pending().get()>"Invite"</button>
            </form>
            {move || link.get().map(|(email, href)| view! {
                <ShownOnce
                    what=format!("Send this link to {email}; it is shown only now and sets their password once:")
                    secret=href kind="invitation-link" />
            })}
            {move || problem().map(|error: ServiceError| view! { <NothingChanged error /> })}
            <Transition fallback=|| view! { <Loading what="people" /> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(people) => view! { <PeopleTable people act /> }.into_any(),
                        Err(error) => view! { <div class="mt-3"><ServiceProblem error still_works="API keys below are separate." /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PersonAction {
    Role(Role),
    Disable(bool),
    Reinvite,
}

#[component]
fn PeopleTable(people: Vec<User>, act: Action<(i64, PersonAction), ServiceResult<()>>) -> impl IntoView {
    let myself = session::current_user().map(|user| user.subject);
    let rows = people
        .into_iter()
        .map(|person| {
            let id = person.id;
            let is_me = myself.as_deref() == Some(format!("user:{id}").as_str());
            let disabled = person.status == UserStatus::Disabled;
            let status = match person.status {
                UserStatus::Invited => "Invited",
                UserStatus::Active => "Active",
                UserStatus::Disabled => "Disabled",
            };
            let last = person.last_login_at.map_or("never".to_owned(), |at| format!("{} JST", format::japan_time(at)));
            view! {
                <tr class="border-t border-slate-100" data-user=person.email.clone()>
                    <td class="px-3 py-2">{person.display_name}</td>
                    <td class="px-3 py-2">{person.email.clone()}</td>
                    <td class="px-3 py-2">
                        <label class="sr-only" for=format!("role-{id}")>{format!("Role of {}", person.email)}</label>
                        <select id=format!("role-{id}") class="rounded-md border border-slate-300 px-2 py-1 text-sm"
                            disabled=move || act.pending().get()
                            on:change=move |ev| {
                                if let Some(role) = Role::parse(&event_target_value(&ev)) { act.dispatch((id, PersonAction::Role(role))); }
                            }>
                            {role_options(person.role)}
                        </select>
                    </td>
                    <td class="px-3 py-2" data-status=status>{status}</td>
                    <td class="px-3 py-2 text-slate-600">{last}</td>
                    <td class="px-3 py-2">
                        <div class="flex gap-2">
                            {(!is_me).then(|| view! {
                                <button type="button" class=SMALL_BUTTON disabled=move || act.pending().get()
                                    on:click=move |_| { act.dispatch((id, PersonAction::Disable(!disabled))); }>
                                    {if disabled { "Enable" } else { "Disable" }}
                                </button>
                            })}
                            // Not for oneself: it would end one's own sign-in until the link is used.
                            {(!disabled && !is_me).then(|| view! {
                                <button type="button" class=SMALL_BUTTON disabled=move || act.pending().get()
                                    on:click=move |_| { act.dispatch((id, PersonAction::Reinvite)); }>
                                    "New invitation link"
                                </button>
                            })}
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="mt-3 w-full rounded-lg border border-slate-200 bg-white text-left text-sm">
            <thead class="text-xs uppercase text-slate-500">
                <tr><th class="px-3 py-2">"Name"</th><th class="px-3 py-2">"E-mail"</th><th class="px-3 py-2">"Role"</th>
                    <th class="px-3 py-2">"Status"</th><th class="px-3 py-2">"Last sign-in"</th><th class="px-3 py-2"><span class="sr-only">"Actions"</span></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn ApiKeys() -> impl IntoView {
    let urls = ServiceUrls::current();
    let version = RwSignal::new(0u32);
    let keys = Resource::new(move || version.get(), {
        let urls = urls.clone();
        move |_| {
            let urls = urls.clone();
            async move { api::users::api_keys(&urls).await }
        }
    });
    let shown = RwSignal::new(None::<(String, String)>);
    let create = Action::new({
        let urls = urls.clone();
        move |new: &NewApiKey| {
            let (urls, new) = (urls.clone(), new.clone());
            async move {
                let created = api::users::create_api_key(&urls, &new).await?;
                shown.set(Some((created.api_key.name, created.key)));
                Ok(())
            }
        }
    });
    let revoke = Action::new(move |id: &i64| {
        let (urls, id) = (urls.clone(), *id);
        async move { api::users::revoke_api_key(&urls, id).await.map(drop) }
    });
    let changed = move |result: &ServiceResult<()>| {
        if result.is_ok() {
            version.update(|v| *v += 1);
        }
    };
    Effect::new(move |_| create.value().with(|result| result.as_ref().map(changed)));
    Effect::new(move |_| revoke.value().with(|result| result.as_ref().map(changed)));

    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        create.dispatch(NewApiKey { name: name.get_untracked(), role: role.get_untracked() });
    };
    let problem = move || [create.value().get(), revoke.value().get()].into_iter().flatten().find_map(Result::err);

    view! {
        <section aria-labelledby="keys-heading" class="mt-8">
            <h2 id="keys-heading" class="text-lg font-semibold">"API keys"</h2>
            <p class="mt-1 text-sm text-slate-600">"For integrators: a key is exchanged at POST /api/v1/auth/token for five-minute access tokens with the key's role."</p>
            <form class="mt-3 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-3 sm:items-end" on:submit=submit aria-label="Create an API key">
                <TextField id="key-name" label="Name" kind="text" value=name />
                <RoleField id="key-role" role />
                <button type="submit" class=BUTTON disabled=move || create.pending().get()>"Create key"</button>
            </form>
            {move || shown.get().map(|(name, key)| view! {
                <ShownOnce what=format!("The key \"{name}\" — copy it now, it is not shown again:")
                    secret=key kind="api-key" />
            })}
            {move || problem().map(|error: ServiceError| view! { <NothingChanged error /> })}
            <Transition fallback=|| view! { <Loading what="API keys" /> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(keys) if keys.is_empty() => view! { <div class="mt-3"><Empty>"No API keys yet."</Empty></div> }.into_any(),
                        Ok(keys) => view! { <KeysTable keys revoke /> }.into_any(),
                        Err(error) => view! { <div class="mt-3"><ServiceProblem error still_works="People above are separate." /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TextField(id: &'static str, label: &'static str, kind: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            <input id=id type=kind required class=INPUT bind:value=value />
        </div>
    }
}

#[component]
fn RoleField(id: &'static str, role: RwSignal<Role>) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">"Role"</label>
            <select id=id class=INPUT on:change=move |ev| {
                if let Some(chosen) = Role::parse(&event_target_value(&ev)) { role.set(chosen) }
            }>{role_options(role.get_untracked())}</select>
        </div>
    }
}

/// A secret handed out once (an invitation link, an API key); `kind` names it for the tests.
#[component]
fn ShownOnce(what: String, secret: String, kind: &'static str) -> impl IntoView {
    view! {
        <div class="mt-3 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900" role="status">
            <p>{what}</p>
            <p class="mt-1 break-all font-mono text-xs" data-secret=kind>{secret}</p>
        </div>
    }
}

#[component]
fn NothingChanged(error: ServiceError) -> impl IntoView {
    view! { <div class="mt-3"><ServiceProblem error still_works="Nothing was changed." /></div> }
}

#[component]
fn KeysTable(keys: Vec<ApiKey>, revoke: Action<i64, ServiceResult<()>>) -> impl IntoView {
    let rows = keys
        .into_iter()
        .map(|key| {
            let id = key.id;
            let revoked = key.revoked_at.is_some();
            let used = key.last_used_at.map_or("never".to_owned(), |at| format!("{} JST", format::japan_time(at)));
            view! {
                <tr class="border-t border-slate-100" data-api-key=key.name.clone()>
                    <td class="px-3 py-2">{key.name.clone()}</td>
                    <td class="px-3 py-2">{key.role.label()}</td>
                    <td class="px-3 py-2 font-mono text-xs">{format!("{}…", key.prefix)}</td>
                    <td class="px-3 py-2 text-slate-600">{used}</td>
                    <td class="px-3 py-2" data-status=if revoked { "revoked" } else { "active" }>
                        {match key.revoked_at {
                            Some(at) => format!("Revoked {} JST", format::japan_time(at)).into_any(),
                            None => view! {
                                <button type="button" class=SMALL_BUTTON disabled=move || revoke.pending().get()
                                    on:click=move |_| { revoke.dispatch(id); }>
                                    {format!("Revoke {}", key.name)}
                                </button>
                            }.into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="mt-3 w-full rounded-lg border border-slate-200 bg-white text-left text-sm">
            <thead class="text-xs uppercase text-slate-500">
                <tr><th class="px-3 py-2">"Name"</th><th class="px-3 py-2">"Role"</th><th class="px-3 py-2">"Key"</th>
                    <th class="px-3 py-2">"Last used"</th><th class="px-3 py-2">"Status"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
