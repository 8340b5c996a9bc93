//! The PostgreSQL backend (cargo feature `postgres`): `tokio-postgres` without TLS, driven by
//! a single-threaded runtime of its own on the archive's thread, so the write path is the same
//! as SQLite's. A lost connection is re-established before the next transaction.

use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls, Statement};

use super::{Row, Store, Totals, schema};
use crate::config::redact_url;
use crate::error::ArchiveError;

fn pg(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> ArchiveError {
    move |source| ArchiveError::Postgres { what, source }
}

struct Prepared {
    open_session: Statement,
    create_session: Statement,
    find_session: Statement,
    name_session: Statement,
    insert: Statement,
    set_session: Statement,
    add_totals: Statement,
    end_session: Statement,
}

pub(crate) struct PgStore {
    rt: Runtime,
    url: String,
    client: Client,
    st: Prepared,
}

async fn connect(url: &str) -> Result<(Client, Prepared), ArchiveError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(pg("connecting"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "archive: PostgreSQL connection closed");
        }
    });
    migrate(&client).await?;
    let p = |sql: &'static str| {
        let client = &client;
        async move {
            client
                .prepare(sql)
                .await
                .map_err(pg("preparing statements"))
        }
    };
    let st = Prepared {
        open_session: p("SELECT id FROM sessions WHERE room_id = $1 AND ended_at IS NULL ORDER BY id DESC LIMIT 1").await?,
        create_session: p("INSERT INTO sessions (room_id, unique_id, started_at) VALUES ($1, $2, $3) ON CONFLICT (room_id, started_at) DO NOTHING").await?,
        find_session: p("SELECT id FROM sessions WHERE room_id = $1 AND started_at = $2").await?,
        name_session: p("UPDATE sessions SET unique_id = $2 WHERE id = $1 AND unique_id = ''").await?,
        insert: p("INSERT INTO events (room_id, msg_id, type, create_time, received_at, user_id, unique_id, session_id, json) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id").await?,
        set_session: p("UPDATE events SET session_id = $2 WHERE id = $1").await?,
        add_totals: p("UPDATE sessions SET events = events + $2, chats = chats + $3, likes = likes + $4, \
                       diamonds = diamonds + $5, follows = follows + $6, shares = shares + $7, \
                       peak_viewers = GREATEST(peak_viewers, $8) WHERE id = $1").await?,
        end_session: p("UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE id = $1").await?,
    };
    Ok((client, st))
}

async fn migrate(client: &Client) -> Result<(), ArchiveError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS ttlive_schema (version BIGINT NOT NULL)")
        .await
        .map_err(pg("reading the schema version"))?;
    let version: i64 = client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM ttlive_schema", &[])
        .await
        .map_err(pg("reading the schema version"))?
        .get(0);
    schema::check(version)?;
    for (step, sql) in schema::steps(schema::Dialect::Postgres)
        .enumerate()
        .skip(version as usize)
    {
        let v = step as i64 + 1;
        let script =
            format!("BEGIN; {sql}; INSERT INTO ttlive_schema (version) VALUES ({v}); COMMIT;");
        if let Err(e) = client.batch_execute(&script).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(pg("migrating the schema")(e));
        }
        tracing::info!(version = v, "archive: PostgreSQL schema migrated");
    }
    Ok(())
}

impl PgStore {
    /// Connects and migrates. Call on the archive's own thread (it blocks on its runtime).
    pub(crate) fn connect(url: &str) -> Result<PgStore, ArchiveError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ArchiveError::Write)?;
        let (client, st) = rt.block_on(connect(url))?;
        tracing::info!(url = %redact_url(url), "archive: PostgreSQL connected");
        Ok(PgStore {
            rt,
            url: url.to_owned(),
            client,
            st,
        })
    }
}

impl Store for PgStore {
    const BACKEND: &'static str = "postgres";

    fn begin(&mut self) -> Result<(), ArchiveError> {
        if self.client.is_closed() {
            let (client, st) = self.rt.block_on(connect(&self.url))?;
            tracing::info!(url = %redact_url(&self.url), "archive: PostgreSQL reconnected");
            self.client = client;
            self.st = st;
        }
        self.rt
            .block_on(self.client.batch_execute("BEGIN"))
            .map_err(pg("starting a transaction"))
    }

    fn commit(&mut self) -> Result<(), ArchiveError> {
        self.rt
            .block_on(self.client.batch_execute("COMMIT"))
            .map_err(pg("committing"))
    }

    fn rollback(&mut self) {
        if !self.client.is_closed() {
            let _ = self.rt.block_on(self.client.batch_execute("ROLLBACK"));
        }
    }

    fn open_session(&mut self, room_id: i64) -> Result<Option<i64>, ArchiveError> {
        let row = self
            .rt
            .block_on(self.client.query_opt(&self.st.open_session, &[&room_id]))
            .map_err(pg("finding the open session"))?;
        Ok(row.map(|r| r.get(0)))
    }

    fn create_session(
        &mut self,
        room_id: i64,
        unique_id: &str,
        started_at: i64,
    ) -> Result<i64, ArchiveError> {
        self.rt
            .block_on(self.client.execute(
                &self.st.create_session,
                &[&room_id, &unique_id, &started_at],
            ))
            .map_err(pg("opening a session"))?;
        let row = self
            .rt
            .block_on(
                self.client
                    .query_one(&self.st.find_session, &[&room_id, &started_at]),
            )
            .map_err(pg("opening a session"))?;
        Ok(row.get(0))
    }

    fn name_session(&mut self, session: i64, unique_id: &str) -> Result<(), ArchiveError> {
        self.rt
            .block_on(
                self.client
                    .execute(&self.st.name_session, &[&session, &unique_id]),
            )
            .map(drop)
            .map_err(pg("naming a session"))
    }

    fn insert(
        &mut self,
        row: &Row,
        session: Option<i64>,
        received_at: i64,
    ) -> Result<Option<i64>, ArchiveError> {
        let kind: &str = row.kind;
        let r = self
            .rt
            .block_on(self.client.query_opt(
                &self.st.insert,
                &[
                    &row.room_id,
                    &row.msg_id,
                    &kind,
                    &row.create_time,
                    &received_at,
                    &row.user_id,
                    &row.unique_id,
                    &session,
                    &row.json,
                ],
            ))
            .map_err(pg("inserting events"))?;
        Ok(r.map(|r| r.get(0)))
    }

    fn set_session(&mut self, row_id: i64, session: i64) -> Result<(), ArchiveError> {
        self.rt
            .block_on(
                self.client
                    .execute(&self.st.set_session, &[&row_id, &session]),
            )
            .map(drop)
            .map_err(pg("filing an event under its session"))
    }

    fn add_totals(&mut self, session: i64, t: &Totals) -> Result<(), ArchiveError> {
        self.rt
            .block_on(self.client.execute(
                &self.st.add_totals,
                &[
                    &session,
                    &t.events,
                    &t.chats,
                    &t.likes,
                    &t.diamonds,
                    &t.follows,
                    &t.shares,
                    &t.peak_viewers,
                ],
            ))
            .map(drop)
            .map_err(pg("adding session totals"))
    }

    fn end_session(
        &mut self,
        session: i64,
        ended_at: i64,
        reason: &str,
    ) -> Result<(), ArchiveError> {
        self.rt
            .block_on(
                self.client
                    .execute(&self.st.end_session, &[&session, &ended_at, &reason]),
            )
            .map(drop)
            .map_err(pg("ending a session"))
    }
}
