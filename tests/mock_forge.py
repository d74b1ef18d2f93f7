#!/usr/bin/env python3
"""A mock GitHub/GitLab REST API for the listing tests (tests/listing.rs). Python 3 stdlib only.

Usage: mock_forge.py DIR

Reads DIR/routes.json, binds 127.0.0.1 on a free port, prints the port on stdout (one line)
and serves until killed. Every request is appended to DIR/requests.jsonl *before* it is
answered, as one JSON object:

    {"method": "GET", "path": "/orgs/acme/repos", "query": {"page": "1", ...},
     "headers": {...names lowercased, without Authorization and PRIVATE-TOKEN...},
     "authorization": null | {"header": "Authorization" | "PRIVATE-TOKEN",
                              "scheme": "Bearer" | null, "valid": true | false},
     "status": 200}

routes.json:

    {"token": "T" | null,        # the token this forge accepts; any other one gets a 401
     "routes": [ROUTE, ...]}     # the first unexhausted route whose path and query match wins;
                                 # no match is a 404 {"message": "Not Found"}

A ROUTE is {"path": P, "query": {k: v, ...} (a subset the request must carry), "times": N
(optional: used N times, then skipped)} plus one of:

    canned:    "status": S, "headers": {...}, and "body": JSON or "body_file": a file in DIR
    generated: "pages": {"urls": [...], "field": "clone_url" | "http_url_to_repo",
                         "paging": "link" | "x-next-page",
                         "per_page": N (optional: the most this forge serves a page)}

A generated list is served in a fixed shuffled order, `per_page` (at most 100) items a page,
each item with the URL in `field` among other fields a forge sends (so the client must ignore
unknown fields). "link" pages like GitHub (`Link` with next/last), "x-next-page" like GitLab
(x-page, x-per-page, x-total, x-next-page empty on the last page, no Link). In header values
and canned bodies `{origin}` becomes http://127.0.0.1:PORT.
"""

import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

DIR = sys.argv[1]
with open(os.path.join(DIR, "routes.json"), encoding="utf-8") as f:
    CONFIG = json.load(f)
ROUTES = CONFIG["routes"]
USES = [0] * len(ROUTES)
LOCK = threading.Lock()
LOG = os.path.join(DIR, "requests.jsonl")
ORIGIN = ""


def shuffled(urls):
    """A fixed order that is neither sorted nor reversed, so the client's sorting is tested."""
    return sorted(urls, key=lambda url: hashlib.sha256(url.encode()).hexdigest())


def fill(text):
    return text.replace("{origin}", ORIGIN)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True))
        auth = self.authorization()
        with LOCK:
            status, headers, body = self.answer(path, params, auth)
            record = {
                "method": "GET",
                "path": path,
                "query": params,
                "headers": {
                    k.lower(): v
                    for k, v in self.headers.items()
                    if k.lower() not in ("authorization", "private-token")
                },
                "authorization": auth,
                "status": status,
            }
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, fill(str(value)))
        self.end_headers()
        self.wfile.write(data)

    def authorization(self):
        """Which token header came and whether its token is the accepted one (never its value)."""
        for name in ("Authorization", "PRIVATE-TOKEN"):
            value = self.headers.get(name)
            if value is None:
                continue
            scheme, token = None, value
            if name == "Authorization" and " " in value:
                scheme, token = value.split(" ", 1)
            return {"header": name, "scheme": scheme, "valid": token == CONFIG.get("token")}
        return None

    def answer(self, path, params, auth):
        if auth is not None and not auth["valid"]:
            return 401, {}, {"message": "Bad credentials"}
        for i, route in enumerate(ROUTES):
            if route["path"] != path:
                continue
            if any(params.get(k) != v for k, v in route.get("query", {}).items()):
                continue
            if "times" in route and USES[i] >= route["times"]:
                continue
            USES[i] += 1
            if "pages" in route:
                return self.page(route["pages"], path, params)
            if "body_file" in route:
                with open(os.path.join(DIR, route["body_file"]), encoding="utf-8") as f:
                    body = fill(f.read()).encode()
            else:
                body = json.loads(fill(json.dumps(route.get("body", {}))))
            return route.get("status", 200), route.get("headers", {}), body
        return 404, {}, {"message": "Not Found"}

    def page(self, spec, path, params):
        urls = shuffled(spec["urls"])
        # A server-side cap (as GitLab's `max_per_page` setting) lets a few repositories span
        # several pages while the client still asks for 100.
        cap = min(100, int(spec.get("per_page", 100)))
        per_page = max(1, min(cap, int(params.get("per_page", "30"))))
        page = max(1, int(params.get("page", "1")))
        last = max(1, -(-len(urls) // per_page))
        items = [
            {
                "id": n,
                "name": url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"),
                "archived": n % 7 == 0,
                "fork": n % 5 == 0,
                spec["field"]: url,
                "ssh_url": "git@forge.example:" + str(n) + ".git",
            }
            for n, url in enumerate(urls[(page - 1) * per_page : page * per_page], start=(page - 1) * per_page)
        ]
        headers = {}
        if spec["paging"] == "link":
            def link(n):
                return "<" + ORIGIN + path + "?" + urlencode({**params, "page": str(n)}) + ">"
            rels = []
            if page < last:
                rels += [link(page + 1) + '; rel="next"', link(last) + '; rel="last"']
            if page > 1:
                rels += [link(1) + '; rel="first"', link(page - 1) + '; rel="prev"']
            if rels:
                headers["Link"] = ", ".join(rels)
        else:
            headers = {
                "x-page": str(page),
                "x-per-page": str(per_page),
                "x-total": str(len(urls)),
                "x-total-pages": str(last),
                "x-next-page": str(page + 1) if page < last else "",
            }
        return 200, headers, items


def main():
    global ORIGIN
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ORIGIN = "http://127.0.0.1:%d" % server.server_address[1]
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
