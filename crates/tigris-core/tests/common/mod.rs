//! The scripted loopback server and its SDK configs, from tigris-test-support.
#![allow(unused_imports)] // each test binary uses a different part

pub(crate) use tigris_test_support::scripted::*;
