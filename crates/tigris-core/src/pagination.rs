//! The one way every listing of the workspace pages, the SDK's: a listing builder's
//! `into_paginator()` returns a paginator whose `send()` streams pages, and whose
//! `items().send()` streams the items of every page.
//!
//! The stream is a [`PaginationStream`], the type `aws-sdk-s3` paginators return: read it with
//! `next().await`, `try_next().await` or `try_collect().await`. Each page is one request, made
//! as the stream is read; the stream ends after the last page or after the first error.
//!
//! [`pages`] and [`items`] build those streams for the crates of this workspace.
//!
//! ```
//! use tigris_core::pagination::{items, pages};
//!
//! # tokio_test_block_on(async {
//! // Three pages of two numbers, the page after token "n" starting at n.
//! let stream = pages(None, |token: Option<String>| async move {
//!     let start: u32 = token.map_or(0, |t| t.parse().unwrap());
//!     let next = (start < 4).then(|| (start + 2).to_string());
//!     Ok::<_, std::io::Error>((vec![start, start + 1], next))
//! }, |page| page.1.clone());
//! let all: Vec<u32> = items(stream, |page| page.0).try_collect().await?;
//! assert_eq!(all, [0, 1, 2, 3, 4, 5]);
//! # Ok::<_, std::io::Error>(()) });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::future::Future;

pub use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_async::future::pagination_stream::TryFlatMap;
use aws_smithy_async::future::pagination_stream::fn_stream::FnStream;

/// A stream of pages: `fetch(token)` reads the page after `token` (the first page for `first`),
/// and `next_token(&page)` names the page after it, `None` after the last.
///
/// A token equal to the one just sent ends the stream, so a server that repeats a token cannot
/// make it loop forever.
pub fn pages<P, E, F, Fut>(
    first: Option<String>,
    mut fetch: F,
    next_token: fn(&P) -> Option<String>,
) -> PaginationStream<Result<P, E>>
where
    P: Send + 'static,
    E: Send + 'static,
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<P, E>> + Send + 'static,
{
    PaginationStream::new(FnStream::new(move |tx| {
        Box::pin(async move {
            let mut token = first;
            loop {
                let page = fetch(token.clone()).await;
                let next = page.as_ref().ok().and_then(next_token);
                if tx.send(page).await.is_err() {
                    return;
                }
                match next {
                    Some(next) if !next.is_empty() && token.as_ref() != Some(&next) => {
                        token = Some(next);
                    }
                    _ => return,
                }
            }
        })
    }))
}

/// The items of every page of `pages`, in order; an error ends the stream.
pub fn items<P, E, I>(
    pages: PaginationStream<Result<P, E>>,
    into_items: fn(P) -> Vec<I>,
) -> PaginationStream<Result<I, E>>
where
    P: Send + 'static,
    E: Send + 'static,
    I: Send + 'static,
{
    TryFlatMap::new(pages).flat_map(into_items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_repeated_token_ends_the_stream() {
        let stream = pages(
            None,
            |_token| async { Ok::<_, ()>(vec![1]) },
            |_page| Some("same".to_owned()),
        );
        let pages = stream.try_collect().await.unwrap();
        assert_eq!(pages.len(), 2);
    }

    #[tokio::test]
    async fn an_error_ends_the_item_stream() {
        let stream = pages(
            None,
            |token: Option<String>| async move {
                match token {
                    None => Ok(vec![1, 2]),
                    Some(_) => Err("second page failed"),
                }
            },
            |_page| Some("next".to_owned()),
        );
        let mut items = items(stream, |page| page);
        assert_eq!(items.next().await, Some(Ok(1)));
        assert_eq!(items.next().await, Some(Ok(2)));
        assert_eq!(items.next().await, Some(Err("second page failed")));
        assert_eq!(items.next().await, None);
    }
}
