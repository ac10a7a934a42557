//! `zkinfer serve`: the proving service.

use anyhow::{bail, Result};
use zkinfer_server::{serve, ServeConfig};

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(config: &ServeConfig) -> Result<()> {
    if config.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
        bail!("--token (or ZKINFER_SERVE_TOKEN) is empty: give a token, or leave both unset to serve without one");
    }
    let models = config.models.display().to_string();
    let workers = config.workers;
    let token_missing = config.token.is_none();
    serve(config, |addr| {
        // One line on stdout a supervisor (or a test) can wait for.
        println!("listening on http://{addr} (models in {models}, {workers} worker(s))");
        if !addr.ip().is_loopback() && token_missing {
            eprintln!("warning: listening on {addr} without --token: anyone who can reach it can submit jobs and read proofs");
        }
    })?;
    Ok(())
}
