//! Tigris options for `CreateBucket`: snapshots enabled, forks of another bucket, placement,
//! default storage class, public listing and soft delete.

use aws_sdk_s3::client::customize::CustomizableOperation;
use aws_sdk_s3::operation::create_bucket::builders::CreateBucketFluentBuilder;
use aws_sdk_s3::operation::create_bucket::{CreateBucketError, CreateBucketOutput};

use crate::bucket_settings::{Regions, StorageClass};
use crate::header::{self, AddHeaders};
use crate::names::{BucketName, SnapshotVersion};
use crate::soft_delete::Retention;

/// `CreateBucket` with Tigris options attached; finish with `.send().await` as usual.
pub type CreateBucketOperation =
    CustomizableOperation<CreateBucketOutput, CreateBucketError, CreateBucketFluentBuilder>;

/// Tigris options for `CreateBucket`, chainable and sent as signed headers of that one request.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_headers::prelude::*;
/// use tigris_headers::BucketName;
///
/// s3.create_bucket().bucket("datasets").enable_snapshots().send().await?;
///
/// let parent: BucketName = "datasets".parse()?;
/// s3.create_bucket().bucket("datasets-experiment").fork_of(&parent).send().await?;
/// # Ok(()) }
/// ```
///
/// Give each option once: the order in which per-call options apply is not specified, so
/// `fork_of(a).fork_of(b)` may fork either.
///
/// Tigris options come after the SDK setters: they turn the fluent builder into a customized
/// operation, which has no S3 setters left, so this does not compile:
///
/// ```compile_fail
/// # fn demo(s3: aws_sdk_s3::Client) {
/// use tigris_headers::prelude::*;
/// let _ = s3.create_bucket().enable_snapshots().bucket("datasets");
/// # }
/// ```
///
/// Only the `CreateBucket` builders have these methods:
///
/// ```compile_fail
/// # fn demo(s3: aws_sdk_s3::Client) {
/// use tigris_headers::prelude::*;
/// let _ = s3.put_object().bucket("b").key("k").enable_snapshots();
/// # }
/// ```
pub trait CreateBucketExt: sealed::Sealed {
    /// Creates the bucket with snapshots enabled (`X-Tigris-Enable-Snapshot: true`).
    ///
    /// Only buckets created this way (or forked from one) can take snapshots and be forked.
    fn enable_snapshots(self) -> CreateBucketOperation;

    /// Creates the bucket as a copy-on-write fork of `source` as it is now
    /// (`X-Tigris-Fork-Source-Bucket`). The source must have snapshots enabled; the fork
    /// inherits that setting.
    fn fork_of(self, source: &BucketName) -> CreateBucketOperation;

    /// Creates the bucket as a fork of `source` as it was at `snapshot`
    /// (`X-Tigris-Fork-Source-Bucket` and `X-Tigris-Fork-Source-Bucket-Snapshot`).
    ///
    /// ```no_run
    /// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use tigris_headers::prelude::*;
    ///
    /// let source = "datasets".parse()?;
    /// let version = s3.create_snapshot().bucket("datasets").send().await?;
    /// s3.create_bucket().bucket("datasets-restore").fork_of_snapshot(&source, &version).send().await?;
    /// # Ok(()) }
    /// ```
    fn fork_of_snapshot(
        self,
        source: &BucketName,
        snapshot: &SnapshotVersion,
    ) -> CreateBucketOperation;

    /// Places the bucket's data (`X-Tigris-Regions`); [`Regions::Global`], Tigris's default,
    /// sends nothing.
    ///
    /// ```no_run
    /// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use tigris_headers::bucket_settings::{Region, Regions, StorageClass};
    /// use tigris_headers::prelude::*;
    ///
    /// s3.create_bucket()
    ///     .bucket("archive")
    ///     .regions(Regions::dual(Region::Iad, Region::Sjc)?)
    ///     .storage_class(StorageClass::StandardIa)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn regions(self, regions: impl Into<Regions>) -> CreateBucketOperation;

    /// The storage class new objects get unless the upload names one (`X-Amz-Storage-Class`).
    fn storage_class(self, class: StorageClass) -> CreateBucketOperation;

    /// Whether anonymous requests may list the bucket
    /// (`X-Amz-Acl-Public-List-Objects-Enabled`); only meaningful with a `public-read` ACL
    /// (the SDK's own `.acl(BucketCannedAcl::PublicRead)`).
    fn public_listing(self, enabled: bool) -> CreateBucketOperation;

    /// Creates the bucket with soft delete on for `retention` (`X-Tigris-Soft-Delete: <days>`):
    /// deleted objects, and the bucket itself, stay recoverable that long (see
    /// [`soft_delete`](crate::soft_delete)).
    fn enable_soft_delete(self, retention: Retention) -> CreateBucketOperation;
}

impl CreateBucketExt for CreateBucketFluentBuilder {
    fn enable_snapshots(self) -> CreateBucketOperation {
        self.customize().enable_snapshots()
    }

    fn fork_of(self, source: &BucketName) -> CreateBucketOperation {
        self.customize().fork_of(source)
    }

    fn fork_of_snapshot(
        self,
        source: &BucketName,
        snapshot: &SnapshotVersion,
    ) -> CreateBucketOperation {
        self.customize().fork_of_snapshot(source, snapshot)
    }

    fn regions(self, regions: impl Into<Regions>) -> CreateBucketOperation {
        self.customize().regions(regions)
    }

    fn storage_class(self, class: StorageClass) -> CreateBucketOperation {
        self.customize().storage_class(class)
    }

    fn public_listing(self, enabled: bool) -> CreateBucketOperation {
        self.customize().public_listing(enabled)
    }

    fn enable_soft_delete(self, retention: Retention) -> CreateBucketOperation {
        self.customize().enable_soft_delete(retention)
    }
}

impl CreateBucketExt for CreateBucketOperation {
    fn enable_snapshots(self) -> CreateBucketOperation {
        self.interceptor(AddHeaders::new(header::ENABLE_SNAPSHOT, "true"))
    }

    fn fork_of(self, source: &BucketName) -> CreateBucketOperation {
        self.interceptor(AddHeaders::new(header::FORK_SOURCE_BUCKET, source.as_str()))
    }

    fn fork_of_snapshot(
        self,
        source: &BucketName,
        snapshot: &SnapshotVersion,
    ) -> CreateBucketOperation {
        self.interceptor(
            AddHeaders::new(header::FORK_SOURCE_BUCKET, source.as_str())
                .with(header::FORK_SOURCE_SNAPSHOT, snapshot.as_str()),
        )
    }

    fn regions(self, regions: impl Into<Regions>) -> CreateBucketOperation {
        match regions.into() {
            Regions::Global => self,
            placed => self.interceptor(AddHeaders::new(header::REGIONS, placed.to_string())),
        }
    }

    fn storage_class(self, class: StorageClass) -> CreateBucketOperation {
        self.interceptor(AddHeaders::new(header::STORAGE_CLASS, class.as_str()))
    }

    fn public_listing(self, enabled: bool) -> CreateBucketOperation {
        self.interceptor(AddHeaders::new(
            header::PUBLIC_LIST_OBJECTS,
            if enabled { "true" } else { "false" },
        ))
    }

    fn enable_soft_delete(self, retention: Retention) -> CreateBucketOperation {
        self.interceptor(AddHeaders::new(
            header::SOFT_DELETE,
            retention.as_days().to_string(),
        ))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::CreateBucketFluentBuilder {}
    impl Sealed for super::CreateBucketOperation {}
}
