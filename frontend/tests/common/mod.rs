//! What several test files share.

use kiln_buildkit::options::BuildOpts;

/// Build options for `target`, and `--platform` when given.
pub fn opts(target: &str, platform: Option<&str>) -> BuildOpts {
    let mut o = BuildOpts::default();
    o.opts.insert("target".into(), target.into());
    if let Some(p) = platform {
        o.opts.insert("platform".into(), p.into());
    }
    o
}
