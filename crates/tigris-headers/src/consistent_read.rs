//! Consistent reads: `X-Tigris-CAS: true` on `GetObject` and `HeadObject`.

use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::operation::head_object::builders::HeadObjectFluentBuilder;

use crate::header::{self, AddHeaders};
use crate::read_at_snapshot::{GetObjectOperation, HeadObjectOperation};

/// Read from the object's home region, skipping caches (`X-Tigris-CAS: true`).
///
/// Implemented by the `GetObject` and `HeadObject` builders. Use it to read back what a
/// conditional write (`if_match`, `if_none_match`) just wrote, or before deciding on the ETag
/// for the next one. Tigris documents that global and dual-region buckets are only eventually
/// consistent across regions even so; conditional writes from several regions need single- or
/// multi-region buckets.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_headers::prelude::*;
///
/// let head = s3.head_object().bucket("jobs").key("lock").consistent_read().send().await?;
/// let etag = head.e_tag().unwrap_or_default();
/// s3.put_object().bucket("jobs").key("lock").if_match(etag).send().await?;
/// # Ok(()) }
/// ```
///
/// Only reads take the header, so write builders do not have the method:
///
/// ```compile_fail
/// # fn demo(s3: aws_sdk_s3::Client) {
/// use tigris_headers::prelude::*;
/// let _ = s3.put_object().bucket("b").key("k").consistent_read();
/// # }
/// ```
pub trait ConsistentReadExt: sealed::Sealed {
    /// The operation with the option attached, ready to `.send()`.
    type Operation;

    /// Reads the object from its home region, bypassing caches.
    fn consistent_read(self) -> Self::Operation;
}

macro_rules! consistent_read {
    ($builder:ty, $operation:ty) => {
        impl ConsistentReadExt for $builder {
            type Operation = $operation;
            fn consistent_read(self) -> $operation {
                self.customize().consistent_read()
            }
        }

        impl ConsistentReadExt for $operation {
            type Operation = $operation;
            fn consistent_read(self) -> $operation {
                self.interceptor(AddHeaders::new(header::CAS, "true"))
            }
        }

        impl sealed::Sealed for $builder {}
        impl sealed::Sealed for $operation {}
    };
}

consistent_read!(GetObjectFluentBuilder, GetObjectOperation);
consistent_read!(HeadObjectFluentBuilder, HeadObjectOperation);

mod sealed {
    pub trait Sealed {}
}
