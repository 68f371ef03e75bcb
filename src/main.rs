use clap::Parser;
use itbm::config::{Cli, Command, Config, ServeArgs};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Serve(args) => itbm::server::run(Config::resolve(&cli.common, &args)?).await,
        Command::Migrate => {
            let config = Config::resolve(&cli.common, &ServeArgs::default())?;
            let (db, _) = itbm::server::open(&config).await?;
            db.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Token { role, sub, hours } => {
            let config = Config::resolve(&cli.common, &ServeArgs::default())?;
            std::fs::create_dir_all(&config.data_dir)?;
            let secret = itbm::auth::keys::load_or_create(&config.jwt_secret_path(), 64)?;
            let auth = itbm::auth::Authenticator::new(&secret, None).await?;
            println!("{}", auth.issue(&sub, role, hours * 3600)?);
            Ok(())
        }
        Command::Openapi => {
            print!("{}", itbm::http::openapi_json());
            Ok(())
        }
        Command::Plugin(command) => itbm::plugins::cli::run(command).await,
    }
}

/// Logs go to stderr: human-readable by default, JSON with `ITBM_LOG_FORMAT=json`;
/// the level comes from `ITBM_LOG` (default `info`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ITBM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if std::env::var("ITBM_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
