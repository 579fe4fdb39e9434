//! Reads as of a snapshot: `GetObject`, `HeadObject`, `ListObjectsV2` and `ListObjects`.

use aws_sdk_s3::client::customize::CustomizableOperation;
use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::head_object::builders::HeadObjectFluentBuilder;
use aws_sdk_s3::operation::head_object::{HeadObjectError, HeadObjectOutput};
use aws_sdk_s3::operation::list_objects::builders::ListObjectsFluentBuilder;
use aws_sdk_s3::operation::list_objects::{ListObjectsError, ListObjectsOutput};
use aws_sdk_s3::operation::list_objects_v2::builders::ListObjectsV2FluentBuilder;
use aws_sdk_s3::operation::list_objects_v2::{ListObjectsV2Error, ListObjectsV2Output};

use crate::header::{self, AddHeaders};
use crate::names::SnapshotVersion;

/// `GetObject` with Tigris options attached.
pub type GetObjectOperation =
    CustomizableOperation<GetObjectOutput, GetObjectError, GetObjectFluentBuilder>;
/// `HeadObject` with Tigris options attached.
pub type HeadObjectOperation =
    CustomizableOperation<HeadObjectOutput, HeadObjectError, HeadObjectFluentBuilder>;
/// `ListObjectsV2` with Tigris options attached.
pub type ListObjectsV2Operation =
    CustomizableOperation<ListObjectsV2Output, ListObjectsV2Error, ListObjectsV2FluentBuilder>;
/// `ListObjects` with Tigris options attached.
pub type ListObjectsOperation =
    CustomizableOperation<ListObjectsOutput, ListObjectsError, ListObjectsFluentBuilder>;

/// Read as of a snapshot instead of the live bucket (`X-Tigris-Snapshot-Version`).
///
/// Implemented by the `GetObject`, `HeadObject`, `ListObjectsV2` and `ListObjects` builders.
/// A listing at a snapshot is one page; follow `next_continuation_token` (or `next_marker`) by
/// hand, since `into_paginator()` cannot carry the header.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client, version: tigris_headers::SnapshotVersion)
/// # -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_headers::prelude::*;
///
/// let old = s3.get_object().bucket("datasets").key("model.bin").at_snapshot(&version).send().await?;
/// let listing = s3.list_objects_v2().bucket("datasets").at_snapshot(&version).send().await?;
/// # let _ = (old, listing);
/// # Ok(()) }
/// ```
///
/// Writes cannot be made at a snapshot, so write builders do not have the method:
///
/// ```compile_fail
/// # fn demo(s3: aws_sdk_s3::Client, version: tigris_headers::SnapshotVersion) {
/// use tigris_headers::prelude::*;
/// let _ = s3.put_object().bucket("b").key("k").at_snapshot(&version);
/// # }
/// ```
pub trait ReadAtSnapshotExt: sealed::Sealed {
    /// The operation with the option attached, ready to `.send()`.
    type Operation;

    /// Reads the bucket as it was at `version`.
    fn at_snapshot(self, version: &SnapshotVersion) -> Self::Operation;
}

macro_rules! read_at_snapshot {
    ($builder:ty, $operation:ty) => {
        impl ReadAtSnapshotExt for $builder {
            type Operation = $operation;
            fn at_snapshot(self, version: &SnapshotVersion) -> $operation {
                self.customize().at_snapshot(version)
            }
        }

        impl ReadAtSnapshotExt for $operation {
            type Operation = $operation;
            fn at_snapshot(self, version: &SnapshotVersion) -> $operation {
                self.interceptor(AddHeaders::new(header::SNAPSHOT_VERSION, version.as_str()))
            }
        }

        impl sealed::Sealed for $builder {}
        impl sealed::Sealed for $operation {}
    };
}

read_at_snapshot!(GetObjectFluentBuilder, GetObjectOperation);
read_at_snapshot!(HeadObjectFluentBuilder, HeadObjectOperation);
read_at_snapshot!(ListObjectsV2FluentBuilder, ListObjectsV2Operation);
read_at_snapshot!(ListObjectsFluentBuilder, ListObjectsOperation);

mod sealed {
    pub trait Sealed {}
}
