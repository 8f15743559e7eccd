//! Signing on to the review desk through its login form, as a browser does.

use erpsync::service::desk::auth;
use reqwest::{Client, Response};

/// Reads the login form for its login cookie (which carries the CSRF token), then posts name,
/// password and token with it. Returns the desk's answer to the post.
pub async fn submit_login(http: &Client, base: &str, user: &str, password: &str) -> Response {
    let (pair, token) = open_login_form(http, base).await;
    http.post(format!("{base}/login"))
        .header("cookie", &pair)
        .form(&[
            ("user", user),
            ("password", password),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

/// Opens the sign-in form: the cookie it sets (`name=value`) and the CSRF token the form
/// must send back with it.
pub async fn open_login_form(http: &Client, base: &str) -> (String, String) {
    let form = http.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(auth::LOGIN_COOKIE))
        .expect("login form sets its cookie");
    let pair = login_cookie.split(';').next().unwrap().to_string();
    let token = pair.split_once('=').unwrap().1.to_string();
    (pair, token)
}

/// The whole `Set-Cookie` line of the session an answer opens (not one that clears it).
pub fn session_cookie_line(resp: &Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(auth::SESSION_COOKIE) && !c.contains("Max-Age=0"))
}

/// Signs `user` on through the login form: the session cookie (`name=value`, for a `cookie`
/// header) and the session's CSRF token (from `/api/v1/me`) that forms post.
pub async fn sign_in(http: &Client, base: &str, user: &str, password: &str) -> (String, String) {
    let resp = submit_login(http, base, user, password).await;
    assert_eq!(
        resp.status(),
        reqwest::StatusCode::SEE_OTHER,
        "{user} signs in"
    );
    let cookie = session_cookie_line(&resp)
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me: serde_json::Value = http
        .get(format!("{base}/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = me["csrf_token"].as_str().expect("a CSRF token").to_string();
    (cookie, csrf)
}

/// The collector `ana` (clerk 01) who signs on to the AR pages, and her password.
pub const ANA: (&str, &str) = ("ana", "pw-ana-123456");
/// The viewer's API token, read from the file `t-viewer` beside the config.
pub const VIEWER_TOKEN: &str = "tok-viewer-0123456789";

/// The config of an AR team on `env`'s mock: clerks 01 (`ana`, who can sign on) and 02
/// (`ben`), and a viewer token for the API. Callers add their own settings and write it.
pub fn ar_team(env: &super::TestEnv) -> super::ErpsyncToml {
    std::fs::write(env.dir.path().join("t-viewer"), format!("{VIEWER_TOKEN}\n")).unwrap();
    env.toml(&env.mock.base_url(), 1)
        .set("collectors.01", ANA.0)
        .set("collectors.02", "ben")
        .push(
            "server.users",
            super::config::user(ANA.0, "collector", &auth::hash_password(ANA.1).unwrap()),
        )
        .push(
            "server.tokens",
            super::config::token("t-viewer", "viewer", "token_file", "t-viewer"),
        )
}
