//! Tigris options for `DeleteBucket`: force delete.

use aws_sdk_s3::client::customize::CustomizableOperation;
use aws_sdk_s3::operation::delete_bucket::builders::DeleteBucketFluentBuilder;
use aws_sdk_s3::operation::delete_bucket::{DeleteBucketError, DeleteBucketOutput};

use crate::header::{self, AddHeaders};

/// `DeleteBucket` with Tigris options attached; finish with `.send().await` as usual.
pub type DeleteBucketOperation =
    CustomizableOperation<DeleteBucketOutput, DeleteBucketError, DeleteBucketFluentBuilder>;

/// Tigris options for `DeleteBucket`.
///
/// To delete one snapshot rather than the bucket, use
/// [`TigrisClientExt::delete_snapshot`](crate::TigrisClientExt::delete_snapshot).
///
/// Only the `DeleteBucket` builders have these methods:
///
/// ```compile_fail
/// # fn demo(s3: aws_sdk_s3::Client) {
/// use tigris_headers::prelude::*;
/// let _ = s3.delete_object().bucket("b").key("k").force_delete();
/// # }
/// ```
pub trait DeleteBucketExt: sealed::Sealed {
    /// Deletes the bucket even if it still holds objects (`Tigris-Force-Delete: true`).
    ///
    /// The objects are gone with it; snapshots go too. Tigris still refuses to delete a bucket
    /// that other buckets were forked from.
    ///
    /// ```no_run
    /// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use tigris_headers::prelude::*;
    ///
    /// s3.delete_bucket().bucket("scratch").force_delete().send().await?;
    /// # Ok(()) }
    /// ```
    fn force_delete(self) -> DeleteBucketOperation;
}

impl DeleteBucketExt for DeleteBucketFluentBuilder {
    fn force_delete(self) -> DeleteBucketOperation {
        self.customize().force_delete()
    }
}

impl DeleteBucketExt for DeleteBucketOperation {
    fn force_delete(self) -> DeleteBucketOperation {
        self.interceptor(AddHeaders::new(header::FORCE_DELETE, "true"))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::DeleteBucketFluentBuilder {}
    impl Sealed for super::DeleteBucketOperation {}
}
