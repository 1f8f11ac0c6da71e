//! The peer-to-peer lessons: swarms, the peer wire, the DHT and flooding: one of the page's WASM modules (`wirelab_frontend::bundle`).

wirelab_frontend::bundle_entry!(P2p, p2p);
