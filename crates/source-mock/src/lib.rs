//! Recorded sessions, replay and a fake TikTok server.
//!
//! Not implemented yet: see the project's open issue "Recorded sessions, replay, and a fake
//! TikTok server". This crate exists so the workspace has its final shape.
