//! The `payload_union!` macro: one declaration per envelope record (FleetEvent, ControlEvent)
//! that maps each payload variant to its kind and its nullable wire field, and generates
//! everything that follows from that mapping.

/// Declares the payload enum of an envelope record and the record's wire form.
///
/// ```text
/// payload_union! {
///     event: FleetEvent,               // hand-written domain struct; its payload field is `payload`
///     record: "FleetEvent",            // Avro record name
///     entry: catalog::FLEET_EVENT,     // catalog entry of the schema
///     kind: EventKind,                 // Avro enum; variants named as the payload's, plus `Unknown`
///     view: FleetEventView,            // private borrowed wire record, used to encode
///     fields { event_id: String, ... } // the domain struct's other fields, in wire order
///     /// docs
///     pub struct FleetEventWire;
///     /// docs
///     pub enum EventPayload {
///         /// docs
///         Register(Register) => register,
///         /// docs
///         TrustViolation(TrustViolation) => #[serde(default)] trust_violation,
///     }
/// }
/// ```
///
/// Generates:
/// - the payload enum, and `kind()` on it and on the domain struct;
/// - `payload_field()` on the kind enum;
/// - the wire struct: the `fields`, then `kind`, then one `Option` per payload in variant order,
///   each with the attributes given after `=>` (Avro field order is this order);
/// - the view: the same record with borrowed fields, and `Serialize` for the domain struct
///   through it, so encoding copies nothing;
/// - `From<domain> for wire`, and `TryFrom<wire> for domain`, which checks that exactly the
///   payload named by `kind` is set ([`crate::PayloadError`]);
/// - [`crate::Canonical`] for the domain struct (checked) and for the wire struct (unchecked).
///
/// `fields` repeats the domain struct's field names and types (a macro cannot read the struct);
/// the conversions name every field both ways, so a field missing from the list, or of another
/// type, does not compile.
macro_rules! payload_union {
    (
        event: $event:ident,
        record: $record:literal,
        entry: $entry:path,
        kind: $kind:ident,
        view: $view:ident,
        fields { $( $field:ident : $fty:ty ),+ $(,)? }
        $(#[$wire_meta:meta])*
        pub struct $wire:ident;
        $(#[$payload_meta:meta])*
        pub enum $payload:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident($pty:ty) => $(#[$pfield_meta:meta])* $pfield:ident
            ),+ $(,)?
        }
    ) => {
        $(#[$payload_meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $payload {
            $( $(#[$variant_meta])* $variant($pty), )+
        }

        impl $payload {
            #[doc = concat!("The [`", stringify!($kind), "`] matching this payload.")]
            pub fn kind(&self) -> $kind {
                match self {
                    $( $payload::$variant(_) => $kind::$variant, )+
                }
            }
        }

        impl $event {
            /// Kind of the payload.
            pub fn kind(&self) -> $kind {
                self.payload.kind()
            }
        }

        impl $kind {
            #[doc = concat!(
                "Name of the ", $record, " field that carries this kind's payload ",
                "(`None` for `Unknown`)."
            )]
            pub fn payload_field(self) -> Option<&'static str> {
                match self {
                    $( $kind::$variant => Some(stringify!($pfield)), )+
                    $kind::Unknown => None,
                }
            }
        }

        $(#[$wire_meta])*
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename = $record)]
        pub struct $wire {
            $(
                #[doc = concat!("See [`", stringify!($event), "::", stringify!($field), "`].")]
                pub $field: $fty,
            )+
            /// Names the payload field that should be set.
            pub kind: $kind,
            $(
                #[doc = concat!(
                    "The [`", stringify!($payload), "::", stringify!($variant), "`] payload."
                )]
                $(#[$pfield_meta])*
                pub $pfield: Option<$pty>,
            )+
        }

        /// The wire record borrowed from the domain struct, so encoding copies nothing.
        #[derive(::serde::Serialize)]
        #[serde(rename = $record)]
        struct $view<'a> {
            $( $field: &'a $fty, )+
            kind: $kind,
            $( $(#[$pfield_meta])* $pfield: Option<&'a $pty>, )+
        }

        impl<'a> From<&'a $event> for $view<'a> {
            fn from(event: &'a $event) -> Self {
                let mut view = $view {
                    $( $field: &event.$field, )+
                    kind: event.payload.kind(),
                    $( $pfield: None, )+
                };
                match &event.payload {
                    $( $payload::$variant(p) => view.$pfield = Some(p), )+
                }
                view
            }
        }

        impl ::serde::Serialize for $event {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(&$view::from(self), serializer)
            }
        }

        impl From<$event> for $wire {
            fn from(event: $event) -> Self {
                let mut wire = $wire {
                    $( $field: event.$field, )+
                    kind: event.payload.kind(),
                    $( $pfield: None, )+
                };
                match event.payload {
                    $( $payload::$variant(p) => wire.$pfield = Some(p), )+
                }
                wire
            }
        }

        impl TryFrom<$wire> for $event {
            type Error = $crate::error::PayloadError;

            /// # Errors
            /// [`PayloadError::UnknownKind`](crate::PayloadError::UnknownKind) for kind UNKNOWN;
            /// [`PayloadError::Unexpected`](crate::PayloadError::Unexpected) if a payload other
            /// than the one `kind` names is set;
            /// [`PayloadError::Missing`](crate::PayloadError::Missing) if that one is null.
            fn try_from(wire: $wire) -> Result<Self, $crate::error::PayloadError> {
                const RECORD: &str = $record;
                let Some(field) = wire.kind.payload_field() else {
                    return Err($crate::error::PayloadError::UnknownKind { record: RECORD });
                };
                let kind = wire.kind.as_str();
                $crate::error::only_payload(
                    RECORD,
                    kind,
                    field,
                    &[ $( (stringify!($pfield), wire.$pfield.is_some()), )+ ],
                )?;
                let payload = match wire.kind {
                    $( $kind::$variant => wire.$pfield.map($payload::$variant), )+
                    $kind::Unknown => None,
                };
                let payload = payload.ok_or($crate::error::PayloadError::Missing {
                    record: RECORD,
                    kind,
                    field,
                })?;
                Ok($event {
                    $( $field: wire.$field, )+
                    payload,
                })
            }
        }

        impl $crate::codec::Canonical for $event {
            const ENTRY: &'static $crate::catalog::CatalogEntry = &$entry;
            type Wire = $wire;
            fn from_wire(wire: $wire) -> Result<Self, $crate::error::PayloadError> {
                $event::try_from(wire)
            }
        }

        /// The unchecked wire form; decoding it accepts any payload combination.
        impl $crate::codec::Canonical for $wire {
            const ENTRY: &'static $crate::catalog::CatalogEntry = &$entry;
            type Wire = Self;
            fn from_wire(wire: Self) -> Result<Self, $crate::error::PayloadError> {
                Ok(wire)
            }
        }
    };
}
pub(crate) use payload_union;
