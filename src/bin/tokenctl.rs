//! The operators' command-line tool; see `tokenctl --help`.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = chatroom_token::tokenctl::Cli::parse();
    if let Err(error) = chatroom_token::tokenctl::run(cli).await {
        eprintln!("tokenctl: {error}");
        std::process::exit(error.exit_code());
    }
}
