#!/usr/bin/env python3
"""A fake ops-meta for the tests and the demo, faithful to the protocol that
ops-meta(7) describes (the page ops-meta.7).

  ops-meta.py --config META.json --files DIR --port-file FILE [--log FILE]
              [--times FILE]
              [--cert PEM --key PEM [--client-ca PEM]]

With --cert it speaks HTTPS; with --client-ca too, it requires a client
certificate signed by that CA.

Listens on 127.0.0.1 (port 0: the kernel picks; written to --port-file).
META.json is read again on every request, so a test switches versions by
rewriting it. Its shape is ops-meta's own, plus test-only "faults":

  {"agents": [{"default": {"name": "a", "version": "1.0.0",
                           "tarball": "{base}/files", "md5": "", "cmd": "start"},
               "others": [{"prefix": "bj", "version": "1.0.1"}]}],
                         (others: matched as ops-meta does, see desired_for)
   "errorMessage": "",
   "cepave": true,       (the Cepave ops-meta head's rule, below)
   "auth": {"user": "u", "password": "p"},      (HTTP Basic on every route)
   "faults": {"heartbeat": {"status": 500, "body": "...", "sleep": SECONDS,
                            "from": N, "retry_after": "30"},
              "files": {"a-1.0.0.tar.gz": {"status": 404 | "stall": 1 |
                                           "retry_after": "30" (with a status) |
                                           "truncate": N | "redirect": URL |
                                           "norange": 1 | "range_from": N |
                                           "etag": STRING | "noetag": 1 |
                                           "nolength": 1 |
                                           "head_status": N (HEAD only) |
                                           "head_nolength": 1 (HEAD without
                                           Content-Length)}},
              "rate": BYTES_PER_SECOND}}

With "cepave", the answer is rewritten as the Cepave ops-meta head does
(http/heartbeat.go, kept since 2016 so that one updater manages one agent):
when more than one agent is desired and realAgents does not have exactly one
entry, the second desired agent's cmd becomes "stop".

A heartbeat fault with "from" applies from the Nth heartbeat this server
took (1 is the first) on; those before are answered normally.

"{base}" in any string stands for http(s)://127.0.0.1:PORT; "\\udcXX" (a lone
surrogate) stands for the raw byte XX, not valid UTF-8, as a hostile server
could send it. Routes:
  POST /heartbeat                    the protocol (400 on a blank body, bad
                                     JSON or a blank hostname)
  GET  /status/json/<agent>          last report per host, as ops-meta, with
                                     every field the updater sent (such as
                                     an agent's "error", which the real
                                     ops-meta ignores)
  GET  /status/text/<agent>          "host version status timestamp" only
  GET  /files/<name>                 a plain file server for tarballs (HEAD too), with
                                     ETag (from mtime and size), Last-Modified,
                                     and Range "bytes=N-" with If-Range (206,
                                     or 416 past the end); "norange" ignores it,
                                     "range_from" answers any range from N,
                                     "etag" replaces the ETag, "noetag"
                                     sends none (as the real ops-meta),
                                     "nolength" sends no Content-Length
                                     (the body ends when the connection
                                     closes)
Every request is appended to --log as "METHOD PATH STATUS auth=yes|no", the
last field saying whether it carried an Authorization header (of any kind);
a download at "rate" that the client hung up on adds "CUT PATH after N of
M bytes"; a heartbeat taken adds "REPORT HOST [[name, version, status],
...]" (JSON after the host), what it reported, in order, then "UA
USER-AGENT", the User-Agent header it came with.
With --times, each heartbeat and each download of a tarball (a .tar.gz)
appends "START END STATUS PATH" there, START and END in Unix seconds with
fractions: the fleet simulation reads its rates and concurrency from it.
Two instances may run at once (another --port-file, --log and --config):
two origins, for the tests of what goes where.
"""
import argparse
import base64
import email.utils
import json
import os
import re
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
REPORTS = {}  # (hostname, agent) -> report
HEARTBEATS = [0]  # heartbeats taken so far
LOCK = threading.Lock()


def load_meta(base):
    with open(ARGS.config) as f:
        text = f.read()
    return json.loads(text.replace("{base}", base))


