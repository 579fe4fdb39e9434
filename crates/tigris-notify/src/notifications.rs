//! Setting and clearing a bucket's object notifications (`PATCH /{bucket}`).

use std::fmt;

use serde::Serialize;
use tigris_core::BucketName;

use crate::error::{Error, Result};
use crate::secret::{WebhookPassword, WebhookToken};
use crate::webhook::WebhookAuth;
use tigris_core::transport::{SignedTransport, TigrisRequest};

/// Sets and clears object notifications (webhooks) on buckets, over a [`SignedTransport`].
///
/// ```no_run
/// # async fn _demo(sdk: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_notify::{NotificationConfig, Notifications, SignedTransport};
/// let notifications = Notifications::new(SignedTransport::new(sdk)?);
/// let config = NotificationConfig::builder("https://agents.example.com/hook")
///     .filter(r#"WHERE `key` REGEXP "^results/""#)
///     .token("s3cr3t")
///     .build()?;
/// let bucket = "agent-results".parse()?;
/// notifications.set(&bucket, &config).await?;
/// notifications.clear(&bucket).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Notifications {
    transport: SignedTransport,
}

impl Notifications {
    /// Object notifications over `transport`.
    pub fn new(transport: SignedTransport) -> Self {
        Self { transport }
    }

    /// The transport requests go through.
    pub fn transport(&self) -> &SignedTransport {
        &self.transport
    }

    /// Makes Tigris POST an event to the config's webhook for every matching object change in
    /// `bucket`, replacing the bucket's previous notification settings.
    ///
    /// # Errors
    /// The classified kind of Tigris's answer, e.g. [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
    /// for `400 InvalidArgument` (a filter it cannot parse) or
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for `404 NoSuchBucket`;
    /// [`ErrorKind::Transient`](crate::ErrorKind::Transient) when no answer came.
    #[tracing::instrument(skip_all, fields(bucket = %bucket))]
    pub async fn set(&self, bucket: &BucketName, config: &NotificationConfig) -> Result<()> {
        self.patch(bucket, config.to_json(), "setting").await
    }

    /// Removes the bucket's notification settings: Tigris stops calling the webhook.
    ///
    /// # Errors
    /// As for [`set`](Self::set).
    #[tracing::instrument(skip_all, fields(bucket = %bucket))]
    pub async fn clear(&self, bucket: &BucketName) -> Result<()> {
        self.patch(
            bucket,
            br#"{"object_notifications":{}}"#.to_vec(),
            "clearing",
        )
        .await
    }

    async fn patch(&self, bucket: &BucketName, body: Vec<u8>, verb: &str) -> Result<()> {
        let request = TigrisRequest::new(http::Method::PATCH)
            .bucket(bucket.clone())
            .json(body);
        self.transport.send(&request).await.map_err(|e| {
            let operation = if verb == "clearing" {
                "ClearNotifications"
            } else {
                "SetNotifications"
            };
            Error::from_transport(
                format_args!("{verb} the notifications of bucket {:?}", bucket.as_str()),
                e,
            )
            .with_operation(operation)
        })?;
        Ok(())
    }
}

/// Where and how Tigris delivers a bucket's object events: webhook URL, optional filter,
/// optional auth. Built and validated by [`NotificationConfig::builder`], so an invalid config
/// never reaches the network.
///
/// `Debug` shows the URL without credentials or query, and redacts the token and password.
#[derive(Clone)]
pub struct NotificationConfig {
    url: String,
    filter: Option<String>,
    auth: Option<Auth>,
}

#[derive(Clone)]
enum Auth {
    Token(WebhookToken),
    Basic {
        username: String,
        password: WebhookPassword,
    },
}

impl NotificationConfig {
    /// Starts a config that delivers to `url` (http or https, with a host).
    pub fn builder(url: impl Into<String>) -> NotificationConfigBuilder {
        NotificationConfigBuilder {
            url: url.into(),
            ..NotificationConfigBuilder::default()
        }
    }

