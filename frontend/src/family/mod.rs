//! The package families: how a distro's packages are made, checked and installed. Each family
//! is a module; a distro is a row of data that names its family.

pub mod deb;
