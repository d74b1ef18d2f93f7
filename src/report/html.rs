//! The HTML triage report: one self-contained page (CSS and JavaScript inlined, no request at
//! view time) with summary charts and a sortable, filterable, paginated table of findings.
//!
//! The page carries the JSON report itself (the document `json.rs` writes, redacted the same
//! way) in a `<script type="application/json">` block and renders from it in the browser, so
//! the two formats cannot disagree. The only thing computed here is the escaping that keeps
//! that block from being closed by the data.

use std::io;

use super::{Report, json};

/// The page's layout: everything but the data and the inlined assets.
const BODY: &str = include_str!("html/body.html");
/// Styles, inlined into `<style>`.
const STYLE: &str = include_str!("html/report.css");
/// The renderer (no library: its own small SVG charts and table), inlined into `<script>`.
const SCRIPT: &str = include_str!("html/report.js");

/// The page refuses every request but its own inline code and styles, so a report opened from
/// a mail or a ticket can neither fetch nor leak anything.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/// Writes the report as one HTML page.
///
/// # Errors
/// Whatever the writer returns.
pub fn write(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    let data = json::to_compact_string(report)?;
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>keysweep report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n{BODY}\
         <script type=\"application/json\" id=\"keysweep-data\">{}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        escape_script_json(&data)
    )
}

/// Makes JSON text safe inside a `<script>` element: `<`, `>` and `&` become `\u003c`,
/// `\u003e` and `\u0026`, so neither `</script>` nor `<!--` can appear, and U+2028/U+2029
/// become escapes too. JSON holds those characters only inside strings, where the escapes
/// mean the same characters, so `JSON.parse` returns exactly the original document.
pub fn escape_script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_script_json;

    macro_rules! escapes {
        ($($name:ident: $value:expr => $escaped:expr;)*) => {$(
            #[test]
            fn $name() {
                let json = serde_json::to_string(&$value).expect("serialize");
                let escaped = escape_script_json(&json);
                assert_eq!(escaped, $escaped);
                // The escaped text is still JSON, and means the same value.
                let back: serde_json::Value = serde_json::from_str(&escaped).expect("valid JSON");
                assert_eq!(back, serde_json::json!($value));
            }
        )*};
    }

    escapes! {
        plain_text_unchanged: "a/b.env:3 \"quoted\" \\ é" => r#""a/b.env:3 \"quoted\" \\ é""#;
        closing_script_tag: "x</script><script>alert(1)</script>"
            => r#""x\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e""#;
        closing_tag_any_case: "</ScRiPt >" => r#""\u003c/ScRiPt \u003e""#;
        html_comment_open: "<!-- x -->" => r#""\u003c!-- x --\u003e""#;
        ampersand: "a&amp;b" => r#""a\u0026amp;b""#;
        line_separators: "a\u{2028}b\u{2029}c" => r#""a\u2028b\u2029c""#;
        keys_too: serde_json::json!({"</script>": ["<b>"]})
            => r#"{"\u003c/script\u003e":["\u003cb\u003e"]}"#;
    }

    #[test]
    fn no_closing_tag_survives_any_nesting() {
        let value =
            serde_json::json!({"findings": [{"snippet": "</script></SCRIPT><!--", "n": 1}]});
        let escaped = escape_script_json(&value.to_string());
        assert!(!escaped.contains('<') && !escaped.contains('>'), "{escaped}");
    }
}
