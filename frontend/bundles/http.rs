//! The HTTP workbench, the response-time lab and the caching calculators: one of the page's WASM modules (`wirelab_frontend::bundle`).

wirelab_frontend::bundle_entry!(Http, http);
