//! Bucket operations: create (plain, snapshot, fork, merge, rebase), delete, head, location, list, lifecycle.

use super::*;

pub(super) async fn create_bucket(
    backend: &Backend,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let bucket = req.input.bucket.as_str();
    let h = &req.headers;
    let mut store = backend.shared.store();
    // A name whose soft-delete window ended is free again.
    store.expire()?;
    let snapshot_answer = |version: u64| -> S3Result<S3Response<CreateBucketOutput>> {
        let mut resp = S3Response::new(CreateBucketOutput {
            location: Some(format!("/{bucket}")),
        });
        resp.headers
            .insert(header::SNAPSHOT_VERSION, hv(&version.to_string())?);
        Ok(resp)
    };
    // Each object a merge writes, a rebase changes or a fork exposes is authorized here, under
    // the lock the change is made with.
    if let Some(fork) = header_str(h, header::MERGE_SOURCE_BUCKET) {
        let touches = store.merge_touches(fork, bucket)?;
        crate::http::auth::require_merge(&req.extensions, bucket, fork, &touches)?;
        return snapshot_answer(store.merge_fork(fork, bucket)?);
    }
    if is_true(h, header::REBASE) {
        let (parent, touches) = store.rebase_touches(bucket)?;
        crate::http::auth::require_rebase(&req.extensions, bucket, &parent, &touches)?;
        return snapshot_answer(store.rebase_fork(bucket)?);
    }
    if let Some(name) = header_str(h, header::SNAPSHOT).and_then(snapshot_request) {
        let version = store.snapshot(bucket, name)?;
        let mut resp = S3Response::new(CreateBucketOutput {
            location: Some(format!("/{bucket}")),
        });
        resp.headers
            .insert(header::SNAPSHOT_VERSION, hv(&version.to_string())?);
        return Ok(resp);
    }
    // Checked before anything is created, so a bad value creates nothing.
    let soft_delete = super::soft_delete::retention_header(h, None)?.flatten();
    // `x-amz-object-ownership`: what GetBucketOwnershipControls then answers.
    let ownership = req
        .input
        .object_ownership
        .as_ref()
        .map(|o| o.as_str().to_owned());
    if let Some(o) = &ownership
        && !super::acl::OBJECT_OWNERSHIPS.contains(&o.as_str())
    {
        return Err(s3_error!(
            InvalidArgument,
            "Invalid x-amz-object-ownership header: {o}"
        ));
    }
    if let Some(source) = header_str(h, header::FORK_SOURCE_BUCKET) {
        let at = header_str(h, header::FORK_SOURCE_SNAPSHOT)
            .filter(|v| !v.is_empty())
            .map(|v| parse_version(v, header::FORK_SOURCE_SNAPSHOT))
            .transpose()?;
        let exposed = store.fork_exposes(source, at)?;
        crate::http::auth::require_fork(&req.extensions, source, &exposed)?;
        store.fork_bucket(bucket, source, at)?;
    } else {
        let settings = crate::store::settings::from_create_headers(h)?;
        store.create_bucket_with(bucket, is_true(h, header::ENABLE_SNAPSHOT), settings)?;
    }
    if soft_delete.is_some() {
        store.set_soft_delete(bucket, soft_delete)?;
    }
    if let Some(o) = ownership {
        store.set_bucket_extra(bucket, |e| e.ownership = Some(o))?;
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{bucket}")),
    }))
}

pub(super) async fn delete_bucket(
    backend: &Backend,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    let bucket = req.input.bucket.as_str();
    let h = &req.headers;
    let mut store = backend.shared.store();
    if let Some(v) = header_str(h, header::SNAPSHOT_VERSION) {
        store.delete_snapshot(bucket, parse_version(v, header::SNAPSHOT_VERSION)?)?;
    } else {
        let force = is_true(h, header::FORCE_DELETE) || is_true(h, header::X_FORCE_DELETE);
        let current = store.bucket(bucket)?.soft_delete;
        let soft = super::soft_delete::retention_header(h, current)?;
        store.delete_bucket(bucket, force, soft)?;
        drop(store);
        backend.shared.notifier.forget(bucket);
    }
    Ok(S3Response::with_status(
        DeleteBucketOutput::default(),
        StatusCode::NO_CONTENT,
    ))
}

