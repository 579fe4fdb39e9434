//! Multipart uploads: parts held aside until completion writes one object.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use md5::Digest;

use crate::store::{Object, ObjectExtra};

/// S3's smallest part, the last one excepted.
pub(crate) const MIN_PART_SIZE: usize = 5 << 20;

/// Completed uploads remembered so a repeated CompleteMultipartUpload answers the same ETag.
const REMEMBERED_COMPLETIONS: usize = 10_000;

/// An upload in progress.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) content_type: Option<String>,
    pub(crate) metadata: Vec<(String, String)>,
    /// Stored headers, tags and ACL given at creation.
    pub(crate) extra: ObjectExtra,
    /// The checksum algorithm and type (`COMPOSITE`, `FULL_OBJECT`) given at creation.
    pub(crate) checksum: Option<(String, String)>,
    pub(crate) initiated: SystemTime,
    /// Part number -> (data, hex MD5, when, base64 checksum by the upload's algorithm).
    pub(crate) parts: BTreeMap<i32, (Bytes, String, SystemTime, Option<String>)>,
}

/// Uploads by id.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    uploads: HashMap<String, Upload>,
    counter: u64,
    /// Completed uploads: id -> (bucket, key, ETag), oldest first in `completed_order`.
    completed: HashMap<String, (String, String, String)>,
    completed_order: std::collections::VecDeque<String>,
}

/// Why a multipart step was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UploadError {
    NoSuchUpload,
    InvalidPart(i32),
    InvalidPartOrder,
    Empty,
    /// A part other than the last is smaller than [`MIN_PART_SIZE`]: (part number, size).
    EntityTooSmall(i32, usize),
}

/// The digests of an uploaded part's body.
#[derive(Debug, Clone)]
pub(crate) struct PartSums {
    /// The hex MD5: the part's ETag.
    pub(crate) md5: String,
    /// The checksum kept with the part (base64, by the upload's algorithm).
    pub(crate) checksum: Option<String>,
}

impl Uploads {
    pub(crate) fn create(&mut self, upload: Upload) -> String {
        self.counter += 1;
        let seed = format!("{}:{:?}:{}", self.counter, SystemTime::now(), upload.key);
        let id = hex::encode(md5::Md5::digest(seed.as_bytes()));
        self.uploads.insert(id.clone(), upload);
        id
    }

    pub(crate) fn get(&self, id: &str, bucket: &str, key: &str) -> Result<&Upload, UploadError> {
        self.uploads
            .get(id)
            .filter(|u| u.bucket == bucket && u.key == key)
            .ok_or(UploadError::NoSuchUpload)
    }

    #[cfg(test)]
    pub(crate) fn put_part(
        &mut self,
        id: &str,
        bucket: &str,
        key: &str,
        number: i32,
        data: Bytes,
    ) -> Result<String, UploadError> {
        let sums = PartSums {
            md5: hex::encode(md5::Md5::digest(&data)),
            checksum: None,
        };
        self.put_part_with_checksum(id, bucket, key, number, data, sums)
    }

    /// Stores part `number` of upload `id`, its digests computed as it was read; answers its
    /// ETag.
    pub(crate) fn put_part_with_checksum(
        &mut self,
        id: &str,
        bucket: &str,
        key: &str,
        number: i32,
        data: Bytes,
        sums: PartSums,
    ) -> Result<String, UploadError> {
        self.get(id, bucket, key)?;
        let PartSums {
            md5: etag,
            checksum,
        } = sums;
        let upload = self.uploads.get_mut(id).ok_or(UploadError::NoSuchUpload)?;
        upload
            .parts
            .insert(number, (data, etag.clone(), SystemTime::now(), checksum));
        Ok(etag)
    }

    /// Forgets a completed upload, remembering its ETag for a repeated completion.
    pub(crate) fn finish(&mut self, id: &str) {
        if let Some(upload) = self.uploads.remove(id) {
            let etag = String::new();
            self.completed
                .insert(id.to_owned(), (upload.bucket, upload.key, etag));
            self.completed_order.push_back(id.to_owned());
            if self.completed_order.len() > REMEMBERED_COMPLETIONS
                && let Some(old) = self.completed_order.pop_front()
            {
                self.completed.remove(&old);
            }
        }
    }

    /// Records the ETag a completed upload produced.
    pub(crate) fn set_completed_etag(&mut self, id: &str, etag: &str) {
        if let Some(entry) = self.completed.get_mut(id) {
            etag.clone_into(&mut entry.2);
        }
    }

    /// The ETag of an upload already completed for `bucket`/`key`, if it is one.
    pub(crate) fn completed(&self, id: &str, bucket: &str, key: &str) -> Option<String> {
        self.completed
            .get(id)
            .filter(|(b, k, _)| b == bucket && k == key)
            .map(|(_, _, etag)| etag.clone())
    }

    /// The uploads in progress in `bucket`, by key then initiation time: (id, upload).
    /// `(bucket, key, upload id)` of every upload in progress, sorted.
    pub(crate) fn all(&self) -> Vec<(String, String, String)> {
        let mut all: Vec<_> = self
            .uploads
            .iter()
            .map(|(id, u)| (u.bucket.clone(), u.key.clone(), id.clone()))
            .collect();
        all.sort();
        all
    }

