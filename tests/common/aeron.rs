//! Helpers for the tests over real Aeron (feature `aeron`).

use leakless::aeron::AeronDriver;
use leakless::aeron::testing::SteppedDriver;
use leakless::connect::{Backoff, Cleanup, ConnectConfig, StateName, connect_with};

/// Holds `media` and makes `attempts` connects, each of which must time out
/// in Pending: nothing can be created while the driver is held. `media` is
/// still held on return.
pub fn time_out_while_held<C: Cleanup>(
    media: &SteppedDriver,
    driver: &AeronDriver,
    config: &ConnectConfig,
    attempts: usize,
) {
    media.hold();
    for _ in 0..attempts {
        let failed =
            match connect_with::<_, C>(driver.clone(), config.clone(), &mut Backoff::default()) {
                Ok(_) => panic!("nothing can be created while the driver is held"),
                Err(failed) => failed,
            };
        assert_eq!(
            failed.error.timed_out_in(),
            Some(StateName::Pending),
            "{}",
            failed.error
        );
    }
}
