//! The HTTP layer: the listener and outer service, SigV4 verification, request admission
//! (fault injection, peer address, authorization) and the routing of Tigris's own endpoints.

pub(crate) mod admit;
pub(crate) mod auth;
pub(crate) mod faults;
pub(crate) mod form;
pub(crate) mod routes;
pub(crate) mod server;
pub(crate) mod sigv4;
