//! Fuzz target: arbitrary key bytes and proof JSON must never make the verifier panic.
//! Run with `cargo fuzz run verify_untrusted` from `verifier/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zkinfer_verifier::fuzzing::verify_untrusted(data);
});
