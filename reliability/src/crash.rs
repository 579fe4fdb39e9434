//! Shared pieces of the `crash` program.
