//! `transit server …`

use crate::cli::{IdentityArgs, RoleArg, ServerCommand};
use crate::exit::UsageError;
use crate::progress::Bars;
use anyhow::Context;
use std::path::Path;
use std::time::{Duration, Instant};
use transit_demo::{self as demo, DemoParams};
use transit_server::lock::{self, ServiceStatus};
use transit_server::{InitParams, ProductRelease, Role, ServerRoot};

pub fn run(root: &Path, cmd: ServerCommand) -> anyhow::Result<()> {
    match cmd {
        ServerCommand::Init(identity) => {
            let root = ServerRoot::init(root, init_params(identity)?)?;
            outln!(
                "created server {} (site {} #{}, {} {}) at {}",
                root.name(),
                root.site_name(),
                root.identity().server.site_id,
                root.identity().server.role,
                root.identity().server.product_release,
                root.dir().display()
            );
            Ok(())
        }
        ServerCommand::Demo {
            identity,
            users,
            seed,
        } => demo(root, identity, users, seed),
        ServerCommand::Start {
            daemon,
            update_data,
            update_listen,
            update_database,
        } => {
            let server = ServerRoot::open(root)?;
            // A server does not start on a registry it cannot read.
            server.check_registry()?;
            let hosted = update_data.map(|data| Hosted {
                data,
                listen: update_listen,
                database: update_database,
            });
            if daemon {
                start_daemon(&server, hosted.as_ref())
            } else {
                run_foreground(&server, hosted)
            }
        }
        ServerCommand::Stop => {
            let server = ServerRoot::open(root)?;
            let pid = lock::stop(&server.run_dir(), Duration::from_secs(15))?;
            outln!("server service stopped (pid {pid})");
            Ok(())
        }
        ServerCommand::Status { json } => {
            let server = ServerRoot::open(root)?;
            let status = server.service_status()?;
            let (state, pid) = match status {
                ServiceStatus::Running { pid } => ("running", Some(pid)),
                ServiceStatus::Stopped => ("stopped", None),
            };
            if json {
                crate::output::print(&crate::output::StatusJson {
                    server: server.name(),
                    status: state,
                    pid,
                })?;
            } else if let Some(pid) = pid {
                outln!("running (pid {pid})");
            } else {
                outln!("stopped");
            }
            Ok(())
        }
    }
}

fn init_params(args: IdentityArgs) -> anyhow::Result<InitParams> {
    let release: ProductRelease = args
        .release
        .parse()
        .map_err(|e: transit_server::release::BadRelease| UsageError(e.to_string()))?;
    Ok(InitParams {
        name: args.name,
        site_name: args.site_name,
        site_id: args.site_id,
        role: match args.role {
            RoleArg::Cic => Role::Cic,
            RoleArg::Media => Role::Media,
        },
        release,
        patch: args.patch,
        machine_key: None,
    })
}

fn demo(root: &Path, identity: IdentityArgs, users: u64, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let init = init_params(identity)?;
    let params = DemoParams { init, users, seed };
    demo::check(root, &params)?;
    let bars = Bars::new(false);
    let result = demo::generate(root, params, &bars);
    bars.finish();
    let (server, stats) = result?;
    outln!(
        "created demo server {} at {}: {} users, {} registry values, {} files ({:.1} MB) in {:.1?}",
        server.name(),
        server.dir().display(),
        users,
        stats.values,
        stats.files,
        stats.file_bytes as f64 / 1e6,
        started.elapsed()
    );
    Ok(())
}

/// The update provider `server start` hosts.
struct Hosted {
    data: std::path::PathBuf,
    listen: std::net::SocketAddr,
    database: Option<String>,
}

fn run_foreground(server: &ServerRoot, hosted: Option<Hosted>) -> anyhow::Result<()> {
    let mut host = transit_server::ServiceHost::new();
    if let Some(h) = hosted {
        let id = &server.identity().server;
        let mut config = transit_provider::ProviderConfig::new(
            h.data,
            transit_update::ServerLevel {
                release: id.product_release,
                patch: u16::try_from(id.patch).unwrap_or(u16::MAX),
            },
        );
        config.listen = h.listen;
        config.database = transit_provider::Database::parse(h.database.as_deref())
            .map_err(crate::exit::UsageError)?;
        host.register(Box::new(transit_provider::service::ProviderService::new(
            config,
        )));
    }
    if server.identity().server.role == Role::Cic {
        // The Dialer server's package processor (after an import).
        host.register(Box::new(transit_migrator::dialer::PackageProcessor));
    }
    let stopped = host.run_foreground(server, &transit_core::CancelToken::new(), |pid| {
        outln!(
            "server service running for {} (pid {pid}); stop with `transit server stop` or Ctrl-C",
            server.name()
        );
    })?;
    outln!("server service stopped");
    if let Some((name, error)) = stopped.failures.first() {
        anyhow::bail!("service {name} failed: {error}");
    }
    Ok(())
}

fn start_daemon(server: &ServerRoot, hosted: Option<&Hosted>) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating the transit binary")?;
    let mut args: Vec<std::ffi::OsString> = vec![
        "--server-root".into(),
        server.dir().into(),
        "server".into(),
        "start".into(),
    ];
    if let Some(h) = hosted {
        let data = std::path::absolute(&h.data).context("the update data folder")?;
        args.extend(["--update-data".into(), data.into_os_string()]);
        args.extend(["--update-listen".into(), h.listen.to_string().into()]);
        if let Some(db) = &h.database {
            // Through the environment, not the process list (it may hold a password).
            std::env::set_var("TRANSIT_UPDATE_DATABASE", db);
        }
    }
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let pid = transit_server::service::start_daemon(server, &exe, &args)?;
    outln!("server service started (pid {pid})");
    Ok(())
}
