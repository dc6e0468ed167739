//! `transit update provider` and `transit update simulate`.

use crate::cli::update::{ProviderArg, ProviderArgs};
use crate::exit::UsageError;
use std::path::Path;
use std::time::Duration;
use transit_core::{cancel_on_signals, CancelToken};
use transit_provider::client::ProviderClient;
use transit_provider::simulate::{self, SimulateOptions};
use transit_provider::{Database, ProviderConfig, TlsFiles};
use transit_server::ServerRoot;
use transit_update::ServerLevel;

/// The version gate: `--release`/`--patch`, else the server root's own
/// release and patch.
pub fn server_level(
    release: Option<&str>,
    patch: Option<u16>,
    server_root: &Path,
) -> anyhow::Result<ServerLevel> {
    if let (Some(release), Some(patch)) = (release, patch) {
        let release = release
            .parse()
            .map_err(|e: transit_server::release::BadRelease| UsageError(e.to_string()))?;
        return Ok(ServerLevel { release, patch });
    }
    let server = ServerRoot::open(server_root).map_err(|e| {
        UsageError(format!(
            "the version gate needs the CIC server's release: give --release and --patch, or a server root ({e})"
        ))
    })?;
    let id = &server.identity().server;
    Ok(ServerLevel {
        release: id.product_release,
        patch: u16::try_from(id.patch).unwrap_or(u16::MAX),
    })
}

/// The provider's settings from the command line.
pub fn config(args: &ProviderArgs, server_root: &Path) -> anyhow::Result<ProviderConfig> {
    if args.check_min < Duration::from_secs(1) || args.check_max < args.check_min {
        return Err(UsageError(
            "--check-min must be at least a second and at most --check-max".into(),
        )
        .into());
    }
    let mut c = ProviderConfig::new(
        args.data.data.clone(),
        server_level(args.release.as_deref(), args.patch, server_root)?,
    );
    c.database = Database::parse(args.database.as_deref()).map_err(UsageError)?;
    c.listen = args.listen;
    c.tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    c.max_connections = args.max_connections.max(1);
    c.capacity = args.capacity;
    c.check_min = args.check_min;
    c.check_max = args.check_max;
    c.rollout_tick = Duration::from_secs_f64(args.rollout_tick);
    c.admin_remote = args.admin_remote;
    Ok(c)
}

/// Runs the provider in the foreground until SIGINT or SIGTERM.
pub fn run(server_root: &Path, args: ProviderArgs) -> anyhow::Result<()> {
    let config = config(&args, server_root)?;
    let stop = CancelToken::new();
    let _signals = cancel_on_signals(&stop)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    runtime.block_on(transit_provider::run(config, stop, |addr| {
        outln!("update provider listening on {scheme}://{addr}; stop with Ctrl-C");
    }))?;
    outln!("update provider stopped");
    Ok(())
}

/// A client of the provider named on the command line.
pub fn client(arg: &ProviderArg, connections: usize) -> anyhow::Result<ProviderClient> {
    Ok(ProviderClient::new(
        &arg.provider,
        arg.ca.as_deref(),
        connections,
    )?)
}

/// `transit update fleet`: simulated agents; per-second arrivals.
pub fn fleet(
    provider: &ProviderArg,
    options: transit_client::fleet::FleetOptions,
    json: bool,
) -> anyhow::Result<()> {
    if options.clients == 0 || options.connections == 0 || options.check_max < options.check_min {
        return Err(UsageError(
            "--clients and --connections must be positive, --check-max at least --check-min".into(),
        )
        .into());
    }
    let client = client(provider, options.connections)?;
    let stop = CancelToken::new();
    let _signals = cancel_on_signals(&stop)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(transit_client::fleet::run(&client, &options, &stop));
    if json {
        return crate::output::print_pretty(&report);
    }
    outln!("second  arrivals  ok  busy  unreachable");
    for (i, a) in report.arrivals.iter().enumerate() {
        outln!(
            "{i:>6}  {a:>8}  {:>4}  {:>4}  {:>11}",
            report.ok[i],
            report.busy[i],
            report.unreachable[i]
        );
    }
    outln!(
        "machines failing at the end: {}; never checked in: {}; longest failure run: {}",
        report.failing_at_end,
        report.never_checked_in,
        report.longest_failure_run
    );
    Ok(())
}

/// Runs the load generator and prints what it measured.
pub fn simulate(
    provider: &ProviderArg,
    clients: u64,
    rate: f64,
    duration: u64,
    connections: usize,
    seed: u64,
    json: bool,
) -> anyhow::Result<()> {
    if !(rate >= 0.0 && rate.is_finite()) || clients == 0 || connections == 0 {
        return Err(UsageError(
            "--clients and --connections must be positive, --rate 0 (closed loop) or more".into(),
        )
        .into());
    }
    let client = client(provider, connections)?;
    let stop = CancelToken::new();
    let _signals = cancel_on_signals(&stop)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let options = SimulateOptions {
        clients,
        rate,
        duration: Duration::from_secs(duration),
        connections,
        seed,
    };
    let report = runtime.block_on(simulate::run(&client, &options, &stop));
    if json {
        return crate::output::print_pretty(&report);
    }
    outln!(
        "{} check-ins sent to {} in {:.1} s: {} committed, {:.1}/s achieved (target {:.1}/s)",
        report.sent,
        client.base(),
        report.seconds,
        report.ok,
        report.achieved_rate,
        report.target_rate
    );
    outln!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        report.p50_ms,
        report.p90_ms,
        report.p99_ms,
        report.p999_ms,
        report.max_ms
    );
    if report.errors.is_empty() {
        outln!("errors: 0");
    } else {
        for (kind, n) in &report.errors {
            outln!("errors: {n} {kind}");
        }
    }
    Ok(())
}
