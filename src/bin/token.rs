//! The token endpoint as a Lambda function.

use chatroom_token::app::start;
use chatroom_token::http::handle;
use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chatroom_token::logging::init();
    let service = start()
        .await
        .inspect_err(|error| tracing::error!("{error}"))?
        .with_metrics();
    let service = &service;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(handle(service, request).await)
    }))
    .await
}
