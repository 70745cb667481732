//! `docker buildx bake`: every target of a spec in one command, as CI runs it.

use kiln_e2e::*;
use std::process::Command;

#[test]
fn bake_builds_every_distro_and_route_of_hello() {
    if !engine_ready() {
        return;
    }
    let out = tempfile::tempdir().expect("temporary directory");
    let dest = out.path().display().to_string();
    let o = bake(&[("OUT", dest.as_str())], &[]);
    assert!(o.status.success(), "bake failed:\n{}", text(&o));
    for (distro, suffix) in [("bookworm", "debian12u1"), ("trixie", "debian13u1")] {
        let dir = out.path().join(distro);
        let deb = format!("hello_2.10-{suffix}_amd64.deb");
        assert!(
            file_names(&dir).contains(&deb),
            "{distro}: {:?}",
            file_names(&dir)
        );
        let run = install_and_run(&dir, distro, &deb, "hello");
        assert_eq!(String::from_utf8_lossy(&run.stdout), "Hello, world!\n");
        let image = format!("hello:{distro}");
        let run = kiln_e2e::run(Command::new("docker").args(["run", "--rm", &image]));
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            "Hello, world!\n",
            "{image}: {}",
            text(&run)
        );
    }
}
