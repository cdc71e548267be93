//! The route table. Routes are registered through [`Routes`], which records each method and
//! path, so the tenant-isolation test walks every route without a list of its own to forget.

use crate::{api, assets, auth, features, metrics, AppState};
use axum::handler::Handler;
use axum::http::Method;
use axum::Router;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    /// Under `/api/v1` (token authentication, JSON).
    pub api: bool,
    /// Reachable without logging in.
    pub public: bool,
}

pub(crate) struct Routes {
    router: Router<AppState>,
    table: Vec<RouteInfo>,
    api: bool,
    public: bool,
}

impl Routes {
    pub(crate) fn new(api: bool, public: bool) -> Routes {
        Routes {
            router: Router::new(),
            table: Vec::new(),
            api,
            public,
        }
    }
    /// Takes over another group's routes (each area of the UI keeps its own list).
    pub(crate) fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }
    fn add<H, T>(mut self, method: Method, path: &'static str, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let mr = match method.as_str() {
            "GET" => axum::routing::get(h),
            "POST" => axum::routing::post(h),
            "PATCH" => axum::routing::patch(h),
            "PUT" => axum::routing::put(h),
            _ => axum::routing::delete(h),
        };
        self.router = self.router.route(path, mr);
        self.table.push(RouteInfo {
            method,
            path,
            api: self.api,
            public: self.public,
        });
        self
    }
    pub(crate) fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::GET, path, h)
    }
    pub(crate) fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
    ) -> Self {
        self.add(Method::POST, path, h)
    }
    pub(crate) fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
    ) -> Self {
        self.add(Method::PATCH, path, h)
    }
    pub(crate) fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
    ) -> Self {
        self.add(Method::DELETE, path, h)
    }
}

fn public_pages() -> Routes {
    Routes::new(false, true)
        .get("/healthz", metrics::healthz)
        .get("/metrics", metrics::metrics)
        .get("/assets/{file}", assets::serve)
        .get("/login", features::platform::login::form)
        .post("/login", features::platform::login::submit)
        .get("/login/totp", features::platform::login::totp_form)
        .post("/login/totp", features::platform::login::totp_submit)
        .post("/logout", features::platform::login::logout)
        .post("/language", features::platform::account::language)
}

fn pages() -> Routes {
    use features::inventory::import;
    use features::platform::*;
    use features::*;
    Routes::new(false, false)
        .get("/", dashboard::home)
        .get("/dashboard", dashboard::dashboard)
        .get("/verbuende", dashboard::verbuende)
        .post("/verbuende", dashboard::create_verbund)
        .get("/verbuende/{verbund_id}", dashboard::verbund)
        .post("/verbuende/{verbund_id}", dashboard::rename_verbund)
        .get("/organisations", orgs::list)
        .get("/organisations/new", orgs::new_form)
        .post("/organisations", orgs::create)
        .get("/organisations/{org_id}", orgs::show)
        .get("/organisations/{org_id}/edit", orgs::edit_form)
        .post("/organisations/{org_id}", orgs::update)
        .get("/organisations/{org_id}/delete", orgs::delete_form)
        .post("/organisations/{org_id}/delete", orgs::delete)
        .post("/organisations/{org_id}/contacts", orgs::add_contact)
        .post(
            "/organisations/{org_id}/contacts/{contact_id}/delete",
            orgs::delete_contact,
        )
        .get("/users", users::list)
        .get("/users/new", users::new_form)
        .post("/users", users::create)
        .get("/users/{user_id}", users::show)
        .post("/users/{user_id}", users::update)
        .post("/users/{user_id}/status", users::set_status)
        .post("/users/{user_id}/password", users::reset_password)
        .post("/users/{user_id}/totp/reset", users::reset_totp)
        .post("/users/{user_id}/memberships", users::add_membership)
        .post(
            "/users/{user_id}/memberships/{membership_id}/delete",
            users::remove_membership,
        )
        .get("/audit", audit::list)
        .get("/account", account::show)
        .post("/account/password", account::change_password)
        .get("/account/totp", account::totp_form)
        .post("/account/totp", account::totp_confirm)
        .post("/account/totp/disable", account::totp_disable)
        .post("/account/tokens", account::create_token)
        .post("/account/tokens/{token_id}/revoke", account::revoke_token)
        .merge(inventory::routes())
        .merge(import::routes())
        .merge(crate::features::security::routes())
        .merge(crate::features::updates::routes())
        .merge(crate::features::continuity::routes())
        .merge(crate::features::council::routes())
}

fn api_routes() -> Routes {
    use api::*;
    Routes::new(true, false)
        .get("/api/v1/me", me)
        .get("/api/v1/verbuende", list_verbuende)
        .get("/api/v1/organisations", list_organisations)
        .post("/api/v1/organisations", create_organisation)
        .get("/api/v1/organisations/{org_id}", get_organisation)
        .patch("/api/v1/organisations/{org_id}", update_organisation)
        .delete("/api/v1/organisations/{org_id}", delete_organisation)
        .get("/api/v1/organisations/{org_id}/contacts", list_contacts)
        .post("/api/v1/organisations/{org_id}/contacts", create_contact)
        .delete(
            "/api/v1/organisations/{org_id}/contacts/{contact_id}",
            delete_contact,
        )
        .get("/api/v1/users", list_users)
        .get("/api/v1/users/{user_id}", get_user)
        .get("/api/v1/audit", list_audit)
        .merge(crate::features::inventory::api_routes())
        .merge(crate::features::security::api_routes())
        .merge(crate::features::updates::api_routes())
        .merge(crate::features::continuity::api_routes())
        .merge(crate::features::council::api_routes())
}

fn openapi_route() -> Routes {
    Routes::new(true, true).get("/api/v1/openapi.json", api::openapi_json)
}

pub(crate) fn build(state: AppState) -> (Router, Vec<RouteInfo>) {
    let mut table = Vec::new();
    let mut take = |r: Routes| {
        table.extend(r.table);
        r.router
    };
    let html = take(public_pages())
        .merge(take(pages()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::csrf_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::load_session,
        ));
    let api = take(api_routes()).merge(take(openapi_route()));
    let app = Router::new()
        .merge(api)
        .merge(html)
        .fallback(features::not_found)
        .with_state(state);
    (app, table)
}

pub(crate) fn table() -> Vec<RouteInfo> {
    let mut t = Vec::new();
    for r in [public_pages(), pages(), api_routes(), openapi_route()] {
        t.extend(r.table);
    }
    t
}
