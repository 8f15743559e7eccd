//! Sign-in: sessions and their CSRF token, the login rate limit, a trusted proxy's header,
//! the desk's config errors, password hashes, and escaping what users typed.

use super::*;

#[tokio::test]
async fn sessions_need_their_csrf_token_and_logins_are_rate_limited() {
    let d = Desk::start().await;
    let id = d.first("open").await["id"].as_i64().unwrap();
    let (cookie, csrf) = login(&d, "mia", "mia-pw").await.expect("mia logs in");
    let path = d.url(&format!("/api/v1/discrepancies/{id}/acknowledge"));

    let without = d
        .http
        .post(&path)
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let wrong = d
        .http
        .post(&path)
        .header("cookie", &cookie)
        .header("x-csrf-token", "0".repeat(64))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        d.store.discrepancy(id).await.unwrap().unwrap().status,
        DiscrepancyStatus::Open
    );
    let ok = d
        .http
        .post(&path)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let flag = d.store.discrepancy(id).await.unwrap().unwrap();
    assert_eq!(flag.status, DiscrepancyStatus::Acknowledged);
    assert_eq!(flag.assignee.as_deref(), Some("mia"));

    // A viewer's session reads but does not act, CSRF token or not.
    let (vcookie, vcsrf) = login(&d, "vera", "vera-pw").await.unwrap();
    let resp = d
        .http
        .post(d.url(&format!("/api/v1/discrepancies/{id}/resolve")))
        .header("cookie", &vcookie)
        .header("x-csrf-token", &vcsrf)
        .json(&json!({"note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Five wrong passwords block the name, even with the right password after them.
    for _ in 0..auth::LOGIN_ATTEMPTS {
        assert_eq!(
            login(&d, "max", "wrong").await.unwrap_err(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&d, "max", "max-pw").await.unwrap_err(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A login form without its double-submit token is refused.
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .post(d.url("/login"))
        .form(&[("user", "root"), ("password", "root-pw"), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Logging out ends the session.
    let resp = d
        .http
        .post(d.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success() || resp.status().is_redirection());
    let after = d
        .http
        .get(d.url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_trusted_proxy_signs_users_on_by_header() {
    let d = Desk::start().await;
    let me = |user: &'static str| {
        d.http
            .get(d.url("/api/v1/me"))
            .header("X-Remote-User", user)
            .send()
    };
    let resp = me("sam").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["role"], "collector");
    assert_eq!(body["csrf_token"], Value::Null, "no session yet");
    assert_eq!(
        me("mallory").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // The header alone reads; acting needs the session the first page starts.
    let customer = d.first("open").await["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let note = json!({"customer": customer, "text": "via proxy"});
    let resp = d
        .http
        .post(d.url("/api/v1/notes"))
        .header("X-Remote-User", "sam")
        .json(&note)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token without a session"
    );
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(d.url("/"))
        .header("X-Remote-User", "sam")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(auth::SESSION_COOKIE))
        .expect("the first page starts a session");
    let cookie = cookie.split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert!(html.contains("sam · collector"));
    let me: Value = http
        .get(d.url("/api/v1/me"))
        .header("X-Remote-User", "sam")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = me["csrf_token"]
        .as_str()
        .expect("session CSRF token")
        .to_string();
    let resp = http
        .post(d.url("/api/v1/notes"))
        .header("X-Remote-User", "sam")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&note)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    // The session belongs to the user the proxy names: another name does not inherit it.
    let other: Value = http
        .get(d.url("/api/v1/me"))
        .header("X-Remote-User", "vera")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["name"], "vera");
    assert_eq!(other["role"], "viewer");

    // A proxy-only user has no password to sign in with.
    assert_eq!(
        login(&d, "sam", "").await.unwrap_err(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn desk_config_errors_name_the_entry() {
    let env = TestEnv::start(2, 2).await;
    let base = env.toml(&env.mock.base_url(), 1);
    let store = env.store().await;
    for (extra, expected) in [
        (
            ("server.users", user("ana", "boss", "")),
            "server.users[0] (ana): role \"boss\"",
        ),
        (
            ("server.users", user("ana", "viewer", "plain-text")),
            "server.users[0] (ana): password_hash is not a PHC string",
        ),
        (
            (
                "server.tokens",
                token("bi", "viewer", "token_env", "ERPSYNC_DESK_TEST_UNSET_TOKEN"),
            ),
            "ERPSYNC_DESK_TEST_UNSET_TOKEN",
        ),
    ] {
        base.clone().push(extra.0, extra.1).write(&env.config_path);
        let err = DeskState::from_config(&env.config(), store.clone())
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn hash_password_reads_stdin_and_prints_an_argon2_hash() {
    use std::io::Write;
    use std::process::Stdio;
    let run = |input: &str| {
        let mut child = common::cli::erpsync()
            .args(["users", "hash-password"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("correct horse 马\n");
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(auth::verify_password(hash, "correct horse 马"));
    let empty = run("");
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no password on stdin"));
}

#[tokio::test]
async fn pages_escape_what_users_typed() {
    let d = Desk::start().await;
    let id = d.first("open").await["id"].as_i64().unwrap();
    let (cookie, csrf) = login(&d, "mia", "mia-pw").await.unwrap();
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .post(d.url(&format!("/flags/{id}/acknowledge")))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("note", "<script>alert(1)</script> 已确认"),
            ("assignee", "mia"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["location"],
        format!("/flags/{id}?done=acknowledge").as_str()
    );
    let page = http
        .get(d.url(&format!("/flags/{id}?done=acknowledge")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("charset=utf-8"));
    let html = page.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; 已确认"));
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("Acknowledged."));
    // The page posted with a version the flag no longer has: the stale form is refused.
    let stale = http
        .post(d.url(&format!("/flags/{id}/resolve")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("note", "x"), ("version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert!(stale
        .text()
        .await
        .unwrap()
        .contains("Someone changed this flag"));
    assert_eq!(
        d.store.discrepancy(id).await.unwrap().unwrap().status,
        DiscrepancyStatus::Acknowledged
    );
}
