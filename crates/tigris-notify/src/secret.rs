//! The webhook secrets: a bearer token and a basic-auth password.
//!
//! Both are their own types so they cannot be printed by accident: `Debug` is redacted, there is
//! no `Display` and no `Serialize`, the memory is zeroed on drop, and the one way to read them is
//! `expose_secret()`, easy to find in review.

use std::fmt;

use zeroize::Zeroizing;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps `secret`. Validation happens where it is used (see
            /// [`NotificationConfigBuilder::build`](crate::NotificationConfigBuilder::build)).
            pub fn new(secret: impl Into<String>) -> Self {
                Self(Zeroizing::new(secret.into()))
            }

            /// The secret itself. The only way to read it.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(** redacted **)"))
            }
        }

        impl From<String> for $name {
            fn from(secret: String) -> Self {
                Self::new(secret)
            }
        }

        impl From<&str> for $name {
            fn from(secret: &str) -> Self {
                Self::new(secret)
            }
        }
    };
}

secret_type! {
    /// The token Tigris sends to the webhook as `Authorization: Bearer <token>`.
    ///
    /// ```
    /// let token = tigris_notify::WebhookToken::new("s3cr3t");
    /// assert_eq!(format!("{token:?}"), "WebhookToken(** redacted **)");
    /// ```
    WebhookToken
}

secret_type! {
    /// The password Tigris sends to the webhook in `Authorization: Basic base64(user:password)`.
    ///
    /// ```
    /// let password = tigris_notify::WebhookPassword::new("s3cr3t");
    /// assert_eq!(format!("{password:?}"), "WebhookPassword(** redacted **)");
    /// ```
    WebhookPassword
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let token = WebhookToken::new("tok-not-for-logs");
        let password = WebhookPassword::from("pw-not-for-logs");
        for shown in [
            format!("{token:?}"),
            format!("{token:#?}"),
            format!("{password:?}"),
            format!("{password:#?}"),
        ] {
            assert!(!shown.contains("not-for-logs"), "{shown}");
            assert!(shown.ends_with("(** redacted **)"), "{shown}");
        }
        assert_eq!(token.expose_secret(), "tok-not-for-logs");
        assert_eq!(password.expose_secret(), "pw-not-for-logs");
    }
}
