//! The pictures: an object's dependency diagram and the Verbund's provider concentration (a page
//! and its graph), as SVG laid out by hand.

use super::*;
use axum::http::header;
use stadtmauer_inventory::model::Protection;
use std::collections::VecDeque;
use std::fmt::Write as _;

use stadtmauer_core::markup::escape as xml;

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

fn svg_response(svg: String) -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// 4. Dependency diagram (SVG, laid out by hand: columns by kind, rows by name)
// ---------------------------------------------------------------------------------------------

/// Most objects a diagram shows.
const DIAGRAM_CAP: usize = 150;

fn column(kind: ObjectKind) -> usize {
    match kind {
        ObjectKind::Process => 0,
        ObjectKind::Application => 1,
        ObjectKind::System => 2,
        ObjectKind::Location | ObjectKind::Connection | ObjectKind::Provider => 3,
    }
}

fn level_colour(l: Level) -> &'static str {
    match l {
        Level::Normal => "#1e6b34",
        Level::Hoch => "#9a4d00",
        Level::SehrHoch => "#a4161a",
    }
}

/// The object, everything it depends on and everything that depends on it (readable only),
/// up to `DIAGRAM_CAP` objects. Returns the objects, the links between them, and whether the
/// picture had to be cut.
async fn neighbourhood(
    store: &Store,
    scope: &Scope,
    root: Object,
) -> Result<
    (
        BTreeMap<ObjectId, Object>,
        BTreeSet<(ObjectId, ObjectId)>,
        bool,
    ),
    DomainError,
> {
    let root_id = root.id;
    let mut nodes = BTreeMap::from([(root_id, root)]);
    let mut edges = BTreeSet::new();
    let mut truncated = false;
    for downstream in [true, false] {
        let mut queue = VecDeque::from([root_id]);
        let mut seen = BTreeSet::from([root_id]);
        while let Some(id) = queue.pop_front() {
            let (uses, used_by) = store.links_of(scope, id).await?;
            let list = if downstream { uses } else { used_by };
            for l in list {
                let other = if downstream { &l.to } else { &l.from };
                if !nodes.contains_key(&other.id) {
                    if nodes.len() >= DIAGRAM_CAP {
                        truncated = true;
                        continue;
                    }
                    let Ok(obj) = store.object(scope, other.id).await else {
                        continue;
                    };
                    nodes.insert(other.id, obj);
                }
                edges.insert((l.from.id, l.to.id));
                if seen.insert(other.id) {
                    queue.push_back(other.id);
                }
            }
        }
    }
    Ok((nodes, edges, truncated))
}

const BOX_W: i64 = 250;
const BOX_H: i64 = 50;
const COL_GAP: i64 = 90;
const ROW_GAP: i64 = 14;
const TOP: i64 = 74;
const LEFT: i64 = 20;

fn level_line(tr: Tr, p: &Protection) -> String {
    let short = |l: Level| tr.s(l.label_key());
    tr.f(
        "inv.diagram.levels",
        &[("c", short(p.c)), ("i", short(p.i)), ("a", short(p.a))],
    )
}

