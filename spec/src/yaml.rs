//! YAML in two steps: [`parse`] turns the text into a tree of located nodes (anchors, aliases
//! and `<<` merge keys resolved), then [`from_node`] deserializes the model from the tree.
//!
//! Why not deserialize straight from the parser: serde instantiates a deserializer's generic
//! code once per model type, and serde-saphyr's is large; this small deserializer keeps the
//! frontend binary small. Scalars keep their exact text (`version: 1.10` stays "1.10", a
//! mode `0644` stays octal), and every error carries the position of the node it is about.

use super::located::Pos;
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The most a document may grow to once its aliases are expanded: the bytes of its scalars'
/// text plus [`NODE_BYTES`] for every node, counting each alias (and each anchor's kept copy)
/// in full. A "billion laughs" guard on memory, not just on the node count: every alias is a
/// deep copy, and the model then copies each scalar once more. The size is checked before a
/// copy is made, so a rejected alias costs nothing.
///
/// 16 MiB is generous for real specs: their text is kB to a few hundred kB (a large inline
/// file or build script included), Dalec's examples have at most a few hundred nodes, and a
/// build cannot send a spec over 3 MiB to BuildKit anyway; a 3 MiB block may still be anchored
/// and used three more times. Whatever the aliases do, peak memory stays around twice the
/// limit (the tree, then the model's copy): ~40 MB for `lint` (`make bench-memory`), where a
/// 123 kB spec of one 64 KiB scalar aliased 20,000 times took the frontend to 2.57 GB.
const MAX_EXPANDED: usize = 16 << 20;

/// What a node counts for beside its text: about what it takes in memory (a 40-byte node, its
/// share of its list's spare capacity, a small string's allocation). The limit thus allows
/// 262,144 nodes, hundreds of times a large spec.
const NODE_BYTES: usize = 64;

/// One YAML node and where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Where it starts.
    pub pos: Pos,
}

/// The kinds of nodes.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A scalar's text, and whether it was written plain (unquoted, untagged).
    Scalar(String, bool),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// A YAML or deserialization error, at a position when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What is wrong.
    pub message: String,
    /// Where (unknown when `None`).
    pub pos: Option<Pos>,
}

impl Error {
    fn at(pos: Pos, message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            pos: Some(pos),
        }
    }

    fn or_at(mut self, pos: Pos) -> Error {
        self.pos.get_or_insert(pos);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            pos: None,
        }
    }
}

/// A scalar as an error message quotes it: at most 60 characters, then `…`.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]).into(),
        None => text.into(),
    }
}

fn is_null(text: &str, plain: bool) -> bool {
    plain && matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn describe(kind: &Kind) -> &'static str {
    match kind {
        Kind::Scalar(t, p) if is_null(t, *p) => "nothing (null)",
        Kind::Scalar(..) => "a scalar",
        Kind::Seq(_) => "a list",
        Kind::Map(_) => "a map",
    }
}

/// A collection being built: its items so far, where it starts, its anchor (0: none) and its
/// expanded size so far (see [`MAX_EXPANDED`]).
enum Frame {
    Seq(Vec<Node>, Pos, usize, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Pos, usize, usize),
}

struct Builder {
    stack: Vec<Frame>,
    /// Each anchor's node and its expanded size.
    anchors: BTreeMap<usize, (Node, usize)>,
    root: Option<Node>,
    /// The expanded size of the document so far.
    size: usize,
}

impl Builder {
    /// Adds `by` to the document's expanded size, or fails at `pos` past the limit.
    fn grow(&mut self, by: usize, pos: Pos) -> Result<(), Error> {
        self.size = self.size.saturating_add(by);
        if self.size > MAX_EXPANDED {
            return Err(Error::at(
                pos,
                format!(
                    "the document is too large after expanding aliases (more than {} MiB of text and nodes, each alias counted in full)",
                    MAX_EXPANDED >> 20
                ),
            ));
        }
        Ok(())
    }

    /// Places a finished node of expanded size `size` in its parent, keeping a copy under
    /// `anchor` (0: none).
    fn emit(&mut self, node: Node, size: usize, anchor: usize) -> Result<(), Error> {
        if anchor != 0 {
            // The anchor's copy is memory too.
            self.grow(size, node.pos)?;
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(items, _, _, total)) => {
                items.push(node);
                *total = total.saturating_add(size);
            }
            Some(Frame::Map(entries, key, _, _, total)) => {
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                }
                *total = total.saturating_add(size);
            }
        }
        Ok(())
    }
}

