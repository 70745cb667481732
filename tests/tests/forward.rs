//! `targets.<key>.frontend`: a spec target handed to another frontend image. Here the other
//! frontend is kiln itself, which then builds the rest of the route from the forwarded spec.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;

#[test]
fn a_target_with_its_own_frontend_is_built_by_it() {
    if !engine_ready() {
        return;
    }
    let hello = std::fs::read_to_string(repo_root().join("specs/hello.yml")).expect("hello.yml");
    assert!(hello.contains("\nchangelog:\n"), "hello.yml has changed");
    let spec = hello.replace(
        "\nchangelog:\n",
        &format!(
            "\ntargets:\n  via-kiln:\n    frontend:\n      image: {FRONTEND_IMAGE}\n\nchangelog:\n"
        ),
    );
    let (dir, path) = spec_in_tempdir(&spec);
    let (out, o) = build_into(&path, "via-kiln/bookworm/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains(&format!("[kiln] forward spec.yml to {FRONTEND_IMAGE}")),
        "{log}"
    );
    let deb = "hello_2.10-debian12u1_amd64.deb";
    assert!(
        file_names(out.path()).contains(&deb.to_string()),
        "{:?}",
        file_names(out.path())
    );
    let run = install_and_run(out.path(), "bookworm", deb, "hello");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "Hello, world!\n");

    // The target list shows the other frontend's targets under the key.
    let o = kiln_e2e::list_targets(&path, dir.path());
    let listing = text(&o);
    assert!(o.status.success(), "{listing}");
    assert!(listing.contains("via-kiln/bookworm/deb"), "{listing}");
    assert!(listing.contains("bookworm/deb"), "{listing}");

    // The forwarded frontend's own errors still point at the user's spec.
    let o = build(&path, "via-kiln/xenial/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(log.contains("unknown target \"xenial/deb\""), "{log}");
}