fn diagram_svg(
    tr: Tr,
    root: ObjectId,
    nodes: &BTreeMap<ObjectId, Object>,
    edges: &BTreeSet<(ObjectId, ObjectId)>,
    truncated: bool,
) -> String {
    // Columns by kind (only those present), rows by kind then name.
    let mut cols: BTreeMap<usize, Vec<&Object>> = BTreeMap::new();
    for o in nodes.values() {
        cols.entry(column(o.data.kind)).or_default().push(o);
    }
    for v in cols.values_mut() {
        v.sort_by(|a, b| {
            (a.data.kind, a.data.name.to_lowercase())
                .cmp(&(b.data.kind, b.data.name.to_lowercase()))
        });
    }
    let mut pos: HashMap<ObjectId, (i64, i64)> = HashMap::new();
    let mut col_titles = Vec::new();
    for (ci, (col, objs)) in cols.iter().enumerate() {
        let x = LEFT + ci as i64 * (BOX_W + COL_GAP);
        col_titles.push((x, *col));
        for (ri, o) in objs.iter().enumerate() {
            pos.insert(o.id, (x, TOP + ri as i64 * (BOX_H + ROW_GAP)));
        }
    }
    let rows = cols.values().map(Vec::len).max().unwrap_or(1) as i64;
    let width = LEFT * 2 + cols.len().max(1) as i64 * (BOX_W + COL_GAP) - COL_GAP + 40;
    let height = TOP + rows * (BOX_H + ROW_GAP) + if truncated { 50 } else { 20 };
    let root_name = nodes.get(&root).map(|o| o.data.name.as_str()).unwrap_or("");
    let title = tr.f("inv.diagram.title", &[("name", root_name)]);
    let desc = tr.f(
        "inv.diagram.desc",
        &[
            ("objects", &nodes.len().to_string()),
            ("links", &edges.len().to_string()),
        ],
    );
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-labelledby="t d" font-family="system-ui, sans-serif" font-size="13"><title id="t">{}</title><desc id="d">{}</desc>"##,
        xml(&title),
        xml(&desc)
    );
    s.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#4a5560"/></marker></defs>"##);
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/><text x="{LEFT}" y="24" font-size="15" font-weight="bold" fill="#1b1f24">{}</text>"##,
        xml(&title)
    );
    for (x, col) in &col_titles {
        let key = match col {
            0 => "inv.kind.process",
            1 => "inv.kind.application",
            2 => "inv.kind.system",
            _ => "inv.diagram.infrastructure",
        };
        let _ = write!(
            s,
            r##"<text x="{x}" y="56" font-weight="bold" fill="#4a5560">{}</text>"##,
            xml(tr.s(key))
        );
    }
    // Arrows first, boxes on top.
    for (from, to) in edges {
        let (Some(&(fx, fy)), Some(&(tx, ty))) = (pos.get(from), pos.get(to)) else {
            continue;
        };
        let (fy, ty) = (fy + BOX_H / 2, ty + BOX_H / 2);
        if fx < tx {
            let (x1, x2) = (fx + BOX_W, tx);
            let mid = (x1 + x2) / 2;
            let _ = write!(
                s,
                r##"<path d="M {x1} {fy} C {mid} {fy}, {mid} {ty}, {x2} {ty}" fill="none" stroke="#4a5560" stroke-width="1.5" marker-end="url(#arrow)"/>"##
            );
        } else if fx > tx {
            let (x1, x2) = (fx, tx + BOX_W);
            let mid = (x1 + x2) / 2;
            let _ = write!(
                s,
                r##"<path d="M {x1} {fy} C {mid} {fy}, {mid} {ty}, {x2} {ty}" fill="none" stroke="#4a5560" stroke-width="1.5" marker-end="url(#arrow)"/>"##
            );
        } else {
            // Same column: a bow on the right-hand side.
            let x = fx + BOX_W;
            let bow = x + 30 + (fy - ty).abs() / 8;
            let _ = write!(
                s,
                r##"<path d="M {x} {fy} C {bow} {fy}, {bow} {ty}, {x} {ty}" fill="none" stroke="#4a5560" stroke-width="1.5" stroke-dasharray="4 3" marker-end="url(#arrow)"/>"##
            );
        }
    }
    for o in nodes.values() {
        let Some(&(x, y)) = pos.get(&o.id) else {
            continue;
        };
        let max = o.effective.max();
        let is_root = o.id == root;
        let (stroke, sw) = if is_root {
            ("#1d4f73", 3)
        } else {
            ("#6b7680", 1)
        };
        let _ = write!(
            s,
            r##"<g><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#ffffff" stroke="{stroke}" stroke-width="{sw}"/><rect x="{x}" y="{y}" width="8" height="{BOX_H}" fill="{}"/>"##,
            level_colour(max)
        );
        let name = shorten(&o.data.name, 24);
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-weight="bold" fill="#1b1f24">{}</text><text x="{}" y="{}" font-size="11" fill="#4a5560">{}</text></g>"##,
            x + 16,
            y + 20,
            xml(&name),
            x + 16,
            y + 39,
            xml(&level_line(tr, &o.effective))
        );
    }
    if truncated {
        let _ = write!(
            s,
            r##"<text x="{LEFT}" y="{}" fill="#a4161a" font-weight="bold">{}</text>"##,
            height - 18,
            xml(&tr.f("inv.diagram.truncated", &[("n", &DIAGRAM_CAP.to_string())]))
        );
    }
    s.push_str("</svg>");
    s
}

