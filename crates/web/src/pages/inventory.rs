//! The Informationsverbund pages: objects of a town, their dependencies and Schutzbedarf, the
//! dependency diagram, the Verbund's provider concentration.

use crate::routes::Routes;

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
}

pub(crate) fn api_routes() -> Routes {
    Routes::new(true, false)
}
