//! The start page and the 404 page: what a first visit loads: one of the page's WASM modules (`wirelab_frontend::bundle`).

wirelab_frontend::bundle_entry!(Home, home);