FIELDS = ("name", "version", "tarball", "md5", "cmd")


def desired_for(meta, hostname):
    """ops-meta's g.DesiredAgents (g/parser.go of both servers): per agent
    block, in order, its default (a block without one is left out), then
    every others block whose prefix the host name starts with, in the
    order listed, each setting the fields it has non-empty (version,
    tarball, md5, cmd; never name). A later match wins over an earlier one,
    however long their prefixes; an empty or missing prefix matches every
    host; a null block is skipped. Keys of a default beyond the five stay,
    for tests of what a hostile server sends."""
    out = []
    for a in meta.get("agents") or []:
        if not a or not a.get("default"):  # ops-meta logs "default configuration is missed"
            continue
        d = dict(a["default"])
        for o in a.get("others") or []:
            if o and hostname.startswith(o.get("prefix") or ""):
                for k in FIELDS[1:]:
                    if o.get(k) not in (None, ""):
                        d[k] = o[k]
        out.append({k: d.get(k, "") for k in FIELDS} | {k: v for k, v in d.items() if k not in FIELDS})
    return out or None  # a Go nil slice marshals as null


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def base(self):
        return "%s://127.0.0.1:%d" % ("https" if ARGS.cert else "http", self.server.server_address[1])

    def authorized(self):
        """HTTP Basic, when META.json asks for it; answers 401 if not."""
        auth = load_meta(self.base()).get("auth")
        if not auth:
            return True
        want = "Basic " + base64.b64encode(("%s:%s" % (auth["user"], auth["password"])).encode()).decode()
        if self.headers.get("Authorization") == want:
            return True
        body = b"401 unauthorized\n"
        self.record(401)
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="ops"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return False

    # Called before the answer goes out: a client that reacts to it at once
    # (a 416 asked again without a range) must find its requests logged in
    # the order it made them.
    def record(self, status):
        if ARGS.log:
            with LOCK, open(ARGS.log, "a") as f:
                f.write("%s %s %d auth=%s\n" % (self.command, self.path, status,
                                                 "yes" if "Authorization" in self.headers else "no"))

    def times(self, start, status):
        if ARGS.times:
            with LOCK, open(ARGS.times, "a") as f:
                f.write("%.3f %.3f %d %s\n" % (start, time.time(), status, self.path))

    def reply(self, status, body, ctype="text/plain; charset=utf-8", retry_after=None):
        if isinstance(body, str):
            body = body.encode()
        self.record(status)
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        start = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not self.authorized():
            return
        if self.path != "/heartbeat":
            return self.reply(404, "404 page not found\n")
        meta = load_meta(self.base())
        fault = meta.get("faults", {}).get("heartbeat")
        with LOCK:
            HEARTBEATS[0] += 1
            if fault and HEARTBEATS[0] < fault.get("from", 1):
                fault = None
        if fault and "sleep" in fault:  # a server too slow to answer in time
            time.sleep(fault["sleep"])
        if fault and ("status" in fault or "body" in fault):
            return self.reply(fault.get("status", 200), fault.get("body", ""), "application/json",
                              fault.get("retry_after"))
        if not body:
            return self.reply(400, "body is blank\n")
        try:
            req = json.loads(body)
        except ValueError:
            return self.reply(400, "body is not a valid json\n")
        if not isinstance(req, dict) or not req.get("hostname"):
            return self.reply(400, "hostname is blank\n")
        now = int(time.time())
        with LOCK:
            for a in req.get("realAgents") or []:
                REPORTS[(req["hostname"], a.get("name", ""))] = dict(a, hostname=req["hostname"], lastUpdate=now)
            if ARGS.log:
                with open(ARGS.log, "a") as f:
                    f.write("REPORT %s %s\n" % (req["hostname"], json.dumps(
                        [[a.get("name"), a.get("version"), a.get("status")] for a in req.get("realAgents") or []])))
                    f.write("UA %s\n" % self.headers.get("User-Agent", ""))
        resp = {"errorMessage": meta.get("errorMessage", ""),
                "desiredAgents": desired_for(meta, req["hostname"])}
        if meta.get("cepave") and resp["desiredAgents"] and len(resp["desiredAgents"]) > 1 \
                and len(req.get("realAgents") or []) != 1:
            resp["desiredAgents"][1]["cmd"] = "stop"
        body = json.dumps(resp)
        if "\\udc" in body:  # lone surrogates in META.json: raw bytes, sent as they are
            body = json.dumps(resp, ensure_ascii=False).encode("utf-8", "surrogateescape")
        self.reply(200, body, "application/json")
        self.times(start, 200)

    def do_GET(self):
        parts = self.path.split("/")
        if parts[1:2] != ["status"] and not self.authorized():
            return
        if len(parts) == 4 and parts[1] == "status" and parts[2] in ("json", "text"):
            with LOCK:
                rows = [r for (h, n), r in sorted(REPORTS.items()) if n == parts[3]]
            if parts[2] == "json":
                return self.reply(200, json.dumps(rows), "application/json")
            return self.reply(200, "".join("%s %s %s %s\n" % (r["hostname"], r.get("version", ""),
                                                          r.get("status", ""), r.get("timestamp", ""))
                                           for r in rows))
        if len(parts) == 3 and parts[1] == "files" and parts[2] and not parts[2].startswith("."):
            return self.serve_file(parts[2])
        self.reply(404, "404 page not found\n")

    def do_HEAD(self):
        parts = self.path.split("/")
        if not self.authorized():
            return
        if len(parts) == 3 and parts[1] == "files" and parts[2] and not parts[2].startswith("."):
            return self.serve_file(parts[2], head=True)
        self.reply(404, "")

    def serve_file(self, name, head=False):
        t0 = time.time()
        done = (lambda status: self.times(t0, status)) if name.endswith(".tar.gz") and not head else (lambda status: None)
        fault = load_meta(self.base()).get("faults", {}).get("files", {}).get(name, {})
        if head and "head_status" in fault:
            return self.reply(fault["head_status"], "")
        if "status" in fault:
            return self.reply(fault["status"], "fault\n" if not head else "", retry_after=fault.get("retry_after"))
        if "redirect" in fault:
            self.record(302)
            self.send_response(302)
            self.send_header("Location", fault["redirect"])
            self.send_header("Content-Length", "0")
            return self.end_headers()
        path = os.path.join(ARGS.files, name)
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                data = f.read()
        except OSError:
            return self.reply(404, "404 page not found\n" if not head else "")
        etag = None if "noetag" in fault else fault.get("etag", '"%x-%x"' % (st.st_mtime_ns, st.st_size))
        modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        status, start = 200, 0
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if_range = self.headers.get("If-Range")
        if m and "norange" not in fault and (if_range is None or if_range in {etag, modified} - {None}):
            status, start = 206, int(fault.get("range_from", m.group(1)))
            if start >= len(data):
                self.record(416)
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                return self.end_headers()
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        if etag is not None:
            self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        data = data[start:]
        if "nolength" in fault:  # the body ends when the connection does
            self.close_connection = True
        elif not (head and "head_nolength" in fault):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if head:
            return
        if "stall" in fault:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(fault["stall"])
            return
        if "truncate" in fault:
            self.wfile.write(data[: fault["truncate"]])
            self.wfile.flush()
            self.close_connection = True
            return
        rate = load_meta(self.base()).get("faults", {}).get("rate")
        if rate:  # bytes per second, so a test can catch a download midway
            for i in range(0, len(data), 16384):
                try:
                    self.wfile.write(data[i:i + 16384])
                    self.wfile.flush()
                except OSError:  # the client hung up: say how far it got
                    if ARGS.log:
                        with LOCK, open(ARGS.log, "a") as f:
                            f.write("CUT %s after %d of %d bytes\n" % (self.path, i, len(data)))
                    self.close_connection = True
                    return
                time.sleep(16384 / rate)
            return done(status)
        self.wfile.write(data)
        done(status)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # listen()'s backlog; Python's default of 5 drops the connections of a
    # simulated fleet whose passes start at the same instant (t/fleet.sh),
    # which would count as failed passes that are the fake's own fault.
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # clients that hang up on purpose (size caps, timeouts)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--files", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log")
    p.add_argument("--times")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--client-ca")
    ARGS = p.parse_args()
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    if ARGS.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        if ARGS.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(ARGS.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, ARGS.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
