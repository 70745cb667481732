//! [`Parsed`]: a value written as text and parsed once, when the spec is read (and again only
//! when arg substitution rewrites its text). Code that uses the value gets the parsed one;
//! the text stays for messages and for rendering the spec back.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A type a spec writes as text.
pub trait FromText: Sized {
    /// The value `text` stands for, or `None` when it is not one.
    fn from_text(text: &str) -> Option<Self>;
}

/// Text as written and the value it was parsed into; `None` when the text is not a valid one
/// (validation reports it at its line, next to the spec's other errors, unless it still holds
/// a build-arg reference to be substituted first).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    text: String,
    value: Option<T>,
}

impl<T: FromText> Parsed<T> {
    /// Parses `text`.
    pub fn new(text: impl Into<String>) -> Parsed<T> {
        let text = text.into();
        let value = T::from_text(&text);
        Parsed { text, value }
    }

    /// Replaces the text (after arg substitution) and parses it again.
    pub fn set_text(&mut self, text: String) {
        *self = Parsed::new(text);
    }
}

impl<T> Parsed<T> {
    /// The text as written (or substituted).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed value, `None` when the text is not one.
    pub fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }
}

impl<T: FromText> Default for Parsed<T> {
    /// The empty text, parsed.
    fn default() -> Self {
        Parsed::new(String::new())
    }
}

impl<'de, T: FromText> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Parsed::new(String::deserialize(d)?))
    }
}

impl<T> Serialize for Parsed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A JSON Schema impl that shows a type as a plain string (the spec writes it as one).
#[cfg(test)]
macro_rules! schema_as_string {
    ($(#[$m:meta])* impl $(<$g:ident>)? for $t:ty) => {
        impl$(<$g>)? schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "String".into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
                <String as schemars::JsonSchema>::json_schema(g)
            }
        }
    };
}
#[cfg(test)]
pub(crate) use schema_as_string;

#[cfg(test)]
schema_as_string!(impl<T> for Parsed<T>);
