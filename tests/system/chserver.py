"""ClickHouse servers for the system tests: start(dirpath, http_port,
tcp_port, cluster) runs Debian's clickhouse-server on loopback with its
config, data and logs in dirpath, and CuttingProxy stands between a client
and a server to lose the answer of a request the server carried out.

    srv = chserver.start(tmp, 28123, 29000)
    srv.query("SELECT 1")          # "1\n"
    srv.stop()
"""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

BINARY = "clickhouse-server"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def available():
    """(True, "") when clickhouse-server can be run, else (False, why)."""
    path = shutil.which(BINARY) or (os.path.exists("/usr/sbin/" + BINARY) and "/usr/sbin/" + BINARY)
    if not path:
        return False, "%s is not installed (scripts/install-deps.sh installs it)" % BINARY
    return True, ""


def _binary():
    return shutil.which(BINARY) or "/usr/sbin/" + BINARY


def _xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _config(dirpath, http_port, tcp_port, cluster):
    d = os.path.abspath(dirpath)
    shards = ""
    if cluster:
        shards = "<remote_servers><dnsradar>%s</dnsradar></remote_servers>" % "".join(
            "<shard><replica><host>%s</host><port>%d</port></replica></shard>"
            % (_xml_escape(h), p) for h, p in cluster)
    return """<?xml version="1.0"?>
<yandex>
  <logger><level>information</level><log>{d}/server.log</log><errorlog>{d}/err.log</errorlog>
    <size>10M</size><count>2</count><console>0</console></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <timezone>UTC</timezone>
  {shards}
</yandex>
""".format(d=_xml_escape(d), http=http_port, tcp=tcp_port, shards=shards)


USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default>
    <readonly1><readonly>1</readonly></readonly1><readonly2><readonly>2</readonly></readonly2>
  </profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default>{users}</users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
