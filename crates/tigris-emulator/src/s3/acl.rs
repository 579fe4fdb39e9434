//! ACLs as Tigris has them, and the bucket sub-resources beside them: canned `private` and
//! `public-read` on buckets (the bucket's `public` setting, as `X-Amz-Acl` on CreateBucket sets
//! it) and on objects, read back as an owner grant (plus `AllUsers` READ when public);
//! ownership controls, the public access block, GetBucketPolicyStatus, and CORS.

use s3s::dto::{
    AllowedHeaders, AllowedMethods, AllowedOrigins, CORSRule, DeleteBucketCorsInput,
    DeleteBucketCorsOutput, DeleteBucketOwnershipControlsInput,
    DeleteBucketOwnershipControlsOutput, DeletePublicAccessBlockInput,
    DeletePublicAccessBlockOutput, ExposeHeaders, GetBucketAclInput, GetBucketAclOutput,
    GetBucketCorsInput, GetBucketCorsOutput, GetBucketOwnershipControlsInput,
    GetBucketOwnershipControlsOutput, GetBucketPolicyStatusInput, GetBucketPolicyStatusOutput,
    GetObjectAclInput, GetObjectAclOutput, GetPublicAccessBlockInput, GetPublicAccessBlockOutput,
    Grant, Grantee, ObjectOwnership, Owner, OwnershipControls, OwnershipControlsRule, Permission,
    PolicyStatus, PublicAccessBlockConfiguration, PutBucketAclInput, PutBucketAclOutput,
    PutBucketCorsInput, PutBucketCorsOutput, PutBucketOwnershipControlsInput,
    PutBucketOwnershipControlsOutput, PutObjectAclInput, PutObjectAclOutput,
    PutPublicAccessBlockInput, PutPublicAccessBlockOutput, Type,
};

use super::*;
use crate::store::CorsRule;

/// The owner every bucket and object reports: the emulator's one account (all keys are users
/// of it, as on Tigris).
pub(crate) const OWNER_ID: &str = "000000000000";
pub(crate) const OWNER_NAME: &str = "tigris-emulator";

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

pub(crate) fn owner() -> Owner {
    Owner {
        id: Some(OWNER_ID.to_owned()),
        display_name: Some(OWNER_NAME.to_owned()),
    }
}

/// The grants of a canned ACL: READ for everyone when public, then the owner's FULL_CONTROL
/// (S3 documents no order; the group grant comes first).
fn grants(public: bool) -> Vec<Grant> {
    let mut grants = Vec::with_capacity(2);
    if public {
        grants.push(Grant {
            grantee: Some(Grantee {
                id: None,
                display_name: None,
                type_: Type::from_static(Type::GROUP),
                email_address: None,
                uri: Some(ALL_USERS.to_owned()),
            }),
            permission: Some(Permission::from_static(Permission::READ)),
        });
    }
    grants.push(Grant {
        grantee: Some(Grantee {
            id: Some(OWNER_ID.to_owned()),
            display_name: Some(OWNER_NAME.to_owned()),
            type_: Type::from_static(Type::CANONICAL_USER),
            email_address: None,
            uri: None,
        }),
        permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
    });
    grants
}

/// Whether a canned ACL grants anything beyond the owner: what S3's `BlockPublicAcls` refuses.
fn canned_grants_public(acl: &str) -> bool {
    matches!(
        acl,
        "public-read" | "public-read-write" | "authenticated-read"
    )
}

/// Refuses, with S3's `403 AccessDenied`, a public ACL (`public`) on a bucket whose public
/// access block has `BlockPublicAcls`.
fn check_block_public_acls(
    store: &crate::store::Store,
    bucket: &str,
    public: bool,
) -> S3Result<()> {
    if !public {
        return Ok(());
    }
    let blocked = store
        .bucket(bucket)?
        .extra
        .public_access_block
        .is_some_and(|[block_acls, ..]| block_acls);
    if blocked {
        return Err(s3_error!(
            AccessDenied,
            "Access Denied: the bucket's public access block has BlockPublicAcls, which refuses public ACLs"
        ));
    }
    Ok(())
}

/// Refuses, before anything is stored, an upload's public canned ACL (`x-amz-acl`) on a
/// bucket that blocks public ACLs.
pub(super) fn check_upload_acl(
    store: &crate::store::Store,
    bucket: &str,
    acl: Option<&str>,
) -> S3Result<()> {
    check_block_public_acls(store, bucket, acl.is_some_and(canned_grants_public))
}

/// Whether a canned ACL is public; Tigris offers `private` and `public-read` only.
fn canned_public(acl: &str) -> S3Result<bool> {
    match acl {
        "private" => Ok(false),
        "public-read" => Ok(true),
        other => Err(s3_error!(
            InvalidArgument,
            "Tigris supports the canned ACLs private and public-read only, not {other}"
        )),
    }
}

