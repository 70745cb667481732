//! Requests kiln hands to another frontend image through `gateway.v0`, as Dalec does: to a spec
//! target's own frontend (`targets.<key>.frontend`) and to a signer (`package_config.signer`).
//! The other frontend gets the build's options and inputs, its image as `source`, its
//! `cmdline`, the target key as `dalec.target`, and one input of kiln's.

use kiln_artifact::handoff;
use kiln_buildkit::llb::State;
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;
use std::collections::BTreeMap;

/// The options of a hand-off to `image`: `defaults` (which the build's own options override),
/// the build's options except `source`, `cmdline` and `dropped`, then `source`, `cmdline` and
/// `dalec.target` for the other frontend.
pub fn options(
    opts: &BuildOpts,
    defaults: BTreeMap<String, String>,
    dropped: &[&str],
    image: &str,
    cmdline: Option<&str>,
    key: &str,
) -> BTreeMap<String, String> {
    let mut out = defaults;
    out.extend(
        opts.opts
            .iter()
            .filter(|(k, _)| {
                !matches!(k.as_str(), "source" | "cmdline") && !dropped.contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    out.insert("source".into(), image.to_string());
    if let Some(cmdline) = cmdline {
        out.insert("cmdline".into(), cmdline.to_string());
    }
    out.insert(handoff::TARGET.into(), key.to_string());
    out
}

/// The inputs of a hand-off: the build's own, and `state` as `name`.
pub fn inputs(opts: &BuildOpts, name: &str, state: &State) -> BTreeMap<String, pb::Definition> {
    let mut out = opts.inputs.clone();
    out.insert(name.to_string(), state.marshal());
    out
}
