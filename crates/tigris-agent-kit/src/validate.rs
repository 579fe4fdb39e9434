//! Checks run before any request, so that invalid input never creates anything.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tigris_core::BucketName;

use crate::error::{Error, Operation, Result};

/// Validates a bucket name; `what` says which name it is, for the message.
pub(crate) fn bucket_name(operation: &Operation, what: &str, raw: &str) -> Result<BucketName> {
    BucketName::new(raw).map_err(|e| {
        Error::invalid_input(
            operation.clone(),
            format!(
                "the {what} {raw:?} is not a valid bucket name: {}",
                e.reason()
            ),
        )
        .with_source(e)
    })
}

/// The value of a setter the caller must call, or an
/// [`InvalidInput`](crate::ErrorKind::InvalidInput) error naming it.
pub(crate) fn required<T>(operation: &Operation, setter: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| {
        Error::invalid_input(
            operation.clone(),
            format!("{setter} is required: set it with .{setter}(...)"),
        )
    })
}

/// Checks that a credentials expiry, rounded down to the second as `tigris-iam` does, is in
/// the future, and that there are credentials for it to apply to.
pub(crate) fn expiry(
    operation: &Operation,
    with_credentials: bool,
    expires_at: Option<SystemTime>,
    now: SystemTime,
) -> Result<()> {
    let Some(at) = expires_at else {
        return Ok(());
    };
    if !with_credentials {
        return Err(Error::invalid_input(
            operation.clone(),
            "a credentials expiry was given without credentials(role)",
        ));
    }
    let rounded = at
        .duration_since(UNIX_EPOCH)
        .map(|d| UNIX_EPOCH + Duration::from_secs(d.as_secs()))
        .unwrap_or(UNIX_EPOCH);
    if rounded <= now {
        return Err(Error::invalid_input(
            operation.clone(),
            "the credentials expiry is not in the future",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> Operation {
        Operation::CreateWorkspace {
            bucket: "ws".into(),
        }
    }

    #[test]
    fn bucket_names_are_checked_with_the_reason() {
        let err = bucket_name(&op(), "fork name", "Bad_Name").unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not create workspace \"ws\": invalid input: the fork name \"Bad_Name\" is not a \
             valid bucket name: it may only contain lowercase letters, digits, '.' and '-'"
        );
        assert!(bucket_name(&op(), "bucket", "good-name").is_ok());
    }

    #[test]
    fn a_missing_required_setter_is_named_in_the_error() {
        let err = required::<&str>(&op(), "bucket", None).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(
            err.to_string()
                .ends_with("invalid input: bucket is required: set it with .bucket(...)"),
            "{err}"
        );
        assert_eq!(required(&op(), "bucket", Some("b")).unwrap(), "b");
    }

    #[test]
    fn expiries_must_be_in_the_future_to_the_second_and_need_credentials() {
        let now = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        assert!(expiry(&op(), true, None, now).is_ok());
        assert!(expiry(&op(), false, None, now).is_ok());
        assert!(expiry(&op(), true, Some(now + Duration::from_secs(1)), now).is_ok());
        for at in [now, now + Duration::from_millis(999), UNIX_EPOCH] {
            let err = expiry(&op(), true, Some(at), now).unwrap_err();
            assert!(err.to_string().contains("not in the future"), "{err}");
        }
        let err = expiry(&op(), false, Some(now + Duration::from_secs(60)), now).unwrap_err();
        assert!(err.to_string().contains("without credentials"), "{err}");
    }
}
