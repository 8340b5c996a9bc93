//! Graceful shutdown on SIGTERM and Ctrl-C: the first signal stops the service within its grace
//! period (stop accepting, close rooms, flush outputs); a second one ends the process at once.

use std::fmt;

use crate::service::{ServiceHandle, ShutdownReport};

/// Which signal arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signal {
    /// SIGTERM (a service manager stopping us).
    Terminate,
    /// SIGINT (Ctrl-C).
    Interrupt,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT (Ctrl-C)",
        })
    }
}

/// The signal handlers. Install them before starting the service, so a signal that comes
/// early is caught rather than ending the process the default way.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (needs a tokio runtime).
    pub fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Waits for the next SIGTERM or SIGINT.
    pub async fn recv(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => Signal::Terminate,
                _ = self.int.recv() => Signal::Interrupt,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Interrupt
        }
    }
}

/// How a signalled service ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Exit {
    /// Stopped and flushed everything in time.
    Clean(ShutdownReport),
    /// Stopped, but something did not finish in time or ended with an error.
    Incomplete(ShutdownReport),
    /// A second signal came during the shutdown: exit at once.
    Forced(Signal),
}

/// Runs until a signal, then shuts the service down; a second signal cuts that short.
pub async fn run_until_signal(service: ServiceHandle, signals: &mut Signals) -> Exit {
    let first = signals.recv().await;
    tracing::warn!(signal = %first, "stopping (a second signal exits at once)");
    shutdown_unless_signalled(service, signals).await
}

/// Shuts the service down (within its grace); a signal meanwhile cuts that short.
pub async fn shutdown_unless_signalled(service: ServiceHandle, signals: &mut Signals) -> Exit {
    tokio::select! {
        report = service.shutdown() => {
            if report.is_clean() {
                Exit::Clean(report)
            } else {
                Exit::Incomplete(report)
            }
        }
        second = signals.recv() => Exit::Forced(second),
    }
}
