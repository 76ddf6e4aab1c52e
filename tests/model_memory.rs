//! The reference model (tests/model/) against the service on the embedded store, with store
//! faults. `PROPTEST_CASES` sets the number of cases (README, "The reference model").

mod model;
mod support;

use model::backends::FaultyMemory;

#[test]
fn histories_follow_the_model() {
    model::run::histories_follow_the_model::<FaultyMemory>(file!(), 256, 24);
}

#[test]
fn races_are_linearizable() {
    model::concurrent::races_are_linearizable::<FaultyMemory>(file!(), 256);
}
