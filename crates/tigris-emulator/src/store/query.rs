//! The one SQL-like grammar of Tigris's metadata queries (`X-Tigris-Query` on ListObjectsV2) and
//! object-notification filters:
//!
//! ```text
//! query     := [WHERE condition (AND condition)*] [ORDER BY field [ASC|DESC]]
//! condition := field op value | field [NOT] IN ( value, ... ) | field REGEXP "re"
//! op        := = | != | > | < | >= | <=
//! field     := `key` | `Content-Type` | `Content-Length` | `Last-Modified` | `Event-Type`
//! value     := "string" | 'string' | number
//! ```
//!
//! `Last-Modified` values are RFC 3339 timestamps, `Content-Length` values numbers; the other
//! fields compare as strings. `Event-Type` exists only for notifications and `ORDER BY` only
//! for listings; each caller refuses what its context does not have.

use std::cmp::Ordering;
use std::time::SystemTime;

use crate::store::Object;

/// A field a condition or `ORDER BY` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Key,
    ContentType,
    ContentLength,
    LastModified,
    EventType,
}

impl Field {
    fn parse(name: &str) -> Result<Self, String> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "key" => Self::Key,
            "content-type" => Self::ContentType,
            "content-length" => Self::ContentLength,
            "last-modified" => Self::LastModified,
            "event-type" => Self::EventType,
            _ => return Err(format!("unknown field `{name}`")),
        })
    }
}

/// A value a field holds or is compared with.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Value {
    Text(String),
    Number(f64),
    Time(SystemTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

/// One condition of a query.
#[derive(Debug, Clone)]
enum Condition {
    Compare(Field, Op, Value),
    In {
        field: Field,
        values: Vec<Value>,
        negated: bool,
    },
    Regexp(Field, regex_lite::Regex),
}

/// `ORDER BY field [ASC|DESC]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderBy {
    pub(crate) field: Field,
    pub(crate) descending: bool,
}

/// What a query is evaluated against: an object under a key, or a notification event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub(crate) key: &'a str,
    pub(crate) object: Option<&'a Object>,
    pub(crate) event: Option<&'a str>,
}

impl Subject<'_> {
    fn get(&self, field: Field) -> Option<Value> {
        match field {
            Field::Key => Some(Value::Text(self.key.to_owned())),
            Field::ContentType => Some(Value::Text(
                self.object?
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "binary/octet-stream".to_owned()),
            )),
            Field::ContentLength => Some(Value::Number(self.object?.size() as f64)),
            Field::LastModified => Some(Value::Time(self.object?.last_modified)),
            Field::EventType => self.event.map(|e| Value::Text(e.to_owned())),
        }
    }
}

/// A parsed query: conditions joined with AND (none matches everything), and an order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    conditions: Vec<Condition>,
    pub(crate) order_by: Option<OrderBy>,
}

impl Query {
    /// Parses `text`; an empty text is the query that matches everything.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let tokens = lex(text)?;
        Parser { tokens, pos: 0 }.query()
    }

    /// Whether any condition names `field`.
    pub(crate) fn uses(&self, field: Field) -> bool {
        self.order_by.is_some_and(|o| o.field == field)
            || self.conditions.iter().any(|c| match c {
                Condition::Compare(f, ..) | Condition::Regexp(f, _) => *f == field,
                Condition::In { field: f, .. } => *f == field,
            })
    }

    pub(crate) fn matches(&self, subject: &Subject<'_>) -> bool {
        self.conditions.iter().all(|c| match c {
            Condition::Compare(field, op, value) => {
                subject
                    .get(*field)
                    .is_some_and(|v| match compare(&v, value) {
                        None => *op == Op::Ne,
                        Some(ord) => match op {
                            Op::Eq => ord == Ordering::Equal,
                            Op::Ne => ord != Ordering::Equal,
                            Op::Gt => ord == Ordering::Greater,
                            Op::Lt => ord == Ordering::Less,
                            Op::Ge => ord != Ordering::Less,
                            Op::Le => ord != Ordering::Greater,
                        },
                    })
            }
            Condition::In {
                field,
                values,
                negated,
            } => subject.get(*field).is_some_and(|v| {
                values
                    .iter()
                    .any(|w| compare(&v, w) == Some(Ordering::Equal))
                    != *negated
            }),
            Condition::Regexp(field, re) => subject.get(*field).is_some_and(|v| match v {
                Value::Text(s) => re.is_match(&s),
                _ => false,
            }),
        })
    }

    /// Orders two subjects by `ORDER BY` (equal when there is none).
    pub(crate) fn order(&self, a: &Subject<'_>, b: &Subject<'_>) -> Ordering {
        let Some(order) = self.order_by else {
            return Ordering::Equal;
        };
        let ord = match (a.get(order.field), b.get(order.field)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            (x, y) => x.is_some().cmp(&y.is_some()),
        };
        if order.descending { ord.reverse() } else { ord }
    }
}

