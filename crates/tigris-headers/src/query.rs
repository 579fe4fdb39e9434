//! Metadata queries: `X-Tigris-Query` on `ListObjectsV2`, a SQL-like `WHERE` clause over object
//! metadata, validated before any request is sent.

use std::fmt;
use std::str::FromStr;

use aws_sdk_s3::operation::list_objects_v2::builders::ListObjectsV2FluentBuilder;

use crate::error::Error;
use crate::header::{self, AddHeaders};
use crate::read_at_snapshot::ListObjectsV2Operation;

/// A field a metadata query can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryField {
    /// `` `key` ``: the object key.
    Key,
    /// `` `Content-Type` ``.
    ContentType,
    /// `` `Content-Length` ``: the size in bytes.
    ContentLength,
    /// `` `Last-Modified` ``: compared with RFC 3339 timestamps (indexed on Tigris).
    LastModified,
}

impl QueryField {
    const ALL: [Self; 4] = [
        Self::Key,
        Self::ContentType,
        Self::ContentLength,
        Self::LastModified,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::ContentType => "Content-Type",
            Self::ContentLength => "Content-Length",
            Self::LastModified => "Last-Modified",
        }
    }

    fn condition(self, op: &str, value: QueryValue) -> Condition {
        Condition(format!("`{}` {op} {value}", self.name()))
    }

    /// `field = value`.
    pub fn eq(self, value: impl Into<QueryValue>) -> Condition {
        self.condition("=", value.into())
    }
    /// `field != value`.
    pub fn ne(self, value: impl Into<QueryValue>) -> Condition {
        self.condition("!=", value.into())
    }
    /// `field > value`.
    pub fn gt(self, value: impl Into<QueryValue>) -> Condition {
        self.condition(">", value.into())
    }
    /// `field < value`.
    pub fn lt(self, value: impl Into<QueryValue>) -> Condition {
        self.condition("<", value.into())
    }
    /// `field >= value`.
    pub fn ge(self, value: impl Into<QueryValue>) -> Condition {
        self.condition(">=", value.into())
    }
    /// `field <= value`.
    pub fn le(self, value: impl Into<QueryValue>) -> Condition {
        self.condition("<=", value.into())
    }
    /// `field IN (values…)`.
    pub fn is_in<V: Into<QueryValue>>(self, values: impl IntoIterator<Item = V>) -> Condition {
        self.list("IN", values)
    }
    /// `field NOT IN (values…)`.
    pub fn not_in<V: Into<QueryValue>>(self, values: impl IntoIterator<Item = V>) -> Condition {
        self.list("NOT IN", values)
    }
    /// `field REGEXP "pattern"`.
    pub fn regexp(self, pattern: &str) -> Condition {
        self.condition("REGEXP", QueryValue::from(pattern))
    }

    fn list<V: Into<QueryValue>>(self, op: &str, values: impl IntoIterator<Item = V>) -> Condition {
        let list: Vec<String> = values.into_iter().map(|v| v.into().to_string()).collect();
        Condition(format!("`{}` {op} ({})", self.name(), list.join(", ")))
    }
}

/// A literal in a condition: a string (quoted on the wire) or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryValue {
    /// A string, e.g. a content type, a key or an RFC 3339 timestamp.
    Text(String),
    /// A number, e.g. a size in bytes.
    Number(u64),
}

impl From<&str> for QueryValue {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}
impl From<String> for QueryValue {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}
impl From<u64> for QueryValue {
    fn from(n: u64) -> Self {
        Self::Number(n)
    }
}

impl fmt::Display for QueryValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The grammar has no escapes: a value holding `"` is quoted with `'`.
            Self::Text(s) if s.contains('"') => write!(f, "'{s}'"),
            Self::Text(s) => write!(f, "\"{s}\""),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

/// One condition of a [`MetadataQuery`], made by the methods of [`QueryField`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition(String);

/// A validated metadata query for [`MetadataQueryExt::query`]: parse one from text, or build one.
///
/// ```
/// use tigris_headers::query::{MetadataQuery, QueryField};
///
/// let typed = MetadataQuery::builder()
///     .filter(QueryField::ContentType.eq("image/png"))
///     .filter(QueryField::ContentLength.gt(1024_u64))
///     .order_by_desc(QueryField::LastModified)
///     .build()?;
/// assert_eq!(
///     typed.as_str(),
///     "WHERE `Content-Type` = \"image/png\" AND `Content-Length` > 1024 ORDER BY `Last-Modified` DESC"
/// );
/// let raw: MetadataQuery = "WHERE `key` REGEXP \"^logs/\"".parse()?;
/// assert!("".parse::<MetadataQuery>().is_err());
/// assert!("WHERE `Size` > 1".parse::<MetadataQuery>().is_err());
/// # let _ = raw;
/// # Ok::<(), tigris_headers::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataQuery(String);

