//! HTML building blocks: the one escape function every rendered value goes through, links
//! whose parameters are percent-encoded, the page frame, and value formatting.

use std::fmt::Write as _;
use std::time::SystemTime;

/// Escapes text for HTML and SVG, in element content and in double- or single-quoted
/// attribute values alike. Control characters other than tab and newline become U+FFFD, so no
/// value can end an element, an attribute or a comment, or inject markup.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A console URL with its parameters percent-encoded, HTML-escaped for an `href`.
pub(crate) fn href(page: &str, params: &[(&str, &str)]) -> String {
    let mut url = format!("{}/{page}", super::PREFIX);
    for (i, (name, value)) in params.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        url.push_str(&urlencoding::encode(value));
    }
    escape(&url)
}

/// A link to `page` with `params`, showing `label` (escaped here).
pub(crate) fn link(page: &str, params: &[(&str, &str)], label: &str) -> String {
    format!("<a href=\"{}\">{}</a>", href(page, params), escape(label))
}

/// `2026-12-03 19:47:40Z`.
pub(crate) fn time(t: SystemTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    time::OffsetDateTime::from(t)
        .format(&format)
        .unwrap_or_else(|_| "?".into())
}

/// `12.3 KiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A page: the frame (navigation, the live-update switch) around `content`.
#[derive(Debug)]
pub(crate) struct Page {
    title: String,
    body: String,
}

impl Page {
    pub(crate) fn new(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            body: String::new(),
        }
    }

    /// Appends markup built by the caller (every value in it already escaped).
    pub(crate) fn push(&mut self, markup: &str) {
        self.body.push_str(markup);
    }

    /// A section with a heading (escaped here).
    pub(crate) fn section(&mut self, heading: &str, id: &str, markup: &str) {
        let _ = write!(
            self.body,
            "<section id=\"{}\"><h2>{}</h2>{markup}</section>",
            escape(id),
            escape(heading)
        );
    }

    /// A page that only says what went wrong.
    pub(crate) fn error(mut self, why: &str) -> String {
        self.push(&format!("<p class=\"error\">{}</p>", escape(why)));
        self.finish()
    }

    pub(crate) fn finish(self) -> String {
        let nav = [
            ("", "Overview"),
            ("keys", "Keys and policies"),
            ("webhooks", "Webhooks"),
        ]
        .iter()
        .map(|(page, label)| link(page, &[], label))
        .collect::<Vec<_>>()
        .join(" ");
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · tigris-emulator console</title>\
             <link rel=\"stylesheet\" href=\"{prefix}/console.css\">\
             <script src=\"{prefix}/console.js\" defer></script></head>\
             <body><header><h1>{logo}</h1><nav>{nav}</nav>\
             <label class=\"live\"><input type=\"checkbox\" id=\"live\" checked> live \
             <span id=\"stamp\">updates every 2 s</span></label></header>\
             <main id=\"content\"><h2 class=\"title\">{title}</h2>{body}\
             <p class=\"footer\">read at {now} · read-only</p></main></body></html>\n",
            title = escape(&self.title),
            prefix = super::PREFIX,
            logo = link("", &[], "tigris-emulator console"),
            body = self.body,
            now = time(SystemTime::now()),
        )
    }
}

/// A table: a header row (escaped here) and rows of cells the caller built.
pub(crate) fn table(class: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("<table class=\"{}\"><thead><tr>", escape(class));
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup_and_keeps_text() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape("a\"b'c&d"),
            "a&quot;b&#39;c&amp;d",
            "quotes cannot end an attribute"
        );
        assert_eq!(
            escape("tab\tnl\ncr\r\0bell\u{7}"),
            "tab\tnl\ncr\u{FFFD}\u{FFFD}bell\u{FFFD}"
        );
        assert_eq!(escape("ключ/日本/🙂"), "ключ/日本/🙂");
    }

    #[test]
    fn escaped_text_never_holds_a_markup_character() {
        let nasty: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let out = escape(&nasty);
        assert!(!out.contains(['<', '>', '"', '\'']));
        // Every `&` starts one of the entities escape writes.
        for (i, _) in out.match_indices('&') {
            let rest = &out[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "{rest:.10}"
            );
        }
    }

    #[test]
    fn hrefs_percent_encode_parameters_then_escape() {
        assert_eq!(
            href("object", &[("bucket", "b"), ("key", "<a href=\"x\">&'")]),
            "/_console/object?bucket=b&amp;key=%3Ca%20href%3D%22x%22%3E%26%27"
        );
        assert_eq!(href("", &[]), "/_console/");
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
    }
}