/// Applies `<<` merge keys and rejects duplicate keys.
fn finish_map(entries: Vec<(Node, Node)>, pos: Pos) -> Result<Node, Error> {
    let mut own = Vec::new();
    let mut merged = Vec::new();
    for (k, v) in entries {
        match &k.kind {
            Kind::Scalar(t, true) if t == "<<" => match v.kind {
                Kind::Map(m) => merged.extend(m),
                Kind::Seq(items) => {
                    for item in items {
                        match item.kind {
                            Kind::Map(m) => merged.extend(m),
                            _ => {
                                return Err(Error::at(
                                    item.pos,
                                    "a `<<` merge list must hold maps",
                                ));
                            }
                        }
                    }
                }
                _ => {
                    return Err(Error::at(
                        v.pos,
                        "a `<<` merge key needs a map or a list of maps",
                    ));
                }
            },
            _ => own.push((k, v)),
        }
    }
    let mut seen = BTreeSet::new();
    for (k, _) in &own {
        if let Kind::Scalar(t, _) = &k.kind
            && !seen.insert(t.clone())
        {
            return Err(Error::at(k.pos, format!("duplicate key `{}`", shown(t))));
        }
    }
    for (k, v) in merged {
        if let Kind::Scalar(t, _) = &k.kind
            && seen.insert(t.clone())
        {
            own.push((k, v));
        }
    }
    Ok(Node {
        kind: Kind::Map(own),
        pos,
    })
}

/// Parses the first YAML document of `text` into a tree.
pub fn parse(text: &str) -> Result<Node, Error> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: BTreeMap::new(),
        root: None,
        size: 0,
    };
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            Error::at(
                Pos {
                    line: m.line() as u32,
                    column: m.col() as u32 + 1,
                },
                e.info(),
            )
        })?;
        let pos = Pos {
            line: span.start.line() as u32,
            column: span.start.col() as u32 + 1,
        };
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let plain = style == ScalarStyle::Plain && tag.is_none();
                let size = NODE_BYTES.saturating_add(value.len());
                b.grow(size, pos)?;
                b.emit(
                    Node {
                        kind: Kind::Scalar(value.into_owned(), plain),
                        pos,
                    },
                    size,
                    anchor,
                )?;
            }
            Event::SequenceStart(_, anchor, _) => {
                b.grow(NODE_BYTES, pos)?;
                b.stack
                    .push(Frame::Seq(Vec::new(), pos, anchor, NODE_BYTES))
            }
            Event::MappingStart(_, anchor, _) => {
                b.grow(NODE_BYTES, pos)?;
                b.stack
                    .push(Frame::Map(Vec::new(), None, pos, anchor, NODE_BYTES))
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, start, anchor, size)) = b.stack.pop() {
                    b.emit(
                        Node {
                            kind: Kind::Seq(items),
                            pos: start,
                        },
                        size,
                        anchor,
                    )?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, start, anchor, size)) = b.stack.pop() {
                    let node = finish_map(entries, start)?;
                    b.emit(node, size, anchor)?;
                }
            }
            Event::Alias(id) => {
                let size = b
                    .anchors
                    .get(&id)
                    .map(|(_, size)| *size)
                    .ok_or_else(|| Error::at(pos, "alias to an unknown anchor"))?;
                // Checked before the copy is made: a rejected alias costs nothing.
                b.grow(size, pos)?;
                let node = b.anchors.get(&id).map(|(node, _)| Node {
                    kind: node.kind.clone(),
                    pos,
                });
                if let Some(node) = node {
                    b.emit(node, size, 0)?;
                }
            }
            Event::DocumentStart(..) if b.root.is_some() => {
                return Err(Error::at(
                    pos,
                    "a spec is one YAML document; remove the second one (`---`)",
                ));
            }
            _ => {}
        }
    }
    Ok(b.root.unwrap_or(Node {
        kind: Kind::Scalar(String::new(), true),
        pos: Pos { line: 1, column: 1 },
    }))
}

/// The name [`super::Located`] asks for; the deserializer hands it the node's position.
pub const LOCATED: &str = "$kiln::Located";

thread_local! {
    static CURRENT_POS: Cell<Pos> = const { Cell::new(Pos { line: 0, column: 0 }) };
}

/// Records `pos` for the `Located` value being deserialized (other newtypes are ignored).
fn record_pos(name: &str, pos: Pos) {
    if name == LOCATED {
        CURRENT_POS.with(|c| c.set(pos));
    }
}

/// The position of the node being deserialized as a `Located` value.
pub fn current_pos() -> Pos {
    CURRENT_POS.with(Cell::get)
}

/// Deserializes `T` from a node.
pub fn from_node<T: de::DeserializeOwned>(node: &Node) -> Result<T, Error> {
    T::deserialize(De(node)).map_err(|e| e.or_at(node.pos))
}

/// A deserializer over one node.
struct De<'a>(&'a Node);

