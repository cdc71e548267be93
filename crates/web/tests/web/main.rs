//! HTTP tests through the real router, against a real database (SQLite, or PostgreSQL when
//! `STADTMAUER_TEST_DATABASE_URL` is set), with the demo Landkreis loaded.

mod harness;
mod isolation;
mod journeys;
