//! Languages: which one a page is rendered in (`?lang=`, the `lang` cookie,
//! `Accept-Language`, `--default-language`) and that it says so in
//! `<html lang>`.

use app::auth::Role;
use reqwest::header;

use crate::helpers::{Session, raw_client, spawn_app, spawn_app_with};

/// The page's HTML, fetched with `headers`.
async fn page(url: String, headers: &[(header::HeaderName, &str)]) -> (String, Vec<String>) {
    let mut req = raw_client().get(url).header(header::ACCEPT, "text/html");
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    let res = req.send().await.expect("sent");
    assert_eq!(res.status(), 200, "page renders");
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    (res.text().await.expect("body"), cookies)
}

#[tokio::test]
async fn lang_de_on_the_url_renders_the_sign_in_page_in_german_and_remembers_it() {
    let app = spawn_app().await;
    app.add_user("ops@example.com", Role::Admin).await;

    let (html, cookies) = page(app.url("/login?lang=de"), &[]).await;

    assert!(html.contains(r#"<html lang="de""#), "{html}");
    assert!(html.contains("Bei Leitstand anmelden"), "{html}");
    assert!(html.contains("Passwort"));
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("lang=de;") && c.contains("Path=/")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn accept_language_de_renders_german_and_english_stays_the_default() {
    let app = spawn_app().await;
    app.add_user("ops@example.com", Role::Admin).await;

    let (german, cookies) = page(
        app.url("/login"),
        &[(header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9,en;q=0.8")],
    )
    .await;
    let (english, _) = page(app.url("/login"), &[]).await;
    let (preferred, _) = page(
        app.url("/login"),
        &[(header::ACCEPT_LANGUAGE, "fr, en;q=0.5, de;q=0.4")],
    )
    .await;

    assert!(german.contains(r#"<html lang="de""#), "{german}");
    assert!(german.contains("Bei Leitstand anmelden"));
    assert!(
        cookies.is_empty(),
        "only ?lang= sets the cookie: {cookies:?}"
    );
    assert!(english.contains(r#"<html lang="en""#));
    assert!(english.contains("Sign in to Leitstand"));
    assert!(
        preferred.contains(r#"<html lang="en""#),
        "quality values count"
    );
}

#[tokio::test]
async fn the_cookie_beats_the_browser_and_the_url_beats_the_cookie() {
    let app = spawn_app().await;
    app.add_user("ops@example.com", Role::Admin).await;

    let (by_cookie, _) = page(
        app.url("/login"),
        &[
            (header::COOKIE, "lang=de"),
            (header::ACCEPT_LANGUAGE, "en-US,en"),
        ],
    )
    .await;
    let (by_url, _) = page(app.url("/login?lang=en"), &[(header::COOKIE, "lang=de")]).await;

    assert!(by_cookie.contains(r#"<html lang="de""#));
    assert!(by_url.contains(r#"<html lang="en""#));
    assert!(by_url.contains("Sign in to Leitstand"));
}

#[tokio::test]
async fn the_instance_default_applies_when_nothing_asks_and_setup_is_translated_too() {
    let app = spawn_app_with(|s| s.http.default_language = server::config::Language::De).await;

    let (setup, _) = page(app.url("/setup"), &[]).await;
    let (asked_en, _) = page(app.url("/setup"), &[(header::ACCEPT_LANGUAGE, "en")]).await;

    assert!(setup.contains(r#"<html lang="de""#), "{setup}");
    assert!(setup.contains("Willkommen bei Leitstand"));
    assert!(asked_en.contains("Welcome to Leitstand"));
}

#[tokio::test]
async fn a_signed_in_page_renders_german_numbers_and_navigation() {
    let app = spawn_app().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let Session { cookie } = app.session("ops@example.com").await;

    let (html, _) = page(app.url("/?lang=de"), &[(header::COOKIE, cookie.as_str())]).await;

    assert!(html.contains(r#"<html lang="de""#));
    for word in ["Übersicht", "Dienste", "Sicherungen", "Abmelden"] {
        assert!(html.contains(word), "{word} missing");
    }
}
