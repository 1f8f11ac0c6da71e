//! The SMTP, POP3 and IMAP workbenches: one of the page's WASM modules (`wirelab_frontend::bundle`).

wirelab_frontend::bundle_entry!(Mail, mail);
