//! The review desk as an MDM contact, an approver and a viewer meet it, over real HTTP
//! against a store a real sync filled from the mock ERP: each flag says what differs in one
//! sentence with the compared values as headlines and a proposed change; the money is
//! shown per currency with thousands separators; refused forms keep what was typed; each
//! role lands on its work; the queue keeps the user's place.

mod common;
#[path = "desk_ux/customers.rs"]
mod customers;

use common::config::user;
use common::TestEnv;
use erpsync::erp::connect;
use erpsync::model::{DiscrepancyStatus, Rule};
use erpsync::push;
use erpsync::service::desk::{self, auth, DeskState};
use erpsync::store::OutboxStatus;
use erpsync::store::SharedStore;
use erpsync::sync::{self, reconcile_run, SyncContext};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::sync::Arc;

const USERS: [(&str, &str, &str); 5] = [
    ("vera", "viewer", "vera-pw"),
    ("cole", "collector", "cole-pw"),
    ("mia", "mdm", "mia-pw"),
    ("max", "mdm", "max-pw"),
    ("april", "approver", "april-pw"),
];

struct Desk {
    _env: TestEnv,
    store: SharedStore,
    base: String,
    http: Client,
}

/// A signed-in browser: its session cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

impl Desk {
    async fn start() -> Desk {
        let env = TestEnv::start(40, 400).await;
        let mut config = env
            .toml(&env.mock.base_url(), 1)
            .set(
                "desk.sap_link",
                "https://s4.example.com/ui#Customer-manage?Customer={customer}&tx={transaction}",
            )
            .set("desk.waiver_max_days", 365)
            .set("collectors.01", "cole");
        for (name, role, password) in USERS {
            let hash = auth::hash_password(password).unwrap();
            config = config.push("server.users", user(name, role, &hash));
        }
        config.write(&env.config_path);
        let store = env.store().await;
        let ctx = SyncContext::new(env.config(), store.clone()).unwrap();
        sync::run(&ctx, &[]).await.expect("sync succeeds");
        let now = chrono::Utc::now();
        reconcile_run::run(store.as_ref(), now.date_naive(), now)
            .await
            .unwrap();
        let state = Arc::new(DeskState::from_config(&env.config(), store.clone()).unwrap());
        let addr = common::serve(desk::router(state)).await;
        Desk {
            _env: env,
            store,
            base: format!("http://{addr}"),
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn login(&self, name: &str) -> Session {
        let password = USERS.iter().find(|u| u.0 == name).unwrap().2;
        let (cookie, csrf) = common::desk::sign_in(&self.http, &self.base, name, password).await;
        Session { cookie, csrf }
    }

    async fn page(&self, s: &Session, path: &str) -> (StatusCode, String) {
        self.page_in(s, path, "en-US").await
    }

    async fn page_in(&self, s: &Session, path: &str, lang: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(self.url(path))
            .header("cookie", &s.cookie)
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    async fn json(&self, s: &Session, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .header("cookie", &s.cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, s: &Session, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = vec![("csrf", s.csrf.as_str())];
        fields.extend_from_slice(form);
        self.http
            .post(self.url(path))
            .header("cookie", &s.cookie)
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// Every flag (all statuses), as the API lists them.
    async fn all_flags(&self, s: &Session) -> Vec<Value> {
        let page = self.json(s, "/api/v1/discrepancies?limit=500").await;
        page["items"].as_array().unwrap().clone()
    }
}

/// The HTML-escaped text, as the page shows it.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The text of the element with `id` (up to its first closing tag).
fn element<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find("</")? + start;
    Some(&rest[start..end])
}

#[tokio::test]
async fn every_flag_says_what_differs_with_its_values_as_headlines_and_proposes_the_change() {
    let d = Desk::start().await;
    let mia = d.login("mia").await;
    let flags = d.all_flags(&mia).await;
    let mut rules_seen = std::collections::BTreeSet::new();
    for f in &flags {
        let id = f["id"].as_i64().unwrap();
        let detail = d.json(&mia, &format!("/api/v1/discrepancies/{id}")).await;
        let w = &detail["wording"];
        let rule = f["rule"].as_str().unwrap();
        // The API keeps the rule's name; the wording is added beside it.
        assert_eq!(detail["flag"]["rule"], f["rule"]);
        let sentence = w["sentence"].as_str().unwrap();
        assert!(
            sentence.contains(f["customer"].as_str().unwrap()),
            "{rule}: {sentence}"
        );
        assert!(!sentence.contains("contract: "), "{rule}: {sentence}");
        let (_, html) = d.page(&mia, &format!("/flags/{id}")).await;
        assert_eq!(
            element(&html, "sentence"),
            Some(esc(sentence).as_str()),
            "{rule}"
        );
        // The cards' headlines are the values the sentence compares.
        let left = w["left"]["value"].as_str().unwrap();
        let right = w["right"]["value"].as_str().unwrap();
        assert!(
            html.contains(&format!("<p class=\"value\">{}</p>", esc(left))),
            "{rule}"
        );
        assert!(
            html.contains(&format!("<p class=\"value\">{}</p>", esc(right))),
            "{rule}"
        );
        assert_ne!(
            right.trim(),
            "-",
            "{rule}: the master side is never a bare dash"
        );
        if rule == "payment_terms_company_vs_sales_area" {
            assert!(w["left"]["title"]
                .as_str()
                .unwrap()
                .starts_with("Master · company code"));
        }
        let proposal = w["proposal"]["text"].as_str().unwrap();
        assert_eq!(
            element(&html, "proposal-text"),
            Some(esc(proposal).as_str()),
            "{rule}"
        );
        // The rule's raw name is never the label people read.
        if rule.contains('_') {
            assert!(
                !html.contains(&format!(">{}<", rule.replace('_', " "))),
                "{rule}"
            );
        }
        assert!(
            html.contains(&esc(w["rule_label"].as_str().unwrap())),
            "{rule}"
        );
        let place = w["proposal"]["place"].as_str().unwrap();
        if ["company_code", "sales_area", "general"].contains(&place) {
            let link = format!(
                "https://s4.example.com/ui#Customer-manage?Customer={}&amp;tx=BP",
                f["customer"].as_str().unwrap()
            );
            assert!(html.contains(&link), "{rule}: the configured SAP link");
        }
        // Times come with their instant, for the reader's local clock.
        assert!(html.contains("<time class=\"utc\" datetime=\""), "{rule}");
        rules_seen.insert(rule.to_string());
    }
    assert!(
        rules_seen.len() >= 3,
        "the demo data covers several rules: {rules_seen:?}"
    );
}

#[tokio::test]
async fn money_is_shown_per_currency_with_separators_and_items_concerned_even_without_a_shift() {
    let d = Desk::start().await;
    let mia = d.login("mia").await;
    let flags = d.all_flags(&mia).await;
    // A flag whose rule measures no money, for a customer with open items.
    let mut checked = false;
    for f in &flags {
        if f["exposure"]["items"].as_u64() != Some(0) {
            continue;
        }
        let id = f["id"].as_i64().unwrap();
        let detail = d.json(&mia, &format!("/api/v1/discrepancies/{id}")).await;
        let items = detail["affected_total"]["items"].as_u64().unwrap();
        if items == 0 {
            continue;
        }
        let (_, html) = d.page(&mia, &format!("/flags/{id}")).await;
        let concerned = element(&html, "concerned").unwrap();
        assert!(!concerned.contains("no open"), "{concerned}");
        assert!(concerned.contains(&format!("({items} item")), "{concerned}");
        checked = true;
        break;
    }
    assert!(
        checked,
        "the demo has a flag without measured money whose customer owes"
    );

    // Totals per currency over the filtered queue, grouped in the reader's style.
    let (_, en) = d.page_in(&mia, "/?status=all", "en-US").await;
    let totals = element(&en, "totals").expect("totals");
    assert!(totals.contains("Exposure"), "{totals}");
    let (_, de) = d.page_in(&mia, "/?status=all", "de-DE,de;q=0.9").await;
    let big = flags
        .iter()
        .map(|f| {
            f["exposure"]["amount"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        })
        .fold(0.0, f64::max);
    assert!(big >= 1000.0, "the demo has an exposure past a thousand");
    assert!(
        en.contains("data-currency=") && regex_like_grouped(&en, ',', '.'),
        "English groups with commas"
    );
    assert!(regex_like_grouped(&de, '.', ','), "German groups with dots");
}

/// Whether the page shows an amount like `1,234.56` (with these marks).
fn regex_like_grouped(html: &str, group: char, decimal: char) -> bool {
    let chars: Vec<char> = html.chars().collect();
    chars.windows(8).any(|w| {
        w[0].is_ascii_digit()
            && w[1] == group
            && w[2..5].iter().all(char::is_ascii_digit)
            && w[5] == decimal
            && w[6..8].iter().all(char::is_ascii_digit)
    })
}

#[tokio::test]
async fn refused_actions_keep_what_was_typed_and_say_who_changed_the_flag() {
    let d = Desk::start().await;
    let mia = d.login("mia").await;
    let max = d.login("max").await;
    let flags = d.all_flags(&mia).await;
    let open = flags.iter().find(|f| f["status"] == "open").unwrap();
    let id = open["id"].as_i64().unwrap();
    let version = open["version"].as_str().unwrap().to_string();

    // A waiver date in the past: refused, the reason and the date stay in the form.
    let note = "Sales agreed <this> exception / 销售同意";
    let r = d
        .post(
            &mia,
            &format!("/flags/{id}/waive"),
            &[
                ("note", note),
                ("until", "2001-01-01"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(">{}</textarea>", esc(note))),
        "the reason is kept"
    );
    assert!(html.contains("value=\"2001-01-01\""), "the date is kept");
    assert!(html.contains("role=\"alert\""));

    // Longer than the configured maximum (365 days here): refused, kept.
    let far = (chrono::Utc::now().date_naive() + chrono::Days::new(400)).to_string();
    let r = d
        .post(
            &mia,
            &format!("/flags/{id}/waive"),
            &[("note", note), ("until", &far), ("version", &version)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("at most 365 days"), "the limit is named");
    assert!(html.contains(&format!(">{}</textarea>", esc(note))));
    // The date field says its bounds.
    let today = chrono::Utc::now().date_naive().to_string();
    assert!(
        html.contains(&format!("min=\"{today}\"")),
        "the date field has a min"
    );
    assert!(html.contains("max=\""), "the date field has a max");

    // Someone else acts first: the stale form keeps the text and says who did what.
    let r = d
        .post(
            &max,
            &format!("/flags/{id}/acknowledge"),
            &[
                ("note", "mine now"),
                ("assignee", "max"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let typed = "Resolved: master corrected in BP";
    let r = d
        .post(
            &mia,
            &format!("/flags/{id}/resolve"),
            &[("note", typed), ("version", &version)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(">{typed}</textarea>")),
        "the resolve note is kept"
    );
    let meanwhile = element(&html, "meanwhile").map(|_| {
        let at = html.find("id=\"meanwhile\"").unwrap();
        &html[at..at + html[at..].find("</ul>").unwrap()]
    });
    let meanwhile = meanwhile.expect("says what changed meanwhile");
    assert!(
        meanwhile.contains("max") && meanwhile.contains("acknowledged"),
        "{meanwhile}"
    );
    assert!(meanwhile.contains("mine now"), "{meanwhile}");
    assert_eq!(
        d.store.discrepancy(id).await.unwrap().unwrap().status,
        DiscrepancyStatus::Acknowledged
    );
}

#[tokio::test]
async fn approvers_land_on_their_inbox_and_see_the_reason_a_pending_waiver_counts_as_open() {
    let d = Desk::start().await;
    let mia = d.login("mia").await;
    let april = d.login("april").await;
    let flags = d.all_flags(&mia).await;
    let open = flags.iter().find(|f| f["status"] == "open").unwrap();
    let id = open["id"].as_i64().unwrap();
    let (_, before) = d.page(&mia, "/").await;
    let open_before = element(&before, "total").unwrap().to_string();

    let until = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    let reason = "Customer moves to standard terms next quarter";
    let r = d
        .post(
            &mia,
            &format!("/flags/{id}/waive"),
            &[("note", reason), ("until", &until)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Still open work until approved: the open tab counts it the same.
    let (_, after) = d.page(&mia, "/").await;
    assert_eq!(element(&after, "total").unwrap(), open_before);
    assert!(
        after.contains(&format!("data-id=\"{id}\"")),
        "the pending waiver is listed as open"
    );

    // The approver lands on what awaits them, and sees the reason beside approve.
    let (_, inbox) = d.page(&april, "/").await;
    assert!(inbox.contains("id=\"view-approvals\""));
    assert!(
        inbox.contains("class=\"on\" aria-current=\"page\" id=\"view-approvals\""),
        "the inbox is the landing view"
    );
    assert!(inbox.contains(&format!("data-id=\"{id}\"")));
    assert!(
        element(&inbox, "total").unwrap().starts_with("1–1 of 1"),
        "{:?}",
        element(&inbox, "total")
    );
    let (_, flag) = d.page(&april, &format!("/flags/{id}")).await;
    assert_eq!(element(&flag, "waiver-reason"), Some(reason));
    assert!(
        flag.contains("id=\"do-reject\""),
        "the approver may return the waiver"
    );

    // Returning it needs a reason (the refusal keeps the form), then reopens the flag, audited.
    let r = d
        .post(&april, &format!("/flags/{id}/reject"), &[("note", "  ")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let back = "The contract says otherwise: fix the master";
    let r = d
        .post(&april, &format!("/flags/{id}/reject"), &[("note", back)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let returned = d.store.discrepancy(id).await.unwrap().unwrap();
    assert_eq!(returned.status, DiscrepancyStatus::Open);
    assert_eq!(returned.waiver_by, None);
    let audit = d.store.audit_log(id).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.actor, "april");
    assert_eq!(last.from, Some(DiscrepancyStatus::Waived));
    assert!(last.note.as_deref().unwrap().contains(back));
    // Returning twice finds nothing to return.
    let r = d
        .post(&april, &format!("/flags/{id}/reject"), &[("note", back)])
        .await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER);

    // The MDM contact's own work.
    let r = d
        .post(
            &mia,
            &format!(
                "/flags/{}/acknowledge",
                flags
                    .iter()
                    .filter(|f| f["status"] == "open")
                    .nth(1)
                    .unwrap()["id"]
            ),
            &[("assignee", "mia")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, mine) = d.page(&mia, "/?view=mine").await;
    assert!(element(&mine, "total").unwrap().starts_with("1–1 of 1"));
}

#[tokio::test]
async fn the_queue_keeps_the_users_place_pages_back_and_forth_and_sorts() {
    let d = Desk::start().await;
    let mia = d.login("mia").await;
    let (_, html) = d
        .page(&mia, "/?status=all&sort=-customer&per_page=10")
        .await;
    let total = element(&html, "total").unwrap();
    assert!(total.starts_with("1–10 of "), "{total}");
    assert!(html.contains("id=\"next-page\""));
    assert!(!html.contains("id=\"prev-page\""));
    assert!(
        html.contains("aria-sort=\"ascending\""),
        "the sorted column says so"
    );
    // The "Due shift" column explains itself, and the page has its icon.
    assert!(html.contains("href=\"#days-legend\"") && html.contains("id=\"days-legend\""));
    assert!(html.contains("rel=\"icon\" href=\"/assets/favicon.svg\""));
    let icon = d
        .http
        .get(d.url("/assets/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    // One link per row: a keyboard user tabs once per flag.
    let row = &html[html.find("<tr class=\"flag\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let tab_stops = row.matches("<a ").count() - row.matches("tabindex=\"-1\"").count();
    assert_eq!(tab_stops, 1, "{row}");
    let (_, second) = d
        .page(&mia, "/?status=all&sort=-customer&per_page=10&page=2")
        .await;
    assert!(element(&second, "total").unwrap().starts_with("11–20 of "));
    assert!(second.contains("id=\"prev-page\""));

    // A flag opened from a filtered queue links back to it, and to its neighbours in it.
    let (_, open_q) = d.page(&mia, "/?status=open&severity=high").await;
    let first = open_q.find("class=\"flag\" data-id=\"").unwrap();
    let rest = &open_q[first + 22..];
    let id: i64 = rest[..rest.find('"').unwrap()].parse().unwrap();
    let from = "status=open&severity=high&sort=exposure";
    let enc = "status%3Dopen%26severity%3Dhigh%26sort%3Dexposure";
    let (_, flag) = d.page(&mia, &format!("/flags/{id}?from={enc}")).await;
    assert!(
        flag.contains(&format!("id=\"back\" href=\"/?{}\"", esc(from))),
        "← Queue keeps the filter"
    );
    assert!(element(&flag, "position").unwrap().starts_with("1 of "));
    assert!(flag.contains("id=\"next-flag\""));
    // After an action the page still knows the queue it came from.
    let r = d
        .post(
            &mia,
            &format!("/flags/{id}/acknowledge"),
            &[("assignee", "mia"), ("from", from)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/flags/{id}?from={enc}&done=acknowledge"));
    // Contract ids are searchable.
    let flags = d.all_flags(&mia).await;
    let with_contract = flags
        .iter()
        .find(|f| f["contract_id"].is_string())
        .expect("a flag naming a contract");
    let contract = with_contract["contract_id"].as_str().unwrap();
    let (_, found) = d
        .page(&mia, &format!("/?status=all&q={}", contract.to_lowercase()))
        .await;
    assert!(
        found.contains(&format!("data-id=\"{}\"", with_contract["id"])),
        "searching {contract} finds its flag"
    );
    // Only queue keys survive: nothing else rides along in `from`.
    let (_, odd) = d
        .page(
            &mia,
            &format!("/flags/{id}?from=%22%3E%3Cscript%3E%26x%3D1"),
        )
        .await;
    assert!(odd.contains("id=\"back\" href=\"/\""));
}