impl De<'_> {
    fn scalar(&self, want: &str) -> Result<(&str, bool), Error> {
        match &self.0.kind {
            Kind::Scalar(t, p) => Ok((t.as_str(), *p)),
            k => Err(Error::at(
                self.0.pos,
                format!("expected {want}, found {}", describe(k)),
            )),
        }
    }

    fn string(&self) -> Result<&str, Error> {
        match self.scalar("a string")? {
            (t, p) if is_null(t, p) => Err(Error::at(
                self.0.pos,
                "expected a string, found nothing (null)",
            )),
            (t, _) => Ok(t),
        }
    }

    fn number<N: std::str::FromStr>(&self) -> Result<N, Error> {
        let t = self.string()?;
        t.trim().parse().map_err(|_| {
            Error::at(
                self.0.pos,
                format!("expected a number, found {:?}", shown(t)),
            )
        })
    }

    fn is_null(&self) -> bool {
        matches!(&self.0.kind, Kind::Scalar(t, p) if is_null(t, *p))
    }
}

macro_rules! numbers {
    ($($method:ident => $visit:ident $ty:ty),*) => {
        $(fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            let n: $ty = self.number()?;
            v.$visit::<Error>(n).map_err(|e| e.or_at(self.0.pos))
        })*
    };
}

impl<'de> Deserializer<'de> for De<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        let pos = self.0.pos;
        let r = match &self.0.kind {
            Kind::Scalar(t, p) if is_null(t, *p) => v.visit_unit(),
            Kind::Scalar(t, true) if t == "true" || t == "false" => v.visit_bool(t == "true"),
            Kind::Scalar(t, _) => v.visit_str(t),
            Kind::Seq(items) => v.visit_seq(Seq(items.iter())),
            Kind::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
        };
        r.map_err(|e| e.or_at(pos))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.scalar("true or false")? {
            ("true" | "True" | "TRUE", _) => v.visit_bool(true),
            ("false" | "False" | "FALSE", _) => v.visit_bool(false),
            (t, _) => Err(Error::at(
                self.0.pos,
                format!("expected true or false, found {:?}", shown(t)),
            )),
        }
    }

    numbers!(deserialize_i8 => visit_i8 i8, deserialize_i16 => visit_i16 i16, deserialize_i32 => visit_i32 i32,
        deserialize_i64 => visit_i64 i64, deserialize_u8 => visit_u8 u8, deserialize_u16 => visit_u16 u16,
        deserialize_u32 => visit_u32 u32, deserialize_u64 => visit_u64 u64, deserialize_f32 => visit_f32 f32,
        deserialize_f64 => visit_f64 f64);

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        let t = self.string()?;
        v.visit_str::<Error>(t).map_err(|e| e.or_at(self.0.pos))
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.is_null() {
            v.visit_unit()
        } else {
            Err(Error::at(
                self.0.pos,
                format!("expected nothing (null), found {}", describe(&self.0.kind)),
            ))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        record_pos(name, self.0.pos);
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        let pos = self.0.pos;
        let r = match &self.0.kind {
            Kind::Seq(items) => v.visit_seq(Seq(items.iter())),
            _ if self.is_null() => v.visit_seq(Seq((&[] as &[Node]).iter())),
            k => {
                return Err(Error::at(
                    pos,
                    format!("expected a list, found {}", describe(k)),
                ));
            }
        };
        r.map_err(|e| e.or_at(pos))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        let pos = self.0.pos;
        let r = match &self.0.kind {
            Kind::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
            _ if self.is_null() => v.visit_map(Map {
                entries: (&[] as &[(Node, Node)]).iter(),
                value: None,
            }),
            k => {
                return Err(Error::at(
                    pos,
                    format!("expected a map, found {}", describe(k)),
                ));
            }
        };
        r.map_err(|e| e.or_at(pos))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        let t = self.string()?;
        v.visit_enum(t.into_deserializer())
            .map_err(|e: Error| e.or_at(self.0.pos))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }
}

struct Seq<'a>(std::slice::Iter<'a, Node>);

impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(node) => seed
                .deserialize(De(node))
                .map(Some)
                .map_err(|e| e.or_at(node.pos)),
            None => Ok(None),
        }
    }
}

struct Map<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for Map<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(Key(k))
                    .map(Some)
                    .map_err(|e| e.or_at(k.pos))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        let node = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a map value was asked for twice"))?;
        seed.deserialize(De(node)).map_err(|e| e.or_at(node.pos))
    }
}

/// Map keys: always strings (a YAML key `1` or `true` is the string "1" or "true").
struct Key<'a>(&'a Node);

