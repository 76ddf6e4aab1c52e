//! The token endpoint as a Lambda function.

use chatroom_token::app::build_service;
use chatroom_token::clock::SystemClock;
use chatroom_token::config::Config;
use chatroom_token::http::handle;
use lambda_http::{service_fn, Error, Request};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    chatroom_token::logging::init();
    let config = Config::from_env().inspect_err(|error| tracing::error!("{error}"))?;
    let service = build_service(config, Arc::new(SystemClock))
        .await
        .inspect_err(|error| tracing::error!("{error}"))?
        .with_metrics();
    let service = &service;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(handle(service, request).await)
    }))
    .await
}
