//! A minimal HTTP/1.1 client over a unix socket, for the Docker Engine API.
//!
//! One `GET` per connection (`Connection: close`); the body is handed back as a stream,
//! de-chunked when the server sends `Transfer-Encoding: chunked`, cut at `Content-Length` when
//! it sends one, else read until the server closes. hyper would do this too, but pulls an async
//! runtime into a synchronous scanner for one request per image.
//!
//! No I/O beyond the socket it is given; no retries (a local daemon either answers or is down).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Status line plus headers longer than this are refused.
const HEAD_LIMIT: u64 = 64 << 10;
/// A chunk-size line longer than this is refused (a hex size and a few extensions).
const CHUNK_LINE_LIMIT: u64 = 4 << 10;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket could not be connected to.
    #[error("cannot connect to {}", socket.display())]
    Connect {
        /// The socket.
        socket: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The connection failed while sending the request or reading the response head.
    #[error("reading the answer from {}", socket.display())]
    Io {
        /// The socket.
        socket: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The first line of the answer is not `HTTP/1.x CODE REASON`.
    #[error("not an HTTP status line: {0:?}")]
    StatusLine(String),
    /// A header line without a colon, or not text.
    #[error("malformed HTTP header: {0:?}")]
    Header(String),
    /// The status line and headers are longer than [`HEAD_LIMIT`], or end early.
    #[error("HTTP response head {0}")]
    Head(&'static str),
    /// A chunk of a chunked body is malformed.
    #[error("malformed chunked body: {0}")]
    Chunk(String),
}

/// The status of an answer and its body as a stream (the headers only frame the body).
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body, de-chunked.
    pub body: Box<dyn Read + Send>,
}

/// Sends `GET path` to the server on `socket` and reads the answer's head.
///
/// `timeout` bounds each read and write, not the whole transfer.
///
/// # Errors
/// When the socket cannot be connected to, the connection breaks before the head is read,
/// or the head is not HTTP/1.x.
pub fn get(socket: &Path, path: &str, timeout: Duration) -> Result<Response, Error> {
    let stream = UnixStream::connect(socket)
        .map_err(|source| Error::Connect { socket: socket.to_path_buf(), source })?;
    let io_error = |source| Error::Io { socket: socket.to_path_buf(), source };
    stream.set_read_timeout(Some(timeout)).map_err(io_error)?;
    stream.set_write_timeout(Some(timeout)).map_err(io_error)?;
    // The Engine API ignores Host on a unix socket but HTTP/1.1 requires one.
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: keysweep/{}\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    (&stream).write_all(request.as_bytes()).map_err(io_error)?;
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader).map_err(|e| match e {
        HeadError::Io(source) => io_error(source),
        HeadError::Http(e) => e,
    })?;
    let body = body_reader(reader, &headers)?;
    Ok(Response { status, body })
}

enum HeadError {
    Io(io::Error),
    Http(Error),
}

/// Reads the status line and headers, up to the blank line.
fn read_head(reader: &mut impl BufRead) -> Result<(u16, Vec<(String, String)>), HeadError> {
    let mut limited = reader.take(HEAD_LIMIT);
    let mut line = String::new();
    let mut read_line = |line: &mut String| -> Result<(), HeadError> {
        line.clear();
        let n = limited.read_line(line).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => HeadError::Http(Error::Head("is not text")),
            _ => HeadError::Io(e),
        })?;
        if n == 0 || !line.ends_with('\n') {
            let why = if limited.limit() == 0 { "is too long" } else { "ends early" };
            return Err(HeadError::Http(Error::Head(why)));
        }
        Ok(())
    };
    read_line(&mut line)?;
    let status = parse_status_line(trim_eol(&line)).map_err(HeadError::Http)?;
    let mut headers = Vec::new();
    loop {
        read_line(&mut line)?;
        let text = trim_eol(&line);
        if text.is_empty() {
            return Ok((status, headers));
        }
        headers.push(parse_header(text).map_err(HeadError::Http)?);
    }
}

