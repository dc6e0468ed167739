//! The console's authorized users: argon2 password hashes, sessions held
//! in memory behind secure cookies, a CSRF token per session, and the
//! failed-login limit.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::HeaderMap;
use rand::RngCore;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "transit_session";
/// The cookie carrying the login form's token before there is a session.
pub const LOGIN_COOKIE: &str = "transit_login";
/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after logging on, whatever happens.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Failed logins counted per client address and per user name.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed logins from one address within the window before it must wait.
pub const MAX_FAILURES_PER_ADDRESS: usize = 5;
/// Failed logins for one user name within the window before it must wait.
pub const MAX_FAILURES_PER_USER: usize = 10;
/// The shortest password `init` and the Configuration page accept.
pub const MIN_PASSWORD: usize = 8;

/// 32 random bytes as hex, from the operating system's generator.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2
/// passes) and a random salt, as a PHC string. Slow on purpose: call it
/// off the async threads.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// True when `password` matches the PHC string `hash`. Slow on purpose.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks a new user's name and password; the message says what is wrong.
pub fn check_new_user(name: &str, password: &str) -> Result<(), String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 128 || n.chars().any(char::is_control) {
        return Err("a user name is 1-128 characters, without control characters".into());
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("a password is at least {MIN_PASSWORD} characters"));
    }
    Ok(())
}

/// A change marked + or − on the Configuration page, waiting for Apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// Added when applied (users carry their password hash).
    Add {
        /// The name.
        name: String,
        /// A user's argon2 hash; `None` for a peer.
        hash: Option<String>,
    },
    /// Removed when applied.
    Remove(String),
}

impl Pending {
    /// The name the change is about.
    pub fn name(&self) -> &str {
        match self {
            Pending::Add { name, .. } | Pending::Remove(name) => name,
        }
    }
}

/// One logged-on user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user name, as stored.
    pub user: String,
    /// The token every form of this session carries.
    pub csrf: String,
    /// When the user logged on.
    pub created: Instant,
    /// The last request.
    pub last: Instant,
    /// Peer changes waiting for Apply.
    pub peers: Vec<Pending>,
    /// User changes waiting for Apply.
    pub users: Vec<Pending>,
}

/// Sessions and failed logins, in memory: a restarted provider asks
/// everyone to log on again.
#[derive(Debug, Default)]
pub struct Auth {
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Auth {
    /// Starts a session for `user`; returns its cookie token.
    pub fn start(&self, user: &str) -> String {
        let token = random_token();
        let now = Instant::now();
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| alive(s, now));
        map.insert(
            token.clone(),
            Session {
                user: user.to_string(),
                csrf: random_token(),
                created: now,
                last: now,
                peers: Vec::new(),
                users: Vec::new(),
            },
        );
        token
    }

    /// The live session of `token`, marked as used now.
    pub fn touch(&self, token: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(token) {
            Some(s) if alive(s, now) => {
                s.last = now;
                Some(s.clone())
            }
            Some(_) => {
                map.remove(token);
                None
            }
            None => None,
        }
    }

    /// Changes the session of `token` (its pending changes).
    pub fn update<T>(&self, token: &str, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.get_mut(token).map(f)
    }

    /// Ends the session of `token`.
    pub fn end(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(token);
    }

    /// Ends every session of `user` (removed from the authorized users).
    pub fn end_user(&self, user: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, s| !s.user.eq_ignore_ascii_case(user));
    }

    /// `Some(wait)` when logins from `ip` or for `user` must wait (too
    /// many recent failures).
    pub fn locked_out(&self, ip: IpAddr, user: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for (key, max) in [
            (ip_key(ip), MAX_FAILURES_PER_ADDRESS),
            (user_key(user), MAX_FAILURES_PER_USER),
        ] {
            if let Some(q) = map.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > FAILURE_WINDOW)
                {
                    q.pop_front();
                }
                if q.len() >= max {
                    let oldest = q.front().copied().unwrap_or(now);
                    let w = FAILURE_WINDOW.saturating_sub(now.duration_since(oldest));
                    wait = Some(wait.map_or(w, |x: Duration| x.max(w)));
                }
            }
        }
        wait
    }

    /// Counts a failed login.
    pub fn failed(&self, ip: IpAddr, user: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in [ip_key(ip), user_key(user)] {
            map.entry(key).or_default().push_back(now);
        }
    }

    /// Forgets the failures of `ip` after a successful login.
    pub fn succeeded(&self, ip: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ip_key(ip));
    }
}

fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

fn user_key(user: &str) -> String {
    format!("user:{}", user.trim().to_lowercase())
}

fn alive(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last) < IDLE && now.duration_since(s.created) < LIFETIME
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: `Path=/console`, `HttpOnly`, `SameSite=Strict`,
/// and `Secure` when the provider serves TLS; `max_age` `Some(0)` deletes it.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("wrong horse", &a));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn lockout_after_five_failures_per_address() {
        let auth = Auth::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..MAX_FAILURES_PER_ADDRESS {
            assert!(auth.locked_out(ip, "admin").is_none());
            auth.failed(ip, "admin");
        }
        assert!(auth.locked_out(ip, "admin").is_some());
        // Another address is not held back by this one's failures.
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert!(auth.locked_out(other, "someone").is_none());
    }

    #[test]
    fn cookies_parse_and_carry_the_flags() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; transit_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
        let c = set_cookie(SESSION_COOKIE, "abc", true, None);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!set_cookie(SESSION_COOKIE, "abc", false, None).contains("Secure"));
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("a", "ab"));
    }

    #[test]
    fn new_users_are_checked() {
        assert!(check_new_user("admin", "long enough").is_ok());
        assert!(check_new_user(" ", "long enough").is_err());
        assert!(check_new_user("admin", "short").is_err());
    }
}
