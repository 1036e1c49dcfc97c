//! Connects, logs in, logs out and exits, printing nothing (errors go to stderr, exit code 1).
//!
//! ```text
//! VIM_SDK_USER=user VIM_SDK_PASSWORD=pass login_logout https://127.0.0.1:8989/sdk
//! ```
//!
//! Credentials come from the environment (`VIM_SDK_USER`, `VIM_SDK_PASSWORD`) so that the
//! password is not in the process's argv; a user in the URL is honoured too (a password there
//! is refused: `ErrorKind::PasswordInUrl`). TLS: verified by
//! default; `VIM_SDK_THUMBPRINT=AA:BB:…` pins the certificate, `VIM_SDK_INSECURE=1` turns
//! verification off.

use vim_sdk::session::ConnectOptions;
use vim_sdk::Client;

fn options() -> Result<ConnectOptions, String> {
    let mut o = ConnectOptions::new();
    if let (Ok(u), Ok(p)) = (
        std::env::var("VIM_SDK_USER"),
        std::env::var("VIM_SDK_PASSWORD"),
    ) {
        o = o.credentials(u, p);
    }
    if let Ok(t) = std::env::var("VIM_SDK_THUMBPRINT") {
        o = o.pin(t.parse().map_err(|e| format!("VIM_SDK_THUMBPRINT: {e}"))?);
    }
    if std::env::var("VIM_SDK_INSECURE").is_ok_and(|v| v == "1") {
        o = o.insecure();
    }
    Ok(o)
}

fn main() -> std::process::ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: login_logout <https://host/sdk>");
        return std::process::ExitCode::from(2);
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        let session = Client::connect(&url, options()?)
            .await
            .map_err(|e| e.to_string())?;
        session.close().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