"""


class Server:
    def __init__(self, dirpath, http_port, tcp_port, cluster=None, users=()):
        self.dir = os.path.abspath(dirpath)
        self.users = users
        self.http_port = http_port
        self.tcp_port = tcp_port
        self.cluster = cluster
        self.url = "http://127.0.0.1:%d/" % http_port
        self.proc = None
        self.pid = None

    def _write_config(self):
        for sub in ("data", "tmp", "user_files", "format_schemas"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        with open(os.path.join(self.dir, "config.xml"), "w", encoding="utf-8") as f:
            f.write(_config(self.dir, self.http_port, self.tcp_port, self.cluster))
        with open(os.path.join(self.dir, "users.xml"), "w", encoding="utf-8") as f:
            f.write(USERS.replace("{users}", "".join(
                "<%s><password>%s</password><networks><ip>127.0.0.1</ip></networks>"
                "<profile>%s</profile><quota>default</quota></%s>"
                % (name, _xml_escape(pw), profile, name) for name, pw, profile in self.users)))

    def _run(self):
        out = open(os.path.join(self.dir, "stdout"), "ab")
        self.proc = subprocess.Popen(
            [_binary(), "--config-file=" + os.path.join(self.dir, "config.xml")],
            cwd=self.dir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        self.pid = self.proc.pid
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("clickhouse-server in %s exited with %d:\n%s"
                                   % (self.dir, self.proc.returncode, self.log_tail()))
            try:
                if self.query("SELECT 1", timeout=2).strip() == "1":
                    return
            except (OSError, urllib.error.URLError, RuntimeError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("clickhouse-server in %s did not answer SELECT 1 in %.0f s:\n%s"
                           % (self.dir, START_TIMEOUT, self.log_tail()))

    def log_tail(self, lines=20):
        text = ""
        for name in ("err.log", "stdout"):
            try:
                with open(os.path.join(self.dir, name), encoding="utf-8", errors="replace") as f:
                    text += "".join(f.readlines()[-lines:])
            except OSError:
                pass
        return text

    def query(self, sql, timeout=30, data=None):
        """Runs sql (POSTed; data, bytes, follows it in the body, as an
        INSERT's rows); its answer as text. RuntimeError with ClickHouse's
        message when it refuses."""
        body = sql.encode() if data is None else sql.encode() + b"\n" + data
        req = urllib.request.Request(self.url, data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as e:
            raise RuntimeError("%s: %s" % (self.url, e.read().decode(errors="replace").strip()))

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop()
        self._run()


def start(dirpath, http_port, tcp_port, cluster=None, users=()):
    """A clickhouse-server on 127.0.0.1 with everything in dirpath, answering
    SELECT 1; cluster: [(host, tcp_port)] shards of the cluster "dnsradar";
    users: more users than default, (name, password, profile), a profile
    being default, readonly1 or readonly2."""
    srv = Server(dirpath, http_port, tcp_port, cluster, users)
    srv._write_config()
    srv._run()
    return srv


class CuttingProxy:
    """A TCP proxy on 127.0.0.1:listen_port to target_port. After
    cut_next_answer(n), the next n requests are forwarded whole, the
    server's whole answer is read, and the client's connection is closed
    without it: the server did the work, the client never hears of it.
    `forwarded` counts the requests passed to the server; `cut` those whose
    answer was dropped."""

    def __init__(self, listen_port, target_port):
        self.target_port = target_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen_port))
        self.sock.listen(16)
        self.lock = threading.Lock()
        self.to_cut = 0
        self.match = None
        self.forwarded = 0
        self.cut = 0
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def cut_next_answer(self, n=1, match=None):
        """The next n requests (those whose request line holds the bytes
        `match`, when given) lose their answers."""
        with self.lock:
            self.to_cut += n
            self.match = match

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _read_request(f):
        """One HTTP/1.1 request from the file f, as bytes; None at EOF."""
        head = b""
        while True:
            line = f.readline(65536)
            if not line:
                return None
            head += line
            if line in (b"\r\n", b"\n"):
                break
        length, chunked = 0, False
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            k = k.strip().lower()
            if k == b"content-length":
                length = int(v.strip())
            elif k == b"transfer-encoding" and b"chunked" in v.lower():
                chunked = True
        body = b""
        if chunked:
            while True:
                size_line = f.readline(65536)
                body += size_line
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                chunk = f.read(size + 2)
                body += chunk
                if size == 0:
                    # trailers end with an empty line; a bare CRLF was read
                    break
        else:
            body = f.read(length) if length else b""
        return head + body

    @staticmethod
    def _read_answer(f):
        """One HTTP answer from the file f, as bytes (read whole)."""
        head = b""
        while True:
            line = f.readline(65536)
            if not line:
                return head
            head += line
            if line in (b"\r\n", b"\n"):
                break
        length, chunked = None, False
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            k = k.strip().lower()
            if k == b"content-length":
                length = int(v.strip())
            elif k == b"transfer-encoding" and b"chunked" in v.lower():
                chunked = True
        body = b""
        if chunked:
            while True:
                size_line = f.readline(65536)
                if not size_line:
                    break
                body += size_line
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    body += f.readline(65536)
                    break
                body += f.read(size + 2)
        elif length is not None:
            body = f.read(length)
        else:
            body = f.read()
        return head + body

    def _serve(self, client):
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port), timeout=60)
        except OSError:
            client.close()
            return
        cf = client.makefile("rb")
        sf = server.makefile("rb")
        try:
            while True:
                req = self._read_request(cf)
                if req is None:
                    break
                with self.lock:
                    first = req.split(b"\r\n", 1)[0]
                    cut = self.to_cut > 0 and (not self.match or self.match in first)
                    if cut:
                        self.to_cut -= 1
                    self.forwarded += 1
                server.sendall(req)
                answer = self._read_answer(sf)
                if cut:
                    with self.lock:
                        self.cut += 1
                    break
                client.sendall(answer)
                if not answer:
                    break
        except OSError:
            pass
        finally:
            for s in (client, server):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