/// Compares a field's value with a literal; a number literal against a text field compares
/// as text, a text literal against a number or a time is converted (or incomparable).
fn compare(field: &Value, literal: &Value) -> Option<Ordering> {
    match (field, literal) {
        (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
        (Value::Text(a), Value::Number(n)) => Some(a.as_str().cmp(n.to_string().as_str())),
        (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Value::Number(a), Value::Text(b)) => a.partial_cmp(&b.trim().parse::<f64>().ok()?),
        (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
        (Value::Time(a), Value::Text(b)) => Some(a.cmp(&parse_time(b).ok()?)),
        _ => None,
    }
}

fn parse_time(s: &str) -> Result<SystemTime, String> {
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .map(SystemTime::from)
        .map_err(|_| format!("{s:?} is not an RFC 3339 timestamp"))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A bare word: a keyword, or a field written without backquotes.
    Word(String),
    /// A `backquoted` field name.
    Field(String),
    Str(String),
    Number(f64),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '`' | '"' | '\'' => {
                chars.next();
                let rest = &text[i + 1..];
                let end = rest
                    .find(c)
                    .ok_or_else(|| format!("unterminated {c} at byte {i}"))?;
                let inner = rest[..end].to_owned();
                tokens.push(if c == '`' {
                    Token::Field(inner)
                } else {
                    Token::Str(inner)
                });
                while chars.peek().is_some_and(|&(j, _)| j <= i + end + 1) {
                    chars.next();
                }
            }
            '(' | ')' | ',' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    _ => Token::Comma,
                });
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let next_eq = chars.peek().is_some_and(|&(_, n)| n == '=');
                let op = match (c, next_eq) {
                    ('=', _) => "=",
                    ('!', true) => "!=",
                    ('<', true) => "<=",
                    ('>', true) => ">=",
                    ('<', false) if chars.peek().is_some_and(|&(_, n)| n == '>') => "!=",
                    ('<', false) => "<",
                    ('>', false) => ">",
                    _ => return Err(format!("unexpected {c:?} at byte {i}")),
                };
                if op.len() == 2 {
                    chars.next();
                }
                tokens.push(Token::Op(op));
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let start = i;
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_digit() || d == '.' || (j == start && d == '-') {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let s = &text[start..end];
                let n = s.parse().map_err(|_| format!("bad number {s:?}"))?;
                tokens.push(Token::Number(n));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' || d == '-' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Word(text[start..end].to_owned()));
            }
            _ => return Err(format!("unexpected {c:?} at byte {i}")),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case(word) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn query(mut self) -> Result<Query, String> {
        let mut query = Query::default();
        if self.tokens.is_empty() {
            return Ok(query);
        }
        if self.keyword("WHERE") {
            query.conditions.push(self.condition()?);
            while self.keyword("AND") {
                query.conditions.push(self.condition()?);
            }
        }
        if self.keyword("ORDER") {
            if !self.keyword("BY") {
                return Err("expected BY after ORDER".into());
            }
            let field = self.field()?;
            let descending = if self.keyword("DESC") {
                true
            } else {
                self.keyword("ASC");
                false
            };
            query.order_by = Some(OrderBy { field, descending });
        }
        match self.next() {
            None => Ok(query),
            Some(t) => Err(format!("unexpected {t:?}")),
        }
    }

    fn field(&mut self) -> Result<Field, String> {
        match self.next() {
            Some(Token::Field(f)) => Field::parse(&f),
            other => Err(format!("expected a `field`, got {other:?}")),
        }
    }

    fn value(&mut self, field: Field) -> Result<Value, String> {
        let value = match self.next() {
            Some(Token::Str(s)) => Value::Text(s),
            Some(Token::Number(n)) => Value::Number(n),
            other => return Err(format!("expected a value, got {other:?}")),
        };
        // Literals of the typed fields are checked here, so a bad one is an error, not a miss.
        match (field, &value) {
            (Field::LastModified, Value::Text(s)) => parse_time(s).map(Value::Time),
            (Field::LastModified, Value::Number(_)) => {
                Err("`Last-Modified` compares with a quoted RFC 3339 timestamp".into())
            }
            (Field::ContentLength, Value::Text(s)) => s
                .trim()
                .parse()
                .map(Value::Number)
                .map_err(|_| format!("`Content-Length` compares with a number, got {s:?}")),
            _ => Ok(value),
        }
    }

    fn condition(&mut self) -> Result<Condition, String> {
        let field = self.field()?;
        match self.next() {
            Some(Token::Op(op)) => {
                let op = match op {
                    "=" => Op::Eq,
                    "!=" => Op::Ne,
                    ">" => Op::Gt,
                    "<" => Op::Lt,
                    ">=" => Op::Ge,
                    _ => Op::Le,
                };
                Ok(Condition::Compare(field, op, self.value(field)?))
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("REGEXP") => match self.next() {
                Some(Token::Str(re)) => regex_lite::Regex::new(&re)
                    .map(|re| Condition::Regexp(field, re))
                    .map_err(|e| format!("bad regular expression {re:?}: {e}")),
                other => Err(format!("REGEXP needs a quoted pattern, got {other:?}")),
            },
            Some(Token::Word(w))
                if w.eq_ignore_ascii_case("IN") || w.eq_ignore_ascii_case("NOT") =>
            {
                let negated = w.eq_ignore_ascii_case("NOT");
                if negated && !self.keyword("IN") {
                    return Err("expected IN after NOT".into());
                }
                if self.next() != Some(Token::LParen) {
                    return Err("IN needs a ( list )".into());
                }
                let mut values = vec![self.value(field)?];
                loop {
                    match self.next() {
                        Some(Token::Comma) => values.push(self.value(field)?),
                        Some(Token::RParen) => break,
                        other => return Err(format!("expected , or ) in IN, got {other:?}")),
                    }
                }
                Ok(Condition::In {
                    field,
                    values,
                    negated,
                })
            }
            other => Err(format!("unsupported operator {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Duration;

    fn object(size: usize, content_type: &str, age_secs: u64) -> Object {
        let mut o = Object::new(
            Bytes::from(vec![b'x'; size]),
            Some(content_type.to_owned()),
            Vec::new(),
        );
        o.last_modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 - age_secs);
        o
    }

    fn matches(q: &str, key: &str, o: &Object) -> bool {
        Query::parse(q).unwrap().matches(&Subject {
            key,
            object: Some(o),
            event: None,
        })
    }

    #[test]
    fn comparisons_on_every_documented_field() {
        let o = object(10, "text/plain", 0); // 2023-11-14T22:13:20Z
        assert!(matches("WHERE `Content-Length` > 5", "a", &o));
        assert!(!matches("WHERE `Content-Length` >= 11", "a", &o));
        assert!(matches("WHERE `Content-Type` = \"text/plain\"", "a", &o));
        assert!(matches(
            "WHERE `Last-Modified` > \"2023-11-14T00:00:00Z\" AND `Last-Modified` <= \"2023-11-14T22:13:20Z\"",
            "a",
            &o
        ));
        assert!(matches("WHERE `key` != 'b' AND `key` < \"b\"", "a", &o));
        assert!(matches("WHERE `key` REGEXP \"^a$\"", "a", &o));
    }

    #[test]
    fn in_and_not_in_lists() {
        let o = object(1, "image/png", 0);
        assert!(matches(
            "WHERE `Content-Type` IN (\"image/png\", \"image/jpeg\")",
            "k",
            &o
        ));
        assert!(!matches(
            "WHERE `Content-Type` NOT IN ('image/png')",
            "k",
            &o
        ));
        assert!(matches("WHERE `Content-Length` not in (2, 3)", "k", &o));
    }

    #[test]
    fn order_by_parses_with_a_direction() {
        let q = Query::parse("WHERE `Content-Length` > 0 ORDER BY `Content-Length` DESC").unwrap();
        assert_eq!(
            q.order_by,
            Some(OrderBy {
                field: Field::ContentLength,
                descending: true
            })
        );
        let q = Query::parse("ORDER BY `Last-Modified`").unwrap();
        assert!(!q.order_by.unwrap().descending);
    }

    #[test]
    fn malformed_queries_are_errors() {
        for bad in [
            "WHERE",
            "WHERE `Size` = 1",
            "WHERE `key` LIKE \"a\"",
            "WHERE `key` = \"a",
            "WHERE `Last-Modified` > \"yesterday\"",
            "WHERE `Content-Length` = \"ten\"",
            "WHERE `key` IN (\"a\"",
            "WHERE `key` = \"a\" OR `key` = \"b\"",
            "WHERE `key` REGEXP \"(\"",
            "ORDER `key`",
            "`key` = \"a\"",
            "WHERE key = \"a\"",
            "WHERE `key` = \"a\" ORDER BY `key` SIDEWAYS",
        ] {
            assert!(Query::parse(bad).is_err(), "{bad}");
        }
    }
}
