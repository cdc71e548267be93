//! HTTP tests through the real router, against a real database (SQLite, or PostgreSQL when
//! `STADTMAUER_TEST_DATABASE_URL` is set), with the demo Landkreis loaded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod continuity;
mod council;
mod hardening;
mod harness;
mod import;
mod inventory;
mod isolation;
mod journeys;
mod robustness;
mod security;
mod security_catalogs;
mod security_office;
mod security_transfer;
mod shared_data;
mod translations;
mod updates;
