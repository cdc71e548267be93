//! Export of a town's Informationsverbund: CSV (for German Excel: UTF-8 with BOM, `;`), XLSX (a
//! sheet of objects and one of dependencies) and JSON.
//!
//! The CSV and XLSX exports use the headers [`crate::import::suggest`] maps back exactly, so an
//! export can be edited in a spreadsheet and imported again. Values a spreadsheet would take for
//! a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) are written so that they
//! stay text: in CSV behind an apostrophe (which the import removes again), in XLSX as string
//! cells — an export never carries a formula to the next person who opens it.

use crate::import::Field;
use crate::model::Object;
use stadtmauer_core::{ObjectId, OrgId};
use std::collections::HashMap;

/// The columns of the object table: every importable field, then the effective requirement
/// (informational; the import ignores these columns).
pub const COLUMNS: [Field; 22] = Field::ALL;
pub const EFFECTIVE_HEADERS: [&str; 3] = [
    "Vertraulichkeit (wirksam)",
    "Integrität (wirksam)",
    "Verfügbarkeit (wirksam)",
];

fn yes(b: bool) -> String {
    if b { "ja" } else { "nein" }.to_string()
}

fn level(l: crate::model::Level) -> String {
    l.as_str().replace('_', " ")
}

/// The objects of `org` in export order (kind, then name), without the shared providers of other
/// members, which belong to their own records.
pub fn own_objects(org: OrgId, objects: &[Object]) -> Vec<&Object> {
    let mut v: Vec<&Object> = objects
        .iter()
        .filter(|o| o.organisation_id == org)
        .collect();
    v.sort_by(|a, b| {
        (a.data.kind, a.data.name.to_lowercase()).cmp(&(b.data.kind, b.data.name.to_lowercase()))
    });
    v
}

/// The names each object uses (one per line in a cell; see [`crate::import::split_names`]).
fn uses_by_object(
    objects: &[Object],
    links: &[(ObjectId, ObjectId)],
) -> HashMap<ObjectId, Vec<String>> {
    let names: HashMap<ObjectId, &str> = objects
        .iter()
        .map(|o| (o.id, o.data.name.as_str()))
        .collect();
    let mut out: HashMap<ObjectId, Vec<String>> = HashMap::new();
    for (f, t) in links {
        if let Some(n) = names.get(t) {
            out.entry(*f).or_default().push(n.to_string());
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|n| n.to_lowercase());
    }
    out
}

fn depends_cell(names: Option<&Vec<String>>) -> String {
    let Some(names) = names else {
        return String::new();
    };
    let mut s = names.join("\n");
    // A single name with a `;` would be split on import; a line break says "split by lines".
    if names.len() == 1 && s.contains(';') {
        s.push('\n');
    }
    s
}

/// The header row of the object table.
pub fn headers() -> Vec<String> {
    COLUMNS
        .iter()
        .map(|f| f.header().to_string())
        .chain(EFFECTIVE_HEADERS.iter().map(|h| h.to_string()))
        .collect()
}

/// The object table as text cells, header first.
pub fn object_table(
    org: OrgId,
    objects: &[Object],
    links: &[(ObjectId, ObjectId)],
) -> Vec<Vec<String>> {
    let uses = uses_by_object(objects, links);
    let mut rows = vec![headers()];
    for o in own_objects(org, objects) {
        let d = &o.data;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut row: Vec<String> = COLUMNS
            .iter()
            .map(|f| match f {
                Field::Kind => d.kind.as_str().to_string(),
                Field::Name => d.name.clone(),
                Field::Description => opt(&d.description),
                Field::Owner => opt(&d.owner),
                Field::Status => d.status.as_str().to_string(),
                Field::Vendor => opt(&d.vendor),
                Field::Product => opt(&d.product),
                Field::Version => opt(&d.version),
                Field::OperatingModel => d
                    .operating_model
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
                Field::VendorCountry => opt(&d.vendor_country),
                Field::SystemType => opt(&d.system_type),
                Field::Count => d.count.map(|c| c.to_string()).unwrap_or_default(),
                Field::Contract => opt(&d.contract),
                Field::Contact => opt(&d.contact),
                Field::Shared => yes(d.shared),
                Field::DataPersonal => yes(d.data_personal),
                Field::DataSpecial => yes(d.data_special),
                Field::DataClassified => yes(d.data_classified),
                Field::NeedC => d.own.map(|p| level(p.c)).unwrap_or_default(),
                Field::NeedI => d.own.map(|p| level(p.i)).unwrap_or_default(),
                Field::NeedA => d.own.map(|p| level(p.a)).unwrap_or_default(),
                Field::DependsOn => depends_cell(uses.get(&o.id)),
            })
            .collect();
        row.extend([
            level(o.effective.c),
            level(o.effective.i),
            level(o.effective.a),
        ]);
        rows.push(row);
    }
    rows
}

