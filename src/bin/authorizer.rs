//! The Lambda authorizer of the platform's APIs (`chatroom_token::authorizer`).

use chatroom_token::authorizer::{Authorizer, AuthorizerEvent};
use lambda_http::lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chatroom_token::logging::init();
    let authorizer = Authorizer::start()
        .await
        .inspect_err(|error| tracing::error!("{error}"))?;
    let authorizer = &authorizer;
    run(service_fn(
        move |event: LambdaEvent<AuthorizerEvent>| async move {
            Ok::<_, Error>(authorizer.decide(&event.payload).await)
        },
    ))
    .await
}
