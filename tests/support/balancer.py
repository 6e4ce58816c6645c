"""A load balancer on 127.0.0.1 for tests of a hub run as several processes: each HTTP request
goes to the next backend in turn (round robin, per request, not per connection), so one van's
consecutive requests, or one browser's, land on different processes."""
import socket
import threading
from collections import Counter


def _read_head(sock, data=b""):
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _read_body(sock, head: bytes, rest: bytes) -> bytes | None:
    length = _header(head, b"content-length")
    if length is not None:
        length = int(length)
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            rest += chunk
        return rest[:length]
    if (_header(head, b"transfer-encoding") or b"").lower() == b"chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                return None
            rest += chunk
        return rest
    return rest


class Balancer:
    """Round robin over `ports`; `served` counts the requests each backend answered."""

    def __init__(self, ports: list[int]):
        self.ports = list(ports)
        self.served = Counter()
        self.turn = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _next(self) -> int:
        with self.lock:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            return port

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            pending = b""
            while True:
                head, rest = _read_head(client, pending)
                if head is None:
                    return
                body = _read_body(client, head, rest)
                if body is None:
                    return
                pending = rest[len(body):] if _header(head, b"content-length") is not None else b""
                port = self._next()
                with socket.create_connection(("127.0.0.1", port), timeout=120) as upstream:
                    upstream.sendall(head + b"\r\n\r\n" + body)
                    answer_head, answer_rest = _read_head(upstream)
                    if answer_head is None:
                        return
                    answer = _read_body(upstream, answer_head, answer_rest)
                    if answer is None:
                        return
                with self.lock:
                    self.served[port] += 1
                client.sendall(answer_head + b"\r\n\r\n" + answer)
                if (_header(answer_head, b"connection") or b"").lower() == b"close":
                    return
        except OSError:
            return
        finally:
            client.close()

    def close(self):
        self.closed = True
        self.listener.close()
