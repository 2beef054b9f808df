//! The frame around every page: brand, navigation, content area.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

use crate::auth::Role;
use crate::auth::server_fns::{Logout, me};
use crate::auth::types::CurrentUser;
use crate::components::deferred::Deferred;
use crate::lang::{LangSwitch, Locale, t, t_string, td_string, use_i18n, use_locale};
use crate::resource::{JsonResource, resource};

/// One entry of the main navigation.
struct NavEntry {
    href: &'static str,
    label: crate::lang::Label,
    /// SVG path of its icon.
    icon: &'static str,
    /// Lowest role that sees it.
    role: Role,
}

const NAV: &[NavEntry] = &[
    NavEntry {
        href: "/",
        label: |l| td_string!(l, nav.dashboard),
        icon: "M3 13h8V3H3zm0 8h8v-6H3zm10 0h8V11h-8zm0-18v6h8V3z",
        role: Role::Viewer,
    },
    NavEntry {
        href: "/services",
        label: |l| td_string!(l, nav.services),
        icon: "M4 5h16v4H4zm0 5h16v4H4zm0 5h16v4H4z",
        role: Role::Viewer,
    },
    NavEntry {
        href: "/events",
        label: |l| td_string!(l, nav.events),
        icon: "M3 5h18v2H3zm0 6h18v2H3zm0 6h12v2H3z",
        role: Role::Viewer,
    },
    NavEntry {
        href: "/errors",
        label: |l| td_string!(l, nav.errors),
        icon: "M12 2 1 21h22zm1 15h-2v-2h2zm0-4h-2V9h2z",
        role: Role::Viewer,
    },
    NavEntry {
        href: "/backups",
        label: |l| td_string!(l, nav.backups),
        icon: "M12 3C7 3 3 4.3 3 6v12c0 1.7 4 3 9 3s9-1.3 9-3V6c0-1.7-4-3-9-3zm0 2c4.4 0 7 1.1 7 1s-2.6 1-7 1-7-1.1-7-1 2.6-1 7-1z",
        role: Role::Viewer,
    },
    NavEntry {
        href: "/alerts",
        label: |l| td_string!(l, nav.alerts),
        icon: "M12 22a2.5 2.5 0 0 0 2.5-2.5h-5A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.8V3.5a1.5 1.5 0 0 0-3 0v.7A7 7 0 0 0 5 11v5l-2 2v1h18v-1z",
        role: Role::Admin,
    },
    NavEntry {
        href: "/settings",
        label: |l| td_string!(l, nav.settings),
        icon: "M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.6 7.6 0 0 0-1.7-1L15 3h-4l-.4 2.9a7.6 7.6 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.6 7.6 0 0 0 1.7 1L11 21h4l.4-2.9a7.6 7.6 0 0 0 1.7-1l2.5 1 2-3.5zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z",
        role: Role::Admin,
    },
];

/// The signed-in user as a resource, shared by every role check in the UI.
#[derive(Clone, Copy)]
pub struct Me(pub JsonResource<Result<Option<CurrentUser>, crate::error::AppError>>);

/// The signed-in user, for reading inside `<Suspense>`/`<Transition>` (the
/// server enforces the same rules regardless).
pub fn use_user() -> Signal<Option<CurrentUser>> {
    use_context::<Signal<Option<CurrentUser>>>().unwrap_or_else(|| Signal::derive(|| None))
}

/// Shows its children only to users with at least `role` (or, with
/// `invert`, only to users below it). Hiding is a courtesy: the server
/// refuses what a role may not do either way.
#[component]
pub fn IfRole(
    role: crate::auth::Role,
    #[prop(optional)] invert: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let me = use_context::<Me>();
    let children = StoredValue::new(children);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let user = match me {
                    Some(Me(r)) => r.await.ok().flatten(),
                    None => None,
                };
                let allowed = user.as_ref().is_some_and(|u| u.can(role));
                let show = user.is_some() && (allowed != invert);
                show.then(|| children.with_value(|c| c()))
            })}
        </Transition>
    }
}

