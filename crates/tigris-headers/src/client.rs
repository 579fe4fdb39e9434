//! [`TigrisClientExt`]: the Tigris-only operations that are S3 requests with a Tigris header,
//! as methods of `aws_sdk_s3::Client`.

use aws_sdk_s3::Client;

use crate::bucket_info::BucketInfoFluentBuilder;
use crate::rename::MoveObjectFluentBuilder;
use crate::snapshot::{
    CreateSnapshotFluentBuilder, DeleteSnapshotFluentBuilder, ListSnapshotsFluentBuilder,
};
use crate::soft_delete::{PurgeDeletedObjectFluentBuilder, RestoreDeletedObjectFluentBuilder};

/// Tigris operations that have no S3 equivalent, on the S3 client.
///
/// Each returns a small builder with named setters that ends in `.send().await`, returning
/// this crate's [`Error`](crate::Error). Names are accepted as strings or as validated names
/// ([`BucketName`](crate::BucketName), [`SnapshotVersion`](crate::SnapshotVersion)), and are
/// checked by `send()` before any request: invalid or missing input is
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) and never reaches the network.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), tigris_headers::Error> {
/// use tigris_headers::TigrisClientExt;
///
/// let version = s3.create_snapshot().bucket("datasets").name("nightly").send().await?;
/// let snapshots = s3.list_snapshots().bucket("datasets").into_paginator().items().send();
/// let info = s3.bucket_info().bucket("datasets").send().await?;
/// s3.move_object().bucket("datasets").from_key("a.txt").to_key("b.txt").send().await?;
/// s3.delete_snapshot().bucket("datasets").version(&version).send().await?;
/// # let _ = (snapshots, info);
/// # Ok(()) }
/// ```
pub trait TigrisClientExt: sealed::Sealed {
    /// Takes a snapshot of a bucket, which must have snapshots enabled. See
    /// [`CreateSnapshotFluentBuilder`].
    fn create_snapshot(&self) -> CreateSnapshotFluentBuilder;

    /// Lists the snapshots of a bucket. See [`ListSnapshotsFluentBuilder`].
    fn list_snapshots(&self) -> ListSnapshotsFluentBuilder;

    /// Deletes one snapshot of a bucket, and nothing else. See
    /// [`DeleteSnapshotFluentBuilder`] for why this is its own entry point.
    fn delete_snapshot(&self) -> DeleteSnapshotFluentBuilder;

    /// Reads the snapshot and fork settings of a bucket. See [`BucketInfoFluentBuilder`].
    fn bucket_info(&self) -> BucketInfoFluentBuilder;

    /// Moves an object within a bucket, which Tigris calls a rename. See
    /// [`MoveObjectFluentBuilder`].
    ///
    /// Not named `rename_object`: the S3 client's own `rename_object` (S3 Express directory
    /// buckets only) would take precedence over an extension method of that name.
    fn move_object(&self) -> MoveObjectFluentBuilder;

    /// Brings a soft-deleted object back as its key's live object. See
    /// [`RestoreDeletedObjectFluentBuilder`].
    fn restore_deleted_object(&self) -> RestoreDeletedObjectFluentBuilder;

    /// Drops one soft-deleted version of an object for good. See
    /// [`PurgeDeletedObjectFluentBuilder`].
    fn purge_deleted_object(&self) -> PurgeDeletedObjectFluentBuilder;
}

impl TigrisClientExt for Client {
    fn create_snapshot(&self) -> CreateSnapshotFluentBuilder {
        CreateSnapshotFluentBuilder::new(self.clone(), String::new())
    }

    fn list_snapshots(&self) -> ListSnapshotsFluentBuilder {
        ListSnapshotsFluentBuilder::new(self.clone(), String::new())
    }

    fn delete_snapshot(&self) -> DeleteSnapshotFluentBuilder {
        DeleteSnapshotFluentBuilder::new(self.clone(), String::new(), String::new())
    }

    fn bucket_info(&self) -> BucketInfoFluentBuilder {
        BucketInfoFluentBuilder::new(self.clone(), String::new())
    }

    fn move_object(&self) -> MoveObjectFluentBuilder {
        MoveObjectFluentBuilder::new(self.clone(), String::new())
    }

    fn restore_deleted_object(&self) -> RestoreDeletedObjectFluentBuilder {
        RestoreDeletedObjectFluentBuilder::new(self.clone())
    }

    fn purge_deleted_object(&self) -> PurgeDeletedObjectFluentBuilder {
        PurgeDeletedObjectFluentBuilder::new(self.clone())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for aws_sdk_s3::Client {}
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
        assert_send(&s3.create_snapshot().bucket("b").send());
        assert_send(&s3.list_snapshots().bucket("b").send());
        assert_send(
            &s3.list_snapshots()
                .bucket("b")
                .into_paginator()
                .items()
                .send(),
        );
        assert_send(&s3.delete_snapshot().bucket("b").version("1").send());
        assert_send(&s3.bucket_info().bucket("b").send());
        assert_send(
            &s3.move_object()
                .bucket("b")
                .from_key("x")
                .to_key("y")
                .send(),
        );
        assert_send(&s3.restore_deleted_object().bucket("b").key("k").send());
        assert_send(
            &s3.purge_deleted_object()
                .bucket("b")
                .key("k")
                .version_id("v")
                .send(),
        );
    }
}
