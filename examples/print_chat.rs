//! Prints a room's chat, one line per comment, until the stream ends or Ctrl-C.
//!
//! ```sh
//! cargo run -p ttlive-examples --example print_chat -- @someone   # a live stream (needs internet)
//! cargo run -p ttlive-examples --example print_chat               # offline: the built-in fake room
//! ```
//!
//! With no argument it starts the project's fake TikTok on 127.0.0.1 (playing the demo
//! recording at 20×) and connects to it exactly as it would to TikTok.

use std::sync::Arc;

use ttlive_eventbus::{EventSource, SourceItem};
use ttlive_signer::EulerSigner;
use ttlive_source_mock::{FakeServer, Pace};
use ttlive_source_tiktok::TikTokSource;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let user = std::env::args().nth(1);
    // Offline: a fake TikTok on loopback; online: TikTok and the Euler sign server.
    let fake = match user {
        Some(_) => None,
        None => Some(
            FakeServer::builder()
                .pace(Pace::Speed(20.0))
                .start()
                .await?,
        ),
    };
    let mut builder = TikTokSource::builder(user.as_deref().unwrap_or("@fakeuser"));
    builder = match &fake {
        Some(server) => {
            let base = server.base_url();
            let signer = EulerSigner::builder().base_url(&base).build()?;
            builder
                .signer(Arc::new(signer))
                .web_url(&base)
                .webcast_url(&base)
        }
        // SIGN_API_URL and SIGN_API_KEY are read from the environment.
        None => builder.signer(Arc::new(EulerSigner::new()?)),
    };
    let mut source = builder.start()?;
    loop {
        tokio::select! {
            item = source.next() => match item {
                SourceItem::Event(ttlive_eventbus::Event::Chat(chat)) => {
                    println!("{} (@{}): {}", chat.user.nickname, chat.user.unique_id, chat.comment);
                }
                SourceItem::Event(_) => {}
                SourceItem::Error(e) => eprintln!("(recoverable) {e}"),
                SourceItem::End(end) => {
                    eprintln!("source ended: {end}");
                    break;
                }
                _ => {}
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    if let Some(server) = fake {
        server.shutdown().await;
    }
    Ok(())
}