fn trim_eol(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// Parses `HTTP/1.1 404 Not Found` into its code.
///
/// # Errors
/// [`Error::StatusLine`] when the line is not `HTTP/1.x` and a three-digit code.
pub fn parse_status_line(line: &str) -> Result<u16, Error> {
    let bad = || Error::StatusLine(line.to_string());
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().ok_or_else(bad)?;
    if !version.starts_with("HTTP/1.") {
        return Err(bad());
    }
    let code = parts.next().ok_or_else(bad)?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    code.parse().map_err(|_| bad())
}

/// Parses `Name: value` into the lowercased name and the trimmed value.
fn parse_header(line: &str) -> Result<(String, String), Error> {
    let (name, value) = line.split_once(':').ok_or_else(|| Error::Header(line.to_string()))?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(Error::Header(line.to_string()));
    }
    Ok((name.to_ascii_lowercase(), value.trim().to_string()))
}

/// The body as the headers frame it: chunked, sized, or until the connection closes.
fn body_reader<R: BufRead + Send + 'static>(
    reader: R,
    headers: &[(String, String)],
) -> Result<Box<dyn Read + Send>, Error> {
    let value = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let chunked = value("transfer-encoding")
        .is_some_and(|v| v.split(',').any(|c| c.trim().eq_ignore_ascii_case("chunked")));
    if chunked {
        return Ok(Box::new(Chunked::new(reader)));
    }
    match value("content-length") {
        Some(length) => {
            let length: u64 =
                length.parse().map_err(|_| Error::Header(format!("content-length: {length}")))?;
            Ok(Box::new(Sized { inner: reader.take(length), length }))
        }
        None => Ok(Box::new(reader)),
    }
}

/// A body with a `Content-Length`: ending before it is an error, not a short body.
struct Sized<R> {
    inner: io::Take<R>,
    length: u64,
}

impl<R: Read> Read for Sized<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && self.inner.limit() > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "connection closed after {} of {} bytes",
                    self.length - self.inner.limit(),
                    self.length
                ),
            ));
        }
        Ok(n)
    }
}

/// Decodes `Transfer-Encoding: chunked` (RFC 9112 §7.1): `SIZE[;ext]\r\n DATA \r\n` repeated,
/// ended by a zero size and optional trailers. A stream that ends before the last chunk is an
/// error, so a daemon dying mid-save never looks like a complete image.
pub struct Chunked<R> {
    inner: R,
    /// Bytes left in the current chunk.
    left: u64,
    /// The zero-size chunk and trailers were read.
    done: bool,
    /// A chunk was read and its CRLF is still to come.
    in_chunk: bool,
}

impl<R: BufRead> Chunked<R> {
    /// Decodes the chunked stream `inner`.
    pub fn new(inner: R) -> Chunked<R> {
        Chunked { inner, left: 0, done: false, in_chunk: false }
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        let n = (&mut self.inner).take(CHUNK_LINE_LIMIT).read_line(&mut line)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "stream ended mid-body"));
        }
        if !line.ends_with('\n') {
            return Err(chunk_error("chunk line too long or cut off"));
        }
        Ok(trim_eol(&line).to_string())
    }

    /// Reads the next chunk's size line (after the previous chunk's CRLF); at the last
    /// chunk, reads the trailers.
    fn next_chunk(&mut self) -> io::Result<()> {
        if self.in_chunk {
            let end = self.line()?;
            if !end.is_empty() {
                return Err(chunk_error("chunk data longer than its size"));
            }
        }
        let line = self.line()?;
        self.left =
            parse_chunk_size(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.in_chunk = true;
        if self.left == 0 {
            while !self.line()?.is_empty() {}
            self.done = true;
        }
        Ok(())
    }
}

fn chunk_error(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Error::Chunk(why.to_string()))
}