    /// The webhook URL, as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The event filter, e.g. ``WHERE `key` REGEXP "^results/"``; `None` means every event.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// A verifier for the `Authorization` header Tigris will send with this config, for the
    /// receiving side; `None` when the config has no auth.
    pub fn webhook_auth(&self) -> Option<WebhookAuth> {
        match self.auth.as_ref()? {
            Auth::Token(token) => Some(WebhookAuth::bearer(token.clone())),
            Auth::Basic { username, password } => {
                Some(WebhookAuth::basic(username.clone(), password.clone()))
            }
        }
    }

    /// The `PATCH /{bucket}` body. The one place the secrets are written out.
    fn to_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            object_notifications: Settings<'a>,
        }
        #[derive(Serialize)]
        struct Settings<'a> {
            enabled: bool,
            web_hook: &'a str,
            filter: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            auth: Option<AuthBody<'a>>,
        }
        #[derive(Serialize)]
        #[serde(untagged)]
        enum AuthBody<'a> {
            Token {
                token: &'a str,
            },
            Basic {
                basic_user: &'a str,
                basic_pass: &'a str,
            },
        }
        let auth = self.auth.as_ref().map(|auth| match auth {
            Auth::Token(token) => AuthBody::Token {
                token: token.expose_secret(),
            },
            Auth::Basic { username, password } => AuthBody::Basic {
                basic_user: username,
                basic_pass: password.expose_secret(),
            },
        });
        let body = Body {
            object_notifications: Settings {
                enabled: true,
                web_hook: &self.url,
                filter: self.filter.as_deref().unwrap_or(""),
                auth,
            },
        };
        // Serialising borrowed strings and a bool into a Vec cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl fmt::Debug for NotificationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { url, filter, auth } = self;
        f.debug_struct("NotificationConfig")
            .field("url", &redacted_url(url))
            .field("filter", filter)
            .field("auth", auth)
            .finish()
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(token) => f.debug_tuple("Token").field(token).finish(),
            Self::Basic { username, password } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", password)
                .finish(),
        }
    }
}

/// The URL without user info, query and fragment, which may carry credentials.
fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => {
            let mut shown = format!(
                "{}://{}",
                parsed.scheme(),
                parsed.host_str().unwrap_or_default()
            );
            if let Some(port) = parsed.port() {
                shown.push_str(&format!(":{port}"));
            }
            shown.push_str(parsed.path());
            if parsed.query().is_some() || parsed.fragment().is_some() {
                shown.push_str("?** redacted **");
            }
            shown
        }
        Err(_) => "** unparsable URL **".to_owned(),
    }
}

/// Builds a [`NotificationConfig`]; start from [`NotificationConfig::builder`].
///
/// Auth is either a bearer [`token`](Self::token), or a [`username`](Self::username) and
/// [`password`](Self::password) for basic auth, or nothing.
#[derive(Clone, Default)]
pub struct NotificationConfigBuilder {
    url: String,
    filter: Option<String>,
    token: Option<WebhookToken>,
    username: Option<String>,
    password: Option<WebhookPassword>,
}

impl fmt::Debug for NotificationConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            url,
            filter,
            token,
            username,
            password,
        } = self;
        f.debug_struct("NotificationConfigBuilder")
            .field("url", &redacted_url(url))
            .field("filter", filter)
            .field("token", token)
            .field("username", username)
            .field("password", password)
            .finish()
    }
}

