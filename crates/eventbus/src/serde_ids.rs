//! Serde helpers: 64-bit ids travel as decimal strings in JSON, because JavaScript numbers lose
//! precision above 2^53 and TikTok ids are about 2^62.

use serde::{Deserialize, Deserializer, Serializer, de};

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrNum {
    Str(String),
    Num(u64),
}

fn parse<'de, D: Deserializer<'de>>(v: StrOrNum) -> Result<u64, D::Error> {
    match v {
        StrOrNum::Num(n) => Ok(n),
        StrOrNum::Str(s) if s.is_empty() => Ok(0),
        StrOrNum::Str(s) => s.parse().map_err(de::Error::custom),
    }
}

/// `u64` as a decimal string (numbers are accepted when reading).
pub mod id {
    use super::*;

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        parse::<D>(StrOrNum::deserialize(d)?)
    }
}

/// `Option<u64>` as an optional decimal string.
pub mod opt_id {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<StrOrNum>::deserialize(d)? {
            Some(v) => parse::<D>(v).map(Some),
            None => Ok(None),
        }
    }
}

/// `Vec<u64>` as a list of decimal strings.
pub mod id_list {
    use super::*;
    use serde::ser::SerializeSeq;

    pub fn serialize<S: Serializer>(v: &[u64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for id in v {
            seq.serialize_element(&id.to_string())?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        Vec::<StrOrNum>::deserialize(d)?
            .into_iter()
            .map(parse::<D>)
            .collect()
    }
}

/// Raw bytes as standard base64.
pub mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s.as_bytes()).map_err(de::Error::custom)
    }
}