/// The size of a chunk line `HEX[;extensions]`.
///
/// # Errors
/// [`Error::Chunk`] when the size is not hex or overflows.
pub fn parse_chunk_size(line: &str) -> Result<u64, Error> {
    let size = line.split(';').next().unwrap_or_default().trim();
    if size.is_empty() || size.len() > 16 {
        return Err(Error::Chunk(format!("bad chunk size {line:?}")));
    }
    u64::from_str_radix(size, 16).map_err(|_| Error::Chunk(format!("bad chunk size {line:?}")))
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.left == 0 {
            if self.done {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "stream ended mid-chunk"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dechunk(wire: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        // A 3-byte buffer under the reader, so chunk lines straddle refills.
        Chunked::new(BufReader::with_capacity(3, wire)).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn chunked_bodies() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
            (b"A;name=value\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n", b"abc"),
            (b"0\r\n\r\n", b""),
            (b"2\nhi\n0\n\n", b"hi"),
            (b"5\r\nhello\r\n0\r\n\r\nafter the body", b"hello"),
        ];
        for (wire, want) in cases {
            let got = dechunk(wire).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
            assert_eq!(&got, want, "{}", String::from_utf8_lossy(wire));
        }
    }

    #[test]
    fn broken_chunked_bodies_are_errors() {
        let cases: &[(&[u8], io::ErrorKind)] = &[
            (b"5\r\nhel", io::ErrorKind::UnexpectedEof),
            (b"5\r\nhello\r\n", io::ErrorKind::UnexpectedEof),
            (b"zz\r\nhello\r\n0\r\n\r\n", io::ErrorKind::InvalidData),
            (b"3\r\nhello\r\n0\r\n\r\n", io::ErrorKind::InvalidData),
            (b"\r\n", io::ErrorKind::InvalidData),
            (b"11111111111111111\r\n", io::ErrorKind::InvalidData),
        ];
        for (wire, kind) in cases {
            let got = dechunk(wire).map_err(|e| e.kind());
            assert_eq!(got, Err(*kind), "{}", String::from_utf8_lossy(wire));
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line("HTTP/1.1 200 OK").ok(), Some(200));
        assert_eq!(parse_status_line("HTTP/1.0 404 Not Found").ok(), Some(404));
        assert_eq!(parse_status_line("HTTP/1.1 500").ok(), Some(500));
        for bad in ["", "HTTP/2 200 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc", "SSH-2.0-x", "200 OK"]
        {
            assert!(
                matches!(parse_status_line(bad), Err(Error::StatusLine(line)) if line == bad),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn heads_and_bodies() {
        let wire: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\n\
            Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let mut reader = BufReader::new(wire);
        let Ok((status, headers)) = read_head(&mut reader) else { panic!("a head") };
        assert_eq!(status, 200);
        assert_eq!(headers[0], ("content-type".to_string(), "application/x-tar".to_string()));
        let mut body = String::new();
        let Ok(mut reader) = body_reader(reader, &headers) else { panic!("a body") };
        reader.read_to_string(&mut body).expect("body");
        assert_eq!(body, "abc");

        let sized = |wire: &'static [u8]| {
            let mut reader = BufReader::new(wire);
            let Ok((_, headers)) = read_head(&mut reader) else { panic!("a head") };
            let mut body = Vec::new();
            body_reader(reader, &headers).expect("body").read_to_end(&mut body).map(|_| body)
        };
        let full = sized(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope and more");
        assert_eq!(full.ok(), Some(b"nope".to_vec()));
        let short = sized(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nnope");
        assert_eq!(short.map_err(|e| e.kind()), Err(io::ErrorKind::UnexpectedEof));

        for (wire, want) in [
            (&b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"[..], "malformed HTTP header: \"no colon\""),
            (b"HTTP/1.1 200 OK\r\nA: b\r\n", "HTTP response head ends early"),
            (b"garbage\r\n\r\n", "not an HTTP status line: \"garbage\""),
        ] {
            match read_head(&mut BufReader::new(wire)) {
                Err(HeadError::Http(e)) => assert_eq!(e.to_string(), want),
                _ => panic!("{want}"),
            }
        }
    }
}
