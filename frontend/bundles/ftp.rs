//! The FTP workbench: one of the page's WASM modules (`wirelab_frontend::bundle`).

wirelab_frontend::bundle_entry!(Ftp, ftp);
