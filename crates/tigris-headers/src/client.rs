//! [`TigrisClientExt`]: the Tigris-only operations, as methods of `aws_sdk_s3::Client`;
//! [`TigrisTransportExt`]: the ones on Tigris endpoints outside the S3 API, as methods of the
//! workspace's [`SignedTransport`].

use aws_sdk_s3::Client;
use tigris_core::transport::SignedTransport;

use crate::account::{AccountStatsFluentBuilder, ListBucketsDetailedFluentBuilder};
use crate::bucket_info::BucketInfoFluentBuilder;
use crate::bucket_metadata::BucketMetadataFluentBuilder;
use crate::bucket_settings::UpdateBucketFluentBuilder;
use crate::bundle::BundleFluentBuilder;
use crate::fork::{ListForksFluentBuilder, MergeForkFluentBuilder, RebaseForkFluentBuilder};
use crate::presign::PresignUrlFluentBuilder;
use crate::rename::MoveObjectFluentBuilder;
use crate::snapshot::{
    CreateSnapshotFluentBuilder, DeleteSnapshotFluentBuilder, ListSnapshotsFluentBuilder,
};

/// Tigris operations that have no S3 equivalent, on the S3 client.
///
/// Each returns a small builder that ends in `.send().await`, returning this crate's
/// [`Error`](crate::Error). Names are accepted as strings or as validated names
/// ([`BucketName`](crate::BucketName), [`SnapshotVersion`](crate::SnapshotVersion)), and are
/// checked by `send()` before any request: invalid input is
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) and never reaches the network.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), tigris_headers::Error> {
/// use tigris_headers::TigrisClientExt;
///
/// let version = s3.create_snapshot("datasets").name("nightly").send().await?;
/// let snapshots = s3.list_snapshots("datasets").send_all().await?;
/// let info = s3.bucket_info("datasets").send().await?;
/// s3.move_object("datasets").from_key("a.txt").to_key("b.txt").send().await?;
/// s3.delete_snapshot("datasets", &version).send().await?;
/// # let _ = (snapshots, info);
/// # Ok(()) }
/// ```
pub trait TigrisClientExt: sealed::Sealed {
    /// Takes a snapshot of `bucket`, which must have snapshots enabled. See
    /// [`CreateSnapshotFluentBuilder`].
    fn create_snapshot(&self, bucket: impl AsRef<str>) -> CreateSnapshotFluentBuilder;

    /// Lists the snapshots of `bucket`. See [`ListSnapshotsFluentBuilder`].
    fn list_snapshots(&self, bucket: impl AsRef<str>) -> ListSnapshotsFluentBuilder;

    /// Deletes snapshot `version` of `bucket`, and nothing else. See
    /// [`DeleteSnapshotFluentBuilder`] for why this is its own entry point.
    fn delete_snapshot(
        &self,
        bucket: impl AsRef<str>,
        version: impl AsRef<str>,
    ) -> DeleteSnapshotFluentBuilder;

    /// Reads the snapshot and fork settings of `bucket`. See [`BucketInfoFluentBuilder`].
    fn bucket_info(&self, bucket: impl AsRef<str>) -> BucketInfoFluentBuilder;

    /// Moves an object within `bucket`, which Tigris calls a rename. See
    /// [`MoveObjectFluentBuilder`].
    ///
    /// Not named `rename_object`: the S3 client's own `rename_object` (S3 Express directory
    /// buckets only) would take precedence over an extension method of that name.
    fn move_object(&self, bucket: impl AsRef<str>) -> MoveObjectFluentBuilder;
}

impl TigrisClientExt for Client {
    fn create_snapshot(&self, bucket: impl AsRef<str>) -> CreateSnapshotFluentBuilder {
        CreateSnapshotFluentBuilder::new(self.clone(), bucket.as_ref().to_owned())
    }

    fn list_snapshots(&self, bucket: impl AsRef<str>) -> ListSnapshotsFluentBuilder {
        ListSnapshotsFluentBuilder::new(self.clone(), bucket.as_ref().to_owned())
    }

    fn delete_snapshot(
        &self,
        bucket: impl AsRef<str>,
        version: impl AsRef<str>,
    ) -> DeleteSnapshotFluentBuilder {
        DeleteSnapshotFluentBuilder::new(
            self.clone(),
            bucket.as_ref().to_owned(),
            version.as_ref().to_owned(),
        )
    }

    fn bucket_info(&self, bucket: impl AsRef<str>) -> BucketInfoFluentBuilder {
        BucketInfoFluentBuilder::new(self.clone(), bucket.as_ref().to_owned())
    }

    fn move_object(&self, bucket: impl AsRef<str>) -> MoveObjectFluentBuilder {
        MoveObjectFluentBuilder::new(self.clone(), bucket.as_ref().to_owned())
    }
}

/// Tigris operations on endpoints outside the S3 API (JSON listings, bucket metadata, fork
/// merge and rebase), on the [`SignedTransport`] built from the same `SdkConfig` as the S3
/// client.
///
/// As with [`TigrisClientExt`], each returns a builder ending in `.send().await`, and names
/// are checked before any request.
///
/// ```no_run
/// # async fn demo(sdk: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_headers::{SignedTransport, TigrisTransportExt};
///
/// let tigris = SignedTransport::new(sdk)?;
/// let forks = tigris.list_forks("datasets").into_paginator().items().await?;
/// let metadata = tigris.bucket_metadata("datasets").send().await?;
/// let merged = tigris.merge_fork("datasets-exp").into("datasets").send().await?;
/// let base = tigris.rebase_fork("datasets-exp-2").send().await?;
/// let link = tigris.presign_url("datasets", "train.csv").send().await?;
/// # let _ = (forks, metadata, merged, base, link);
/// # Ok(()) }
/// ```
pub trait TigrisTransportExt: sealed::Sealed {
    /// Lists the buckets forked from `bucket`. See [`ListForksFluentBuilder`].
    fn list_forks(&self, bucket: impl AsRef<str>) -> ListForksFluentBuilder;

    /// Reads the Tigris metadata of `bucket`. See [`BucketMetadataFluentBuilder`].
    fn bucket_metadata(&self, bucket: impl AsRef<str>) -> BucketMetadataFluentBuilder;

    /// Changes the settings of `bucket`, only those set on the builder. See
    /// [`UpdateBucketFluentBuilder`].
    fn update_bucket(&self, bucket: impl AsRef<str>) -> UpdateBucketFluentBuilder;

    /// Lists the account's buckets with placement, type, visibility and lineage. See
    /// [`ListBucketsDetailedFluentBuilder`].
    fn list_buckets_detailed(&self) -> ListBucketsDetailedFluentBuilder;

    /// The account's storage statistics. See [`AccountStatsFluentBuilder`].
    fn account_stats(&self) -> AccountStatsFluentBuilder;

    /// Merges `fork` into its parent, named with `.into(parent)`. See
    /// [`MergeForkFluentBuilder`].
    fn merge_fork(&self, fork: impl AsRef<str>) -> MergeForkFluentBuilder;

    /// Moves `fork`'s base to its parent's present. See [`RebaseForkFluentBuilder`].
    fn rebase_fork(&self, fork: impl AsRef<str>) -> RebaseForkFluentBuilder;

    /// Fetches many objects of `bucket` as one streamed tar. See [`BundleFluentBuilder`].
    fn bundle(&self, bucket: impl AsRef<str>) -> BundleFluentBuilder;

    /// A presigned GET (or, with `.put()`, PUT) URL for `key` in `bucket` from Tigris's
    /// presign endpoint. See [`PresignUrlFluentBuilder`].
    fn presign_url(&self, bucket: impl AsRef<str>, key: impl AsRef<str>)
    -> PresignUrlFluentBuilder;
}

impl TigrisTransportExt for SignedTransport {
    fn list_forks(&self, bucket: impl AsRef<str>) -> ListForksFluentBuilder {
        ListForksFluentBuilder::new(self.clone(), bucket.as_ref().to_owned())
    }

    fn bucket_metadata(&self, bucket: impl AsRef<str>) -> BucketMetadataFluentBuilder {
        BucketMetadataFluentBuilder::new(self.clone(), bucket.as_ref().to_owned())
    }

    fn update_bucket(&self, bucket: impl AsRef<str>) -> UpdateBucketFluentBuilder {
        UpdateBucketFluentBuilder::new(self.clone(), bucket.as_ref().to_owned())
    }

    fn list_buckets_detailed(&self) -> ListBucketsDetailedFluentBuilder {
        ListBucketsDetailedFluentBuilder::new(self.clone())
    }

    fn account_stats(&self) -> AccountStatsFluentBuilder {
        AccountStatsFluentBuilder::new(self.clone())
    }

    fn merge_fork(&self, fork: impl AsRef<str>) -> MergeForkFluentBuilder {
        MergeForkFluentBuilder::new(self.clone(), fork.as_ref().to_owned())
    }

    fn rebase_fork(&self, fork: impl AsRef<str>) -> RebaseForkFluentBuilder {
        RebaseForkFluentBuilder::new(self.clone(), fork.as_ref().to_owned())
    }

    fn bundle(&self, bucket: impl AsRef<str>) -> BundleFluentBuilder {
        BundleFluentBuilder::new(self.clone(), bucket.as_ref().to_owned())
    }

    fn presign_url(
        &self,
        bucket: impl AsRef<str>,
        key: impl AsRef<str>,
    ) -> PresignUrlFluentBuilder {
        PresignUrlFluentBuilder::new(
            self.clone(),
            bucket.as_ref().to_owned(),
            key.as_ref().to_owned(),
        )
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for aws_sdk_s3::Client {}
    impl Sealed for tigris_core::transport::SignedTransport {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::BehaviorVersion;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn builders_and_their_futures_can_be_spawned() {
        let s3 = Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .build(),
        );
        assert_send(&s3.create_snapshot("b").send());
        assert_send(&s3.list_snapshots("b").send());
        assert_send(&s3.list_snapshots("b").send_all());
        assert_send(&s3.delete_snapshot("b", "1").send());
        assert_send(&s3.bucket_info("b").send());
        assert_send(&s3.move_object("b").from_key("x").to_key("y").send());
        let sdk = crate::config::TigrisConfig::builder()
            .credentials(aws_sdk_s3::config::Credentials::new(
                "id", "secret", None, None, "test",
            ))
            .build();
        let tigris = SignedTransport::new(&sdk).unwrap();
        assert_send(&tigris.list_forks("b").send());
        assert_send(&tigris.list_forks("b").into_paginator().items());
        assert_send(&tigris.bucket_metadata("b").send());
        assert_send(&tigris.merge_fork("f").into("b").send());
        assert_send(&tigris.rebase_fork("f").send());
        assert_send(&tigris.update_bucket("b").cache_control("x").send());
        assert_send(&tigris.list_buckets_detailed().send());
        assert_send(&tigris.account_stats().send());
    }
}
