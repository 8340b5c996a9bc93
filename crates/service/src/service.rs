//! Wiring: [`Service::builder`] puts the registry, the egresses, the budget, go-live detection,
//! the rooms, the outputs and the API together; [`ServiceHandle`] is the running service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use ttlive_eventbus::{EventBus, RoomState};

use crate::api::{self, TokenCheck};
use crate::budget::{Budget, BudgetLimits, LocalBudget};
use crate::config::{ConfigError, Origin, ServiceConfig};
use crate::detect::{DetectEgress, Detector};
use crate::egress::{Egress, SetupError};
use crate::output::{Output, OutputError};
use crate::registry::{Registry, RegistryError, normalize_user};
use crate::room::{RoomContext, RoomSnapshot, Rooms, StopReason, now_ms};
use crate::telemetry::{self, Counters, Present};

/// How often remembered room facts (room ids, last live times) are written to the state file.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// The service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The state file could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A client could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The API's address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Whether `POST /api/rooms` added a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddOutcome {
    /// It is followed from now on.
    Added,
    /// It was already followed (a stopped room is restarted).
    AlreadyFollowed,
}

/// Builds a service; see [`Service::builder`].
pub struct ServiceBuilder {
    config: ServiceConfig,
    bus: Option<EventBus>,
    budget: Option<Arc<dyn Budget>>,
    outputs: Vec<Box<dyn Output>>,
    routes: Vec<Router>,
}

impl std::fmt::Debug for ServiceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceBuilder")
            .field("config", &self.config)
            .field("outputs", &self.outputs.len())
            .finish_non_exhaustive()
    }
}

/// `tiktok-live serve` as a library: follow many rooms, publish their events on one bus.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use ttlive_service::{ConfigLoader, Service};
/// let config = ConfigLoader::new().file("ttlive.toml").env(std::env::vars()).load()?;
/// let service = Service::builder(config).start().await?;
/// let mut events = service.bus().subscribe();
/// while let Some(Ok(event)) = events.recv().await {
///     println!("{}", serde_json::to_string(&*event)?);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Service;

impl Service {
    /// A builder for a service with this configuration.
    pub fn builder(config: ServiceConfig) -> ServiceBuilder {
        ServiceBuilder {
            config,
            bus: None,
            budget: None,
            outputs: Vec::new(),
            routes: Vec::new(),
        }
    }
}

impl ServiceBuilder {
    /// Publishes on this bus (default: a new one).
    pub fn bus(mut self, bus: EventBus) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Uses this budget (default: a [`LocalBudget`] with the configuration's limits), e.g. one
    /// shared by a cluster.
    pub fn budget(mut self, budget: Arc<dyn Budget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Attaches an output.
    pub fn output(mut self, output: impl Output) -> Self {
        self.outputs.push(Box::new(output));
        self
    }

    /// Serves these routes too, behind the API's token.
    pub fn routes(mut self, routes: Router) -> Self {
        self.routes.push(routes);
        self
    }

    /// Starts everything: outputs first, then the rooms, then the API. Needs a tokio runtime.
    pub async fn start(self) -> Result<ServiceHandle, ServiceError> {
        let config = self.config;
        crate::config::validate(&config).map_err(|(key, message)| ConfigError::Key {
            origin: Origin::Code,
            key: key.to_owned(),
            message,
        })?;
        let prometheus = telemetry::prometheus();
        let registry = Arc::new(Registry::open(
            &config.rooms,
            config.state_path(),
            config.limits.max_rooms,
        )?);
        let egresses: Arc<[Egress]> = Egress::all(&config.connection)?.into();
        let budget = self.budget.unwrap_or_else(|| {
            Arc::new(LocalBudget::new(BudgetLimits::from(&config.limits))) as Arc<dyn Budget>
        });
        let detector = Arc::new(Detector::start(
            config.detect.clone(),
            Arc::clone(&budget),
            egresses
                .iter()
                .map(|e| DetectEgress {
                    name: e.name.clone(),
                    web: e.web.clone(),
                })
                .collect(),
        ));
        let bus = self.bus.unwrap_or_default();

        // Outputs subscribe before any room publishes.
        let mut routes = self.routes;
        let mut output_tasks = Vec::new();
        for mut output in self.outputs {
            let name = output.name();
            if let Some(r) = output.routes() {
                routes.push(r);
            }
            output_tasks.push((name, tokio::spawn(output.start(&bus))));
        }

        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServiceError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| ServiceError::Bind {
            addr: config.listen,
            source,
        })?;

        let ctx = Arc::new(RoomContext {
            bus: bus.clone(),
            detector: Arc::clone(&detector),
            budget: Arc::clone(&budget),
            egresses,
            conn: config.connection.clone(),
            detect: config.detect.clone(),
            registry: Arc::clone(&registry),
            counters: Counters::new(),
        });
        let inner = Arc::new(ServiceInner {
            rooms: Rooms::new(ctx),
            registry: Arc::clone(&registry),
            bus: bus.clone(),
            budget,
            token: TokenCheck::new(config.token.as_ref().map(|t| t.expose())),
            shutting_down: AtomicBool::new(false),
            prometheus,
            per_room: config.metrics.per_room,
            stall_timeout: config.connection.stall_timeout,
            ops: tokio::sync::Mutex::new(()),
        });
        for user in registry.wanted().await {
            inner.rooms.start(&user);
        }

        let (stop_api, mut stop_rx) = watch::channel(false);
        let app = api::router(Arc::clone(&inner), routes);
        let api_task = tokio::spawn(async move {
            let stopping = async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stopping)
                .await
            {
                tracing::error!(error = %e, "API server failed");
            }
        });
        let flush_registry = Arc::clone(&registry);
        let flush_task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = flush_registry.flush().await {
                    tracing::warn!(error = %e, "could not save known room ids");
                }
            }
        });
        tracing::info!(
            listen = %local_addr,
            rooms = inner.rooms.len(),
            state_file = ?registry.path(),
            "service started"
        );
        if registry.path().is_none() {
            tracing::warn!(
                "no state file: rooms added through the API are forgotten at exit (give --config \
                 or --state-file)"
            );
        }
        Ok(ServiceHandle {
            inner,
            detector,
            local_addr,
            grace: config.shutdown.grace,
            stop_api,
            api_task,
            flush_task,
            output_tasks,
        })
    }
}