pub async fn diagram(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let root = state.store.object(&me.scope, ObjectId(id)).await?;
    let root_id = root.id;
    let (nodes, edges, truncated) = neighbourhood(&state.store, &me.scope, root).await?;
    Ok(svg_response(diagram_svg(
        tr, root_id, &nodes, &edges, truncated,
    )))
}

// ---------------------------------------------------------------------------------------------
// 5. Provider concentration across the Verbund
// ---------------------------------------------------------------------------------------------

pub struct ProcView {
    pub id: ObjectId,
    pub name: String,
    pub availability: Badge,
}

pub struct TownView {
    pub name: String,
    pub processes: Vec<ProcView>,
}

pub struct ProviderView {
    pub id: ObjectId,
    pub name: String,
    pub shared: bool,
    pub headline: String,
    /// "Of these, n need high availability", when any do.
    pub critical_line: Option<String>,
    pub towns: Vec<TownView>,
}

#[derive(Template)]
#[template(path = "inventory/providers.html")]
pub struct InvProvidersPage {
    pub c: Chrome,
    pub verbund_id: VerbundId,
    pub providers: Vec<ProviderView>,
}

/// The Verbund (if visible) and what halts when each of its providers fails, for the page and
/// its graph alike.
async fn verbund_impacts(
    state: &AppState,
    me: &CurrentUser,
    vid: VerbundId,
) -> Result<
    (
        stadtmauer_core::org::Verbund,
        Vec<stadtmauer_store::inventory::ProviderImpact>,
    ),
    DomainError,
> {
    let verbund = state.store.verbund(&me.scope, vid).await?;
    let impacts = state
        .store
        .provider_concentration_at(&me.scope, vid, me.audit_seq)
        .await?;
    Ok((verbund, impacts))
}

pub async fn providers(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let vid = VerbundId(id);
    let (verbund, impacts) = verbund_impacts(&state, &me, vid).await?;
    let providers = impacts
        .into_iter()
        .map(|p| {
            let mut towns: Vec<TownView> = Vec::new();
            for entry in p.processes.iter() {
                let (proc_ref, town, prot) = &**entry;
                let view = ProcView {
                    id: proc_ref.id,
                    name: proc_ref.name.clone(),
                    availability: badge(tr, prot.a),
                };
                match towns.iter_mut().find(|t| t.name == *town) {
                    Some(t) => t.processes.push(view),
                    None => towns.push(TownView {
                        name: town.clone(),
                        processes: vec![view],
                    }),
                }
            }
            // Most affected town first; within a town, the highest availability need first.
            for t in &mut towns {
                t.processes.sort_by(|a, b| {
                    b.availability
                        .code
                        .cmp(a.availability.code)
                        .then(a.name.cmp(&b.name))
                });
            }
            towns.sort_by(|a, b| {
                b.processes
                    .len()
                    .cmp(&a.processes.len())
                    .then(a.name.cmp(&b.name))
            });
            let headline = if p.processes.is_empty() {
                tr.f("inv.prov.none_halt", &[("name", &p.provider.name)])
            } else {
                tr.f(
                    "inv.prov.halt",
                    &[
                        ("name", &p.provider.name),
                        ("n", &p.processes.len().to_string()),
                        ("towns", &p.towns.to_string()),
                    ],
                )
            };
            ProviderView {
                id: p.provider.id,
                name: p.provider.name,
                shared: p.shared,
                headline,
                critical_line: (p.critical > 0)
                    .then(|| tr.f("inv.prov.critical", &[("n", &p.critical.to_string())])),
                towns,
            }
        })
        .collect();
    let c = Chrome::new(
        tr,
        &me,
        tr.f("inv.prov.title", &[("name", &verbund.name)]),
        "verbuende",
    );
    Ok(render(InvProvidersPage {
        c,
        verbund_id: vid,
        providers,
    }))
}

