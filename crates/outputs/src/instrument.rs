//! Metrics, through the `metrics` facade (nothing is recorded unless the application installs a
//! recorder). Names and labels are listed in the crate docs; every helper is here so that each
//! name is written once.

use metrics::{counter, gauge, histogram};

pub(crate) const EVENTS_OUT: &str = "ttlive_output_events_total";
pub(crate) const DROPPED: &str = "ttlive_output_dropped_total";
pub(crate) const QUEUE_LEN: &str = "ttlive_output_queue_len";
pub(crate) const FEED_CLIENTS: &str = "ttlive_feed_clients";
pub(crate) const FEED_CLOSED: &str = "ttlive_feed_client_closes_total";
pub(crate) const WEBHOOK_ATTEMPTS: &str = "ttlive_webhook_attempts_total";
pub(crate) const SPOOL_BYTES: &str = "ttlive_webhook_spool_bytes";
pub(crate) const DEAD_LETTERS: &str = "ttlive_webhook_dead_letters_total";
pub(crate) const ARCHIVE_BATCH: &str = "ttlive_archive_batch_size";
pub(crate) const ARCHIVE_ERRORS: &str = "ttlive_archive_errors_total";
pub(crate) const OUTPUT_ERRORS: &str = "ttlive_output_errors_total";

/// Describes every metric once (call when a recorder is installed, for `# HELP` lines).
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(EVENTS_OUT, "Events written out, by output");
    describe_counter!(
        DROPPED,
        "Events an output dropped because it fell behind, by output"
    );
    describe_gauge!(QUEUE_LEN, "Events waiting in an output's queue, by output");
    describe_gauge!(FEED_CLIENTS, "Connected feed clients, by transport");
    describe_counter!(FEED_CLOSED, "Feed clients closed by the server, by reason");
    describe_counter!(
        WEBHOOK_ATTEMPTS,
        "Webhook delivery attempts, by output and outcome"
    );
    describe_gauge!(SPOOL_BYTES, "Bytes in a webhook's disk spool, by output");
    describe_counter!(DEAD_LETTERS, "Webhook deliveries given up, by output");
    describe_histogram!(ARCHIVE_BATCH, "Events per archive transaction, by backend");
    describe_counter!(ARCHIVE_ERRORS, "Archive write errors, by backend and kind");
    describe_counter!(OUTPUT_ERRORS, "Write errors of file outputs, by output");
}

pub(crate) fn events_out(output: &str, n: u64) {
    counter!(EVENTS_OUT, "output" => output.to_owned()).increment(n);
}

pub(crate) fn dropped(output: &str, n: u64) {
    counter!(DROPPED, "output" => output.to_owned()).increment(n);
}

pub(crate) fn queue_len(output: &str, len: usize) {
    gauge!(QUEUE_LEN, "output" => output.to_owned()).set(len as f64);
}

pub(crate) fn feed_clients(transport: &'static str, delta: f64) {
    gauge!(FEED_CLIENTS, "transport" => transport).increment(delta);
}

pub(crate) fn feed_closed(reason: &'static str) {
    counter!(FEED_CLOSED, "reason" => reason).increment(1);
}

pub(crate) fn webhook_attempt(output: &str, outcome: &'static str) {
    counter!(WEBHOOK_ATTEMPTS, "output" => output.to_owned(), "outcome" => outcome).increment(1);
}

pub(crate) fn spool_bytes(output: &str, bytes: u64) {
    gauge!(SPOOL_BYTES, "output" => output.to_owned()).set(bytes as f64);
}

pub(crate) fn dead_letter(output: &str) {
    counter!(DEAD_LETTERS, "output" => output.to_owned()).increment(1);
}

pub(crate) fn archive_batch(backend: &'static str, n: usize) {
    histogram!(ARCHIVE_BATCH, "backend" => backend).record(n as f64);
}

pub(crate) fn archive_error(backend: &'static str, kind: &'static str) {
    counter!(ARCHIVE_ERRORS, "backend" => backend, "kind" => kind).increment(1);
}

pub(crate) fn output_error(output: &str) {
    counter!(OUTPUT_ERRORS, "output" => output.to_owned()).increment(1);
}
