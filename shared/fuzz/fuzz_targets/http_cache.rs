#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirelab_shared_fuzz::run("http_cache", data));
