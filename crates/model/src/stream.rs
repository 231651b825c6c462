//! The six waste streams: the national standard's four categories plus the two that
//! cities collect on call.

use serde::{Deserialize, Serialize};

/// A waste stream. A trip carries exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stream {
    /// Kitchen / food waste (厨余垃圾): about half the weight, collected daily.
    Kitchen,
    /// Recyclables (可回收物): paper, plastics, metal, glass, textiles.
    Recyclable,
    /// Hazardous household waste (有害垃圾): licensed vehicles only.
    Hazardous,
    /// Residual / other waste (其他垃圾): incineration or landfill.
    Residual,
    /// Bulky waste (大件垃圾), collected on call.
    Bulky,
    /// Renovation debris (装修垃圾), collected on call.
    Renovation,
}

impl Stream {
    /// Every stream, in a fixed order (also the index order of [`Stream::index`]).
    pub const ALL: [Stream; 6] = [
        Stream::Kitchen,
        Stream::Recyclable,
        Stream::Hazardous,
        Stream::Residual,
        Stream::Bulky,
        Stream::Renovation,
    ];

    /// Dense index 0..6, for per-stream arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The stream's id as written in JSON and protobuf, e.g. `KITCHEN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stream::Kitchen => "KITCHEN",
            Stream::Recyclable => "RECYCLABLE",
            Stream::Hazardous => "HAZARDOUS",
            Stream::Residual => "RESIDUAL",
            Stream::Bulky => "BULKY",
            Stream::Renovation => "RENOVATION",
        }
    }
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a stream name that is not one of the six ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown stream `{0}` (expected one of KITCHEN, RECYCLABLE, HAZARDOUS, RESIDUAL, BULKY, RENOVATION)"
)]
pub struct UnknownStream(pub String);

impl std::str::FromStr for Stream {
    type Err = UnknownStream;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stream::ALL
            .into_iter()
            .find(|x| x.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownStream(s.to_owned()))
    }
}
