"""TCP proxies on 127.0.0.1 for sync tests and the benchmark.

`FaultProxy` sits between a van and the hub and misbehaves on purpose, one HTTP request at a
time, following a plan: cut a request halfway (the hub never sees it whole), drop the response
after the hub has committed, send a request to the hub twice, cut a response halfway, or hand
the request to the hub whole and then call `on_kill` (the test kills the hub with SIGKILL while
it works on the request: "kill"), or call it once the hub has answered, dropping the answer
("kill_after": the hub committed, then died).
`ThrottledProxy` is a slow link: a bandwidth in bits per second and a one-way latency.
Both count the bytes that pass, in each direction.
"""
import socket
import threading
import time
from collections import deque

ACTIONS = ("pass", "cut_request", "drop_response", "repeat", "cut_response", "kill", "kill_after")


def _read_message(sock, head_only=False):
    """One HTTP message (headers + Content-Length body) from `sock`; b"" when it closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length]


def _path_of(request: bytes) -> str:
    try:
        return request.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
    except IndexError:
        return ""


class _Server:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.bytes_up = self.bytes_down = 0     # van -> hub, hub -> van
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass

    def count(self, up=0, down=0):
        with self.lock:
            self.bytes_up += up
            self.bytes_down += down


class FaultProxy(_Server):
    """Plan faults with `plan("drop_response", "repeat", ...)`: each request whose path starts
    with `only` (a prefix or a tuple of them; all when None) takes the next action; afterwards
    requests pass.
    `log` holds (path, action, upstream status or None) for every request."""

    def __init__(self, upstream_port: int, only: str | None = None, on_kill=None):
        self.actions, self.only, self.log, self.on_kill = deque(), only, [], on_kill
        super().__init__(upstream_port)

    def faults(self) -> list[tuple]:
        """The log entries of requests that were not simply passed on."""
        return [entry for entry in self.log if entry[1] != "pass"]

    def plan(self, *actions):
        for action in actions:
            assert action in ACTIONS, action
        with self.lock:
            self.actions.extend(actions)

    def pending(self) -> int:
        with self.lock:
            return len(self.actions)

    def _next_action(self, path):
        with self.lock:
            if self.actions and (self.only is None or path.startswith(self.only)):
                return self.actions.popleft()
        return "pass"

    def _round_trip(self, request: bytes, cut=False, kill=False) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as up:
            if cut:
                up.sendall(request[:max(1, len(request) // 2)])
                self.count(up=len(request) // 2)
                return b""
            up.sendall(request)
            self.count(up=len(request))
            if kill:
                self.on_kill()
                return b""
            response = _read_message(up)
            self.count(down=len(response))
            return response

    def _handle(self, client):
        with client:
            client.settimeout(120)
            while True:
                try:
                    request = _read_message(client)
                except OSError:
                    return
                if not request:
                    return
                path = _path_of(request)
                action = self._next_action(path)
                status = None
                try:
                    if action in ("cut_request", "kill"):
                        self._round_trip(request, cut=action == "cut_request", kill=action == "kill")
                        self.log.append((path, action, None))
                        return                                   # closes the van's connection
                    response = self._round_trip(request)
                    if action == "repeat":
                        response = self._round_trip(request)
                    status = int(response.split(b" ", 2)[1]) if response else None
                    self.log.append((path, action, status))
                    if action == "kill_after":
                        self.on_kill()
                    if action in ("drop_response", "kill_after") or not response:
                        return
                    if action == "cut_response":
                        client.sendall(response[:len(response) // 2])
                        return
                    client.sendall(response)
                except OSError:
                    self.log.append((path, action, status))
                    return


class ThrottledProxy(_Server):
    """A slow link: every byte waits for the link to be free at `bits_per_second`, then
    `latency` seconds more, in each direction (so a round trip costs 2 x latency)."""

    def __init__(self, upstream_port: int, bits_per_second: float = 50_000, latency: float = 0.6,
                 packet: int = 1460):
        self.rate, self.latency, self.packet = bits_per_second / 8.0, latency, packet
        super().__init__(upstream_port)

    def _handle(self, client):
        try:
            upstream = socket.create_connection(self.upstream, timeout=60)
        except OSError:
            client.close()
            return
        for src, dst, up in ((client, upstream, True), (upstream, client, False)):
            threading.Thread(target=self._pipe, args=(src, dst, up), daemon=True).start()

    def _pipe(self, src, dst, up):
        queue, ready = deque(), threading.Condition()
        state = {"free_at": 0.0, "eof": False}

        def sender():
            while True:
                with ready:
                    while not queue and not state["eof"]:
                        ready.wait()
                    if not queue:
                        break
                    due, chunk = queue.popleft()
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                try:
                    dst.sendall(chunk)
                except OSError:
                    break
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        threading.Thread(target=sender, daemon=True).start()
        while True:
            try:
                chunk = src.recv(self.packet)
            except OSError:
                chunk = b""
            now = time.monotonic()
            with ready:
                if not chunk:
                    state["eof"] = True
                    ready.notify()
                    return
                start = max(now, state["free_at"])
                state["free_at"] = start + len(chunk) / self.rate
                queue.append((state["free_at"] + self.latency, chunk))
                ready.notify()
            self.count(up=len(chunk) if up else 0, down=0 if up else len(chunk))
