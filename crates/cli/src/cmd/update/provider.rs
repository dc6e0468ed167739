//! `transit update provider` and `transit update simulate`.

use crate::cli::update::{ProviderArg, ProviderArgs};
use crate::exit::UsageError;
use std::path::Path;
use std::time::Duration;
use transit_core::{cancel_on_signals, CancelToken};
use transit_provider::client::ProviderClient;
use transit_provider::discovery;
use transit_provider::remote::RemoteConfig;
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
    c.database = match args.database.as_deref() {
        Some(given) => Database::parse(Some(given)).map_err(UsageError)?,
        // Manage Database's saved choice, when there is one.
        None => match transit_provider::switchover::saved(&args.data.data).map_err(UsageError)? {
            Some(saved) => Database::parse(Some(&saved.url)).map_err(UsageError)?,
            None => Database::Sqlite,
        },
    };
    c.listen = args.listen;
    c.tls = tls_files(args);
    c.max_connections = args.max_connections.max(1);
    c.capacity = args.capacity;
    c.check_min = args.check_min;
    c.check_max = args.check_max;
    c.rollout_tick = Duration::from_secs_f64(args.rollout_tick);
    if args.discovery {
        let key = args.discovery_key.trim();
        if key.is_empty() || key.len() > 64 || key.chars().any(char::is_control) {
            return Err(UsageError(
                "--discovery-key must be 1-64 characters without control characters".into(),
            )
            .into());
        }
        c.discovery_key = Some(key.to_string());
    }
    c.discovery_port = args.discovery_port;
    c.advertise_url = args.advertise_url.clone();
    c.admin_remote = args.admin_remote;
    c.upkeep.refresh = !args.no_resign;
    Ok(c)
}

/// `transit update provider init --admin NAME`: the console's first
/// authorized user. The password comes from --password-file,
/// --password-env, or a prompt on the terminal (asked twice).
pub fn init(
    data: &Path,
    database: Option<&str>,
    admin: &str,
    password: &crate::cli::PasswordArgs,
) -> anyhow::Result<()> {
    let database = Database::parse(database).map_err(UsageError)?;
    let password = match crate::cmd::password::read(password)? {
        Some(p) => p,
        None => prompt_password(admin)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(transit_provider::init_admin(
        data, &database, admin, &password,
    ))?;
    outln!(
        "console user `{}` added; log on at http://HOST:{}/console/ (https with --cert)",
        admin.trim(),
        transit_provider::config::DEFAULT_PORT
    );
    Ok(())
}

fn prompt_password(admin: &str) -> anyhow::Result<secrecy::SecretString> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "no password given: use --password-file FILE or --password-env VAR (or run in a terminal to be asked)".into(),
        )
        .into());
    }
    let first = rpassword::prompt_password(format!("Password for {admin}: "))?;
    let second = rpassword::prompt_password("Again: ")?;
    if first != second {
        return Err(UsageError("the two passwords differ".into()).into());
    }
    Ok(secrecy::SecretString::from(first))
}

/// Runs the provider in the foreground until SIGINT or SIGTERM.
pub fn run(server_root: &Path, args: ProviderArgs) -> anyhow::Result<()> {
    if let Some(crate::cli::update::ProviderAction::Init {
        data,
        database,
        admin,
        password,
    }) = &args.action
    {
        return init(&data.data, database.as_deref(), admin, password);
    }
    if args.kind == crate::cli::update::ProviderKind::Remote {
        return run_remote(&args);
    }
    let config = config(&args, server_root)?;
    let Foreground {
        stop,
        _signals,
        runtime,
        scheme,
    } = Foreground::new(config.tls.is_some())?;
    let advertise = config.advertise_url.clone();
    let key = config.discovery_key.clone();
    let root = server_root.to_path_buf();
    runtime.block_on(transit_provider::run(config, stop, |addr| {
        outln!("update provider listening on {scheme}://{addr}; stop with Ctrl-C");
        // Registered in the server root, when there is one, as the
        // vendor's Update Service tab does: clients fall back to it.
        if root.join("server.toml").is_file() {
            let url = discovery::advertised_url(advertise.as_deref(), scheme, addr);
            match discovery::register(&root, &url, key.as_deref()) {
                Ok(()) => outln!(
                    "registered in {} as the server's update provider: {url}",
                    root.display()
                ),
                Err(e) => tracing::warn!("not registered in the server root: {e}"),
            }
        }
    }))?;
    outln!("update provider stopped");
    Ok(())
}

