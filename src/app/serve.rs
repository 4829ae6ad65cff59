//! `refreshsim serve`: arguments, the startup banner (the first stdout line is the address, for
//! scripts), exit 2 on a bad scenario or address; otherwise serves until killed.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::scenario::load_scenario;
use crate::serve::auth::Credentials;
use crate::serve::clock::ClockMode;
use crate::serve::{DEFAULT_LIMITS, DEFAULT_LISTEN, ServeConfig, Server};
use std::io::{self, Write};
use std::net::ToSocketAddrs;
use std::path::Path;

/// `refreshsim serve`'s arguments.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Scenario file (TOML or JSON): its group, launch configuration, timing and faults make
    /// the world; its [[actions]] are ignored (clients make the calls).
    pub scenario: std::path::PathBuf,
    /// Address to listen on; port 0 picks a free port (the address is printed on stdout).
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// manual (time moves only by POST /_refreshsim/advance), scaled:N (N simulated seconds per
    /// real second) or real.
    #[arg(long, default_value = "manual")]
    pub clock: ClockMode,
    /// With --secret-key: verify every call's TC3-HMAC-SHA256 signature against this key pair.
    #[arg(long, requires = "secret_key")]
    pub secret_id: Option<String>,
    #[arg(long, requires = "secret_id")]
    pub secret_key: Option<String>,
    /// Seed (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Runs `refreshsim serve`.
pub fn serve_main(args: ServeArgs) -> i32 {
    let credentials = match (args.secret_id, args.secret_key) {
        (Some(secret_id), Some(secret_key)) => Some(Credentials {
            secret_id,
            secret_key,
        }),
        (None, None) | (Some(_), None) | (None, Some(_)) => None,
    };
    serve_command(
        &args.scenario,
        &args.listen,
        args.clock,
        credentials,
        args.seed,
    )
}

/// The `serve` command: exit 2 on a bad scenario or address; otherwise serves until killed.
pub fn serve_command(
    scenario_path: &Path,
    listen: &str,
    clock: ClockMode,
    credentials: Option<Credentials>,
    seed: Option<u64>,
) -> i32 {
    let fail = |message: String| {
        eprintln!("error: {message}");
        EXIT_BAD_INPUT
    };
    let scenario = match load_scenario(scenario_path) {
        Ok(scenario) => scenario,
        Err(e) => return fail(e.to_string()),
    };
    let listen = match listen.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(addr)) => addr,
        Ok(None) | Err(_) => return fail(format!("--listen {listen:?} is not an address")),
    };
    let signature_check = credentials.is_some();
    let config = ServeConfig {
        listen,
        clock,
        credentials,
        seed,
        limits: DEFAULT_LIMITS,
    };
    let server = match Server::bind(scenario, config) {
        Ok(server) => server,
        Err(e) => return fail(e),
    };
    let addr = match server.local_addr() {
        Ok(addr) => addr,
        Err(e) => return fail(e.to_string()),
    };
    // The first line of stdout is for scripts and tests (port 0 picks a free port).
    println!("refreshsim serve: listening on http://{addr}");
    let _ = io::stdout().flush();
    let template = server.template();
    eprintln!(
        "scenario {:?}, group {}, seed {}, clock {clock}, signature check {}; control endpoints under http://{addr}{}",
        template.meta.scenario_name,
        template.scenario.world.group_id,
        template.seed,
        if signature_check { "on" } else { "off" },
        crate::serve::routes::CONTROL_PREFIX
    );
    match server.run() {
        Ok(()) => EXIT_OK,
        Err(e) => fail(format!("the server stopped: {e}")),
    }
}