impl<'de> Deserializer<'de> for Key<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Scalar(t, _) => v.visit_str(t),
            k => Err(Error::at(
                self.0.pos,
                format!("a map key must be a scalar, found {}", describe(k)),
            )),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        record_pos(name, self.0.pos);
        v.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_scalar_text_and_positions() {
        let n = parse("a: 1.10\nb:\n  - 0644\n  - 'x'\n").unwrap();
        let Kind::Map(entries) = &n.kind else {
            panic!()
        };
        assert!(matches!(&entries[0].1.kind, Kind::Scalar(t, true) if t == "1.10"));
        assert_eq!(entries[1].1.pos.line, 3);
        let Kind::Seq(items) = &entries[1].1.kind else {
            panic!()
        };
        assert!(matches!(&items[1].kind, Kind::Scalar(t, false) if t == "x"));
        assert_eq!((items[1].pos.line, items[1].pos.column), (4, 5));
    }

    #[test]
    fn resolves_aliases_and_merge_keys() {
        let n = parse("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n").unwrap();
        let Kind::Map(entries) = &n.kind else {
            panic!()
        };
        let Kind::Map(d) = &entries[1].1.kind else {
            panic!()
        };
        let keys: Vec<_> = d
            .iter()
            .map(|(k, v)| match (&k.kind, &v.kind) {
                (Kind::Scalar(k, _), Kind::Scalar(v, _)) => format!("{k}={v}"),
                _ => String::new(),
            })
            .collect();
        assert_eq!(keys, ["y=3", "x=1"]);
    }

    #[test]
    fn rejects_duplicates_bad_syntax_and_alias_bombs() {
        assert_eq!(
            parse("a: 1\na: 2\n").unwrap_err(),
            Error::at(Pos { line: 2, column: 1 }, "duplicate key `a`")
        );
        let e = parse("a: 'open\n").unwrap_err();
        assert_eq!(e.pos.map(|p| p.line), Some(1));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        assert!(parse(&bomb).unwrap_err().message.contains("too large"));
    }

    #[test]
    fn errors_quote_long_values_shortly() {
        #[derive(Debug, serde::Deserialize)]
        struct T {
            #[allow(dead_code)]
            n: u32,
        }
        let text = format!("n: {}\n", "9x".repeat(1000));
        let e = from_node::<T>(&parse(&text).unwrap()).unwrap_err();
        assert_eq!(
            e.message,
            format!("expected a number, found \"{}…\"", "9x".repeat(30))
        );
    }

    /// One 64 KiB scalar aliased 20,000 times: a 144 kB spec that expanded to 1.3 GB.
    fn big_scalar_bomb() -> String {
        let mut s = format!("name: &a {}\nx-bomb: [", "x".repeat(64 << 10));
        s.push_str(&vec!["*a"; 20_000].join(", "));
        s.push_str("]\n");
        s
    }

    #[test]
    fn an_alias_of_a_large_scalar_is_bounded_by_its_bytes() {
        let text = big_scalar_bomb();
        let started = std::time::Instant::now();
        let e = parse(&text).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(
            e.message
                .contains("too large after expanding aliases (more than 16 MiB"),
            "{}",
            e.message
        );
        // At the first alias past the limit: 16 MiB holds the scalar, the anchor's copy and
        // 253 aliases of 64 KiB + 64 bytes each; `x-bomb: [` is 9 characters, `*a, ` 4.
        let pos = e.pos.unwrap();
        assert_eq!((pos.line, pos.column), (2, 10 + 4 * 253));
        let errors = crate::load("bomb.yml", &text).unwrap_err();
        let shown = errors.to_string();
        assert!(
            shown.starts_with("bomb.yml:2:1022: the document is too large after expanding aliases (more than 16 MiB"),
            "{}",
            &shown[..shown.len().min(300)]
        );
    }

    #[test]
    fn a_spec_with_a_few_aliases_loads() {
        let text = "name: hello\nversion: '1.0'\nrevision: 1\nlicense: MIT\n\
            description: &d hello, world\n\
            x-common: &env {A: '1', B: '2'}\n\
            build:\n  env:\n    <<: *env\n    C: *d\n  steps:\n    - command: make\n      env: *env\n";
        let spec = crate::load("spec.yml", text).unwrap();
        let build = spec.build.unwrap().value;
        assert_eq!(build.env.len(), 3);
        assert!(build.env.values().any(|v| v.value == "hello, world"));
        assert_eq!(build.steps[0].env.len(), 2);
        // An accepted alias of a large scalar: 1 MiB used eight times.
        let big = format!(
            "name: &a {}\nx-uses: [*a, *a, *a, *a, *a, *a, *a, *a]\n",
            "y".repeat(1 << 20)
        );
        assert!(parse(&big).is_ok());
    }
}