/// `--cert` and `--key`, when both are given (clap requires them together).
fn tls_files(args: &ProviderArgs) -> Option<TlsFiles> {
    match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    }
}

/// A remote provider's settings from the command line: the options that
/// belong to a local provider's store, console or repository are refused.
pub fn remote_config(args: &ProviderArgs) -> anyhow::Result<RemoteConfig> {
    let refused = [
        (args.database.is_some(), "--database"),
        (args.release.is_some(), "--release/--patch"),
        (args.admin_remote, "--admin-remote"),
        (args.no_resign, "--no-resign"),
        (args.discovery, "--discovery"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
        return Err(UsageError(format!(
            "{flag} belongs to a local provider: a remote provider has no store, console or version gate of its own"
        ))
        .into());
    }
    let upstream = args
        .upstream
        .clone()
        .ok_or_else(|| UsageError("--kind remote needs --upstream URL".into()))?;
    let mut c = RemoteConfig::new(args.data.data.clone(), upstream);
    c.upstream_ca = args.upstream_ca.clone();
    c.listen = args.listen;
    c.tls = tls_files(args);
    c.max_connections = args.max_connections.max(1);
    if args.metadata_ttl.is_zero() || args.relay_retry.is_zero() {
        return Err(UsageError(
            "--metadata-ttl and --relay-retry must be at least a second".into(),
        )
        .into());
    }
    c.metadata_ttl = args.metadata_ttl;
    c.retry_every = args.relay_retry;
    Ok(c)
}

/// What a provider in the foreground runs with.
struct Foreground {
    /// Cancelled by SIGINT or SIGTERM.
    stop: CancelToken,
    /// Keeps the signal handlers while the provider runs.
    _signals: transit_core::cancel::SignalGuard,
    /// The multi-thread runtime.
    runtime: tokio::runtime::Runtime,
    /// `http`, or `https` with TLS.
    scheme: &'static str,
}

impl Foreground {
    fn new(tls: bool) -> anyhow::Result<Foreground> {
        let stop = CancelToken::new();
        let _signals = cancel_on_signals(&stop)?;
        // Check-ins are served by threads that ask for a short time slice.
        let runtime = transit_provider::priority::checkin_runtime(None)?;
        Ok(Foreground {
            stop,
            _signals,
            runtime,
            scheme: if tls { "https" } else { "http" },
        })
    }
}

/// Runs a remote provider in the foreground until SIGINT or SIGTERM.
fn run_remote(args: &ProviderArgs) -> anyhow::Result<()> {
    let config = remote_config(args)?;
    let Foreground {
        stop,
        _signals,
        runtime,
        scheme,
    } = Foreground::new(config.tls.is_some())?;
    let upstream = config.upstream.clone();
    runtime.block_on(transit_provider::remote::run(config, stop, |addr| {
        outln!(
            "remote update provider listening on {scheme}://{addr} for {upstream}; stop with Ctrl-C"
        );
    }))?;
    outln!("remote update provider stopped");
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
    also: &[String],
    options: SimulateOptions,
    json: bool,
) -> anyhow::Result<()> {
    let (rate, clients, connections) = (options.rate, options.clients, options.connections);
    if !(rate >= 0.0 && rate.is_finite()) || clients == 0 || connections == 0 {
        return Err(UsageError(
            "--clients and --connections must be positive, --rate 0 (closed loop) or more".into(),
        )
        .into());
    }
    let mut clients = vec![client(provider, connections)?];
    for url in also {
        clients.push(client(
            &ProviderArg {
                provider: url.clone(),
                ca: provider.ca.clone(),
            },
            connections,
        )?);
    }
    let client = &clients[0];
    let stop = CancelToken::new();
    let _signals = cancel_on_signals(&stop)?;
    // The generator's threads ask for a short time slice too, so that its
    // timing does not wait behind other work on its machine (the
    // benchmark's download clients, say).
    let runtime = transit_provider::priority::short_slice_runtime("simulate", None)?;
    let report = runtime.block_on(simulate::run_spread(&clients, &options, &stop));
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
    if clients.len() > 1 {
        for (c, n) in clients.iter().zip(&report.per_provider) {
            outln!("  {}: {n} committed", c.base());
        }
        outln!("failovers: {}", report.failovers);
    }
    if report.errors.is_empty() {
        outln!("errors: 0");
    } else {
        for (kind, n) in &report.errors {
            outln!("errors: {n} {kind}");
        }
    }
    Ok(())
}
