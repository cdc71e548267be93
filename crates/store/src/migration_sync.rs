//! `migrations_are_in_step`: the two migration trees describe the same schema.
//!
//! Both trees must hold the same file names. Each file's statements are then applied, in order,
//! to a model of the schema per backend (tables with their columns in order, type, nullability,
//! default, key, uniqueness, reference and check; table constraints; indexes), and after every file
//! the two models must be equal — so a file may reach the same schema by different statements
//! (SQLite copies a table where PostgreSQL alters it). Data statements (`INSERT`, `UPDATE`,
//! `DELETE`) must be the same, except the copy into a table that the same file renames.
//!
//! The dialect differences mapped here are those of `migrations/README.md`: `INTEGER` ↔ `BIGINT`
//! (also `BLOB` ↔ `BYTEA`, `REAL` ↔ `DOUBLE PRECISION`), and an integer primary key — SQLite's
//! rowid alias — ↔ `BIGINT [GENERATED … AS IDENTITY] PRIMARY KEY`; PostgreSQL's generated names of
//! constraints (`<table>_<column>_key`) for `DROP CONSTRAINT`. A statement the model does not know
//! fails the test, so that it is taught rather than skipped.

use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Punct(char),
}

impl Tok {
    fn is(&self, w: &str) -> bool {
        matches!(self, Tok::Word(x) if x == w)
    }
}

/// SQL text without comments, split into statements of tokens. Keywords and identifiers are
/// lowercased; string literals keep their case.
fn statements(sql: &str) -> Result<Vec<Vec<Tok>>, String> {
    let mut out = vec![Vec::new()];
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '\'' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            s.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => s.push(c),
                        None => return Err("unterminated string literal".into()),
                    }
                }
                push(&mut out, Tok::Str(s));
            }
            '"' => {
                let mut s = String::new();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    s.push(c);
                }
                push(&mut out, Tok::Word(s.to_lowercase()));
            }
            ';' => out.push(Vec::new()),
            c if c.is_whitespace() => {}
            c if c.is_alphanumeric() || c == '_' => {
                let mut w = c.to_lowercase().to_string();
                while let Some(&n) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' || n == '.' {
                        w.extend(n.to_lowercase());
                        chars.next();
                    } else {
                        break;
                    }
                }
                push(&mut out, Tok::Word(w));
            }
            c => push(&mut out, Tok::Punct(c)),
        }
    }
    out.retain(|s| !s.is_empty());
    Ok(out)
}

fn push(out: &mut [Vec<Tok>], t: Tok) {
    if let Some(last) = out.last_mut() {
        last.push(t);
    }
}

/// Tokens as one normalised string: single spaces, none inside parentheses or before commas.
fn text(toks: &[Tok]) -> String {
    let mut s = String::new();
    for t in toks {
        let piece = match t {
            Tok::Word(w) => w.clone(),
            Tok::Str(v) => format!("'{}'", v.replace('\'', "''")),
            Tok::Punct(c) => c.to_string(),
        };
        let glue = s.is_empty()
            || s.ends_with('(')
            || matches!(t, Tok::Punct(')') | Tok::Punct(','))
            || matches!(t, Tok::Punct('('))
                && !s.ends_with(' ')
                && s.ends_with(char::is_alphanumeric);
        if !glue {
            s.push(' ');
        }
        s.push_str(&piece);
    }
    s
}

/// The tokens of a parenthesised group starting at `toks[0]` (which must be `(`), without the outer
/// parentheses, and the number of tokens it took.
fn group(toks: &[Tok]) -> Result<(&[Tok], usize), String> {
    if toks.first() != Some(&Tok::Punct('(')) {
        return Err(format!("expected ( at {}", text(toks)));
    }
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    return Ok((&toks[1..i], i + 1));
                }
            }
            _ => {}
        }
    }
    Err(format!("unbalanced parentheses in {}", text(toks)))
}

