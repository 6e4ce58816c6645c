"""QR codes, drawn here and nowhere else: inline SVG for pages, PNG for saving, files for the
pairing code, block characters for a terminal. Error correction M everywhere: a phone reads it
off a dim laptop screen or a projector."""
import io
from pathlib import Path

import qrcode
import qrcode.image.svg


def qr_code(text: str, box_size: int = 6, border: int = 4) -> qrcode.QRCode:
    """A QRCode holding `text`, fitted; `.version` says how big it came out."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def qr_svg(text: str, box_size: int = 6, border: int = 4) -> str:
    """Inline SVG markup (scaled by its viewBox; no external image, no network)."""
    image = qr_code(text, box_size=box_size, border=border).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def qr_png(text: str) -> bytes:
    """A PNG (6 px a module, 4 modules of quiet zone): to save, print or send."""
    buffer = io.BytesIO()
    qr_code(text).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def write_qr_files(text: str, folder: Path, stem: str) -> list[Path]:
    """`stem`.svg (always) and `stem`.png (when Pillow is installed) in `folder`; returns them."""
    qr = qr_code(text, box_size=8)
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"{stem}.svg"]
    qr.make_image(image_factory=qrcode.image.svg.SvgPathImage).save(str(files[0]))
    try:
        import PIL  # noqa: F401
    except ImportError:
        return files
    files.append(folder / f"{stem}.png")
    qr.make_image().save(str(files[1]))
    return files


def qr_text_art(text: str) -> str:
    """The code drawn with block characters, for a terminal."""
    out = io.StringIO()
    qr_code(text, border=2).print_ascii(out=out, invert=True)
    return out.getvalue()
