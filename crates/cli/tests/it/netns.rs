//! Test hosts in network namespaces (loopback has no broadcast, and a
//! link cannot be cut on it): namespaces `<p>a`, `<p>b`, `<p>c` on
//! 10.231.N.0/24, each joined by a veth pair to a bridge in the hub
//! namespace `<p>h`, made by the test and removed when dropped. Where
//! namespaces cannot be made (no root, no `ip`), [`Lan::new`] skips
//! loudly, except under `TRANSIT_REQUIRE_TOOLS=1`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Runs `ip ARGS`; true when it succeeded.
pub(crate) fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Three hosts on one bridge.
pub(crate) struct Lan {
    prefix: String,
    subnet: String,
}

impl Lan {
    /// Makes the namespaces, or `None` (skipped) where that is not permitted.
    pub(crate) fn new() -> Option<Lan> {
        // A few LANs per test process at once, on their own subnets.
        let n = (std::process::id() % 50) * 4 + NEXT.fetch_add(1, Ordering::SeqCst) % 4 + 20;
        let prefix = format!("tn{n}");
        let lan = Lan {
            subnet: format!("10.231.{n}"),
            prefix,
        };
        for side in ['a', 'b', 'c', 'h'] {
            // Left over by a test that was killed.
            ip(&["netns", "del", &lan.ns(side)]);
        }
        let hub = lan.ns('h');
        if !ip(&["netns", "add", &hub]) {
            return transit_testkit::tools::skip(
                "network namespaces (`ip netns add` as root)",
                "run as root with iproute2",
            );
        }
        let ok = ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"])
            && ip(&["-n", &hub, "link", "set", "br0", "up"])
            && ['a', 'b', 'c'].iter().all(|side| {
                let ns = lan.ns(*side);
                let (outer, inner) = (lan.outer(*side), format!("{}{side}i", lan.prefix));
                ip(&["netns", "add", &ns])
                    && ip(&[
                        "link", "add", &outer, "type", "veth", "peer", "name", &inner,
                    ])
                    && ip(&["link", "set", &outer, "netns", &hub])
                    && ip(&["link", "set", &inner, "netns", &ns])
                    && ip(&["-n", &hub, "link", "set", &outer, "master", "br0", "up"])
                    && ip(&[
                        "-n",
                        &ns,
                        "addr",
                        "add",
                        &format!("{}/24", lan.addr(*side)),
                        "dev",
                        &inner,
                    ])
                    && ip(&["-n", &ns, "link", "set", &inner, "up"])
                    && ip(&["-n", &ns, "link", "set", "lo", "up"])
            });
        assert!(ok, "setting up the namespaces failed");
        Some(lan)
    }

    /// The namespace of host `side` (`a`, `b`, `c`; `h` is the hub).
    pub(crate) fn ns(&self, side: char) -> String {
        format!("{}{side}", self.prefix)
    }

    fn outer(&self, side: char) -> String {
        format!("{}{side}o", self.prefix)
    }

    /// Host `side`'s address.
    pub(crate) fn addr(&self, side: char) -> String {
        let i = match side {
            'a' => 1,
            'b' => 2,
            _ => 3,
        };
        format!("{}.{i}", self.subnet)
    }

    /// The subnet's broadcast address.
    pub(crate) fn broadcast(&self) -> String {
        format!("{}.255", self.subnet)
    }

    /// Cuts host `side` off the bridge (its cable pulled).
    pub(crate) fn cut(&self, side: char) {
        assert!(
            ip(&[
                "-n",
                &self.ns('h'),
                "link",
                "set",
                &self.outer(side),
                "down"
            ]),
            "cutting {side} off"
        );
    }

    /// Plugs host `side` back in.
    pub(crate) fn mend(&self, side: char) {
        assert!(
            ip(&["-n", &self.ns('h'), "link", "set", &self.outer(side), "up"]),
            "plugging {side} back in"
        );
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for side in ['a', 'b', 'c', 'h'] {
            ip(&["netns", "del", &self.ns(side)]);
        }
    }
}

/// Spawns `cmd` (a server) and waits for its first line, which must say
/// it is listening; the child is killed when the returned `Kid` drops.
pub(crate) fn listening(mut cmd: Command) -> crate::update_client::Kid {
    use std::io::BufRead;
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on http://"), "{line}");
    crate::update_client::Kid(child)
}

/// `transit --server-root ROOT …` inside namespace `ns`.
pub(crate) fn in_ns(ns: &str, root: &Path) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns])
        .arg(assert_cmd::cargo::cargo_bin("transit"))
        .arg("--server-root")
        .arg(root)
        .env_remove("TRANSIT_LOG");
    c
}
