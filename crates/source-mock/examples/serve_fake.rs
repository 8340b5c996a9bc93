//! Runs the fake TikTok server on 127.0.0.1 and prints its base URL.
//!
//! ```sh
//! cargo run -p ttlive-source-mock --example serve_fake -- --port 18090 --pace 2 --no-history
//! ```
//!
//! Options: `--port P` (0 = any), `--user NAME` (live; repeatable), `--offline NAME`,
//! `--unknown NAME`, `--recording FILE` (default: the built-in demo), `--pace
//! instant|realtime|N`, `--no-history`, `--rooms N` (numbered rooms with generated traffic),
//! `--rate MSG_PER_S`, `--schedule ENTRY` (repeatable), `--sign-server NAME` (repeatable).
//! Stop it with Ctrl-C or by its process id. `tiktok-live serve-fake` does the same.

use anyhow::{Context, bail};
use ttlive_source_mock::{FakeServer, Pace, Recording, ScheduleSet, UserState};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut builder = FakeServer::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        builder = match arg.as_str() {
            "--port" => builder.port(value()?.parse().context("--port")?),
            "--user" => builder.user(value()?, UserState::Live),
            "--offline" => builder.user(value()?, UserState::Offline),
            "--unknown" => builder.user(value()?, UserState::Unknown),
            "--recording" => builder.recording(Recording::open(value()?)?),
            "--pace" => builder
                .pace(Pace::parse(&value()?).context("--pace: instant, realtime or a speed")?),
            "--no-history" => builder.history(false),
            "--rooms" => builder.rooms(value()?.parse().context("--rooms")?),
            "--rate" => builder.rate(value()?.parse().context("--rate")?),
            "--schedule" => builder.schedules(ScheduleSet::parse(&value()?)?),
            "--sign-server" => builder.sign_server(value()?),
            other => bail!("unknown argument {other}"),
        };
    }
    let server = builder.start().await?;
    println!("{}", server.base_url());
    for name in server.sign_servers() {
        if let Some(url) = server.sign_url(&name) {
            println!("sign-server {name} {url}");
        }
    }
    std::future::pending::<()>().await;
    Ok(())
}
