"""The address phones use to join (VANAPP_PUBLIC_URL, else the laptop's LAN address and the
server's port), as a URL and as people type it. Nothing here sends a packet anywhere."""
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


def join_url(public_url: str, request_host: str, scheme: str = "http") -> str:
    """Where phones open the game: the configured public URL, else LAN address + this server's port."""
    if public_url:
        return public_url.rstrip("/") + "/a/"
    port = urlsplit(f"//{request_host}").port
    default = 443 if scheme == "https" else 80
    host = lan_address()
    return f"{scheme}://{host}{'' if port in (None, default) else f':{port}'}/a/"


def short_address(url: str) -> str:
    """The URL as people type it: no scheme, no trailing slash."""
    parts = urlsplit(url)
    return (parts.netloc + parts.path).rstrip("/")
