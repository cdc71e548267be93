//! The report model: what the PDF, HTML, JSON and Markdown outputs are made from.

use crate::records::Tri;
use serde::{Deserialize, Serialize};

/// What the reports say when a figure is not recorded.
pub const NOT_RECORDED: &str = "nicht erfasst";

/// Public (council's public session, press) or confidential (closed session, office).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edition {
    Public,
    Confidential,
}

impl Edition {
    pub fn parse(s: &str) -> Option<Edition> {
        match s.trim() {
            "public" | "oeffentlich" => Some(Edition::Public),
            "confidential" | "vertraulich" => Some(Edition::Confidential),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Public => "public",
            Edition::Confidential => "confidential",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One chapter: a question and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chapter {
    pub key: String,
    pub question: String,
    pub status: Tri,
    pub paragraphs: Vec<String>,
    pub figures: Vec<Figure>,
    pub table: Option<Table>,
    /// File name of a chart in [`Report::charts`].
    pub chart: Option<String>,
    /// The figure this chapter waits for (another area of the product), when not recorded.
    pub waits_for: Option<String>,
}

/// A vector chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    pub file: String,
    pub caption: String,
    #[serde(skip)]
    pub svg: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// "town" or "verbund".
    pub kind: String,
    pub title: String,
    pub subject: String,
    pub edition: Edition,
    pub edition_label: String,
    pub date: String,
    pub version: String,
    pub intro: Vec<String>,
    pub chapters: Vec<Chapter>,
    pub charts: Vec<Chart>,
}