/// Moves focus to the page's content (the router would otherwise take the
/// link as a navigation and leave focus where it was).
fn skip_to_main(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(main) = document()
            .get_element_by_id("main")
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            ev.prevent_default();
            let _ = main.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

#[component]
pub fn Layout(children: ChildrenFn) -> impl IntoView {
    let i18n = use_i18n();
    let locale = use_locale();
    let location = use_location();
    // Refetched on navigation: signing in or out changes who this is.
    // (`try_get`: when the server lists its routes it renders this once and
    // disposes of it at once, while the resource's task may still ask.)
    let me = resource(move || location.pathname.try_get(), |_| me());
    let user = Signal::derive(move || me.get().and_then(|r| r.ok()).flatten());
    provide_context(user);
    provide_context(Me(me));
    let bare = move || {
        let p = location.pathname.get();
        p == "/login" || p == "/setup" || p == "/status"
    };
    let is_current = move |href: &str| {
        let path = location.pathname.get();
        if href == "/" {
            path == "/"
        } else {
            path.starts_with(href)
        }
    };
    let children = StoredValue::new(children);
    view! {
        <Show
            when=move || !bare()
            fallback=move || children.with_value(|c| c())
        >
        <div class="app">
            <a class="skip-link" href="#main" on:click=skip_to_main>{t!(i18n, nav.skip)}</a>
            <header class="topbar">
                <a class="brand" href="/" aria-label=t_string!(i18n, nav.home)>
                    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                        <rect x="2" y="2" width="20" height="20" rx="5" fill="currentColor" opacity="0.15" />
                        <path d="M6 15l4-4 3 3 5-6" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" />
                    </svg>
                    <span>"Leitstand"</span>
                </a>
                <div class="topbar-end">
                    <crate::components::theme::ThemeSwitch />
                    <LangSwitch />
                    // Shown by public/pwa.js where the browser offers installing.
                    <button type="button" id="pwa-install" class="btn small pwa-install" hidden>
                        {t!(i18n, pwa.install)}
                    </button>
                    {Deferred(view! { <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            me.await.ok().flatten().map(|u| view! {
                                <span class="user-chip" data-testid="user-chip">
                                    <span class="user-email">{u.email.clone()}</span>
                                    <span class="badge">{role_label(locale, u.role)}</span>
                                </span>
                                // A plain form: the server ends the session
                                // and redirects to the sign-in page, with or
                                // without the WebAssembly.
                                <form method="post" action=LOGOUT_PATH>
                                    <button type="submit" class="btn small">{t!(i18n, nav.sign_out)}</button>
                                </form>
                            })
                        })}
                    </Transition> })}
                </div>
            </header>
            <nav class="sidenav" aria-label=t_string!(i18n, nav.main)>
                <ul>
                    // Entries for everyone render at once; role-bound ones
                    // wait for the user, inside a Transition, so the server
                    // and the browser agree.
                    {NAV
                        .iter()
                        .filter(|e| e.role == Role::Viewer)
                        .map(|e| view! { <NavItem href=e.href label=(e.label)(locale) icon=e.icon is_current /> })
                        .collect_view()}
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let user = me.await.ok().flatten();
                            NAV.iter()
                                .filter(|e| e.role != Role::Viewer)
                                .filter(|e| user.as_ref().is_some_and(|u| u.can(e.role)))
                                .map(|e| view! { <NavItem href=e.href label=(e.label)(locale) icon=e.icon is_current /> })
                                .collect_view()
                        })}
                    </Transition>
                </ul>
            </nav>
            // The page hydrates after the frame, in a task of its own
            // (components::deferred).
            <main id="main" class="content" tabindex="-1">{Deferred(move || children.with_value(|c| c()))}</main>
            // Shown by public/pwa.js when a new version is waiting.
            <div class="pwa-update" aria-live="polite">
                <button type="button" id="pwa-update" class="btn primary" hidden>
                    {t!(i18n, pwa.update)}
                </button>
            </div>
        </div>
        </Show>
    }
}

/// Where the sign-out form posts: the server function's own address.
const LOGOUT_PATH: &str = <Logout as ServerFn>::PATH;

/// A role as people read it.
pub fn role_label(locale: Locale, role: Role) -> &'static str {
    match role {
        Role::Viewer => td_string!(locale, role.viewer),
        Role::Operator => td_string!(locale, role.operator),
        Role::Admin => td_string!(locale, role.admin),
    }
}

#[component]
fn NavItem(
    href: &'static str,
    label: &'static str,
    icon: &'static str,
    is_current: impl Fn(&str) -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <li>
            <a href=href aria-current=move || is_current(href).then_some("page")>
                <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                    <path d=icon fill="currentColor" />
                </svg>
                <span>{label}</span>
            </a>
        </li>
    }
}
