//! The platform: sign-in and account, organisations and Verbünde, users and roles, the dashboard
//! and the audit log.

pub mod account;
pub mod audit;
pub mod dashboard;
pub mod login;
pub mod orgs;
pub mod users;