/// The canned ACL an AccessControlPolicy body amounts to: public when it grants AllUsers READ.
/// A grantee the emulator cannot resolve is refused as S3 refuses one: an email address (the
/// emulator's one account has none) is `400 UnresolvableGrantByEmailAddress`, a canonical
/// user other than the account `400 InvalidArgument`.
fn policy_public(policy: &s3s::dto::AccessControlPolicy) -> S3Result<bool> {
    for grantee in policy
        .grants
        .iter()
        .flatten()
        .filter_map(|g| g.grantee.as_ref())
    {
        if let Some(email) = &grantee.email_address {
            return Err(custom_error(
                "UnresolvableGrantByEmailAddress",
                StatusCode::BAD_REQUEST,
                format!(
                    "The e-mail address you provided does not match any account on record: {email}"
                ),
            ));
        }
        if let Some(id) = grantee.id.as_deref()
            && id != OWNER_ID
        {
            return Err(s3_error!(InvalidArgument, "Invalid id: {id}"));
        }
    }
    Ok(policy.grants.iter().flatten().any(|g| {
        g.grantee.as_ref().and_then(|e| e.uri.as_deref()) == Some(ALL_USERS)
            && g.permission
                .as_ref()
                .is_some_and(|p| p.as_str() == Permission::READ)
    }))
}

/// The access a PutBucketAcl or PutObjectAcl asks for (`true`: public-read), once the bucket's
/// `BlockPublicAcls` has had its say.
fn requested_public(
    backend: &Backend,
    bucket: &str,
    acl: Option<&s3s::dto::ObjectCannedACL>,
    canned_bucket: Option<&s3s::dto::BucketCannedACL>,
    policy: Option<&s3s::dto::AccessControlPolicy>,
    operation: &str,
) -> S3Result<bool> {
    let canned = acl
        .map(|a| a.as_str())
        .or(canned_bucket.map(|a| a.as_str()));
    match (canned, policy) {
        (Some(acl), _) => {
            check_block_public_acls(&backend.shared.store(), bucket, canned_grants_public(acl))?;
            canned_public(acl)
        }
        (None, Some(policy)) => {
            let public = policy_public(policy)?;
            check_block_public_acls(&backend.shared.store(), bucket, public)?;
            Ok(public)
        }
        (None, None) => Err(s3_error!(
            MissingSecurityHeader,
            "{operation} needs x-amz-acl or an AccessControlPolicy body"
        )),
    }
}

pub(super) async fn get_bucket_acl(
    backend: &Backend,
    req: S3Request<GetBucketAclInput>,
) -> S3Result<S3Response<GetBucketAclOutput>> {
    let public = backend
        .shared
        .store()
        .bucket(&req.input.bucket)?
        .settings
        .public;
    Ok(S3Response::new(GetBucketAclOutput {
        grants: Some(grants(public)),
        owner: Some(owner()),
    }))
}

pub(super) async fn put_bucket_acl(
    backend: &Backend,
    req: S3Request<PutBucketAclInput>,
) -> S3Result<S3Response<PutBucketAclOutput>> {
    let input = req.input;
    let public = requested_public(
        backend,
        &input.bucket,
        None,
        input.acl.as_ref(),
        input.access_control_policy.as_ref(),
        "PutBucketAcl",
    )?;
    let mut store = backend.shared.store();
    let mut settings = store.bucket(&input.bucket)?.settings.clone();
    settings.public = public;
    store.set_settings(&input.bucket, settings)?;
    Ok(S3Response::new(PutBucketAclOutput::default()))
}

/// Whether anyone may read `object`: its own ACL (PutObjectAcl, or `public-read` on upload)
/// decides; an object without one, or no object, has its bucket's access.
fn is_public(object: Option<&Object>, bucket_public: bool) -> bool {
    match object.and_then(|o| o.extra.acl.as_deref()) {
        Some(acl) => acl == "public-read",
        None => bucket_public,
    }
}

pub(super) async fn get_object_acl(
    backend: &Backend,
    req: S3Request<GetObjectAclInput>,
) -> S3Result<S3Response<GetObjectAclOutput>> {
    let input = req.input;
    let store = backend.shared.store();
    let object = store.get(&input.bucket, &input.key, LIVE)?;
    let public = is_public(Some(&object), store.bucket(&input.bucket)?.settings.public);
    Ok(S3Response::new(GetObjectAclOutput {
        grants: Some(grants(public)),
        owner: Some(owner()),
        ..Default::default()
    }))
}

