//! Just enough XML for AWS query-protocol replies (STS, IAM): the text of named elements.
//!
//! The replies are small, machine-written and flat enough that "the text of every `<Tag>` in
//! order" answers every question keysweep asks; a full parser would be a dependency for nothing.

/// The unescaped text of the first `<tag>...</tag>`.
pub fn first(xml: &str, tag: &str) -> Option<String> {
    all(xml, tag).into_iter().next()
}

/// The unescaped text of every `<tag>...</tag>`, in order. Elements with attributes
/// (`<tag a="b">`) count; self-closing ones (`<tag/>`) give an empty string.
pub fn all(xml: &str, tag: &str) -> Vec<String> {
    let mut out = Vec::new();
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = xml;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        // `<tag>`, `<tag attr>` or `<tag/>`, not `<tagOther>`.
        let Some(end) = after.find('>') else { break };
        let head = &after[..end];
        if !(head.is_empty() || head.starts_with(char::is_whitespace) || head == "/") {
            rest = after;
            continue;
        }
        if head.ends_with('/') {
            out.push(String::new());
            rest = &after[end + 1..];
            continue;
        }
        let body = &after[end + 1..];
        let Some(stop) = body.find(&close) else { break };
        out.push(unescape(body[..stop].trim()));
        rest = &body[stop + close.len()..];
    }
    out
}

/// The part of `xml` inside the first `<tag>...</tag>` (for scoping a search).
pub fn section<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let stop = xml[start..].find(&close)? + start;
    Some(&xml[start..stop])
}

/// Resolves the five predefined entities and numeric character references.
pub fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(semi) = tail.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements() {
        let xml = r#"<R xmlns="x"><Result><Arn>arn:aws:iam::1:user/a&amp;b</Arn><ArnList/>
            <Names><member>p1</member><member>p2</member></Names></Result></R>"#;
        assert_eq!(first(xml, "Arn").as_deref(), Some("arn:aws:iam::1:user/a&b"));
        assert_eq!(all(section(xml, "Names").unwrap(), "member"), ["p1", "p2"]);
        assert_eq!(first(xml, "Missing"), None);
        assert_eq!(unescape("&lt;&#65;&#x42;&bogus"), "<AB&bogus");
    }
}
