//! Spreadsheet import of the Informationsverbund (CSV, XLSX): upload, column mapping, dry-run
//! preview, all-or-nothing commit; and the exports.

use crate::routes::Routes;

pub(crate) fn routes() -> Routes {
    Routes::new(false, false)
}
