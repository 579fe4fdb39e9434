//! Shared pieces of the `bad_input` program.
