//! The web console over HTTP on a real provider: no session → the login
//! page; POST without the CSRF token → 403; failed logins limited; the
//! session cookie's flags; the pages' main actions as forms.

use crate::common::{checkin, rt, Fixture, Running, TempPg};
use reqwest::header::{COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use transit_provider::Database;

const PASSWORD: &str = "correct horse battery";

/// A browser without JavaScript: cookies by hand, redirects not followed.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Page {
    /// The first `name="csrf" value="…"` of the page.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("the page has a form with a CSRF token")
            + "name=\"csrf\" value=\"".len();
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

impl Browser {
    fn new(p: &Running) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: p.url(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header(COOKIE, self.cookie_header())
        };
        let r = req.send().await.unwrap();
        let set_cookies: Vec<String> = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &set_cookies {
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !attrs.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
        Page {
            status: r.status(),
            location: r
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_string()),
            set_cookies,
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    async fn login(&mut self, user: &str, password: &str) -> Page {
        let page = self.get("/console/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        self.post(
            "/console/login",
            &[("csrf", &csrf), ("user", user), ("password", password)],
        )
        .await
    }

    /// Logs on and returns the session's CSRF token.
    async fn logged_on(&mut self) -> String {
        let r = self.login("admin", PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        self.get("/console/about").await.csrf()
    }
}

fn provider() -> (Fixture, Running) {
    let fx = Fixture::new();
    rt().block_on(transit_provider::init_admin(
        &fx.data,
        &Database::Sqlite,
        "admin",
        &secrecy::SecretString::from(PASSWORD),
    ))
    .unwrap();
    let p = Running::start(fx.config(Database::Sqlite));
    (fx, p)
}

const PAGES: [&str; 11] = [
    "/console/",
    "/console/about",
    "/console/activity",
    "/console/activity.csv",
    "/console/report",
    "/console/config",
    "/console/machines",
    "/console/machines/m-1",
    "/console/groups",
    "/console/groups/Default",
    "/console/updates",
];

#[test]
fn without_a_session_every_page_redirects_to_the_login_page() {
    let (_fx, p) = provider();
    rt().block_on(async {
        let mut b = Browser::new(&p);
        for path in PAGES.into_iter().skip(1) {
            let r = b.get(path).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
            let to = r.location.unwrap();
            assert!(to.starts_with("/console/login?next="), "{path} → {to}");
        }
        // POSTs too, and nothing changes.
        let r = b.post("/console/groups", &[("name", "North")]).await;
        assert_eq!(r.location.as_deref(), Some("/console/login"));
        // A made-up session cookie is no session.
        b.cookies.push(("transit_session".into(), "0".repeat(64)));
        let r = b.get("/console/about").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // Logged on, the pages answer; logged off, they redirect again.
        b.cookies.clear();
        let csrf = b.logged_on().await;
        for path in PAGES.into_iter().skip(1).filter(|p| !p.contains("m-1")) {
            let r = b.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        }
        let r = b.post("/console/logout", &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(b.get("/console/about").await.status, StatusCode::SEE_OTHER);
        let groups = p.client().groups().await.unwrap();
        assert_eq!(groups.len(), 1, "no group was created");
    });
}

#[test]
fn a_post_without_its_csrf_token_gets_403_and_changes_nothing() {
    let (_fx, p) = provider();
    rt().block_on(async {
        let mut b = Browser::new(&p);
        let csrf = b.logged_on().await;
        let r = b.post("/console/groups", &[("name", "North")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = b
            .post("/console/groups", &[("name", "North"), ("csrf", "f00")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = b.post("/console/activity/clear", &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The upload carries it in a header: without it, 403 too.
        let req = b
            .http
            .post(format!("{}/console/updates/upload?name=x.tbundle", b.base))
            .body(vec![1u8; 10]);
        assert_eq!(b.send(req).await.status, StatusCode::FORBIDDEN);
        // The login form needs its own token (login CSRF).
        let mut other = Browser::new(&p);
        let r = other
            .post(
                "/console/login",
                &[("user", "admin"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(p.client().groups().await.unwrap().len(), 1);
        // With the token, it works.
        let r = b
            .post("/console/groups", &[("name", "North"), ("csrf", &csrf)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(p.client().groups().await.unwrap().len(), 2);
    });
}

#[test]
fn failed_logins_are_rate_limited() {
    let (_fx, p) = provider();
    rt().block_on(async {
        let mut b = Browser::new(&p);
        for _ in 0..5 {
            let r = b.login("admin", "wrong password").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert!(r.body.contains("Wrong user name or password"));
        }
        // Now even the right password waits.
        let page = b.get("/console/login").await;
        let csrf = page.csrf();
        let req = b.http.post(format!("{}/console/login", b.base)).form(&[
            ("csrf", csrf.as_str()),
            ("user", "admin"),
            ("password", PASSWORD),
        ]);
        let req = req.header(COOKIE, b.cookie_header());
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = r.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!(wait > 0 && wait <= 15 * 60, "{wait}");
        assert!(r.text().await.unwrap().contains("Too many failed logins"));
    });
}

#[test]
fn the_session_cookie_is_http_only_and_same_site_strict() {
    let (_fx, p) = provider();
    rt().block_on(async {
        let mut b = Browser::new(&p);
        let r = b.login("ADMIN", PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let session = r
            .set_cookies
            .iter()
            .find(|c| c.starts_with("transit_session="))
            .unwrap();
        assert!(session.contains("HttpOnly"), "{session}");
        assert!(session.contains("SameSite=Strict"), "{session}");
        assert!(session.contains("Path=/console"), "{session}");
        assert!(!session.contains("Secure"), "plain HTTP: {session}");
        // The name is shown as stored, whatever case was typed.
        assert!(b.get("/console/about").await.body.contains("admin"));
        // An unknown user is refused like a wrong password.
        let mut other = Browser::new(&p);
        assert_eq!(
            other.login("nobody", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
    });
}

#[test]
fn console_forms_move_machines_apply_peers_and_manage_the_database() {
    let (fx, p) = provider();
    let c = p.client();
    let shared: std::sync::Mutex<Option<TempPg>> = Default::default();
    rt().block_on(async {
        c.checkin(&checkin("m-1", "WS001", 1)).await.unwrap();
        c.checkin(&checkin("m-2", "WS002", 3)).await.unwrap();
        let mut b = Browser::new(&p);
        let csrf = b.logged_on().await;
        let ok = |r: &Page| assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        // Groups: create, add members through the dialog's search, remove one.
        ok(&b
            .post("/console/groups", &[("name", "North"), ("csrf", &csrf)])
            .await);
        let dialog = b.get("/console/groups/North?name_contains=ws00").await;
        assert!(dialog.body.contains("WS001") && dialog.body.contains("WS002"));
        ok(&b
            .post(
                "/console/groups/North/members/add",
                &[("csrf", &csrf), ("id", "m-1"), ("id", "m-2")],
            )
            .await);
        assert_eq!(c.machine("m-2").await.unwrap().machine.group, "North");
        ok(&b
            .post(
                "/console/groups/North/members/remove",
                &[("csrf", &csrf), ("id", "m-2")],
            )
            .await);
        assert_eq!(c.machine("m-2").await.unwrap().machine.group, "Default");
        // Settings with a reverse-proxy provider; a bad hour is refused.
        ok(&b
            .post(
                "/console/groups/North",
                &[
                    ("csrf", &csrf),
                    ("mode", "Notify"),
                    ("day", "Sunday"),
                    ("hour", "4"),
                    ("host_0", "proxy.example.com"),
                    ("port_0", "443"),
                    ("secure_0", "on"),
                    ("path_0", "update"),
                    ("allow_migration", "on"),
                    ("max_downloads", "8"),
                ],
            )
            .await);
        let north = c
            .groups()
            .await
            .unwrap()
            .into_iter()
            .find(|g| g.name == "North")
            .unwrap();
        assert_eq!(
            north.settings.providers,
            ["https://proxy.example.com:443/update"]
        );
        assert!(north.settings.allow_migration);
        assert_eq!(north.settings.max_downloads, 8);
        let r = b
            .post(
                "/console/groups/North",
                &[
                    ("csrf", &csrf),
                    ("mode", "Notify"),
                    ("day", "Sunday"),
                    ("hour", "24"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Deleting the group sends m-1 back to the default group.
        ok(&b
            .post("/console/groups/North/delete", &[("csrf", &csrf)])
            .await);
        assert_eq!(c.machine("m-1").await.unwrap().machine.group, "Default");

        // Peers: marked + until Apply, then handed to check-ins.
        ok(&b
            .post(
                "/console/config/peers",
                &[
                    ("csrf", &csrf),
                    ("op", "add"),
                    ("host_0", "peer1.example.com"),
                    ("port_0", "8092"),
                ],
            )
            .await);
        let page = b.get("/console/config").await;
        assert!(page.body.contains("peer1.example.com"));
        let reply = c.checkin(&checkin("m-1", "WS001", 1)).await.unwrap();
        assert!(
            reply.settings.settings.providers.is_empty(),
            "not before Apply"
        );
        ok(&b
            .post("/console/config/apply", &[("csrf", &csrf), ("op", "apply")])
            .await);
        let reply = c.checkin(&checkin("m-1", "WS001", 1)).await.unwrap();
        assert_eq!(reply.settings.settings.providers, ["peer1.example.com"]);

        // A user added with + can log on after Apply; a short password is refused.
        let r = b
            .post(
                "/console/config/users",
                &[
                    ("csrf", &csrf),
                    ("op", "add"),
                    ("name", "bob"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        ok(&b
            .post(
                "/console/config/users",
                &[
                    ("csrf", &csrf),
                    ("op", "add"),
                    ("name", "bob"),
                    ("password", "bobs password"),
                ],
            )
            .await);
        assert_eq!(
            Browser::new(&p).login("bob", "bobs password").await.status,
            StatusCode::UNAUTHORIZED,
            "not before Apply"
        );
        ok(&b
            .post("/console/config/apply", &[("csrf", &csrf), ("op", "apply")])
            .await);
        assert_eq!(
            Browser::new(&p).login("bob", "bobs password").await.status,
            StatusCode::SEE_OTHER
        );

        // Manage Database: a location that is not PostgreSQL is refused,
        // one that cannot be reached fails, and nothing is switched.
        let r = b
            .post(
                "/console/config/database",
                &[("csrf", &csrf), ("action", "copy"), ("location", "sqlite")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("PostgreSQL"), "{}", r.body);
        let r = b
            .post(
                "/console/config/database",
                &[
                    ("csrf", &csrf),
                    ("action", "use"),
                    ("location", "postgres://nobody@127.0.0.1:1/none"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
        assert!(r.body.contains("Nothing was switched"), "{}", r.body);
        let page = b.get("/console/config").await;
        assert!(page.body.contains("none chosen"), "B is not set");
        // Copy into a real shared database: the provider uses it at once.
        if let Some(db) = TempPg::new().await {
            ok(&b
                .post(
                    "/console/config/database",
                    &[("csrf", &csrf), ("action", "copy"), ("location", &db.url)],
                )
                .await);
            let page = b.get("/console/config").await;
            assert!(page.body.contains("Copy"), "B shows the choice");
            assert_eq!(c.database().await.unwrap().saved.unwrap().url, db.url);
            assert!(c.status().await.unwrap().store.starts_with("postgres://"));
            assert_eq!(c.machines(None, None, 10).await.unwrap().len(), 2);
            // The rest of the test runs on the shared database.
            *shared.lock().unwrap() = Some(db);
        }

        // The Updates page shows the rollouts, with each wave's counts.
        let r = b.get("/console/updates").await;
        assert!(r.body.contains("id=\"no-rollouts\""), "no rollout yet");
        let created = c
            .create_rollout(&transit_provider::api::NewRollout {
                update_id: fx.update_id,
                waves: vec![transit_provider::rollout::parse_wave(
                    "*:50%,approve",
                    950,
                    transit_provider::rollout::ErrorThreshold::Share(100),
                )
                .unwrap()],
            })
            .await
            .unwrap();
        let r = b.get("/console/updates").await;
        assert!(
            r.body.contains(&format!("id=\"rollout-{}\"", created.id)),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("running") && r.body.contains("1 * 50%"),
            "{}",
            r.body
        );

        // Updates: GA → Remove through the form; High Priority on.
        let id = fx.update_id.to_string();
        ok(&b
            .post(
                &format!("/console/updates/{id}/state"),
                &[("csrf", &csrf), ("state", "Remove")],
            )
            .await);
        ok(&b
            .post(
                &format!("/console/updates/{id}/priority"),
                &[("csrf", &csrf), ("high", "on")],
            )
            .await);
        let u = c.updates().await.unwrap();
        assert_eq!(u[0].state, transit_update::UpdateState::Remove);
        assert!(u[0].high_priority);
        // A state that does not exist is refused.
        let r = b
            .post(
                &format!("/console/updates/{id}/state"),
                &[("csrf", &csrf), ("state", "bogus")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

        // The report's filter is remembered in a cookie.
        let r = b
            .get("/console/report?since=2w&status=NeedsAttention")
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(b.cookie_header().contains("transit_report_since=2w"));
        let r = b.get("/console/report").await;
        assert!(
            r.body.contains("<option value=\"2w\" selected>"),
            "remembered"
        );
        assert_eq!(
            b.get("/console/report?since=yesterday").await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );

        // Activity: CSV export, then clear.
        let csv = b.get("/console/activity.csv").await;
        assert!(csv.body.starts_with("time,machine,application"));
        assert!(csv.body.lines().count() > 1);
        ok(&b.post("/console/activity/clear", &[("csrf", &csrf)]).await);
        let csv = b.get("/console/activity.csv").await;
        assert_eq!(csv.body.lines().count(), 1, "{}", csv.body);
    });
    drop(p);
    if let Some(db) = shared.into_inner().unwrap() {
        rt().block_on(db.drop_db());
    }
}
