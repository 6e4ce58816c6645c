"""TCP proxies for the sync benchmark: one that counts the bytes passing through, and one that
also plays a slow link (a 2G connection in a village).

The link model (`Proxy(..., rate_bps=50_000, one_way_s=0.3)`), per direction, independently:
  * bytes are serialised onto the link one after another at `rate_bps` bits per second: a segment
    (at most `segment` bytes, 1400 by default, like a TCP segment) starts when both it has arrived
    from the sender and the link has finished the previous segment, and takes len*8/rate seconds;
  * each segment is then delivered `one_way_s` later (propagation/queueing delay), so a request and
    its answer cost 2 * one_way_s (600 ms round trip) plus the time to push their bytes;
  * a new connection costs one round trip (the TCP handshake) before any byte moves;
  * the proxy buffers without limit and never drops or reorders (no loss, no TCP slow start, no
    radio wake-up: a kind model of 2G, so the real thing is slower).
Counted bytes are TCP payload (HTTP headers and bodies), not IP/TCP headers.
"""
import queue
import socket
import threading
import time


class Proxy:
    """Listen on 127.0.0.1 (a free port) and relay every connection to `upstream` (host, port)."""

    def __init__(self, upstream: tuple[str, int], rate_bps: float | None = None, one_way_s: float = 0.0,
                 segment: int = 1400):
        self.upstream, self.rate_bps, self.one_way_s, self.segment = upstream, rate_bps, one_way_s, segment
        self.throttled = bool(rate_bps) or one_way_s > 0
        self.sent_up = self.sent_down = self.connections = 0      # bytes van->hub, hub->van
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self):
        with self._lock:
            self.sent_up = self.sent_down = self.connections = 0

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.sent_up, self.sent_down

    def close(self):
        self._closing = True
        try:
            self._listener.close()
        except OSError:
            pass

    # --- relaying -------------------------------------------------------------------------------

    def _accept(self):
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _connection(self, client):
        if self.throttled:
            time.sleep(2 * self.one_way_s)              # the handshake's round trip
        try:
            hub = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        for s in (client, hub):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self.connections += 1
        pump = self._pump_throttled if self.throttled else self._pump
        threads = [threading.Thread(target=pump, args=(client, hub, True), daemon=True),
                   threading.Thread(target=pump, args=(hub, client, False), daemon=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.close()
        hub.close()

    def _count(self, up: bool, n: int):
        with self._lock:
            if up:
                self.sent_up += n
            else:
                self.sent_down += n

    def _pump(self, src, dst, up):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._count(up, len(data))
                dst.sendall(data)
        except OSError:
            pass
        _shut(dst)

    def _pump_throttled(self, src, dst, up):
        """Reader side stamps each segment with its delivery time; a writer thread delivers it."""
        out = queue.Queue()
        writer = threading.Thread(target=self._deliver, args=(out, dst), daemon=True)
        writer.start()
        link_free = 0.0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._count(up, len(data))
                now = time.monotonic()
                for at in range(0, len(data), self.segment):
                    piece = data[at:at + self.segment]
                    start = max(now, link_free)
                    link_free = start + (len(piece) * 8 / self.rate_bps if self.rate_bps else 0.0)
                    out.put((link_free + self.one_way_s, piece))
        except OSError:
            pass
        out.put((max(time.monotonic(), link_free) + self.one_way_s, None))
        writer.join()

    @staticmethod
    def _deliver(out, dst):
        while True:
            due, piece = out.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if piece is None:
                _shut(dst)
                return
            try:
                dst.sendall(piece)
            except OSError:
                return


def _shut(sock):
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class ProxyProcess:
    """A Proxy in its own process (so relaying never waits for this process's GIL), driven over its
    stdin/stdout: the same url / reset() / counts() / close() as Proxy."""

    def __init__(self, upstream: tuple[str, int], rate_bps: float | None = None, one_way_s: float = 0.0):
        import subprocess
        import sys
        args = [sys.executable, __file__, f"{upstream[0]}:{upstream[1]}", "--one-way-s", str(one_way_s)]
        if rate_bps:
            args += ["--rate-bps", str(rate_bps)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.port = int(self.proc.stdout.readline())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ask(self, command: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def reset(self):
        self._ask("reset")

    def counts(self) -> tuple[int, int]:
        up, down = self._ask("counts").split()
        return int(up), int(down)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except Exception:
                self.proc.kill()


def _serve():
    import argparse
    import sys
    ap = argparse.ArgumentParser(description="a counting (and optionally throttling) TCP proxy on 127.0.0.1")
    ap.add_argument("upstream", help="host:port")
    ap.add_argument("--rate-bps", type=float, default=None)
    ap.add_argument("--one-way-s", type=float, default=0.0)
    args = ap.parse_args()
    host, _, port = args.upstream.rpartition(":")
    proxy = Proxy((host, int(port)), rate_bps=args.rate_bps, one_way_s=args.one_way_s)
    print(proxy.port, flush=True)
    for line in sys.stdin:                  # commands until the parent closes our stdin
        command = line.strip()
        if command == "reset":
            proxy.reset()
            print("ok", flush=True)
        elif command == "counts":
            print(*proxy.counts(), flush=True)
    proxy.close()


if __name__ == "__main__":
    _serve()
