"""The address phones use to join (VANAPP_PUBLIC_URL, else an address the server listens on:
the laptop's LAN address when it listens on every interface) and its QR code as inline SVG;
the addresses `vanapp serve` prints. Nothing here sends a packet anywhere (reach.py checks that
the join address answers)."""
import ipaddress
import socket
from urllib.parse import urlsplit

# A private address that is never contacted: connecting a UDP socket only asks the kernel
# which interface would route there; no datagram leaves the laptop.
_PROBE = ("10.254.254.254", 9)


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and not ip.is_loopback and not ip.is_unspecified and not ip.is_link_local


def lan_address() -> str:
    """The laptop's address on the hotspot/LAN, or 127.0.0.1 when it has none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_PROBE)
            address = probe.getsockname()[0]
            if _usable(address):
                return address
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    candidates = [info[4][0] for info in infos if _usable(info[4][0])]
    private = [a for a in candidates if ipaddress.ip_address(a).is_private]
    return (private or candidates or ["127.0.0.1"])[0]


WILDCARDS = ("", "0.0.0.0", "::", "*")


def is_wildcard(host: str) -> bool:
    return (host or "").strip("[]") in WILDCARDS


def is_loopback(host: str) -> bool:
    host = (host or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def base_url(host: str, port, scheme: str = "http") -> str:
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{_url_host(host)}{'' if port in (None, default) else f':{port}'}"


def join_url(public_url: str, request_host: str, scheme: str = "http", listen_host: str | None = None,
             listen_port: int | None = None) -> str:
    """Where phones open the game: the configured public URL, else an address this server answers
    on: the one it listens on (`vanapp serve --host`), or the LAN address when it listens on every
    interface (or when nothing says where it listens), with its port."""
    if public_url:
        return public_url.rstrip("/") + "/a/"
    port = listen_port or urlsplit(f"//{request_host}").port
    host = lan_address() if listen_host is None or is_wildcard(listen_host) else listen_host
    return base_url(host, port, scheme) + "/a/"


def join_url_for(config, request_host: str = "", scheme: str = "http") -> str:
    """join_url from an app's settings (PUBLIC_URL, and where `vanapp serve` listens)."""
    return join_url(config.get("PUBLIC_URL", ""), request_host, scheme,
                    config.get("LISTEN_HOST"), config.get("LISTEN_PORT"))


def open_urls(host: str, port: int) -> tuple[str, str]:
    """(the address to open on this laptop, the one phones use or "") for a server listening on
    `host`:`port`: never 0.0.0.0, which no browser can open."""
    if is_wildcard(host):
        lan = lan_address()
        return base_url("127.0.0.1", port) + "/", ("" if is_loopback(lan) else base_url(lan, port) + "/")
    if is_loopback(host):
        return base_url(host, port) + "/", ""
    return base_url(host, port) + "/", base_url(host, port) + "/"


def short_address(url: str) -> str:
    """The URL as people type it: no scheme, no trailing slash."""
    parts = urlsplit(url)
    return (parts.netloc + parts.path).rstrip("/")
