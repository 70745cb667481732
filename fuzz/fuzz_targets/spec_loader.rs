//! The spec loader never panics: any bytes are UTF-8 text or a located error
//! (`spec::text`); read as (lossy) UTF-8 they either load or give located errors, and what
//! follows a successful load (lint with arg substitution, per-target merging) and the
//! rendering of every error do not panic either.

#![no_main]

use kiln_spec::{self as spec, SpecErrors};
use libfuzzer_sys::fuzz_target;

const FILE: &str = "fuzz.yml";

/// Renders every error, one by one and all together (rendering is part of the loader).
fn render(errors: &SpecErrors) {
    for e in &errors.0 {
        let text = e.to_string();
        assert!(
            text.starts_with(FILE),
            "error not prefixed by the file name: {text}"
        );
    }
    let _ = errors.to_string();
}

fuzz_target!(|data: &[u8]| {
    if let Err(errors) = spec::text(FILE, data) {
        assert!(!errors.0.is_empty(), "text failed without an error");
        render(&errors);
    }
    let text = String::from_utf8_lossy(data);
    match spec::load(FILE, &text) {
        Ok(s) => {
            if let Err(errors) = spec::lint(FILE, &text) {
                render(&errors);
            }
            let _ = spec::for_target(&s, "bookworm");
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "load failed without an error");
            render(&errors);
        }
    }
});