/// The service's state the API reads.
pub(crate) struct ServiceInner {
    pub(crate) rooms: Rooms,
    pub(crate) registry: Arc<Registry>,
    pub(crate) bus: EventBus,
    pub(crate) budget: Arc<dyn Budget>,
    pub(crate) token: TokenCheck,
    pub(crate) shutting_down: AtomicBool,
    pub(crate) prometheus: Option<PrometheusHandle>,
    pub(crate) per_room: bool,
    pub(crate) stall_timeout: Duration,
    /// One add or remove at a time (registry and rooms change together).
    ops: tokio::sync::Mutex<()>,
}

/// Adding or removing a room failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoomError {
    /// The registry refused (bad handle, room limit, state file not written).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The service is shutting down.
    #[error("the service is shutting down")]
    ShuttingDown,
}

impl ServiceInner {
    pub(crate) fn snapshots(&self) -> Vec<RoomSnapshot> {
        let mut v: Vec<RoomSnapshot> = self.rooms.statuses().iter().map(|s| s.snapshot()).collect();
        v.sort_by(|a, b| a.user.cmp(&b.user));
        v
    }

    pub(crate) async fn add_room(
        &self,
        user: &str,
    ) -> Result<(AddOutcome, RoomSnapshot), RoomError> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(RoomError::ShuttingDown);
        }
        let user = normalize_user(user).map_err(RegistryError::from)?;
        let _one = self.ops.lock().await;
        let added = self.registry.add(&user).await?;
        if !added
            && self
                .rooms
                .status(&user)
                .is_some_and(|s| s.state() == RoomState::Stopped)
        {
            // Stopped by a fatal error: try again.
            self.rooms.stop(&user, StopReason::Removed).await;
        }
        self.rooms.start(&user);
        let snapshot = self
            .rooms
            .status(&user)
            .map(|s| s.snapshot())
            .ok_or(RoomError::ShuttingDown)?;
        let outcome = if added {
            AddOutcome::Added
        } else {
            AddOutcome::AlreadyFollowed
        };
        Ok((outcome, snapshot))
    }

    pub(crate) async fn remove_room(&self, user: &str) -> Result<bool, RoomError> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(RoomError::ShuttingDown);
        }
        let user = normalize_user(user).map_err(RegistryError::from)?;
        let _one = self.ops.lock().await;
        let removed = self.registry.remove(&user).await?;
        let stopped = self.rooms.stop(&user, StopReason::Removed).await;
        Ok(removed || stopped)
    }

    pub(crate) fn render_metrics(&self) -> String {
        let rooms = self.snapshots();
        let bus = self.bus.stats();
        let budget = self.budget.snapshot();
        telemetry::render(
            self.prometheus.as_ref(),
            &Present {
                rooms: &rooms,
                bus: &bus,
                budget: &budget,
                per_room: self.per_room,
                stall_timeout: self.stall_timeout,
                now_ms: now_ms(),
            },
        )
    }
}

