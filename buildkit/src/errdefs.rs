//! Typed error details BuildKit understands, so `docker build` can show where an error is.
//!
//! BuildKit decodes `google.protobuf.Any` details whose type URL ends in `+json` as JSON.

use crate::proto::google::protobuf::Any;
use base64::Engine;
use serde_json::json;

/// Type URL of BuildKit's source-location error detail.
pub const SOURCE_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Source+json";
/// Type URL of BuildKit's unsupported-subrequest error detail.
pub const SUBREQUEST_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

/// A detail that makes buildx print lines `start..=end` (1-based) of `data` under the error.
///
/// It carries only those lines and their context ([`crate::excerpt`]), so an error about a
/// large file stays small; `None` when there is nothing to show (no known line, or an
/// excerpt too large to send).
pub fn source_location(
    filename: &str,
    data: &[u8],
    language: &str,
    start: u32,
    end: u32,
) -> Option<Any> {
    let data = crate::excerpt::excerpt(data, [(start, end)])?;
    let value = json!({
        "info": {
            "filename": filename,
            "data": base64::engine::general_purpose::STANDARD.encode(data),
            "language": language,
        },
        "ranges": [{ "start": { "line": start }, "end": { "line": end } }],
    });
    Some(Any {
        type_url: SOURCE_TYPE_URL.to_string(),
        value: value.to_string().into_bytes(),
    })
}

/// A detail naming a subrequest the frontend does not support.
pub fn unsupported_subrequest(name: &str) -> Any {
    Any {
        type_url: SUBREQUEST_TYPE_URL.to_string(),
        value: json!({ "name": name }).to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_detail_is_json_with_base64_data() {
        let any = source_location("spec.yml", b"a: 1\n", "YAML", 1, 1).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&any.value).unwrap();
        assert_eq!(v["info"]["data"], "YTogMQo=");
        assert_eq!(v["ranges"][0]["start"]["line"], 1);
        assert_eq!(any.type_url, SOURCE_TYPE_URL);
        assert!(source_location("spec.yml", b"a: 1\n", "YAML", 0, 0).is_none());
    }

    #[test]
    fn source_detail_of_a_large_file_carries_only_its_lines() {
        // 3 MB: a 30,000-line block, then the line the error is about.
        let mut data = String::from("a: |\n");
        for i in 0..30_000 {
            data.push_str(&format!("  {i:0>96}\n"));
        }
        data.push_str("b: oops\nc: 1\n");
        let any = source_location("spec.yml", data.as_bytes(), "YAML", 30_002, 30_002).unwrap();
        assert!(any.value.len() < 64 << 10, "{} bytes", any.value.len());
        let v: serde_json::Value = serde_json::from_slice(&any.value).unwrap();
        let sent = base64::engine::general_purpose::STANDARD
            .decode(v["info"]["data"].as_str().unwrap())
            .unwrap();
        let sent = String::from_utf8(sent).unwrap();
        let lines: Vec<&str> = sent.split('\n').collect();
        assert_eq!(lines[30_001], "b: oops");
        assert_eq!(lines[30_000], data.lines().nth(30_000).unwrap());
        assert_eq!(lines[0], "");
    }
}