/// Splits at commas outside parentheses.
fn split_commas(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth -= 1,
            Tok::Punct(',') if depth == 0 => {
                parts.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts
}

fn word(t: Option<&Tok>) -> Result<String, String> {
    match t {
        Some(Tok::Word(w)) => Ok(w.clone()),
        other => Err(format!("expected a name, found {other:?}")),
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Column {
    name: String,
    ty: String,
    not_null: bool,
    primary_key: bool,
    unique: bool,
    default: Option<String>,
    references: Option<String>,
    check: Option<String>,
    collate: Option<String>,
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.ty)?;
        if self.primary_key {
            write!(f, " primary key")?;
        }
        if self.not_null {
            write!(f, " not null")?;
        }
        if self.unique {
            write!(f, " unique")?;
        }
        if let Some(d) = &self.default {
            write!(f, " default {d}")?;
        }
        if let Some(r) = &self.references {
            write!(f, " references {r}")?;
        }
        if let Some(c) = &self.check {
            write!(f, " check ({c})")?;
        }
        if let Some(c) = &self.collate {
            write!(f, " collate {c}")?;
        }
        Ok(())
    }
}

/// The type in the common vocabulary of both trees.
fn common_type(toks: &[Tok]) -> String {
    let t = text(toks);
    match t.as_str() {
        "integer" | "int" | "bigint" | "int8" | "smallint" | "int4" => "integer".into(),
        "blob" | "bytea" => "blob".into(),
        "real" | "double precision" | "float8" => "real".into(),
        "text" | "varchar" => "text".into(),
        _ => t,
    }
}

const COLUMN_KEYWORDS: &[&str] = &[
    "not",
    "null",
    "primary",
    "default",
    "unique",
    "references",
    "check",
    "generated",
    "constraint",
    "collate",
];

fn column(toks: &[Tok]) -> Result<Column, String> {
    let mut c = Column {
        name: word(toks.first())?,
        ..Default::default()
    };
    let mut i = 1;
    while i < toks.len() && !COLUMN_KEYWORDS.iter().any(|k| toks[i].is(k)) {
        i += 1;
    }
    c.ty = common_type(&toks[1..i]);
    while i < toks.len() {
        let t = &toks[i];
        if t.is("not") && toks.get(i + 1).is_some_and(|n| n.is("null")) {
            c.not_null = true;
            i += 2;
        } else if t.is("null") {
            i += 1;
        } else if t.is("primary") && toks.get(i + 1).is_some_and(|n| n.is("key")) {
            c.primary_key = true;
            i += 2;
            while toks
                .get(i)
                .is_some_and(|n| n.is("asc") || n.is("desc") || n.is("autoincrement"))
            {
                i += 1;
            }
        } else if t.is("generated") {
            // GENERATED { BY DEFAULT | ALWAYS } AS IDENTITY: PostgreSQL's counterpart of SQLite's
            // integer primary key (checked with it below).
            let end = toks[i..]
                .iter()
                .position(|n| n.is("identity"))
                .ok_or_else(|| format!("column {}: GENERATED without IDENTITY", c.name))?;
            i += end + 1;
        } else if t.is("unique") {
            c.unique = true;
            i += 1;
        } else if t.is("default") {
            let (value, used) = match toks.get(i + 1) {
                Some(Tok::Punct('(')) => {
                    let (g, n) = group(&toks[i + 1..])?;
                    (format!("({})", text(g)), n)
                }
                Some(Tok::Punct('-' | '+')) => (text(&toks[i + 1..(i + 3).min(toks.len())]), 2),
                Some(t) => (text(std::slice::from_ref(t)), 1),
                None => return Err(format!("column {}: DEFAULT without a value", c.name)),
            };
            c.default = Some(value);
            i += 1 + used;
        } else if t.is("references") {
            let start = i + 1;
            i += 2;
            if toks.get(i) == Some(&Tok::Punct('(')) {
                i += group(&toks[i..])?.1;
            }
            while toks.get(i).is_some_and(|n| n.is("on")) {
                // ON DELETE|UPDATE CASCADE | RESTRICT | SET NULL | SET DEFAULT | NO ACTION
                i += if toks.get(i + 2).is_some_and(|n| n.is("set") || n.is("no")) {
                    4
                } else {
                    3
                };
            }
            c.references = Some(text(&toks[start..i.min(toks.len())]));
        } else if t.is("check") {
            let (g, n) = group(&toks[i + 1..])?;
            c.check = Some(text(g));
            i += 1 + n;
        } else if t.is("constraint") {
            i += 2; // the constraint's name; what follows is compared
        } else if t.is("collate") {
            c.collate = Some(word(toks.get(i + 1))?);
            i += 2;
        } else {
            return Err(format!(
                "column {}: unknown clause {:?} (teach migration_sync.rs)",
                c.name,
                text(&toks[i..])
            ));
        }
    }
    Ok(c)
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Table {
    columns: Vec<Column>,
    /// Table constraints (`PRIMARY KEY (…)`, `UNIQUE (…)`, `FOREIGN KEY …`, `CHECK …`), normalised;
    /// a named one is kept as `constraint <name> …`.
    constraints: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Index {
    table: String,
    unique: bool,
    on: String,
}

#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, Table>,
    indexes: BTreeMap<String, Index>,
    /// Data statements of the current file, with the table each writes.
    data: Vec<(String, String)>,
}

const TABLE_CONSTRAINTS: &[&str] = &["primary", "unique", "foreign", "check", "constraint"];

impl Schema {
    fn table(&mut self, name: &str) -> Result<&mut Table, String> {
        self.tables
            .get_mut(name)
            .ok_or_else(|| format!("table {name} does not exist"))
    }

    fn apply(&mut self, s: &[Tok]) -> Result<(), String> {
        let w = |i: usize| {
            s.get(i)
                .map(|t| text(std::slice::from_ref(t)))
                .unwrap_or_default()
        };
        match (w(0).as_str(), w(1).as_str()) {
            ("create", "table") => self.create_table(s),
            ("create", "index") | ("create", "unique") => self.create_index(s),
            ("drop", "table") | ("drop", "index") => {
                let mut i = 2;
                if s.get(i).is_some_and(|t| t.is("if")) {
                    i += 2;
                }
                let name = word(s.get(i))?;
                if w(1) == "table" {
                    self.tables
                        .remove(&name)
                        .ok_or_else(|| format!("DROP TABLE {name}: no such table"))?;
                    self.indexes.retain(|_, ix| ix.table != name);
                } else {
                    self.indexes
                        .remove(&name)
                        .ok_or_else(|| format!("DROP INDEX {name}: no such index"))?;
                }
                Ok(())
            }
            ("alter", "table") => self.alter_table(s),
            ("insert", _) | ("update", _) | ("delete", _) => {
                let target = match w(0).as_str() {
                    "insert" | "delete" => word(s.get(2))?,
                    _ => word(s.get(1))?,
                };
                self.data.push((target, text(s)));
                Ok(())
            }
            _ => Err(format!(
                "statement not understood (teach migration_sync.rs): {}",
                text(s)
            )),
        }
    }

    fn create_table(&mut self, s: &[Tok]) -> Result<(), String> {
        let mut i = 2;
        if s.get(i).is_some_and(|t| t.is("if")) {
            i += 3;
        }
        let name = word(s.get(i))?;
        let (body, _) = group(&s[i + 1..])?;
        let mut table = Table::default();
        for def in split_commas(body) {
            if def
                .first()
                .is_some_and(|t| TABLE_CONSTRAINTS.iter().any(|k| t.is(k)))
            {
                table.constraints.push(text(def));
            } else {
                table.columns.push(column(def)?);
            }
        }
        if self.tables.insert(name.clone(), table).is_some() {
            return Err(format!("CREATE TABLE {name}: exists already"));
        }
        Ok(())
    }

    fn create_index(&mut self, s: &[Tok]) -> Result<(), String> {
        let unique = s[1].is("unique");
        let mut i = if unique { 3 } else { 2 };
        if s.get(i).is_some_and(|t| t.is("if")) {
            i += 3;
        }
        let name = word(s.get(i))?;
        if !s.get(i + 1).is_some_and(|t| t.is("on")) {
            return Err(format!("CREATE INDEX {name}: expected ON"));
        }
        let table = word(s.get(i + 2))?;
        self.table(&table)?;
        let ix = Index {
            table,
            unique,
            on: text(&s[i + 3..]),
        };
        if self.indexes.insert(name.clone(), ix).is_some() {
            return Err(format!("CREATE INDEX {name}: exists already"));
        }
        Ok(())
    }

    fn alter_table(&mut self, s: &[Tok]) -> Result<(), String> {
        let name = word(s.get(2))?;
        let rest = &s[3.min(s.len())..];
        let at = |i: usize, k: &str| rest.get(i).is_some_and(|t| t.is(k));
        if at(0, "rename") && at(1, "to") {
            let new = word(rest.get(2))?;
            let t = self
                .tables
                .remove(&name)
                .ok_or_else(|| format!("RENAME {name}: no such table"))?;
            self.tables.insert(new.clone(), t);
            for ix in self.indexes.values_mut().filter(|ix| ix.table == name) {
                ix.table = new.clone();
            }
            return Ok(());
        }
        let table = self.table(&name)?;
        if at(0, "add") && !TABLE_CONSTRAINTS.iter().any(|k| at(1, k)) {
            let def = if at(1, "column") {
                &rest[2..]
            } else {
                &rest[1..]
            };
            table.columns.push(column(def)?);
        } else if at(0, "add") {
            table.constraints.push(text(&rest[1..]));
        } else if at(0, "rename") {
            let i = if at(1, "column") { 2 } else { 1 };
            let (old, new) = (word(rest.get(i))?, word(rest.get(i + 2))?);
            let c = table
                .columns
                .iter_mut()
                .find(|c| c.name == old)
                .ok_or_else(|| format!("{name}: no column {old} to rename"))?;
            c.name = new;
        } else if at(0, "drop") && at(1, "constraint") {
            let constraint = word(rest.get(2))?;
            drop_constraint(&name, table, &constraint)?;
        } else if at(0, "drop") {
            let col = word(rest.get(if at(1, "column") { 2 } else { 1 }))?;
            let before = table.columns.len();
            table.columns.retain(|c| c.name != col);
            if table.columns.len() == before {
                return Err(format!("{name}: no column {col} to drop"));
            }
        } else if at(0, "alter") {
            let i = if at(1, "column") { 2 } else { 1 };
            let col = word(rest.get(i))?;
            let c = table
                .columns
                .iter_mut()
                .find(|c| c.name == col)
                .ok_or_else(|| format!("{name}: no column {col} to alter"))?;
            let what = text(&rest[i + 1..]);
            match what.as_str() {
                "set not null" => c.not_null = true,
                "drop not null" => c.not_null = false,
                "drop default" => c.default = None,
                w if w.starts_with("set default ") => {
                    c.default = Some(w["set default ".len()..].to_string())
                }
                w => return Err(format!("{name}.{col}: ALTER COLUMN {w} not understood")),
            }
        } else {
            return Err(format!("ALTER TABLE {name}: {} not understood", text(rest)));
        }
        Ok(())
    }
}

/// `ALTER TABLE … DROP CONSTRAINT name`: a named table constraint, or one PostgreSQL named itself —
/// `<table>_<column>_key` for UNIQUE, `<table>_<columns>_key` for a table's UNIQUE (…).
fn drop_constraint(table_name: &str, table: &mut Table, name: &str) -> Result<(), String> {
    let named = format!("constraint {name} ");
    if let Some(i) = table.constraints.iter().position(|c| c.starts_with(&named)) {
        table.constraints.remove(i);
        return Ok(());
    }
    if let Some(cols) = name
        .strip_prefix(&format!("{table_name}_"))
        .and_then(|r| r.strip_suffix("_key"))
    {
        if let Some(c) = table
            .columns
            .iter_mut()
            .find(|c| c.name == cols && c.unique)
        {
            c.unique = false;
            return Ok(());
        }
        let unique = format!("unique({})", cols.replace('_', ","));
        if let Some(i) = table
            .constraints
            .iter()
            .position(|c| c.replace(' ', "") == unique)
        {
            table.constraints.remove(i);
            return Ok(());
        }
    }
    Err(format!(
        "{table_name}: cannot tell which constraint {name} is (teach migration_sync.rs)"
    ))
}

/// What differs between the two schemas after `file`, each line naming file, table and column.
fn differences(file: &str, lite: &Schema, pg: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for name in lite.tables.keys().chain(pg.tables.keys()) {
        let (Some(a), Some(b)) = (lite.tables.get(name), pg.tables.get(name)) else {
            let only = if lite.tables.contains_key(name) {
                "sqlite"
            } else {
                "postgres"
            };
            out.push(format!("{file}: table {name} exists only in {only}"));
            continue;
        };
        for i in 0..a.columns.len().max(b.columns.len()) {
            match (a.columns.get(i), b.columns.get(i)) {
                (Some(x), Some(y)) if x == y => {}
                (Some(x), Some(y)) if x.name == y.name => out.push(format!(
                    "{file}: table {name}, column {}: sqlite `{x}` ≠ postgres `{y}`",
                    x.name
                )),
                (x, y) => out.push(format!(
                    "{file}: table {name}, column {}: sqlite has {}, postgres has {}",
                    i + 1,
                    x.map_or("none".into(), |c| format!("`{c}`")),
                    y.map_or("none".into(), |c| format!("`{c}`")),
                )),
            }
        }
        let (mut ca, mut cb) = (a.constraints.clone(), b.constraints.clone());
        ca.sort();
        cb.sort();
        if ca != cb {
            out.push(format!(
                "{file}: table {name}, constraints: sqlite {ca:?} ≠ postgres {cb:?}"
            ));
        }
    }
    for name in lite.indexes.keys().chain(pg.indexes.keys()) {
        match (lite.indexes.get(name), pg.indexes.get(name)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                let show = |ix: Option<&Index>| match ix {
                    None => "none".to_string(),
                    Some(ix) => format!(
                        "`{}on {} {}`",
                        if ix.unique { "unique " } else { "" },
                        ix.table,
                        ix.on
                    ),
                };
                out.push(format!(
                    "{file}: index {name}: sqlite {} ≠ postgres {}",
                    show(a),
                    show(b)
                ))
            }
        }
    }
    // Data statements, except copies into a table the file renamed away (SQLite's way to alter).
    let data = |s: &Schema| -> Vec<String> {
        s.data
            .iter()
            .filter(|(t, _)| s.tables.contains_key(t))
            .map(|(_, d)| d.clone())
            .collect()
    };
    let (da, db) = (data(lite), data(pg));
    for i in 0..da.len().max(db.len()) {
        if da.get(i) != db.get(i) {
            out.push(format!(
                "{file}: data statement {}: sqlite {:?} ≠ postgres {:?}",
                i + 1,
                da.get(i),
                db.get(i)
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn sql_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    v.sort();
    v
}

/// Applies both trees file by file; returns every difference found.
fn compare_trees(root: &Path) -> Vec<String> {
    let (lite_dir, pg_dir) = (root.join("sqlite"), root.join("postgres"));
    let names = sql_files(&lite_dir);
    let pg_names = sql_files(&pg_dir);
    if names != pg_names {
        return vec![format!(
            "the trees hold different files: sqlite {names:?}, postgres {pg_names:?}"
        )];
    }
    let (mut lite, mut pg) = (Schema::default(), Schema::default());
    let mut out = Vec::new();
    // A difference is reported at the file that brought it, not again after every later file.
    let mut reported = std::collections::BTreeSet::new();
    for file in &names {
        let mut failed = false;
        for (schema, dir, backend) in [
            (&mut lite, &lite_dir, "sqlite"),
            (&mut pg, &pg_dir, "postgres"),
        ] {
            schema.data.clear();
            let sql = std::fs::read_to_string(dir.join(file)).unwrap();
            let result =
                statements(&sql).and_then(|stmts| stmts.iter().try_for_each(|s| schema.apply(s)));
            if let Err(e) = result {
                failed = true;
                out.push(format!("{backend}/{file}: {e}"));
            }
        }
        if failed {
            return out; // later files would build on a model that is already wrong
        }
        for d in differences(file, &lite, &pg) {
            if reported.insert(d[file.len()..].to_string()) {
                out.push(d);
            }
        }
    }
    out
}

#[test]
fn migrations_are_in_step() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    assert!(sql_files(&root.join("sqlite")).len() >= 9);
    let problems = compare_trees(&root);
    assert!(
        problems.is_empty(),
        "the migration trees differ:\n  {}",
        problems.join("\n  ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(sql: &str) -> Schema {
        let mut s = Schema::default();
        for st in statements(sql).unwrap() {
            s.apply(&st).unwrap();
        }
        s
    }

    #[test]
    fn dialects_map_onto_each_other() {
        let lite = schema(
            "-- a comment; with a semicolon\nCREATE TABLE t (id INTEGER PRIMARY KEY, \
             n INTEGER NOT NULL DEFAULT 0, b BLOB, s TEXT UNIQUE, \
             o INTEGER REFERENCES t (id) ON DELETE SET NULL);\
             CREATE UNIQUE INDEX t_n ON t (COALESCE(o, 0), n);\
             INSERT INTO t (id, n) VALUES (1, 0);",
        );
        let pg = schema(
            "CREATE TABLE t (\n  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  \
             n BIGINT NOT NULL DEFAULT 0, b BYTEA, s text unique,\n  \
             o BIGINT REFERENCES t(id) ON DELETE SET NULL\n);\
             create unique index t_n on t (coalesce(o,0), n);\
             insert into t (id, n) values (1, 0);",
        );
        assert_eq!(differences("f", &lite, &pg), Vec::<String>::new());
    }

    #[test]
    fn a_column_difference_names_file_table_and_column() {
        let lite = schema("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT);");
        let pg = schema("CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT, b TEXT DEFAULT 'x');");
        let d = differences("0042_x.sql", &lite, &pg);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("0042_x.sql: table t, column a:"), "{d:?}");
        assert!(d[1].starts_with("0042_x.sql: table t, column b:"), "{d:?}");
        let reordered = schema("CREATE TABLE t (id BIGINT PRIMARY KEY, b TEXT, a TEXT NOT NULL);");
        assert_eq!(differences("f", &lite, &reordered).len(), 2);
        let other_index = schema(
            "CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT NOT NULL, b TEXT);\
             CREATE INDEX t_a ON t (a);",
        );
        let d = differences("f", &lite, &other_index);
        assert!(d.len() == 1 && d[0].contains("index t_a"), "{d:?}");
    }

    #[test]
    fn a_copied_table_equals_an_altered_one() {
        let base = "CREATE TABLE c (id INTEGER PRIMARY KEY, sha TEXT NOT NULL UNIQUE);\
                    CREATE TABLE v (id INTEGER PRIMARY KEY);";
        let mut lite = schema(base);
        let mut pg = schema(base);
        lite.data.clear();
        for st in statements(
            "CREATE TABLE c2 (id INTEGER PRIMARY KEY, sha TEXT NOT NULL, \
             v INTEGER REFERENCES v (id) ON DELETE CASCADE);\
             INSERT INTO c2 (id, sha, v) SELECT id, sha, NULL FROM c; DROP TABLE c;\
             ALTER TABLE c2 RENAME TO c; CREATE UNIQUE INDEX c_v ON c (COALESCE(v, 0), sha);",
        )
        .unwrap()
        {
            lite.apply(&st).unwrap();
        }
        for st in statements(
            "ALTER TABLE c ADD COLUMN v BIGINT REFERENCES v (id) ON DELETE CASCADE;\
             ALTER TABLE c DROP CONSTRAINT c_sha_key;\
             CREATE UNIQUE INDEX c_v ON c (COALESCE(v, 0), sha);",
        )
        .unwrap()
        {
            pg.apply(&st).unwrap();
        }
        assert_eq!(differences("f", &lite, &pg), Vec::<String>::new());
    }

    #[test]
    fn unknown_statements_are_refused() {
        let mut s = Schema::default();
        let st = statements("CREATE VIEW x AS SELECT 1").unwrap();
        assert!(s.apply(&st[0]).is_err());
    }
}
