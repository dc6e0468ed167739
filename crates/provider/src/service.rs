//! The provider as a service of `transit server start` (the service host).

use crate::config::ProviderConfig;
use transit_core::CancelToken;
use transit_server::service::{Service, ServiceFailure};
use transit_server::ServerRoot;

/// Runs the provider while the server service runs.
#[derive(Debug)]
pub struct ProviderService {
    config: ProviderConfig,
}

impl ProviderService {
    /// A provider service with these settings.
    pub fn new(config: ProviderConfig) -> ProviderService {
        ProviderService { config }
    }
}

impl Service for ProviderService {
    fn name(&self) -> &str {
        "update provider"
    }

    fn run(self: Box<Self>, server: &ServerRoot, stop: &CancelToken) -> Result<(), ServiceFailure> {
        let runtime = crate::priority::checkin_runtime(Some(2))?;
        let name = server.name().to_string();
        let dir = server.dir().to_path_buf();
        let advertise = self.config.advertise_url.clone();
        let key = self.config.discovery_key.clone();
        let scheme = if self.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        runtime.block_on(crate::run(self.config, stop.clone(), |addr| {
            tracing::info!(server = %name, %addr, "update provider hosted by the server service");
            let url = crate::discovery::advertised_url(advertise.as_deref(), scheme, addr);
            match crate::discovery::register(&dir, &url, key.as_deref()) {
                Ok(()) => tracing::info!(%url, "registered as the server's update provider"),
                Err(e) => tracing::warn!("not registered in the server root: {e}"),
            }
        }))?;
        Ok(())
    }
}
