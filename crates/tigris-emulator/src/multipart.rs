//! Multipart uploads: parts held aside until completion writes one object.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use md5::Digest;

use crate::store::Object;

/// An upload in progress.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) content_type: Option<String>,
    pub(crate) metadata: Vec<(String, String)>,
    /// Part number -> (data, hex MD5).
    pub(crate) parts: BTreeMap<i32, (Bytes, String, SystemTime)>,
}

/// Uploads by id.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    uploads: HashMap<String, Upload>,
    counter: u64,
}

/// Why a multipart step was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UploadError {
    NoSuchUpload,
    InvalidPart(i32),
    InvalidPartOrder,
    Empty,
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

    pub(crate) fn put_part(
        &mut self,
        id: &str,
        bucket: &str,
        key: &str,
        number: i32,
        data: Bytes,
    ) -> Result<String, UploadError> {
        self.get(id, bucket, key)?;
        let etag = hex::encode(md5::Md5::digest(&data));
        let upload = self.uploads.get_mut(id).ok_or(UploadError::NoSuchUpload)?;
        upload
            .parts
            .insert(number, (data, etag.clone(), SystemTime::now()));
        Ok(etag)
    }

    /// Forgets a completed upload.
    pub(crate) fn finish(&mut self, id: &str) {
        self.uploads.remove(id);
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
        for (number, etag) in listed {
            let (bytes, stored, _) = upload
                .parts
                .get(number)
                .ok_or(UploadError::InvalidPart(*number))?;
            if etag
                .as_deref()
                .is_some_and(|e| e.trim_matches('"') != stored)
            {
                return Err(UploadError::InvalidPart(*number));
            }
            data.extend_from_slice(bytes);
            digests.extend(hex::decode(stored).unwrap_or_default());
        }
        let mut object = Object::new(
            data.freeze(),
            upload.content_type.clone(),
            upload.metadata.clone(),
        );
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
            parts: BTreeMap::new(),
        }
    }

    #[test]
    fn completion_concatenates_listed_parts_in_order() {
        let mut u = Uploads::default();
        let id = u.create(upload());
        let e1 = u
            .put_part(&id, "b", "k", 1, Bytes::from_static(b"hello "))
            .unwrap();
        u.put_part(&id, "b", "k", 2, Bytes::from_static(b"world"))
            .unwrap();
        let obj = u
            .complete(&id, "b", "k", &[(1, Some(format!("\"{e1}\""))), (2, None)])
            .unwrap();
        assert_eq!(&obj.data[..], b"hello world");
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
