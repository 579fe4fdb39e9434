//! Reads the canned access an S3 `AccessControlPolicy` document amounts to.

use tigris_headers::bucket_settings::Access;

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

/// `Public` when a grant gives the AllUsers group READ (or FULL_CONTROL), else `Private`;
/// `None` when the document is not an `AccessControlPolicy`.
pub(crate) fn access_of(xml: &str) -> Option<Access> {
    if !xml.contains("AccessControlPolicy") {
        return None;
    }
    let public = xml.split("<Grant>").skip(1).any(|grant| {
        let grant = grant.split("</Grant>").next().unwrap_or("");
        grant.contains(ALL_USERS)
            && (grant.contains("<Permission>READ</Permission>")
                || grant.contains("<Permission>FULL_CONTROL</Permission>"))
    });
    Some(if public {
        Access::Public
    } else {
        Access::Private
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_all_users_read_grant_is_public_and_an_owner_grant_alone_private() {
        let owner =
            "<Grant><Grantee><ID>1</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>";
        let all = format!(
            "<Grant><Grantee><URI>{ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>"
        );
        let doc = |grants: &str| {
            format!(
                "<AccessControlPolicy><AccessControlList>{grants}</AccessControlList></AccessControlPolicy>"
            )
        };
        assert_eq!(access_of(&doc(owner)), Some(Access::Private));
        assert_eq!(
            access_of(&doc(&format!("{owner}{all}"))),
            Some(Access::Public)
        );
        assert_eq!(access_of("<Error/>"), None);
    }
}
