//! One builder for sample servers.

use std::path::Path;
use transit_demo::DemoParams;
use transit_server::{InitParams, ProductRelease, Role, ServerRoot};

/// A sample server to create: `Sample::cic("CIC01").site("Indy",
/// 1).users(40).demo(dir)`. Defaults: site `Indy` #1, release `2015 R1`,
/// patch 0, 40 users, seed 1.
#[derive(Debug, Clone)]
pub struct Sample {
    name: String,
    site_name: String,
    site_id: u32,
    role: Role,
    release: String,
    patch: u32,
    users: u64,
    seed: u64,
}

impl Sample {
    /// A CIC server named `name`.
    pub fn cic(name: &str) -> Sample {
        Sample {
            name: name.to_string(),
            site_name: "Indy".into(),
            site_id: 1,
            role: Role::Cic,
            release: "2015 R1".into(),
            patch: 0,
            users: 40,
            seed: 1,
        }
    }

    /// A Media Server named `name`.
    pub fn media(name: &str) -> Sample {
        Sample {
            role: Role::Media,
            ..Sample::cic(name)
        }
    }

    /// The site name and numeric site ID.
    pub fn site(mut self, name: &str, id: u32) -> Sample {
        self.site_name = name.to_string();
        self.site_id = id;
        self
    }

    /// The product release, such as `2018 R1`.
    pub fn release(mut self, release: &str) -> Sample {
        self.release = release.to_string();
        self
    }

    /// The patch level.
    pub fn patch(mut self, patch: u32) -> Sample {
        self.patch = patch;
        self
    }

    /// How many users (everything else scales with it).
    pub fn users(mut self, users: u64) -> Sample {
        self.users = users;
        self
    }

    /// The random seed.
    pub fn seed(mut self, seed: u64) -> Sample {
        self.seed = seed;
        self
    }

    /// The identity as `server init` takes it.
    pub fn init_params(&self) -> InitParams {
        InitParams {
            name: self.name.clone(),
            site_name: self.site_name.clone(),
            site_id: self.site_id,
            role: self.role,
            release: self
                .release
                .parse::<ProductRelease>()
                .expect("a valid release"),
            patch: self.patch,
            machine_key: None,
        }
    }

    /// The parameters of `server demo`.
    pub fn demo_params(&self) -> DemoParams {
        DemoParams {
            init: self.init_params(),
            users: self.users,
            seed: self.seed,
        }
    }

    /// Creates an empty server root at `dir`.
    pub fn empty(&self, dir: &Path) -> ServerRoot {
        ServerRoot::init(dir, self.init_params()).expect("server init")
    }

    /// Creates a demo server at `dir`.
    pub fn demo(&self, dir: &Path) -> ServerRoot {
        transit_demo::generate(dir, self.demo_params(), &transit_core::NoProgress)
            .expect("demo server")
            .0
    }

    /// The `transit server demo` arguments for this sample (after
    /// `--server-root DIR`), for CLI tests.
    pub fn demo_args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "server",
            "demo",
            "--name",
            &self.name,
            "--site-name",
            &self.site_name,
            "--release",
            &self.release,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend([
            "--site-id".into(),
            self.site_id.to_string(),
            "--patch".into(),
            self.patch.to_string(),
            "--users".into(),
            self.users.to_string(),
            "--seed".into(),
            self.seed.to_string(),
            "--role".into(),
            match self.role {
                Role::Cic => "cic".into(),
                Role::Media => "media".into(),
            },
        ]);
        args
    }
}