impl MetadataQuery {
    /// A builder for a query from typed conditions.
    pub fn builder() -> MetadataQueryBuilder {
        MetadataQueryBuilder::default()
    }

    /// The query as sent in `X-Tigris-Query`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MetadataQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MetadataQuery {
    type Err = Error;

    /// Checks the query against Tigris's grammar before any request is sent:
    ///
    /// ```text
    /// query     := WHERE condition (AND condition)* [ORDER BY field [ASC|DESC]]
    ///            | ORDER BY field [ASC|DESC]
    /// condition := field op value | field [NOT] IN ( value, ... ) | field REGEXP "pattern"
    /// op        := = | != | > | < | >= | <=
    /// value     := "string" | 'string' | number
    /// ```
    ///
    /// Fields are the ones Tigris documents ([`QueryField`]), and a `REGEXP` pattern must be a
    /// valid regular expression. Whether a value suits its field (a timestamp for
    /// `Last-Modified`) is left to the server.
    fn from_str(s: &str) -> Result<Self, Error> {
        let text = s.trim();
        if text.is_empty() {
            return Err(Error::invalid_query("the metadata query is empty"));
        }
        let tokens = tokenize(text)?;
        Grammar { tokens, at: 0 }.query()?;
        Ok(Self(text.to_owned()))
    }
}

/// A lexical token of a metadata query.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Field,
    Text(String),
    Number,
    Op,
    Word(String),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, Error> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '`' | '"' | '\'' => {
                let rest = &text[i + 1..];
                let Some(len) = rest.find(c) else {
                    return Err(Error::invalid_query(
                        "the metadata query has an unterminated quote",
                    ));
                };
                let inner = &rest[..len];
                for _ in 0..inner.chars().count() + 1 {
                    chars.next();
                }
                if c == '`' {
                    if !QueryField::ALL
                        .iter()
                        .any(|f| f.name().eq_ignore_ascii_case(inner))
                    {
                        return Err(Error::invalid_query(
                            "the metadata query names an unknown field",
                        ));
                    }
                    tokens.push(Token::Field);
                } else {
                    tokens.push(Token::Text(inner.to_owned()));
                }
            }
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            ',' => tokens.push(Token::Comma),
            '=' => tokens.push(Token::Op),
            '!' | '<' | '>' => {
                if chars.peek().is_some_and(|&(_, n)| n == '=') {
                    chars.next();
                } else if c == '!' {
                    return Err(Error::invalid_query(
                        "the metadata query has `!` without `=`",
                    ));
                }
                tokens.push(Token::Op);
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                while chars
                    .peek()
                    .is_some_and(|&(_, n)| n.is_ascii_digit() || n == '.')
                {
                    chars.next();
                }
                tokens.push(Token::Number);
            }
            c if c.is_ascii_alphabetic() => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, n)) = chars.peek() {
                    if !n.is_ascii_alphabetic() {
                        break;
                    }
                    end = j + n.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(text[i..end].to_ascii_uppercase()));
            }
            _ => {
                return Err(Error::invalid_query(
                    "the metadata query has a character outside its grammar",
                ));
            }
        }
    }
    Ok(tokens)
}

/// A recursive-descent check of a token list against the query grammar.
struct Grammar {
    tokens: Vec<Token>,
    at: usize,
}