pub(super) async fn put_object_acl(
    backend: &Backend,
    req: S3Request<PutObjectAclInput>,
) -> S3Result<S3Response<PutObjectAclOutput>> {
    let input = req.input;
    let public = requested_public(
        backend,
        &input.bucket,
        input.acl.as_ref(),
        None,
        input.access_control_policy.as_ref(),
        "PutObjectAcl",
    )?;
    backend
        .shared
        .store()
        .update_extra(&input.bucket, &input.key, |e| {
            e.acl = Some(if public { "public-read" } else { "private" }.to_owned());
        })?;
    Ok(S3Response::new(PutObjectAclOutput::default()))
}

/// Whether anonymous GET/HEAD of `key` is allowed: the bucket or the object is public-read,
/// and the bucket's public access block does not have `IgnorePublicAcls`.
pub(crate) fn anonymous_read(
    shared: &crate::state::Shared,
    bucket: &str,
    key: &str,
) -> S3Result<()> {
    let store = shared.store();
    let found = store.bucket(bucket)?;
    // IgnorePublicAcls: the bucket's and its objects' public ACLs grant nothing.
    if found
        .extra
        .public_access_block
        .is_some_and(|[_, ignore_acls, ..]| ignore_acls)
    {
        return Err(s3_error!(AccessDenied, "Access Denied"));
    }
    let public_bucket = found.settings.public;
    if is_public(store.get(bucket, key, LIVE).ok().as_deref(), public_bucket) {
        Ok(())
    } else {
        Err(s3_error!(AccessDenied, "Access Denied"))
    }
}

/// Whether an anonymous ListObjects of `bucket` is allowed: Tigris lists a bucket without
/// credentials when it is public-read and has public listing on
/// (`X-Amz-Acl-Public-List-Objects-Enabled`), unless its public access block has
/// `IgnorePublicAcls`.
pub(crate) fn anonymous_list(shared: &crate::state::Shared, bucket: &str) -> S3Result<()> {
    let store = shared.store();
    let found = store.bucket(bucket)?;
    let ignored = found
        .extra
        .public_access_block
        .is_some_and(|[_, ignore_acls, ..]| ignore_acls);
    if found.settings.public && found.settings.public_list && !ignored {
        Ok(())
    } else {
        Err(s3_error!(AccessDenied, "Access Denied"))
    }
}

/// The object ownership settings S3 knows (stored, not applied: see the README).
pub(super) const OBJECT_OWNERSHIPS: [&str; 3] = [
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
];

pub(super) async fn put_bucket_ownership_controls(
    backend: &Backend,
    req: S3Request<PutBucketOwnershipControlsInput>,
) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
    let input = req.input;
    let rule = input
        .ownership_controls
        .rules
        .first()
        .map(|r| r.object_ownership.as_str().to_owned())
        .ok_or_else(|| s3_error!(MalformedXML, "OwnershipControls needs one rule"))?;
    if !OBJECT_OWNERSHIPS.contains(&rule.as_str()) {
        return Err(s3_error!(MalformedXML, "Unknown ObjectOwnership {rule}"));
    }
    backend
        .shared
        .store()
        .set_bucket_extra(&input.bucket, |e| e.ownership = Some(rule))?;
    Ok(S3Response::new(PutBucketOwnershipControlsOutput::default()))
}

pub(super) async fn get_bucket_ownership_controls(
    backend: &Backend,
    req: S3Request<GetBucketOwnershipControlsInput>,
) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
    let store = backend.shared.store();
    let Some(rule) = store.bucket(&req.input.bucket)?.extra.ownership.clone() else {
        return Err(custom_error(
            "OwnershipControlsNotFoundError",
            StatusCode::NOT_FOUND,
            "The bucket ownership controls were not found".to_owned(),
        ));
    };
    Ok(S3Response::new(GetBucketOwnershipControlsOutput {
        ownership_controls: Some(OwnershipControls {
            rules: vec![OwnershipControlsRule {
                object_ownership: ObjectOwnership::from(rule),
            }],
        }),
    }))
}

pub(super) async fn delete_bucket_ownership_controls(
    backend: &Backend,
    req: S3Request<DeleteBucketOwnershipControlsInput>,
) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
    backend
        .shared
        .store()
        .set_bucket_extra(&req.input.bucket, |e| e.ownership = None)?;
    Ok(S3Response::with_status(
        DeleteBucketOwnershipControlsOutput::default(),
        StatusCode::NO_CONTENT,
    ))
}

pub(super) async fn put_public_access_block(
    backend: &Backend,
    req: S3Request<PutPublicAccessBlockInput>,
) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
    let input = req.input;
    let c = &input.public_access_block_configuration;
    let block = [
        c.block_public_acls.unwrap_or(false),
        c.ignore_public_acls.unwrap_or(false),
        c.block_public_policy.unwrap_or(false),
        c.restrict_public_buckets.unwrap_or(false),
    ];
    backend
        .shared
        .store()
        .set_bucket_extra(&input.bucket, |e| e.public_access_block = Some(block))?;
    Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
}

