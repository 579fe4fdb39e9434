//! Reliability programs for the workspace, one binary each under `src/bin/`, run in file-name
//! order by `cargo xtask reliability [--quick]`, which writes their sections to
//! `docs/reliability.md`.
//!
//! Each program prints one markdown section (starting with `## <Title>`) to stdout and exits
//! non-zero when its goal is missed. `--quick` is the reduced form CI may run (seconds).
//!
//! ```
//! assert!(!tigris_reliability::quick_from(["matrix"]));
//! assert!(tigris_reliability::quick_from(["matrix", "--quick"]));
//! ```

pub mod bad_input;
pub mod crash;
pub mod load;
pub mod secrets;

/// Whether the program's arguments (the first being the program name) ask for `--quick`.
pub fn quick_from<I, S>(args: I) -> bool
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    args.into_iter().skip(1).any(|a| a.as_ref() == "--quick")
}

/// Whether this program was started with `--quick`: the reduced form (seconds, not minutes).
pub fn quick() -> bool {
    quick_from(std::env::args())
}
