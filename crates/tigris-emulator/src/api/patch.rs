//! `PATCH /{bucket}`: Tigris's bucket settings endpoint (object notifications, soft delete and
//! the settings of `store/settings.rs`).

use s3s::{Body, S3Request, S3Response, S3Result, s3_error};
use serde_json::{Value, json};

use crate::notify::{invalid, is_switch, parse_config};

/// `PATCH /{bucket}`: Tigris's bucket settings endpoint, here for object notifications.
#[derive(Debug, Clone)]
pub(crate) struct PatchBucket(pub(crate) std::sync::Arc<crate::state::Shared>);

/// The largest settings body accepted.
const MAX_SETTINGS_BODY: usize = 1 << 20;

#[async_trait::async_trait]
impl s3s::route::S3Route for PatchBucket {
    fn is_match(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        _: &http::HeaderMap,
        _: &mut http::Extensions,
    ) -> bool {
        let path = uri.path().trim_start_matches('/');
        method == http::Method::PATCH
            && !path.is_empty()
            && !path.trim_end_matches('/').contains('/')
    }

    async fn call(&self, mut req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let bucket = req.uri.path().trim_matches('/').to_owned();
        let access_key = req
            .credentials
            .as_ref()
            .map(|c| c.access_key.clone())
            .unwrap_or_default();
        let injected = self
            .0
            .faults
            .on_request("PatchBucket", Some(&bucket), &req.headers);
        if let Some((failure, crate::http::faults::Timing::Before)) = &injected {
            self.0.drop_later(&req.extensions, failure);
            return Err(crate::http::auth::injected_error(failure));
        }
        let peer = req
            .extensions
            .get::<crate::http::auth::PeerAddr>()
            .map(|p| p.0);
        let path = s3s::path::S3Path::Bucket {
            bucket: bucket.clone().into(),
        };
        // Reading the body checks it against the signed x-amz-content-sha256.
        let body = req
            .input
            .store_all_limited(MAX_SETTINGS_BODY)
            .await
            .map_err(|e| s3_error!(InvalidRequest, "the body could not be read: {e}"))?;
        // Every key is validated before anything changes; unknown keys are refused.
        let mut settings = crate::store::settings::SettingsPatch::from_headers(&req.headers)?;
        let mut notifications = None;
        let mut soft_delete_body = None;
        let mut cors = None;
        let mut lifecycle = None;
        if !body.iter().all(u8::is_ascii_whitespace) {
            let value: Value = serde_json::from_slice(&body)
                .map_err(|e| invalid(format!("the body is not valid JSON: {e}")))?;
            let Value::Object(mut keys) = value else {
                return Err(invalid("the body must be a JSON object"));
            };
            // `soft_delete` is the store's own setting (soft_delete.rs); its check needs the
            // bucket's current retention, so it is read once the request is authorized.
            if let Some(value) = keys.remove("soft_delete") {
                soft_delete_body = Some(serde_json::Map::from_iter([(
                    "soft_delete".to_owned(),
                    value,
                )]));
            }
            for (key, value) in keys {
                if key == "cors" {
                    cors = Some(crate::api::cors::from_patch(&value)?);
                } else if key == "lifecycle_rules" {
                    lifecycle = Some(crate::api::lifecycle::from_patch(&value)?);
                } else if key == "object_notifications" {
                    // A masked secret is checked against the stored one once authorized.
                    if !is_switch(&value) {
                        parse_config(&value)?;
                    }
                    notifications = Some(json!({ "object_notifications": value }).to_string());
                } else if !settings.take(&key, &value)? {
                    return Err(s3_error!(
                        NotImplemented,
                        "the emulator does not support the bucket setting {key:?}"
                    ));
                }
            }
        }
        // Tigris refuses a Tigris bucket as a shadow; the emulator refuses itself.
        if let Some(authority) = settings.shadow_authority() {
            let host = req
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if authority == host {
                return Err(invalid("Migration source cannot be Tigris endpoint"));
            }
        }
        // Each group of settings needs its own action; notifications keep PutBucketNotification.
        let mut operations: Vec<&str> = settings
            .distinct_actions()
            .into_iter()
            .map(crate::store::settings::SettingsAction::operation)
            .collect();
        if soft_delete_body.is_some() {
            operations.push("PutBucketSoftDelete");
        }
        if cors.is_some() {
            operations.push("PutBucketCors");
        }
        if lifecycle.is_some() {
            operations.push("PutBucketLifecycleConfiguration");
        }
        if notifications.is_some() || operations.is_empty() {
            operations.push("PatchBucket");
        }
        // Authorized before the bucket is looked up, so a key without rights learns nothing.
        for op in operations {
            crate::http::auth::authorize(&self.0, &access_key, op, &path, &req.headers, peer)?;
        }
        if let Some(notifications) = &notifications {
            self.0
                .notifier
                .resolve_body(&bucket, notifications.as_bytes())?;
        }
        // Checked and applied under one store lock: no other writer comes between the check of
        // the bucket's current retention and the changes, nor between the changes.
        {
            let mut store = self.0.store();
            let current = store.bucket(&bucket)?;
            let soft_delete = match soft_delete_body {
                Some(mut body) => {
                    crate::api::soft_delete::take_patch(&mut body, current.soft_delete)?
                }
                None => None,
            };
            if !settings.is_empty() {
                let next = settings.apply_to(&current.settings);
                if let Some(on) = settings.snapshots_enabled {
                    store.set_snapshots_enabled(&bucket, on, next.storage_class())?;
                }
                store.set_settings(&bucket, next)?;
            }
            if let Some(retention) = soft_delete {
                store.set_soft_delete(&bucket, retention)?;
            }
            if let Some(rules) = cors {
                store.set_bucket_extra(&bucket, |e| e.cors = rules)?;
            }
            if let Some(config) = lifecycle {
                store.set_lifecycle(&bucket, config)?;
            }
        }
        if let Some(notifications) = notifications {
            self.0
                .set_notifications(&bucket, notifications.as_bytes())?;
        }
        if let Some((failure, crate::http::faults::Timing::After)) = &injected {
            self.0.drop_later(&req.extensions, failure);
            return Err(crate::http::auth::injected_error(failure));
        }
        let mut resp = S3Response::new(Body::from(json!({"status": "success"}).to_string()));
        resp.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok(resp)
    }
}
