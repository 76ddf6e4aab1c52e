//! Every suite test on the embedded store.

mod suite;
mod support;

use support::backends::Memory;

async fn no_cleanup(_: &Memory) {}

all_tests!(Memory, no_cleanup);
