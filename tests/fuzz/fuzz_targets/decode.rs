//! Any bytes, decoded in both layouts: an error or a message, never a
//! panic; a message decoded re-encodes to bytes that decode to it again.
#![no_main]

use leakless::protocol::{Layout, decode_with, encode_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    for layout in [Layout::Current, Layout::Aeron1_15] {
        if let Ok(message) = decode_with(layout, bytes) {
            let again = encode_with(layout, &message);
            assert_eq!(
                decode_with(layout, &again).as_ref(),
                Ok(&message),
                "a decoded message round-trips"
            );
        }
    }
});
