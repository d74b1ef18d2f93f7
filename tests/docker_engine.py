#!/usr/bin/env python3
"""A small Docker Engine API on a unix socket, for tests/image/daemon.rs.

    docker_engine.py SOCKET IMAGES_JSON LOG

IMAGES_JSON maps image names (as `docker save` takes them: `app:1.0`) to tar files. Served, with
or without an API version prefix (`/v1.43/...`):

- `GET /_ping` -> `OK`
- `GET /version` -> the engine's version JSON
- `GET /images/{name}/get` -> the tar, `Transfer-Encoding: chunked` in 7 KiB chunks (as the
  engine streams `docker save`); a name listed with a `"cut:"` prefix on its file sends half the
  tar and closes the connection mid-chunk (a daemon dying mid-save); an unknown name -> 404
  `{"message": "No such image: NAME"}` (the engine's wording)

Each request line is appended to LOG (path as received, still percent-encoded).
"""

import http.server
import json
import os
import re
import socketserver
import sys
import urllib.parse

SOCKET, IMAGES, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
CHUNK = 7 * 1024


class Engine(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Docker/24.0.0-test"

    def log_message(self, *args):
        # BaseHTTPRequestHandler logs the client address, which a unix socket does not have.
        pass

    def reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Api-Version", "1.43")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(LOG, "a") as log:
            log.write(f"GET {self.path}\n")
        path = re.sub(r"^/v1\.\d+", "", self.path.split("?", 1)[0])
        if path == "/_ping":
            return self.reply(200, "text/plain", b"OK")
        if path == "/version":
            body = {"Version": "24.0.0-test", "ApiVersion": "1.43", "MinAPIVersion": "1.12",
                    "Os": "linux", "Arch": "amd64"}
            return self.reply(200, "application/json", json.dumps(body).encode())
        match = re.fullmatch(r"/images/(.+)/get", path)
        if not match:
            body = json.dumps({"message": "page not found"}).encode()
            return self.reply(404, "application/json", body)
        name = urllib.parse.unquote(match.group(1))
        with open(IMAGES) as f:
            images = json.load(f)
        if name not in images:
            body = json.dumps({"message": f"No such image: {name}"}).encode()
            return self.reply(404, "application/json", body)
        tar_path = images[name]
        cut = tar_path.startswith("cut:")
        with open(tar_path.removeprefix("cut:"), "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Api-Version", "1.43")
        self.end_headers()
        end = len(data) // 2 if cut else len(data)
        for start in range(0, end, CHUNK):
            piece = data[start:min(start + CHUNK, end)]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        if cut:
            # A chunk header promising more than is sent, then the connection closes.
            self.wfile.write(b"%x\r\n" % CHUNK)
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCKET):
    os.unlink(SOCKET)
with Server(SOCKET, Engine) as server:
    server.serve_forever()
