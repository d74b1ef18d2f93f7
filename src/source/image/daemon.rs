//! `docker-daemon:NAME[:TAG]`: an image read from the local Docker Engine API.
//!
//! The engine's socket comes from `DOCKER_HOST` (`unix:///path`) or is the default
//! `/var/run/docker.sock`; a `tcp://` host is refused (the API is unauthenticated there unless
//! TLS is set up, which keysweep does not do). `GET /images/{name}/get` answers with the same
//! tar that `docker save` writes, which the docker-archive reader reads. Errors name the socket
//! and the image; an answer that is not a success carries the engine's JSON `message`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::unix_http;

/// The socket when `DOCKER_HOST` is not set.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// How long one read from the engine may stall: exporting a large image can pause the stream
/// while the engine reads layers from its store.
const READ_TIMEOUT: Duration = Duration::from_secs(300);
/// An error body longer than this is cut (it is one JSON message).
const ERROR_BODY_LIMIT: u64 = 64 << 10;
/// Escaped in the image name: everything but unreserved characters and the `/` and `:` that
/// image names are made of (the engine matches `/images/{name:.*}/get`).
const NAME_ESCAPES: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/').remove(b':');

/// Why the engine could not hand over an image.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `DOCKER_HOST` names something other than a unix socket.
    #[error(
        "DOCKER_HOST={host:?} is not supported: keysweep reads the Docker Engine over a unix \
         socket only (DOCKER_HOST=unix:///path/to/docker.sock); or pipe the image in with \
         `docker save IMAGE | keysweep image docker-archive:-`"
    )]
    Host {
        /// `DOCKER_HOST` as set.
        host: String,
    },
    /// The socket could not be connected to.
    #[error("cannot connect to the Docker daemon at unix://{} (is it running?)", socket.display())]
    Unreachable {
        /// The socket.
        socket: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connection broke or the answer was not HTTP.
    #[error("Docker daemon at unix://{}: reading image {image}", socket.display())]
    Http {
        /// The socket.
        socket: PathBuf,
        /// The image asked for.
        image: String,
        /// Why.
        #[source]
        source: unix_http::Error,
    },
    /// The engine answered with an error (404: no such image).
    #[error("Docker daemon at unix://{}: image {image}: HTTP {status}: {message}", socket.display())]
    Status {
        /// The socket.
        socket: PathBuf,
        /// The image asked for.
        image: String,
        /// The status code.
        status: u16,
        /// The engine's `message`, else the body as text.
        message: String,
    },
}

/// The engine's socket, from the value of `DOCKER_HOST` (`None`: not set).
///
/// # Errors
/// [`Error::Host`] for a host that is not `unix://`.
pub fn socket(docker_host: Option<&str>) -> Result<PathBuf, Error> {
    match docker_host.map(str::trim) {
        None | Some("") => Ok(PathBuf::from(DEFAULT_SOCKET)),
        Some(host) => match host.strip_prefix("unix://") {
            Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
            _ => Err(Error::Host { host: host.to_string() }),
        },
    }
}

/// Asks the engine on `socket` for `image` as a `docker save` tar stream.
///
/// # Errors
/// When the engine cannot be reached or answers with an error.
pub fn save(socket: &Path, image: &str) -> Result<Box<dyn Read + Send>, Error> {
    let path = format!("/images/{}/get", utf8_percent_encode(image, NAME_ESCAPES));
    let response = unix_http::get(socket, &path, READ_TIMEOUT).map_err(|source| match source {
        unix_http::Error::Connect { source, .. } => {
            Error::Unreachable { socket: socket.to_path_buf(), source }
        }
        _ => Error::Http { socket: socket.to_path_buf(), image: image.to_string(), source },
    })?;
    if response.status == 200 {
        return Ok(response.body);
    }
    let mut body = Vec::new();
    // A body that breaks off still says what it could; the status alone is the error.
    let _ = response.body.take(ERROR_BODY_LIMIT).read_to_end(&mut body);
    Err(Error::Status {
        socket: socket.to_path_buf(),
        image: image.to_string(),
        status: response.status,
        message: error_message(&body),
    })
}

/// The engine's `{"message": "..."}`, else the body as text.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct EngineError {
        message: String,
    }
    match serde_json::from_slice::<EngineError>(body) {
        Ok(error) => error.message,
        Err(_) => String::from_utf8_lossy(body).trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_from_docker_host() {
        assert_eq!(socket(None).ok(), Some(PathBuf::from("/var/run/docker.sock")));
        assert_eq!(socket(Some("")).ok(), Some(PathBuf::from("/var/run/docker.sock")));
        assert_eq!(socket(Some("unix:///run/d.sock")).ok(), Some(PathBuf::from("/run/d.sock")));
        for refused in ["tcp://127.0.0.1:2375", "unix://", "ssh://host", "/run/d.sock"] {
            assert!(matches!(socket(Some(refused)), Err(Error::Host { .. })), "{refused}");
        }
    }

    #[test]
    fn names_are_escaped_but_readable() {
        let escape = |name: &str| utf8_percent_encode(name, NAME_ESCAPES).to_string();
        assert_eq!(escape("app:1.0"), "app:1.0");
        assert_eq!(escape("registry.example/team/app:1.0"), "registry.example/team/app:1.0");
        assert_eq!(escape("a b?c#d"), "a%20b%3Fc%23d");
        assert_eq!(escape("app@sha256:ab"), "app%40sha256:ab");
    }

    #[test]
    fn engine_error_messages() {
        assert_eq!(
            error_message(br#"{"message":"No such image: app:2.0"}"#),
            "No such image: app:2.0"
        );
        assert_eq!(error_message(b"  page not found\n"), "page not found");
    }
}
