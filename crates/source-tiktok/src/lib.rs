//! The live TikTok webcast connection as an [`EventSource`](ttlive_eventbus::EventSource).
//!
//! Not implemented yet: see the project's open issue "source-tiktok: the live connection end to
//! end". This crate exists so the workspace has its final shape.