pub async fn providers_svg(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let vid = VerbundId(id);
    let (verbund, impacts) = verbund_impacts(&state, &me, vid).await?;
    const CAP: usize = 60;
    let truncated = impacts.len() > CAP;
    let impacts: Vec<_> = impacts.into_iter().take(CAP).collect();
    // Towns in the order of how many processes of theirs depend on providers.
    let mut towns: BTreeMap<OrgId, (String, usize)> = BTreeMap::new();
    let mut edges: BTreeMap<(usize, OrgId), usize> = BTreeMap::new();
    for (pi, p) in impacts.iter().enumerate() {
        for entry in &p.processes {
            let (proc_ref, town, _) = &**entry;
            let t = towns
                .entry(proc_ref.organisation_id)
                .or_insert_with(|| (town.clone(), 0));
            t.1 += 1;
            *edges.entry((pi, proc_ref.organisation_id)).or_default() += 1;
        }
    }
    let mut town_order: Vec<(OrgId, String, usize)> =
        towns.into_iter().map(|(id, (n, c))| (id, n, c)).collect();
    town_order.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
    let town_y: HashMap<OrgId, i64> = town_order
        .iter()
        .enumerate()
        .map(|(i, t)| (t.0, TOP + i as i64 * (BOX_H + ROW_GAP)))
        .collect();
    let rows = impacts.len().max(town_order.len()).max(1) as i64;
    let (px, tx) = (LEFT, LEFT + BOX_W + 260);
    let width = tx + BOX_W + LEFT;
    let height = TOP + rows * (BOX_H + ROW_GAP) + if truncated { 50 } else { 20 };
    let title = tr.f("inv.prov.title", &[("name", &verbund.name)]);
    let desc = tr.f(
        "inv.prov.svg_desc",
        &[
            ("providers", &impacts.len().to_string()),
            ("towns", &town_order.len().to_string()),
        ],
    );
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-labelledby="t d" font-family="system-ui, sans-serif" font-size="13"><title id="t">{}</title><desc id="d">{}</desc><rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>"##,
        xml(&title),
        xml(&desc)
    );
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="24" font-size="15" font-weight="bold" fill="#1b1f24">{}</text><text x="{px}" y="56" font-weight="bold" fill="#4a5560">{}</text><text x="{tx}" y="56" font-weight="bold" fill="#4a5560">{}</text>"##,
        xml(&title),
        xml(tr.s("inv.kind.provider")),
        xml(tr.s("inv.prov.towns"))
    );
    for ((pi, town), n) in &edges {
        let Some(ty) = town_y.get(town) else { continue };
        let py = TOP + *pi as i64 * (BOX_H + ROW_GAP) + BOX_H / 2;
        let ty = ty + BOX_H / 2;
        let (x1, x2) = (px + BOX_W, tx);
        let mid = (x1 + x2) / 2;
        let w = 1.0 + (*n as f64).min(14.0);
        let _ = write!(
            s,
            r##"<path d="M {x1} {py} C {mid} {py}, {mid} {ty}, {x2} {ty}" fill="none" stroke="#1d4f73" stroke-opacity="0.55" stroke-width="{w:.1}"/>"##
        );
    }
    for (pi, p) in impacts.iter().enumerate() {
        let y = TOP + pi as i64 * (BOX_H + ROW_GAP);
        let line = tr.f(
            "inv.prov.svg_line",
            &[
                ("n", &p.processes.len().to_string()),
                ("towns", &p.towns.to_string()),
            ],
        );
        let _ = write!(
            s,
            r##"<g><rect x="{px}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#ffffff" stroke="#6b7680"/><text x="{}" y="{}" font-weight="bold" fill="#1b1f24">{}</text><text x="{}" y="{}" font-size="11" fill="#4a5560">{}</text></g>"##,
            px + 10,
            y + 20,
            xml(&shorten(&p.provider.name, 24)),
            px + 10,
            y + 39,
            xml(&line)
        );
    }
    for (id, name, n) in &town_order {
        let Some(&y) = town_y.get(id) else { continue };
        let line = tr.f("inv.prov.svg_town", &[("n", &n.to_string())]);
        let _ = write!(
            s,
            r##"<g><rect x="{tx}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#ffffff" stroke="#6b7680"/><text x="{}" y="{}" font-weight="bold" fill="#1b1f24">{}</text><text x="{}" y="{}" font-size="11" fill="#4a5560">{}</text></g>"##,
            tx + 10,
            y + 20,
            xml(&shorten(name, 24)),
            tx + 10,
            y + 39,
            xml(&line)
        );
    }
    if truncated {
        let _ = write!(
            s,
            r##"<text x="{LEFT}" y="{}" fill="#a4161a" font-weight="bold">{}</text>"##,
            height - 18,
            xml(&tr.f("inv.prov.svg_truncated", &[("n", &CAP.to_string())]))
        );
    }
    s.push_str("</svg>");
    Ok(svg_response(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup() {
        assert_eq!(
            xml("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