/// How a shutdown went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// How long it took.
    pub elapsed: Duration,
    /// What did not finish within the grace period (empty: everything did).
    pub unfinished: Vec<String>,
    /// Outputs that ended with an error, and the error.
    pub output_errors: Vec<(String, String)>,
}

impl ShutdownReport {
    /// True when everything stopped and flushed in time, without error.
    pub fn is_clean(&self) -> bool {
        self.unfinished.is_empty() && self.output_errors.is_empty()
    }
}

/// The running service. Dropping it without [`shutdown`](Self::shutdown) aborts its tasks.
pub struct ServiceHandle {
    inner: Arc<ServiceInner>,
    detector: Arc<Detector>,
    local_addr: SocketAddr,
    grace: Duration,
    stop_api: watch::Sender<bool>,
    api_task: JoinHandle<()>,
    flush_task: JoinHandle<()>,
    output_tasks: Vec<(String, JoinHandle<Result<(), OutputError>>)>,
}

impl std::fmt::Debug for ServiceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceHandle")
            .field("local_addr", &self.local_addr)
            .field("rooms", &self.inner.rooms.len())
            .finish_non_exhaustive()
    }
}

impl Drop for ServiceHandle {
    fn drop(&mut self) {
        self.api_task.abort();
        self.flush_task.abort();
        for (_, t) in &self.output_tasks {
            t.abort();
        }
    }
}

impl ServiceHandle {
    /// The bus every room publishes on: subscribe to read events.
    pub fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    /// Where the API listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The budget in use.
    pub fn budget(&self) -> &Arc<dyn Budget> {
        &self.inner.budget
    }

    /// Every followed room, by handle.
    pub fn rooms(&self) -> Vec<RoomSnapshot> {
        self.inner.snapshots()
    }

    /// One room, by handle.
    pub fn room(&self, user: &str) -> Option<RoomSnapshot> {
        let user = normalize_user(user).ok()?;
        self.inner.rooms.status(&user).map(|s| s.snapshot())
    }

    /// Follows `user` from now on (persisted), as `POST /api/rooms` does.
    pub async fn add_room(&self, user: &str) -> Result<(AddOutcome, RoomSnapshot), RoomError> {
        self.inner.add_room(user).await
    }

    /// Stops following `user` (persisted), as `DELETE /api/rooms/{user}` does. False when it
    /// was not followed.
    pub async fn remove_room(&self, user: &str) -> Result<bool, RoomError> {
        self.inner.remove_room(user).await
    }

    /// The text `GET /metrics` serves.
    pub fn metrics_text(&self) -> String {
        self.inner.render_metrics()
    }

    /// Stops accepting API requests, stops go-live detection and every room (each publishes
    /// its `stopped` state), closes the bus so outputs drain and flush, and saves the state
    /// file; all within the configured grace period (`shutdown.grace`). What did not finish in
    /// time is in the report.
    pub async fn shutdown(mut self) -> ShutdownReport {
        let started = Instant::now();
        let deadline = started + self.grace;
        let mut report = ShutdownReport::default();
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        tracing::info!(rooms = self.inner.rooms.len(), grace = ?self.grace, "shutting down");
        // 1. Stop accepting.
        self.stop_api.send_replace(true);
        // 2. Stop finding and reading rooms.
        self.detector.stop();
        if tokio::time::timeout_at(deadline, self.inner.rooms.stop_all(StopReason::Shutdown))
            .await
            .is_err()
        {
            report.unfinished.push("rooms".into());
        }
        // 3. Close the bus: outputs drain what is queued, flush, and end.
        if tokio::time::timeout_at(deadline, self.inner.bus.close())
            .await
            .is_err()
        {
            report.unfinished.push("event bus".into());
        }
        for (name, task) in std::mem::take(&mut self.output_tasks) {
            let abort = task.abort_handle();
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => report.output_errors.push((name, e.to_string())),
                Ok(Err(e)) => report.output_errors.push((name, e.to_string())),
                Err(_) => {
                    abort.abort();
                    report.unfinished.push(format!("output {name}"));
                }
            }
        }
        // 4. Save what is known about the rooms.
        self.flush_task.abort();
        if let Err(e) = self.inner.registry.flush().await {
            tracing::warn!(error = %e, "could not save known room ids");
        }
        // 5. Let in-flight API requests finish.
        let api = &mut self.api_task;
        if tokio::time::timeout_at(deadline, api).await.is_err() {
            report.unfinished.push("API requests".into());
        }
        report.elapsed = started.elapsed();
        if report.is_clean() {
            tracing::info!(elapsed = ?report.elapsed, "shut down");
        } else {
            tracing::warn!(
                elapsed = ?report.elapsed,
                unfinished = ?report.unfinished,
                errors = ?report.output_errors,
                "shut down with work left"
            );
        }
        report
    }
}
