//! Reliability programs for `docs/reliability.md`: each binary under `src/bin/` runs one
//! experiment against the emulator and prints one markdown section (`## <Title>`), exiting
//! non-zero when its goal is missed. Each accepts `--quick`, the reduced form CI may run.
//!
//! ```no_run
//! // cargo run --release -p tigris-reliability --bin load -- --quick
//! let quick = tigris_reliability::quick();
//! # drop(quick);
//! ```

pub mod bad_input;
pub mod crash;
pub mod load;
pub mod secrets;

/// Whether `--quick` was passed: the reduced form (seconds, not minutes).
pub fn quick() -> bool {
    std::env::args().skip(1).any(|a| a == "--quick")
}
