//! The token endpoint as a Lambda function.

use chatroom_token::app::start;
use chatroom_token::http::handle;
use lambda_http::{service_fn, Error, Request};

/// On musl (the deployed build), mimalloc: musl's own allocator costs about a third more CPU per
/// invocation. glibc builds (tests, local runs) keep the system allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
