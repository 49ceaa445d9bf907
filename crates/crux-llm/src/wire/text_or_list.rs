//! Deserializing the wires' "a string or a list" fields (message content, system prompts) in one pass: serde's
//! `untagged` buffers the whole value and then copies it into the variant, which for a 30 MB prompt meant two more
//! copies of it in memory. This visitor moves the string (or copies a borrowed one once) and reads a list in place.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, DeserializeOwned, SeqAccess, Visitor};

/// Deserialize a string as `text(s)` or a list of `T` as `list(items)`; anything else is an error naming `expecting`.
pub(crate) fn deserialize<'de, D, T, E>(
    d: D,
    text: fn(String) -> E,
    list: fn(Vec<T>) -> E,
    expecting: &'static str,
) -> Result<E, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    d.deserialize_any(TextOrList {
        text,
        list,
        expecting,
        item: PhantomData,
    })
}

/// `impl Deserialize for ENUM` through [`deserialize`]: `ENUM::TEXT(String)` or `ENUM::LIST(Vec<ITEM>)`.
macro_rules! impl_deserialize {
    ($enum:ty, $item:ty, $text:ident, $list:ident, $expecting:literal) => {
        impl<'de> serde::Deserialize<'de> for $enum {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::wire::text_or_list::deserialize::<D, $item, Self>(
                    d,
                    Self::$text,
                    Self::$list,
                    $expecting,
                )
            }
        }
    };
}
pub(crate) use impl_deserialize;

struct TextOrList<T, E> {
    text: fn(String) -> E,
    list: fn(Vec<T>) -> E,
    expecting: &'static str,
    item: PhantomData<T>,
}

impl<'de, T: DeserializeOwned, E> Visitor<'de> for TextOrList<T, E> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<Er: de::Error>(self, v: &str) -> Result<E, Er> {
        Ok((self.text)(v.to_owned()))
    }

    fn visit_string<Er: de::Error>(self, v: String) -> Result<E, Er> {
        Ok((self.text)(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<E, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(256));
        while let Some(item) = seq.next_element::<T>()? {
            items.push(item);
        }
        Ok((self.list)(items))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, PartialEq)]
    enum Either {
        Text(String),
        List(Vec<u8>),
    }

    impl<'de> Deserialize<'de> for Either {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            super::deserialize(d, Either::Text, Either::List, "a string or numbers")
        }
    }

    #[test]
    fn strings_lists_and_errors() {
        let t: Either = serde_json::from_str(r#""hi \"there\"""#).unwrap();
        assert_eq!(t, Either::Text("hi \"there\"".into()));
        let l: Either = serde_json::from_str("[1,2,3]").unwrap();
        assert_eq!(l, Either::List(vec![1, 2, 3]));
        let e = serde_json::from_str::<Either>("{}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a string or numbers"), "{e}");
        let bad = serde_json::from_str::<Either>("[1,\"x\"]")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("invalid type"), "{bad}");
        let v: Either = serde_json::from_value(serde_json::json!("owned")).unwrap();
        assert_eq!(v, Either::Text("owned".into()));
    }
}
