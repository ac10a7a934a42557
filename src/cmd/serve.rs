//! `zkinfer serve`: the proving service.

use anyhow::Result;
use zkinfer_server::{serve, ServeConfig};

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(config: &ServeConfig) -> Result<()> {
    let models = config.models.display().to_string();
    let workers = config.workers;
    serve(config, |addr| {
        // One line on stdout a supervisor (or a test) can wait for.
        println!("listening on http://{addr} (models in {models}, {workers} worker(s))");
    })?;
    Ok(())
}