pub(super) async fn get_public_access_block(
    backend: &Backend,
    req: S3Request<GetPublicAccessBlockInput>,
) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
    let store = backend.shared.store();
    let Some([acls, ignore, policy, restrict]) =
        store.bucket(&req.input.bucket)?.extra.public_access_block
    else {
        return Err(custom_error(
            "NoSuchPublicAccessBlockConfiguration",
            StatusCode::NOT_FOUND,
            "The public access block configuration was not found".to_owned(),
        ));
    };
    Ok(S3Response::new(GetPublicAccessBlockOutput {
        public_access_block_configuration: Some(PublicAccessBlockConfiguration {
            block_public_acls: Some(acls),
            ignore_public_acls: Some(ignore),
            block_public_policy: Some(policy),
            restrict_public_buckets: Some(restrict),
        }),
    }))
}

pub(super) async fn delete_public_access_block(
    backend: &Backend,
    req: S3Request<DeletePublicAccessBlockInput>,
) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
    backend
        .shared
        .store()
        .set_bucket_extra(&req.input.bucket, |e| e.public_access_block = None)?;
    Ok(S3Response::with_status(
        DeletePublicAccessBlockOutput::default(),
        StatusCode::NO_CONTENT,
    ))
}

pub(super) async fn get_bucket_policy_status(
    backend: &Backend,
    req: S3Request<GetBucketPolicyStatusInput>,
) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
    let public = backend
        .shared
        .store()
        .bucket(&req.input.bucket)?
        .settings
        .public;
    Ok(S3Response::new(GetBucketPolicyStatusOutput {
        policy_status: Some(PolicyStatus {
            is_public: Some(public),
        }),
    }))
}

pub(super) async fn put_bucket_cors(
    backend: &Backend,
    req: S3Request<PutBucketCorsInput>,
) -> S3Result<S3Response<PutBucketCorsOutput>> {
    let input = req.input;
    let mut rules = Vec::new();
    for r in input.cors_configuration.cors_rules {
        if r.allowed_origins.is_empty() || r.allowed_methods.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "A CORSRule needs an AllowedOrigin and an AllowedMethod"
            ));
        }
        for m in &r.allowed_methods {
            if !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(&m.as_str()) {
                return Err(s3_error!(
                    InvalidRequest,
                    "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
                ));
            }
        }
        rules.push(CorsRule {
            id: r.id,
            allowed_origins: r.allowed_origins,
            allowed_methods: r.allowed_methods,
            allowed_headers: r.allowed_headers.unwrap_or_default(),
            expose_headers: r.expose_headers.unwrap_or_default(),
            max_age_seconds: r.max_age_seconds,
        });
    }
    crate::api::cors::check_limits(&rules).map_err(|e| s3_error!(InvalidRequest, "{e}"))?;
    backend
        .shared
        .store()
        .set_bucket_extra(&input.bucket, |e| e.cors = Some(rules))?;
    Ok(S3Response::new(PutBucketCorsOutput::default()))
}

pub(super) async fn get_bucket_cors(
    backend: &Backend,
    req: S3Request<GetBucketCorsInput>,
) -> S3Result<S3Response<GetBucketCorsOutput>> {
    let store = backend.shared.store();
    let Some(rules) = &store.bucket(&req.input.bucket)?.extra.cors else {
        return Err(s3_error!(
            NoSuchCORSConfiguration,
            "The CORS configuration does not exist"
        ));
    };
    let rules = rules
        .iter()
        .map(|r| CORSRule {
            id: r.id.clone(),
            allowed_origins: AllowedOrigins::from(r.allowed_origins.clone()),
            allowed_methods: AllowedMethods::from(r.allowed_methods.clone()),
            allowed_headers: (!r.allowed_headers.is_empty())
                .then(|| AllowedHeaders::from(r.allowed_headers.clone())),
            expose_headers: (!r.expose_headers.is_empty())
                .then(|| ExposeHeaders::from(r.expose_headers.clone())),
            max_age_seconds: r.max_age_seconds,
        })
        .collect();
    Ok(S3Response::new(GetBucketCorsOutput {
        cors_rules: Some(rules),
    }))
}

pub(super) async fn delete_bucket_cors(
    backend: &Backend,
    req: S3Request<DeleteBucketCorsInput>,
) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
    backend
        .shared
        .store()
        .set_bucket_extra(&req.input.bucket, |e| e.cors = None)?;
    Ok(S3Response::with_status(
        DeleteBucketCorsOutput::default(),
        StatusCode::NO_CONTENT,
    ))
}
