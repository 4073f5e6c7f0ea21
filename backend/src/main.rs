//! Entry point: settings, logging, build, serve.

use backend::config::Settings;
use backend::error::error_chain;
use backend::startup::Application;
use backend::telemetry;
use clap::Parser;
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    let settings = Settings::parse();
    telemetry::init(settings.log_format, "info,actix_server=warn");
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "start-up failed");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(url = %app.url(), "listening");
    // Memory freed after a burst goes back to the system (memory.rs).
    backend::memory::spawn_trimmer(std::time::Duration::from_secs(5));
    #[allow(clippy::print_stdout)]
    {
        println!("Serving on {}", app.url());
    }
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "server failed");
            ExitCode::FAILURE
        }
    }
}