impl NotificationConfigBuilder {
    /// Only events matching this Tigris filter are delivered, e.g. ``WHERE `key` REGEXP
    /// "^results/"`` or ``WHERE `Event-Type` = "OBJECT_DELETED"``. Tigris checks the syntax.
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Tigris sends `Authorization: Bearer <token>`. Excludes basic auth.
    pub fn token(mut self, token: impl Into<WebhookToken>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The basic-auth user; needs a [`password`](Self::password). Excludes a token.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The basic-auth password; needs a [`username`](Self::username). Excludes a token.
    pub fn password(mut self, password: impl Into<WebhookPassword>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Checks everything and builds the config.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the URL does not parse,
    /// is not http or https, has no host, or has surrounding whitespace; when a token is given
    /// with a username or password; when only one of username and password is given; when the
    /// filter, token, username or password is empty or whitespace; when the username contains
    /// `:`; or when a value contains control characters (they go into an HTTP header).
    pub fn build(self) -> Result<NotificationConfig> {
        let Self {
            url,
            filter,
            token,
            username,
            password,
        } = self;
        check_url(&url)?;
        if filter.as_deref().is_some_and(|f| f.trim().is_empty()) {
            return Err(Error::invalid_input(
                "the filter must not be empty; leave it unset to receive every event",
            ));
        }
        let auth = match (token, username, password) {
            (None, None, None) => None,
            (Some(token), None, None) => {
                check_header_text("webhook token", token.expose_secret())?;
                Some(Auth::Token(token))
            }
            (Some(_), _, _) => {
                return Err(Error::invalid_input(
                    "pass either a token or a username and password, not both",
                ));
            }
            (None, Some(username), Some(password)) => {
                check_header_text("webhook username", &username)?;
                if username.contains(':') {
                    return Err(Error::invalid_input(
                        "the webhook username must not contain ':'",
                    ));
                }
                check_header_text("webhook password", password.expose_secret())?;
                Some(Auth::Basic { username, password })
            }
            (None, _, _) => {
                return Err(Error::invalid_input(
                    "a webhook username and password must be given together",
                ));
            }
        };
        Ok(NotificationConfig { url, filter, auth })
    }
}

fn check_url(url: &str) -> Result<()> {
    if url.trim().is_empty() {
        return Err(Error::invalid_input("the webhook URL must not be empty"));
    }
    if url.trim() != url {
        return Err(Error::invalid_input(
            "the webhook URL must not have leading or trailing whitespace",
        ));
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::invalid_input("the webhook URL is not a valid URL").with_source(e))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid_input(
            "the webhook URL must use http or https",
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input("the webhook URL must have a host"));
    }
    Ok(())
}

fn check_header_text(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(format!(
            "the {what} must not be empty or whitespace"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!(
            "the {what} must not contain control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    const URL: &str = "https://hooks.example.com/tigris";

    fn body(config: &NotificationConfig) -> serde_json::Value {
        serde_json::from_slice(&config.to_json()).unwrap()
    }

    fn rejected(builder: NotificationConfigBuilder) -> String {
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        err.to_string()
    }

    #[test]
    fn body_without_auth_or_filter_has_an_empty_filter_and_no_auth() {
        let config = NotificationConfig::builder(URL).build().unwrap();
        assert_eq!(
            body(&config),
            json!({"object_notifications": {"enabled": true, "web_hook": URL, "filter": ""}})
        );
    }

    #[test]
    fn body_with_token_and_filter() {
        let filter = r#"WHERE `key` REGEXP "^results/""#;
        let config = NotificationConfig::builder(URL)
            .filter(filter)
            .token("tok")
            .build()
            .unwrap();
        assert_eq!(
            body(&config),
            json!({"object_notifications": {"enabled": true, "web_hook": URL, "filter": filter, "auth": {"token": "tok"}}})
        );
    }

    #[test]
    fn body_with_basic_auth() {
        let config = NotificationConfig::builder("http://10.0.0.5:8080/hook")
            .username("u")
            .password("p")
            .build()
            .unwrap();
        assert_eq!(
            body(&config),
            json!({"object_notifications": {"enabled": true, "web_hook": "http://10.0.0.5:8080/hook", "filter": "",
                   "auth": {"basic_user": "u", "basic_pass": "p"}}})
        );
    }

    #[test]
    fn body_keeps_the_python_key_order() {
        let config = NotificationConfig::builder(URL).token("t").build().unwrap();
        let text = String::from_utf8(config.to_json()).unwrap();
        assert_eq!(
            text,
            r#"{"object_notifications":{"enabled":true,"web_hook":"https://hooks.example.com/tigris","filter":"","auth":{"token":"t"}}}"#
        );
    }

    #[test]
    fn urls_must_parse_be_http_and_have_a_host() {
        for (url, why) in [
            ("", "must not be empty"),
            ("   ", "must not be empty"),
            (" https://a.example", "whitespace"),
            ("not a url", "not a valid URL"),
            ("/relative/path", "not a valid URL"),
            ("ftp://files.example.com/x", "http or https"),
            ("mailto:ops@example.com", "http or https"),
            ("https://", "not a valid URL"),
            ("file:///etc/passwd", "http or https"),
        ] {
            let message = rejected(NotificationConfig::builder(url));
            assert!(message.contains(why), "{url:?}: {message}");
        }
        assert!(
            NotificationConfig::builder("http://localhost:3000/x?y=1")
                .build()
                .is_ok()
        );
    }

    #[test]
    fn token_and_basic_auth_are_exclusive() {
        for builder in [
            NotificationConfig::builder(URL)
                .token("t")
                .username("u")
                .password("p"),
            NotificationConfig::builder(URL).token("t").username("u"),
            NotificationConfig::builder(URL).token("t").password("p"),
        ] {
            assert!(rejected(builder).contains("not both"));
        }
    }

    #[test]
    fn basic_auth_needs_both_parts() {
        assert!(rejected(NotificationConfig::builder(URL).username("u")).contains("together"));
        assert!(rejected(NotificationConfig::builder(URL).password("p")).contains("together"));
    }

    #[test]
    fn empty_or_whitespace_values_are_rejected() {
        for builder in [
            NotificationConfig::builder(URL).token(""),
            NotificationConfig::builder(URL).token(" \t"),
            NotificationConfig::builder(URL).username("").password("p"),
            NotificationConfig::builder(URL)
                .username("u")
                .password("  "),
            NotificationConfig::builder(URL).filter(""),
            NotificationConfig::builder(URL).filter("  "),
        ] {
            assert!(rejected(builder).contains("empty"));
        }
    }

    #[test]
    fn header_breaking_values_are_rejected() {
        assert!(
            rejected(NotificationConfig::builder(URL).token("a\r\nX-Evil: 1")).contains("control")
        );
        assert!(
            rejected(
                NotificationConfig::builder(URL)
                    .username("a:b")
                    .password("p")
            )
            .contains("':'")
        );
    }

    #[test]
    fn errors_never_echo_the_rejected_values() {
        let message = rejected(NotificationConfig::builder(
            "ftp://user:hunter2@example.com/?token=abc",
        ));
        assert!(
            !message.contains("hunter2") && !message.contains("abc"),
            "{message}"
        );
        let message = rejected(
            NotificationConfig::builder(URL)
                .token("tok-123")
                .username("u"),
        );
        assert!(!message.contains("tok-123"), "{message}");
    }

    #[test]
    fn debug_redacts_secrets_and_url_credentials() {
        let url = "https://user:urlpass@hooks.example.com:8443/hook?sig=querysecret";
        let token = NotificationConfig::builder(url)
            .token("tokensecret")
            .build()
            .unwrap();
        let basic = NotificationConfig::builder(URL)
            .username("alice")
            .password("basicsecret")
            .build()
            .unwrap();
        let builder = NotificationConfig::builder(url)
            .token("tokensecret")
            .password("basicsecret");
        for shown in [
            format!("{token:?}"),
            format!("{token:#?}"),
            format!("{basic:?}"),
            format!("{basic:#?}"),
            format!("{builder:?}"),
            format!("{builder:#?}"),
        ] {
            for secret in ["tokensecret", "basicsecret", "urlpass", "querysecret"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
        assert_eq!(
            format!("{token:?}"),
            r#"NotificationConfig { url: "https://hooks.example.com:8443/hook?** redacted **", filter: None, auth: Some(Token(WebhookToken(** redacted **))) }"#
        );
        assert_eq!(
            format!("{basic:#?}"),
            r#"NotificationConfig {
    url: "https://hooks.example.com/tigris",
    filter: None,
    auth: Some(
        Basic {
            username: "alice",
            password: WebhookPassword(** redacted **),
        },
    ),
}"#
        );
    }

    #[test]
    fn webhook_auth_matches_the_config() {
        let config = NotificationConfig::builder(URL)
            .token("tok")
            .build()
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, "Bearer tok".parse().unwrap());
        assert!(
            config
                .webhook_auth()
                .unwrap()
                .verify_headers(&headers)
                .is_ok()
        );
        assert!(
            NotificationConfig::builder(URL)
                .build()
                .unwrap()
                .webhook_auth()
                .is_none()
        );
    }
}