/// The dependency table, header first: from (kind, name) uses to (kind, name).
pub fn link_table(
    org: OrgId,
    objects: &[Object],
    links: &[(ObjectId, ObjectId)],
) -> Vec<Vec<String>> {
    let by_id: HashMap<ObjectId, &Object> = objects.iter().map(|o| (o.id, o)).collect();
    let mut rows: Vec<Vec<String>> = links
        .iter()
        .filter_map(|(f, t)| {
            let (f, t) = (by_id.get(f)?, by_id.get(t)?);
            (f.organisation_id == org).then(|| {
                vec![
                    f.data.kind.as_str().to_string(),
                    f.data.name.clone(),
                    t.data.kind.as_str().to_string(),
                    t.data.name.clone(),
                    yes(t.organisation_id != org),
                ]
            })
        })
        .collect();
    rows.sort();
    rows.insert(
        0,
        [
            "Objektart",
            "Objekt",
            "nutzt Objektart",
            "nutzt Objekt",
            "Verbundweit",
        ]
        .map(String::from)
        .to_vec(),
    );
    rows
}

/// Would a spreadsheet take this text for a formula?
pub fn looks_like_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// CSV for German Excel: UTF-8 with BOM, `;` as delimiter, CRLF line ends, every field that
/// could start a formula behind an apostrophe.
pub fn to_csv(org: OrgId, objects: &[Object], links: &[(ObjectId, ObjectId)]) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in object_table(org, objects, links) {
        let row: Vec<String> = row
            .into_iter()
            .map(|c| {
                if looks_like_formula(&c) {
                    format!("'{c}")
                } else {
                    c
                }
            })
            .collect();
        // Writing to a Vec cannot fail for I/O reasons; a failure would only lose this row.
        if w.write_record(&row).is_err() {
            continue;
        }
    }
    match w.into_inner() {
        Ok(bytes) => out.extend(bytes),
        Err(e) => out.extend(e.into_inner().into_inner().unwrap_or_default()),
    }
    out
}

/// XLSX with two sheets, "Objekte" and "Abhängigkeiten"; header bold and frozen, every cell a
/// string cell (never a formula).
pub fn to_xlsx(
    org: OrgId,
    objects: &[Object],
    links: &[(ObjectId, ObjectId)],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    for (name, table) in [
        ("Objekte", object_table(org, objects, links)),
        ("Abhängigkeiten", link_table(org, objects, links)),
    ] {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        for (r, row) in table.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                if r == 0 {
                    ws.write_string_with_format(r, c, v, &bold)?;
                } else if v.contains('\n') {
                    ws.write_string_with_format(r, c, v, &wrap)?;
                } else if !v.is_empty() {
                    ws.write_string(r, c, v)?;
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        for c in 0..table.first().map(|h| h.len()).unwrap_or(0) {
            ws.set_column_width(c as u16, 18)?;
        }
    }
    wb.save_to_buffer()
}

/// JSON: the town's objects as stored (with the effective requirement and where it came from)
/// and the links by id and name.
pub fn to_json(
    org: OrgId,
    objects: &[Object],
    links: &[(ObjectId, ObjectId)],
) -> serde_json::Value {
    let by_id: HashMap<ObjectId, &Object> = objects.iter().map(|o| (o.id, o)).collect();
    let own = own_objects(org, objects);
    let links: Vec<serde_json::Value> = links
        .iter()
        .filter_map(|(f, t)| {
            let (fo, to) = (by_id.get(f)?, by_id.get(t)?);
            (fo.organisation_id == org).then(|| {
                serde_json::json!({
                    "from_id": f,
                    "from_kind": fo.data.kind,
                    "from": fo.data.name,
                    "to_id": t,
                    "to_kind": to.data.kind,
                    "to": to.data.name,
                    "to_shared": to.organisation_id != org,
                })
            })
        })
        .collect();
    serde_json::json!({
        "format": "stadtmauer-inventory",
        "version": 1,
        "organisation_id": org,
        "objects": own,
        "links": links,
    })
}