pub(super) async fn head_bucket(
    backend: &Backend,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    let store = backend.shared.store();
    let b = store.bucket(req.input.bucket.as_str())?;
    let mut resp = S3Response::new(HeadBucketOutput {
        bucket_region: Some("auto".into()),
        ..Default::default()
    });
    let flag = |on: bool| HeaderValue::from_static(if on { "true" } else { "false" });
    resp.headers
        .insert(header::ENABLE_SNAPSHOT, flag(b.snapshots_enabled));
    resp.headers
        .insert(header::IS_FORK_PARENT, flag(b.children > 0));
    if let Some(fork) = &b.fork {
        resp.headers
            .insert(header::FORK_SOURCE_BUCKET, hv(&fork.parent_name)?);
        resp.headers
            .insert(header::FORK_SOURCE_SNAPSHOT, hv(&fork.version.to_string())?);
    }
    Ok(resp)
}

pub(super) async fn get_bucket_location(
    backend: &Backend,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    backend.shared.store().bucket(req.input.bucket.as_str())?;
    // Tigris is one global region, `auto`, and answers it as the location.
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: Some(s3s::dto::BucketLocationConstraint::from_static("auto")),
    }))
}

pub(super) async fn list_buckets(
    backend: &Backend,
    req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let store = backend.shared.store();
    let limit = req
        .input
        .max_buckets
        .map_or(usize::MAX, |m| m.max(1) as usize);
    let after = req.input.continuation_token.as_deref();
    let entries: Vec<(String, std::time::SystemTime)> =
        match header_str(&req.headers, header::SNAPSHOT) {
            Some(bucket) => store
                .snapshots(bucket)?
                .into_iter()
                .map(|s| {
                    let name = match &s.name {
                        Some(n) => format!("{}; name={n}", s.version),
                        None => s.version.to_string(),
                    };
                    (name, s.created())
                })
                .collect(),
            None => store.bucket_names(),
        };
    // Entries are in name order (snapshot versions all have the same width), so the last name
    // served is a sufficient continuation token.
    let rest: Vec<_> = entries
        .into_iter()
        .filter(|(n, _)| after.is_none_or(|a| n.as_str() > a))
        .collect();
    let truncated = rest.len() > limit;
    let page: Vec<_> = rest.into_iter().take(limit).collect();
    let continuation_token = truncated
        .then(|| page.last().map(|(n, _)| n.clone()))
        .flatten();
    let buckets = page
        .into_iter()
        .map(|(name, created)| DtoBucket {
            name: Some(name),
            creation_date: Some(timestamp(created)),
            ..DtoBucket::default()
        })
        .collect();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        continuation_token,
        owner: Some(super::acl::owner()),
        ..Default::default()
    }))
}

pub(super) async fn put_bucket_lifecycle_configuration(
    backend: &Backend,
    req: S3Request<PutBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
    let input = req.input;
    let mut config = input
        .lifecycle_configuration
        .ok_or_else(|| s3_error!(MalformedXML, "missing LifecycleConfiguration"))?;
    crate::api::lifecycle::validate(&mut config)?;
    backend
        .shared
        .store()
        .set_lifecycle(&input.bucket, Some(config))?;
    Ok(S3Response::new(
        PutBucketLifecycleConfigurationOutput::default(),
    ))
}

pub(super) async fn get_bucket_lifecycle_configuration(
    backend: &Backend,
    req: S3Request<GetBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
    let store = backend.shared.store();
    let bucket = store.bucket(&req.input.bucket)?;
    let config = bucket.lifecycle.clone().ok_or_else(|| {
        s3_error!(
            NoSuchLifecycleConfiguration,
            "The lifecycle configuration does not exist"
        )
    })?;
    Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
        rules: Some(config.rules),
        ..Default::default()
    }))
}

pub(super) async fn delete_bucket_lifecycle(
    backend: &Backend,
    req: S3Request<DeleteBucketLifecycleInput>,
) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
    backend
        .shared
        .store()
        .set_lifecycle(&req.input.bucket, None)?;
    Ok(S3Response::with_status(
        DeleteBucketLifecycleOutput::default(),
        StatusCode::NO_CONTENT,
    ))
}
