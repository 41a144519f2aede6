//! libtorch rpath for test binaries that link it (through dreamfx-tiny's checkers): see
//! buildsupport/libtorch_rpath.rs.
include!("../buildsupport/libtorch_rpath.rs");