    pub(crate) fn in_bucket(&self, bucket: &str) -> Vec<(&str, &Upload)> {
        let mut found: Vec<(&str, &Upload)> = self
            .uploads
            .iter()
            .filter(|(_, u)| u.bucket == bucket)
            .map(|(id, u)| (id.as_str(), u))
            .collect();
        found.sort_by(|a, b| (&a.1.key, a.1.initiated).cmp(&(&b.1.key, b.1.initiated)));
        found
    }

    pub(crate) fn abort(&mut self, id: &str, bucket: &str, key: &str) -> Result<(), UploadError> {
        self.get(id, bucket, key)?;
        self.uploads.remove(id);
        Ok(())
    }

    /// Assembles the listed parts (number, etag) into one object. The upload stays until
    /// [`Uploads::finish`] is called once the object is written, so a completion that fails
    /// (a precondition, a write error) can be retried or aborted, as on S3.
    pub(crate) fn complete(
        &self,
        id: &str,
        bucket: &str,
        key: &str,
        listed: &[(i32, Option<String>)],
    ) -> Result<Object, UploadError> {
        let upload = self.get(id, bucket, key)?;
        if listed.is_empty() {
            return Err(UploadError::Empty);
        }
        if listed.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(UploadError::InvalidPartOrder);
        }
        let mut data = BytesMut::new();
        let mut digests = Vec::new();
        let mut sizes = Vec::new();
        for (i, (number, etag)) in listed.iter().enumerate() {
            let (bytes, stored, _, _) = upload
                .parts
                .get(number)
                .ok_or(UploadError::InvalidPart(*number))?;
            if etag
                .as_deref()
                .is_some_and(|e| e.trim_matches('"') != stored)
            {
                return Err(UploadError::InvalidPart(*number));
            }
            if i + 1 < listed.len() && bytes.len() < MIN_PART_SIZE {
                return Err(UploadError::EntityTooSmall(*number, bytes.len()));
            }
            sizes.push(bytes.len() as u64);
            data.extend_from_slice(bytes);
            digests.extend(hex::decode(stored).unwrap_or_default());
        }
        let mut object = Object::new(
            data.freeze(),
            upload.content_type.clone(),
            upload.metadata.clone(),
        );
        object.extra = upload.extra.clone();
        object.extra.parts = sizes;
        object.etag = format!(
            "{}-{}",
            hex::encode(md5::Md5::digest(&digests)),
            listed.len()
        );
        Ok(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload() -> Upload {
        Upload {
            bucket: "b".into(),
            key: "k".into(),
            content_type: None,
            metadata: vec![],
            extra: ObjectExtra::default(),
            checksum: None,
            initiated: SystemTime::now(),
            parts: BTreeMap::new(),
        }
    }

    #[test]
    fn completion_concatenates_listed_parts_in_order() {
        let mut u = Uploads::default();
        let id = u.create(upload());
        let first = Bytes::from(vec![b'a'; MIN_PART_SIZE]);
        let e1 = u.put_part(&id, "b", "k", 1, first).unwrap();
        u.put_part(&id, "b", "k", 2, Bytes::from_static(b"world"))
            .unwrap();
        let obj = u
            .complete(&id, "b", "k", &[(1, Some(format!("\"{e1}\""))), (2, None)])
            .unwrap();
        assert_eq!(obj.data.len(), MIN_PART_SIZE + 5);
        assert!(obj.data.ends_with(b"aworld"));
        assert_eq!(obj.extra.parts, vec![MIN_PART_SIZE as u64, 5]);
        assert!(obj.etag.ends_with("-2"));
        // Until the object is written the upload stays, so a failed write can be retried.
        assert!(u.complete(&id, "b", "k", &[(1, None)]).is_ok());
        u.finish(&id);
        assert_eq!(
            u.complete(&id, "b", "k", &[(1, None)]).unwrap_err(),
            UploadError::NoSuchUpload
        );
    }

    #[test]
    fn completion_refuses_a_part_under_five_mib_that_is_not_the_last() {
        let mut u = Uploads::default();
        let id = u.create(upload());
        u.put_part(&id, "b", "k", 1, Bytes::from_static(b"small"))
            .unwrap();
        u.put_part(&id, "b", "k", 2, Bytes::from_static(b"last"))
            .unwrap();
        assert_eq!(
            u.complete(&id, "b", "k", &[(1, None), (2, None)])
                .unwrap_err(),
            UploadError::EntityTooSmall(1, 5)
        );
        assert!(u.complete(&id, "b", "k", &[(2, None)]).is_ok());
    }

    #[test]
    fn completion_refuses_missing_wrong_or_unordered_parts() {
        let mut u = Uploads::default();
        let id = u.create(upload());
        u.put_part(&id, "b", "k", 1, Bytes::from_static(b"a"))
            .unwrap();
        u.put_part(&id, "b", "k", 2, Bytes::from_static(b"b"))
            .unwrap();
        assert_eq!(
            u.complete(&id, "b", "k", &[(3, None)]).unwrap_err(),
            UploadError::InvalidPart(3)
        );
        assert_eq!(
            u.complete(&id, "b", "k", &[(1, Some("\"bad\"".into()))])
                .unwrap_err(),
            UploadError::InvalidPart(1)
        );
        assert_eq!(
            u.complete(&id, "b", "k", &[(2, None), (1, None)])
                .unwrap_err(),
            UploadError::InvalidPartOrder
        );
        assert_eq!(
            u.complete(&id, "other", "k", &[(1, None)]).unwrap_err(),
            UploadError::NoSuchUpload
        );
    }
}
