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

use crate::catalog::{self, CatalogEntry, CATALOG, SHARED_TYPES};
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

/// An older released version, parsed, with the current schema of the same record to resolve to.
pub(crate) struct Previous {
    pub(crate) entry: &'static CatalogEntry,
    pub(crate) writer: Schema,
}

static PREVIOUS: LazyLock<Result<Vec<Previous>, SchemaLoadError>> = LazyLock::new(|| {
    catalog::PREVIOUS
        .iter()
        .map(|previous| {
            let entry = catalog::by_name(previous.name)
                .ok_or_else(|| load_error(previous.name, "older version of an unknown record"))?;
            let writer =
                Schema::parse_str(previous.avsc).map_err(|e| load_error(previous.name, e))?;
            Ok(Previous { entry, writer })
        })
        .collect()
});

/// Decodes a datum written with the older version `id` into a value of the current version of
/// the same record (Avro schema resolution: new fields take their defaults).
pub(crate) fn resolve_previous(
    id: u32,
    body: &mut &[u8],
) -> Result<Option<(&'static CatalogEntry, apache_avro::types::Value)>, CodecError> {
    let all: &'static [Previous] = PREVIOUS.as_ref().map_err(Clone::clone)?;
    let Some(index) = catalog::PREVIOUS.iter().position(|p| p.id == id) else {
        return Ok(None);
    };
    let previous = &all[index];
    let current = schema(previous.entry.id)?;
    let decode_error = |source| CodecError::Decode {
        schema: previous.entry.name,
        source,
    };
    let reader = GenericDatumReader::builder(&previous.writer)
        .reader_schema(current)
        .human_readable(false)
        .build()
        .map_err(decode_error)?;
    let value = reader.read_value(body).map_err(decode_error)?;
    Ok(Some((previous.entry, value)))
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
