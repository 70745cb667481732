# private-apt.sh - sourced by engine.sh and buildkitd.sh: apt-get with a private
# configuration under $APT_DIR (its own sources.list, lists and cache), so packages are
# downloaded from the suites a script lists without touching the system's sources or state.

private_apt() {
    apt-get \
        -o "Dir::Etc::SourceList=$APT_DIR/sources.list" \
        -o Dir::Etc::SourceParts=/dev/null \
        -o "Dir::State::Lists=$APT_DIR/lists" \
        -o "Dir::Cache=$APT_DIR/cache" \
        -o Dir::Etc::Preferences=/dev/null \
        -o Dir::Etc::PreferencesParts=/dev/null \
        -o APT::Sandbox::User=root \
        -o Acquire::Languages=none \
        -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons-large::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons-large-hidpi::DefaultEnabled=false \
        "$@"
}
