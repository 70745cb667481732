//! The gRPC channel to BuildKit over the frontend's stdin/stdout.
//!
//! BuildKit runs the frontend image and is the HTTP/2 *server* on the other end of the
//! process's fd 0 (reads) and fd 1 (writes). We wrap those fds in tokio's non-blocking pipe
//! types: `tokio::io::stdin()` would keep the process alive after `Return` (a blocking read
//! that the runtime waits for at shutdown).

use hyper_util::rt::TokioIo;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};
use tokio::net::unix::pipe;
use tonic::transport::{Channel, Endpoint, Uri};

/// Opens the gRPC channel to BuildKit over stdin/stdout.
///
/// The connection can be made only once: stdio cannot be reopened, so a reconnect attempt
/// fails instead of silently talking to a dead stream.
pub async fn stdio_channel() -> std::io::Result<Channel> {
    let rx = pipe::Receiver::from_owned_fd(std::io::stdin().as_fd().try_clone_to_owned()?)?;
    let tx = pipe::Sender::from_owned_fd(std::io::stdout().as_fd().try_clone_to_owned()?)?;
    io_channel(tokio::io::join(rx, tx)).await
}

/// Opens a gRPC channel over any byte stream (stdio in production, an in-memory duplex in tests).
pub async fn io_channel<S>(stream: S) -> std::io::Result<Channel>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let slot = Arc::new(Mutex::new(Some(stream)));
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let io = slot.lock().ok().and_then(|mut s| s.take());
            async move {
                io.map(TokioIo::new).ok_or_else(|| {
                    std::io::Error::other("the BuildKit stdio stream was already used")
                })
            }
        }))
        .await
        .map_err(std::io::Error::other)
}
