//! [`BudgetedSigner`]: the signer every room's source is given, so the library's own sign calls
//! (every connect and every reconnect signs afresh) take budget tokens, and its reconnects take
//! connect tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use ttlive_signer::{RoomIdInfo, SignError, SignRequest, SignedConnection, Signer};

use crate::budget::{Budget, Priority, Spend};

/// A [`Signer`] that pays for each call from a [`Budget`] before passing it on.
///
/// - Every [`sign`](Signer::sign) takes a sign token. The first one of a session goes with the
///   session's priority (high for a room that just went live); later ones are reconnects made
///   inside the source, which also take a connect token (the service took the first connect's
///   token before starting the source).
/// - [`resolve_room_id`](Signer::resolve_room_id) takes a lookup token.
/// - A sign server's rate-limit answer pauses the sign bucket for its `Retry-After`.
///
/// One per room session: it remembers whether the session's first sign happened.
pub struct BudgetedSigner {
    inner: Arc<dyn Signer>,
    budget: Arc<dyn Budget>,
    egress: String,
    server: String,
    priority: Priority,
    first_done: AtomicBool,
}

impl std::fmt::Debug for BudgetedSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BudgetedSigner")
            .field("egress", &self.egress)
            .field("server", &self.server)
            .field("priority", &self.priority)
            .finish_non_exhaustive()
    }
}

impl BudgetedSigner {
    /// Wraps `inner` for one session through `egress`; `server` names the sign server in
    /// metrics; `priority` is the first sign's.
    pub fn new(
        inner: Arc<dyn Signer>,
        budget: Arc<dyn Budget>,
        egress: impl Into<String>,
        server: impl Into<String>,
        priority: Priority,
    ) -> Self {
        BudgetedSigner {
            inner,
            budget,
            egress: egress.into(),
            server: server.into(),
            priority,
            first_done: AtomicBool::new(false),
        }
    }
}

fn outcome(e: &SignError) -> &'static str {
    match e {
        SignError::RateLimited { .. } | SignError::ClientRateLimited { .. } => "rate_limited",
        SignError::Unauthorized { .. } | SignError::PremiumRequired { .. } => "refused",
        e if e.is_retryable() => "unavailable",
        _ => "error",
    }
}

#[async_trait]
impl Signer for BudgetedSigner {
    async fn sign(&self, request: &SignRequest) -> Result<SignedConnection, SignError> {
        let first = !self.first_done.swap(true, Ordering::SeqCst);
        let priority = if first {
            self.priority
        } else {
            Priority::Normal
        };
        if !first {
            self.budget
                .acquire(Spend::Connect, &self.egress, Priority::Normal)
                .await;
        }
        self.budget
            .acquire(Spend::Sign, &self.egress, priority)
            .await;
        let result = self.inner.sign(request).await;
        let label = match &result {
            Ok(_) => "ok",
            Err(e) => outcome(e),
        };
        metrics::counter!(
            "ttlive_sign_calls_total",
            "server" => self.server.clone(),
            "outcome" => label
        )
        .increment(1);
        if let Err(e @ SignError::RateLimited { .. }) = &result {
            let pause = e
                .retry_after()
                .unwrap_or(std::time::Duration::from_secs(60));
            self.budget.pause(Spend::Sign, &self.egress, pause);
        }
        result
    }

    async fn resolve_room_id(&self, unique_id: &str) -> Result<RoomIdInfo, SignError> {
        self.budget
            .acquire(Spend::Lookup, &self.egress, Priority::Normal)
            .await;
        self.inner.resolve_room_id(unique_id).await
    }
}
