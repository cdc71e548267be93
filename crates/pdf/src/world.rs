//! The typst `World` this crate compiles in: one main source, a few virtual files the caller hands
//! over, the fonts that ship inside the binary, and a fixed date. Nothing is read from the file
//! system or the network, so rendering is the same on every machine.

use std::collections::HashMap;
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, PackageError};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The virtual path of the main source; callers may not shadow it with an input.
pub(crate) const MAIN_PATH: &str = "/main.typ";

/// Fonts parsed once per process: parsing the font tables costs a few milliseconds, and the font
/// book is what typst consults for every text run.
static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    let book = FontBook::from_fonts(&fonts);
    (LazyHash::new(book), fonts)
});

/// The standard library without `sys.inputs`: data reaches documents as files, not strings.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// The names of the embedded font families, for documentation and tests.
pub(crate) fn font_families() -> Vec<String> {
    let mut names: Vec<String> = FONTS.1.iter().map(|f| f.info().family.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// A virtual file: its bytes, and, for files that parse as typst source, the parsed source.
struct VFile {
    bytes: Bytes,
    source: Option<Source>,
}

pub(crate) struct MemoryWorld {
    main: FileId,
    files: HashMap<FileId, VFile>,
    today: Datetime,
}

/// Turns a caller-given file name into the file id typst will ask for.
pub(crate) fn file_id(name: &str) -> Result<FileId, typst::syntax::PathError> {
    let vpath = VirtualPath::new(name)?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

impl MemoryWorld {
    pub(crate) fn new(main: FileId, main_source: &str, today: Datetime) -> Self {
        let mut files = HashMap::new();
        let source = Source::new(main, main_source.to_owned());
        files.insert(
            main,
            VFile {
                bytes: Bytes::from_string(main_source.to_owned()),
                source: Some(source),
            },
        );
        Self { main, files, today }
    }

    /// Adds a file; returns false when the id is already taken.
    pub(crate) fn insert(&mut self, id: FileId, data: Vec<u8>) -> bool {
        if self.files.contains_key(&id) {
            return false;
        }
        // Only `.typ` files are offered as sources, so `#import "x.typ"` works and a JSON file is
        // never mistaken for markup.
        let is_typ = id.get().vpath().extension() == Some("typ");
        let source = if is_typ {
            String::from_utf8(data.clone())
                .ok()
                .map(|text| Source::new(id, text))
        } else {
            None
        };
        self.files.insert(
            id,
            VFile {
                bytes: Bytes::new(data),
                source,
            },
        );
        true
    }

    fn lookup(&self, id: FileId) -> FileResult<&VFile> {
        if let VirtualRoot::Package(spec) = id.get().root() {
            return Err(FileError::Package(PackageError::Other(Some(
                typst::ecow::eco_format!(
                    "package {spec} cannot be loaded: stadtmauer-pdf renders offline and \
                     supports no packages; copy the code into the template instead"
                ),
            ))));
        }
        self.files
            .get(&id)
            .ok_or_else(|| FileError::NotFound(id.get().vpath().get_with_slash().to_owned().into()))
    }
}

impl World for MemoryWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        let file = self.lookup(id)?;
        file.source.clone().ok_or(FileError::NotSource)
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        Ok(self.lookup(id)?.bytes.clone())
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // The caller's date, whatever offset the document asks for: output must not depend on
        // the clock or the server's time zone.
        Some(self.today)
    }
}
