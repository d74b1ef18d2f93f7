//! The Claude Code adapter: a `PreToolUse` hook payload → [`Payload`].
//!
//! Claude Code runs a command hook with one JSON object on stdin:
//!
//! ```json
//! {"session_id": "…", "transcript_path": "…", "cwd": "/home/u/proj",
//!  "hook_event_name": "PreToolUse", "tool_name": "Write",
//!  "tool_input": {"file_path": "/home/u/proj/app.py", "content": "…"}}
//! ```
//!
//! What each tool would write or run: `Write` `content`; `Edit` `new_string`; `MultiEdit` each
//! `edits[i].new_string`; `NotebookEdit` `new_source`; `Bash` `command`. Any other tool (`Read`,
//! `WebFetch`, MCP tools) has nothing to scan. Unknown fields are ignored. Pure: bytes in,
//! [`Payload`] out.

use serde_json::{Map, Value};

use super::{ContentKind, Error, Payload, PendingContent};

/// Parses a Claude Code hook payload.
///
/// # Errors
/// Not JSON, not an object, no string `tool_name`, or a known tool whose `tool_input` lacks the
/// field it always has (`Write` without a string `content`...).
pub fn parse(payload: &[u8]) -> Result<Payload, Error> {
    let value: Value = serde_json::from_slice(payload).map_err(Error::Json)?;
    let object = value.as_object().ok_or_else(|| shape("the top level", "object"))?;
    let tool = object
        .get("tool_name")
        .and_then(Value::as_str)
        .ok_or_else(|| shape("tool_name", "string"))?
        .to_string();
    let cwd = object.get("cwd").and_then(Value::as_str).filter(|c| !c.is_empty()).map(Into::into);
    let contents = match tool.as_str() {
        "Write" | "Edit" | "MultiEdit" | "NotebookEdit" | "Bash" => {
            let input = object
                .get("tool_input")
                .and_then(Value::as_object)
                .ok_or_else(|| shape("tool_input", "object"))?;
            contents(&tool, input)?
        }
        _ => Vec::new(),
    };
    Ok(Payload { tool, cwd, contents })
}

/// What a known tool would write or run.
fn contents(tool: &str, input: &Map<String, Value>) -> Result<Vec<PendingContent>, Error> {
    let text = |field: &'static str| -> Result<String, Error> {
        input
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| shape(&format!("tool_input.{field}"), "string"))
    };
    let file = |kind: ContentKind, path: &'static str, field: &'static str| {
        Ok(vec![PendingContent { path: Some(text(path)?), text: text(field)?, kind }])
    };
    match tool {
        "Write" => file(ContentKind::File, "file_path", "content"),
        "Edit" => file(ContentKind::Edit { edit: None, of: 1 }, "file_path", "new_string"),
        "MultiEdit" => {
            let path = text("file_path")?;
            let edits = input
                .get("edits")
                .and_then(Value::as_array)
                .ok_or_else(|| shape("tool_input.edits", "array"))?;
            edits
                .iter()
                .enumerate()
                .map(|(i, edit)| {
                    let new = edit.get("new_string").and_then(Value::as_str).ok_or_else(|| {
                        shape(&format!("tool_input.edits[{i}].new_string"), "string")
                    })?;
                    Ok(PendingContent {
                        path: Some(path.clone()),
                        text: new.to_string(),
                        kind: ContentKind::Edit { edit: Some(i), of: edits.len() },
                    })
                })
                .collect()
        }
        "NotebookEdit" => {
            let cell = input.get("cell_id").and_then(Value::as_str).map(str::to_string);
            // `edit_mode: "delete"` sends no new source: nothing to scan.
            let source = input.get("new_source").and_then(Value::as_str).unwrap_or_default();
            Ok(vec![PendingContent {
                path: Some(text("notebook_path")?),
                text: source.to_string(),
                kind: ContentKind::NotebookCell { cell },
            }])
        }
        "Bash" => Ok(vec![PendingContent {
            path: None,
            text: text("command")?,
            kind: ContentKind::Command,
        }]),
        _ => Ok(Vec::new()),
    }
}

fn shape(field: &str, expected: &'static str) -> Error {
    Error::Shape { field: field.to_string(), expected }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(json: &str) -> Payload {
        parse(json.as_bytes()).expect("a valid payload")
    }

    #[test]
    fn tools() {
        let write = parsed(
            r#"{"cwd":"/p","hook_event_name":"PreToolUse","tool_name":"Write",
                "tool_input":{"file_path":"/p/a.py","content":"x = 1\n"}}"#,
        );
        assert_eq!(write.cwd.as_deref(), Some(std::path::Path::new("/p")));
        assert_eq!(write.contents[0].path.as_deref(), Some("/p/a.py"));
        assert_eq!(write.contents[0].text, "x = 1\n");

        let multi = parsed(
            r#"{"tool_name":"MultiEdit","tool_input":{"file_path":"a.py",
                "edits":[{"old_string":"a","new_string":"b"},{"old_string":"c","new_string":"d"}]}}"#,
        );
        assert_eq!(multi.contents.len(), 2);
        assert_eq!(multi.contents[1].kind, ContentKind::Edit { edit: Some(1), of: 2 });
        assert_eq!(multi.contents[1].text, "d");

        let bash = parsed(r#"{"tool_name":"Bash","tool_input":{"command":"ls"}}"#);
        assert_eq!(bash.contents[0].kind, ContentKind::Command);
        assert_eq!(bash.contents[0].path, None);

        let nb = parsed(
            r#"{"tool_name":"NotebookEdit","tool_input":{"notebook_path":"n.ipynb",
                "cell_id":"c1","edit_mode":"delete"}}"#,
        );
        assert_eq!(nb.contents[0].text, "");

        let read = parsed(r#"{"tool_name":"Read","tool_input":{"file_path":"a"}}"#);
        assert!(read.contents.is_empty());
    }

    #[test]
    fn malformed() {
        for bad in [
            "not json",
            "[1]",
            r#"{"tool_input":{}}"#,
            r#"{"tool_name":"Write","tool_input":"x"}"#,
            r#"{"tool_name":"Write","tool_input":{"file_path":"a"}}"#,
            r#"{"tool_name":"MultiEdit","tool_input":{"file_path":"a","edits":[{"new_string":1}]}}"#,
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
