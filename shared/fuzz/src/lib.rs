//! What every libFuzzer binary of `fuzz_targets/` shares: the body runner
//! and a global allocator that caps the heap, so an input that makes a
//! parser or engine allocate past [`HEAP_LIMIT`] aborts, and libFuzzer
//! saves it as a crash, even when the memory is never touched (a length
//! read from the wire and handed to `Vec::with_capacity`, which the
//! resident-memory limit would not see).
#![forbid(unsafe_code)]

use cap::Cap;
use std::alloc::System;

/// The most heap all live Rust allocations may hold at once. The inputs
/// are a few KiB, the engines' own state (the demo web site, the course's
/// mailboxes, the DNS zones) a few MiB, and no engine may buffer more
/// than its largest configured limit (10 MiB, the SMTP message size):
/// more than this means something allocated by a length it was told
/// rather than by what it received.
pub const HEAP_LIMIT: usize = 64 * 1024 * 1024;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, HEAP_LIMIT);

/// Runs the body of the target called `name` (see
/// `wirelab_shared::fuzzing::TARGETS`) over one input.
pub fn run(name: &str, data: &[u8]) {
    wirelab_shared::fuzzing::run(name, data);
}
