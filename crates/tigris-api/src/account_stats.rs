//! The account's storage statistics, summed over the detailed bucket listing:
//! [`Client::account_stats`](crate::Client::account_stats).

use tigris_core::transport::SignedTransport;

use crate::error::{Error, Operation, Result};
use crate::list_buckets_detailed::{AccountStats, ListBucketsDetailedFluentBuilder};

/// The page size [`AccountStatsFluentBuilder`] walks the account with, as the released
/// clients do.
const STATS_PAGE: u32 = 50;

/// The account's storage statistics; from
/// [`Client::account_stats`](crate::Client::account_stats).
///
/// Tigris computes statistics per listing request, for the buckets that page holds, so this
/// walks the account 50 buckets a request and sums the pages, as the released Python and
/// TypeScript clients do. A bucket made or removed during the walk may or may not be counted.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emu = tigris_emulator::Emulator::start().await?;
/// # let sdk = tigris_core::config::builder().endpoint_url(emu.endpoint())
/// #     .credentials(aws_sdk_s3::config::Credentials::new(emu.root_credentials().access_key_id(),
/// #         emu.root_credentials().secret_access_key(), None, None, "doc")).build();
/// # let s3 = tigris_core::config::s3_client(&sdk);
///
/// s3.create_bucket().bucket("logs").send().await?;
/// s3.put_object().bucket("logs").key("a").body(b"12345".to_vec().into()).send().await?;
/// let stats = tigris_api::Client::new(&sdk)?.account_stats().send().await?;
/// assert_eq!((stats.active_buckets, stats.total_storage_bytes), (1, 5));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct AccountStatsFluentBuilder {
    transport: SignedTransport,
}

impl AccountStatsFluentBuilder {
    pub(crate) fn new(transport: SignedTransport) -> Self {
        Self { transport }
    }

    /// Walks the listing and sums its statistics.
    ///
    /// # Errors
    /// As [`ListBucketsDetailedFluentBuilder::send`], for any page; a page that repeats its
    /// continuation token is [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse).
    pub async fn send(self) -> Result<AccountStats> {
        let mut total = AccountStats::default();
        let mut token: Option<String> = None;
        loop {
            let mut page = ListBucketsDetailedFluentBuilder::new(self.transport.clone())
                .with_stats()
                .max_buckets(STATS_PAGE);
            if let Some(t) = &token {
                page = page.continuation_token(t.clone());
            }
            let page = page
                .send()
                .await
                .map_err(|e| e.with_operation(Operation::AccountStats))?;
            total.add(page.stats.unwrap_or_default());
            match page.continuation_token {
                None => return Ok(total),
                Some(next) if token.as_ref() == Some(&next) => {
                    return Err(Error::unexpected_response(
                        Operation::AccountStats,
                        "the listing repeated its continuation token",
                    ));
                }
                next => token = next,
            }
        }
    }
}

impl crate::Client {
    /// The account's storage statistics. See [`AccountStatsFluentBuilder`].
    pub fn account_stats(&self) -> AccountStatsFluentBuilder {
        AccountStatsFluentBuilder::new(self.transport.clone())
    }
}
