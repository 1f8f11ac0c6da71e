//! The sockets workbench (the uppercase servers): one of the page's WASM modules (`wirelab_frontend::bundle`).

wirelab_frontend::bundle_entry!(Sockets, sockets);
