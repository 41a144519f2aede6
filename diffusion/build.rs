//! libtorch rpath for this crate's binaries: see buildsupport/libtorch_rpath.rs.
include!("../buildsupport/libtorch_rpath.rs");
