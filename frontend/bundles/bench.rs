//! The dissection benchmark that cargo xtask bench drives: one of the page's WASM modules (`wirelab_frontend::bundle`).

wirelab_frontend::bundle_entry!(Bench, bench);