impl Grammar {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w == word)
    }

    fn expect_word(&mut self, word: &str, reason: &'static str) -> Result<(), Error> {
        match self.next() {
            Some(Token::Word(w)) if w == word => Ok(()),
            _ => Err(Error::invalid_query(reason)),
        }
    }

    fn query(&mut self) -> Result<(), Error> {
        if self.peek_word("WHERE") {
            self.at += 1;
            self.condition()?;
            while self.peek_word("AND") {
                self.at += 1;
                self.condition()?;
            }
        } else if !self.peek_word("ORDER") {
            return Err(Error::invalid_query(
                "a metadata query starts with WHERE or ORDER BY",
            ));
        }
        if self.peek_word("ORDER") {
            self.at += 1;
            self.expect_word("BY", "ORDER is followed by BY")?;
            if self.next() != Some(Token::Field) {
                return Err(Error::invalid_query("ORDER BY names a `field`"));
            }
            if self.peek_word("ASC") || self.peek_word("DESC") {
                self.at += 1;
            }
        }
        match self.tokens.get(self.at) {
            None => Ok(()),
            Some(Token::Word(w)) if w == "OR" => Err(Error::invalid_query(
                "metadata query conditions are joined with AND only",
            )),
            Some(_) => Err(Error::invalid_query(
                "the metadata query has text after its end",
            )),
        }
    }

    fn condition(&mut self) -> Result<(), Error> {
        if self.next() != Some(Token::Field) {
            return Err(Error::invalid_query(
                "a metadata query condition starts with a `field`",
            ));
        }
        match self.next() {
            Some(Token::Op) => self.value(),
            Some(Token::Word(w)) if w == "IN" => self.list(),
            Some(Token::Word(w)) if w == "NOT" => {
                self.expect_word("IN", "NOT is followed by IN")?;
                self.list()
            }
            Some(Token::Word(w)) if w == "REGEXP" => match self.next() {
                Some(Token::Text(pattern)) => {
                    regex_lite::Regex::new(&pattern).map(|_| ()).map_err(|_| {
                        Error::invalid_query("the REGEXP pattern is not a valid regular expression")
                    })
                }
                _ => Err(Error::invalid_query("REGEXP takes a quoted pattern")),
            },
            _ => Err(Error::invalid_query(
                "a metadata query condition has no operator (= != > < >= <= IN NOT IN REGEXP)",
            )),
        }
    }

    fn value(&mut self) -> Result<(), Error> {
        match self.next() {
            Some(Token::Text(_) | Token::Number) => Ok(()),
            _ => Err(Error::invalid_query(
                "a metadata query comparison needs a quoted string or a number",
            )),
        }
    }

    fn list(&mut self) -> Result<(), Error> {
        if self.next() != Some(Token::Open) {
            return Err(Error::invalid_query("IN takes a list in parentheses"));
        }
        loop {
            self.value()?;
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::Close) => return Ok(()),
                _ => {
                    return Err(Error::invalid_query(
                        "an IN list is values separated by commas, closed by `)`",
                    ));
                }
            }
        }
    }
}

/// Builds a [`MetadataQuery`] from [`Condition`]s joined with `AND`, and an optional order.
#[derive(Debug, Clone, Default)]
pub struct MetadataQueryBuilder {
    conditions: Vec<Condition>,
    order: Option<(QueryField, bool)>,
}

impl MetadataQueryBuilder {
    /// Adds a condition; all conditions must hold (`AND`).
    pub fn filter(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// Orders the results by `field`, ascending.
    pub fn order_by(mut self, field: QueryField) -> Self {
        self.order = Some((field, false));
        self
    }

    /// Orders the results by `field`, descending.
    pub fn order_by_desc(mut self, field: QueryField) -> Self {
        self.order = Some((field, true));
        self
    }

    /// The query, validated like a parsed one (no condition and no order is an error).
    pub fn build(self) -> Result<MetadataQuery, Error> {
        let mut text = String::new();
        if !self.conditions.is_empty() {
            let parts: Vec<&str> = self.conditions.iter().map(|c| c.0.as_str()).collect();
            text = format!("WHERE {}", parts.join(" AND "));
        }
        if let Some((field, desc)) = self.order {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&format!("ORDER BY `{}`", field.name()));
            if desc {
                text.push_str(" DESC");
            }
        }
        text.parse()
    }
}

/// Filter and order a listing by object metadata (`X-Tigris-Query`).
///
/// Implemented by the `ListObjectsV2` builder. Pagination works as usual
/// (`next_continuation_token`); follow it by hand with `.query(..)` on each page, since
/// `into_paginator()` cannot carry the header.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_headers::prelude::*;
/// use tigris_headers::query::{MetadataQuery, QueryField};
///
/// let big_images = MetadataQuery::builder()
///     .filter(QueryField::ContentType.is_in(["image/png", "image/jpeg"]))
///     .filter(QueryField::ContentLength.ge(1_000_000_u64))
///     .build()?;
/// let page = s3.list_objects_v2().bucket("media").query(&big_images).send().await?;
/// # let _ = page;
/// # Ok(()) }
/// ```
///
/// Only ListObjectsV2 takes a query:
///
/// ```compile_fail
/// # fn demo(s3: aws_sdk_s3::Client, q: tigris_headers::query::MetadataQuery) {
/// use tigris_headers::prelude::*;
/// let _ = s3.list_objects().bucket("b").query(&q);
/// # }
/// ```
pub trait MetadataQueryExt: sealed::Sealed {
    /// The operation with the option attached, ready to `.send()`.
    type Operation;

    /// Lists only the objects matching `query`, in its order.
    fn query(self, query: &MetadataQuery) -> Self::Operation;
}

impl MetadataQueryExt for ListObjectsV2FluentBuilder {
    type Operation = ListObjectsV2Operation;
    fn query(self, query: &MetadataQuery) -> ListObjectsV2Operation {
        self.customize().query(query)
    }
}

impl MetadataQueryExt for ListObjectsV2Operation {
    type Operation = ListObjectsV2Operation;
    fn query(self, query: &MetadataQuery) -> ListObjectsV2Operation {
        self.interceptor(AddHeaders::new(header::QUERY, query.as_str()))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ListObjectsV2FluentBuilder {}
    impl Sealed for super::ListObjectsV2Operation {}
}
