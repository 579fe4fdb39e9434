//! Who may read the console: a setting the shared state holds and the console checks on every
//! request.

use std::net::IpAddr;

/// Who may read the emulator's console at `/_console/`.
///
/// ```
/// use tigris_emulator::{ConsoleAccess, Emulator};
/// # async fn demo() -> std::io::Result<()> {
/// let emu = Emulator::builder().console(ConsoleAccess::Off).start().await?;
/// assert_eq!(emu.console_url(), None);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConsoleAccess {
    /// Served to clients on this machine only (a loopback peer address); others get `403`.
    /// The default.
    #[default]
    Loopback,
    /// Served to every client that can reach the port (`--console`). It shows bucket names,
    /// object keys and contents, key ids and policies (never secrets) without credentials.
    AnyPeer,
    /// Not served (`--no-console`): `/_console/` is an S3 request like any other, refused for
    /// its invalid bucket name.
    Off,
}

impl ConsoleAccess {
    /// Whether a client at `peer` is served.
    pub(super) fn admits(self, peer: IpAddr) -> bool {
        match self {
            Self::Loopback => peer.to_canonical().is_loopback(),
            Self::AnyPeer => true,
            Self::Off => false,
        }
    }
}
