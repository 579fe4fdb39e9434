//! Shared pieces of the `secrets` program.
