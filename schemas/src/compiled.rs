//! Parses the embedded schemas once and keeps a writer and a reader per catalog entry.
//!
//! Named types are shared across files by reference: `avro/common/*.avsc` define them once and
//! the top-level files name them (e.g. `"type": "Hardware"`). All files are parsed together with
//! `Schema::parse_list`, which resolves cross-file references, and each top-level schema is then
//! *denormalized* (every referenced type inlined at its first use) into a self-contained schema.
//! That expanded form is what the codec uses, what [`expanded_schema_json`] returns for tools
//! that cannot follow references (fastavro, a schema registry without references) and what
//! `avro/released/` snapshots hold. We prefer this over repeating definitions per file because
//! one definition cannot drift from its copies.
//!
//! The codec schema is re-parsed from the expanded JSON text, so the JSON handed to other tools
//! is exactly the schema the bytes were written with.

use std::sync::LazyLock;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;

use crate::catalog::{self, CatalogEntry, LegacyVersion, CATALOG, LEGACY, SHARED_TYPES};
use crate::error::{CodecError, SchemaLoadError};

/// One catalog entry with its parsed, self-contained schema.
pub(crate) struct Compiled {
    pub(crate) entry: &'static CatalogEntry,
    pub(crate) schema: Schema,
    pub(crate) expanded_json: String,
}

/// Writer and reader for one catalog entry, built once.
pub(crate) struct Codec {
    pub(crate) entry: &'static CatalogEntry,
    pub(crate) writer: GenericDatumWriter<'static>,
    pub(crate) reader: GenericDatumReader<'static>,
}

static COMPILED: LazyLock<Result<Vec<Compiled>, SchemaLoadError>> = LazyLock::new(compile_all);

static CODECS: LazyLock<Result<Vec<Codec>, SchemaLoadError>> = LazyLock::new(|| {
    let compiled: &'static [Compiled] = COMPILED.as_ref().map_err(Clone::clone)?;
    compiled.iter().map(build_codec).collect()
});

/// Parsed schemas of the legacy versions, in [`LEGACY`] order.
static LEGACY_SCHEMAS: LazyLock<Result<Vec<Schema>, SchemaLoadError>> = LazyLock::new(|| {
    LEGACY
        .iter()
        .map(|legacy| Schema::parse_str(legacy.avsc).map_err(|e| load_error(legacy.name, e)))
        .collect()
});

/// Readers of the legacy versions, in [`LEGACY`] order.
static LEGACY_READERS: LazyLock<Result<Vec<GenericDatumReader<'static>>, SchemaLoadError>> =
    LazyLock::new(|| {
        let schemas: &'static [Schema] = LEGACY_SCHEMAS.as_ref().map_err(Clone::clone)?;
        LEGACY
            .iter()
            .zip(schemas)
            .map(|(legacy, schema)| {
                GenericDatumReader::builder(schema)
                    .human_readable(false)
                    .build()
                    .map_err(|e| load_error(legacy.name, e))
            })
            .collect()
    });

/// The reader for data written with legacy version `id` of schema `name`, if there is one.
pub(crate) fn legacy_reader(
    name: &str,
    id: u32,
) -> Result<Option<(&'static LegacyVersion, &'static GenericDatumReader<'static>)>, CodecError> {
    let readers: &'static [GenericDatumReader<'static>] =
        LEGACY_READERS.as_ref().map_err(Clone::clone)?;
    Ok(LEGACY
        .iter()
        .zip(readers)
        .find(|(legacy, _)| legacy.id == id && legacy.name == name))
}

fn load_error(schema: &str, error: impl std::fmt::Display) -> SchemaLoadError {
    SchemaLoadError {
        schema: schema.to_owned(),
        message: error.to_string(),
    }
}

fn compile_all() -> Result<Vec<Compiled>, SchemaLoadError> {
    let sources = SHARED_TYPES
        .iter()
        .map(|shared| shared.avsc)
        .chain(CATALOG.iter().map(|entry| entry.avsc));
    let parsed = Schema::parse_list(sources).map_err(|e| load_error("<catalog>", e))?;
    CATALOG
        .iter()
        .map(|entry| compile_one(entry, &parsed))
        .collect()
}

fn compile_one(
    entry: &'static CatalogEntry,
    parsed: &[Schema],
) -> Result<Compiled, SchemaLoadError> {
    let full_name = format!("{}.{}", catalog::NAMESPACE, entry.name);
    let mut schema = parsed
        .iter()
        .find(|schema| schema.name().is_some_and(|n| n.fullname(None) == full_name))
        .cloned()
        .ok_or_else(|| load_error(entry.name, "not found after parsing"))?;
    schema
        .denormalize(parsed)
        .map_err(|e| load_error(entry.name, e))?;
    let expanded_json = serde_json::to_string(&schema).map_err(|e| load_error(entry.name, e))?;
    let schema = Schema::parse_str(&expanded_json).map_err(|e| load_error(entry.name, e))?;
    Ok(Compiled {
        entry,
        schema,
        expanded_json,
    })
}

fn build_codec(compiled: &'static Compiled) -> Result<Codec, SchemaLoadError> {
    let name = compiled.entry.name;
    let writer = GenericDatumWriter::builder(&compiled.schema)
        .human_readable(false)
        .build()
        .map_err(|e| load_error(name, e))?;
    let reader = GenericDatumReader::builder(&compiled.schema)
        .human_readable(false)
        .build()
        .map_err(|e| load_error(name, e))?;
    Ok(Codec {
        entry: compiled.entry,
        writer,
        reader,
    })
}

fn compiled(id: u32) -> Result<&'static Compiled, CodecError> {
    let all: &'static [Compiled] = COMPILED.as_ref().map_err(Clone::clone)?;
    all.iter()
        .find(|c| c.entry.id == id)
        .ok_or(CodecError::UnknownSchemaId(id))
}

/// The writer and reader for schema `id`.
pub(crate) fn codec(id: u32) -> Result<&'static Codec, CodecError> {
    let all: &'static [Codec] = CODECS.as_ref().map_err(Clone::clone)?;
    all.iter()
        .find(|c| c.entry.id == id)
        .ok_or(CodecError::UnknownSchemaId(id))
}

/// The parsed, self-contained schema with this id.
///
/// # Errors
/// [`CodecError::UnknownSchemaId`] if no catalog entry has this id; [`CodecError::SchemaLoad`]
/// if the embedded schemas failed to load (a bug: the crate's tests parse every schema).
pub fn schema(id: u32) -> Result<&'static Schema, CodecError> {
    compiled(id).map(|c| &c.schema)
}

/// The self-contained (expanded) schema JSON with this id: every shared type inlined at its first
/// use, `doc`, `default` and logical types kept. Give this to fastavro, or register it with a
/// schema registry that does not support references.
///
/// # Errors
/// As for [`schema`].
pub fn expanded_schema_json(id: u32) -> Result<&'static str, CodecError> {
    compiled(id).map(|c| c.expanded_json.as_str())
}
