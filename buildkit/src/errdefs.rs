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
pub fn source_location(filename: &str, data: &[u8], language: &str, start: u32, end: u32) -> Any {
    let value = json!({
        "info": {
            "filename": filename,
            "data": base64::engine::general_purpose::STANDARD.encode(data),
            "language": language,
        },
        "ranges": [{ "start": { "line": start }, "end": { "line": end } }],
    });
    Any {
        type_url: SOURCE_TYPE_URL.to_string(),
        value: value.to_string().into_bytes(),
    }
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
        let any = source_location("spec.yml", b"a: 1\n", "YAML", 1, 1);
        let v: serde_json::Value = serde_json::from_slice(&any.value).unwrap();
        assert_eq!(v["info"]["data"], "YTogMQo=");
        assert_eq!(v["ranges"][0]["start"]["line"], 1);
        assert_eq!(any.type_url, SOURCE_TYPE_URL);
    }
}
