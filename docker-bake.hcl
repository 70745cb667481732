# Every target of specs/hello.yml in one command, as CI builds a package for all its distros:
#
#   docker buildx bake                 # .debs under out/<distro>/, images hello:<distro>
#   OUT=/tmp/pkgs docker buildx bake deb
#
# BuildKit runs the targets side by side and shares their common steps.

variable "OUT" {
  default = "out"
}

group "default" {
  targets = ["deb", "container"]
}

target "_hello" {
  context    = "."
  dockerfile = "specs/hello.yml"
}

target "deb" {
  inherits = ["_hello"]
  name     = "deb-${distro}"
  matrix   = { distro = ["bookworm", "trixie"] }
  target   = "${distro}/deb"
  output   = ["type=local,dest=${OUT}/${distro}"]
}

target "container" {
  inherits = ["_hello"]
  name     = "container-${distro}"
  matrix   = { distro = ["bookworm", "trixie"] }
  target   = "${distro}/container"
  tags     = ["hello:${distro}"]
}
