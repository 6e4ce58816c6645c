"""The night's summary QR: compact, signed, one QR code, read back by a real QR reader (zbar)."""
import datetime as dt
import random
import subprocess

import pytest

from vanapp import security
from vanapp.attendance import report, tally
from vanapp.protocol import summary
from vanapp.ids import utcnow
from vanapp.models import Game, GameResult, GameRun, PlayLog, Setting, db
from vanapp.qr import qr_code

from .conftest import need_zbarimg
from .support.factories import make_screening

NIGHT = {"screening": "01a2087d-ec80-7f74-96c9-c70f5b1afe70", "date": "2026-12-03", "village": "Rampur",
         "counts": {"men": 120, "women": 143, "boys": 61, "girls": 58}, "headcounts": {"start": 210, "end": 330},
         "participants": 17,
         "plays": [{"position": 0, "media": "ring-the-bell", "outcome": "completed", "position_ms": 6000},
                   {"position": 2, "media": "equal-voices", "outcome": "error", "position_ms": 0}],
         "pledges": {"pledge": 96}}
KEY = summary.summary_key(b"\x01" * 32)


def keys(mapping):
    return lambda van: mapping.get(van)


def test_summary_round_trip_restores_the_night():
    text = summary.encode_summary(NIGHT, KEY, "van-03")
    assert text.startswith("vankit:s/van-03/")
    night = summary.decode_summary(text, keys({"van-03": KEY}))
    assert night["van"] == "van-03" and night["screening"] == NIGHT["screening"]
    assert night["counts"] == NIGHT["counts"] and night["total"] == 382
    assert night["headcounts"] == {"start": 210, "end": 330} and night["participants"] == 17
    assert night["plays"] == [{"position": 0, "media": "ring-the-bell", "outcome": "completed", "seconds": 6},
                              {"position": 2, "media": "equal-voices", "outcome": "error", "seconds": 0}]
    assert night["pledges"] == {"pledge": 96}


def test_summary_with_hub_url_is_a_link_the_hub_can_verify():
    text = summary.encode_summary(NIGHT, KEY, "van-03", hub_url="https://hub.example.org/")
    assert text.startswith("https://hub.example.org/s/van-03/")
    assert summary.decode_summary(text, keys({"van-03": KEY}))["counts"]["women"] == 143


def test_summary_key_is_derived_from_the_van_secret():
    import hashlib
    import hmac
    secret = bytes(range(32))
    assert summary.summary_key(secret) == hmac.new(secret, b"vankit-summary-v1", hashlib.sha256).digest()


def _flip(text: str, index: int) -> str:
    head, payload = text.rsplit("/", 1)
    ch = payload[index]
    return f"{head}/{payload[:index]}{'A' if ch != 'A' else 'B'}{payload[index + 1:]}"


@pytest.mark.parametrize("index", [0, 5, 20, -3])
def test_changed_payload_fails_verification(index):
    text = summary.encode_summary(NIGHT, KEY, "van-03")
    with pytest.raises(summary.SummaryError, match="signature|malformed"):
        summary.decode_summary(_flip(text, index), keys({"van-03": KEY}))


def test_summary_from_another_van_or_key_is_refused():
    text = summary.encode_summary(NIGHT, KEY, "van-03")
    other = summary.summary_key(b"\x02" * 32)
    with pytest.raises(summary.SummaryError, match="bad signature"):
        summary.decode_summary(text, keys({"van-03": other}))
    # the van id is signed too: the same payload under another van's name does not verify
    relabelled = text.replace("/van-03/", "/van-07/")
    with pytest.raises(summary.SummaryError, match="bad signature"):
        summary.decode_summary(relabelled, keys({"van-03": KEY, "van-07": KEY}))
    with pytest.raises(summary.SummaryError, match="unknown van"):
        summary.decode_summary(text, keys({}))


@pytest.mark.parametrize("text", ["", "hello", "vankit:s/van-03/", "vankit:s/van-03/!!!!", "vankit:s/van-03/AAAA",
                                  "https://hub.example.org/s/van-03/not*base64", None])
def test_malformed_summaries_are_refused(text):
    with pytest.raises(summary.SummaryError):
        summary.decode_summary(text, keys({"van-03": KEY}))


def test_well_signed_garbage_is_refused():
    import zlib
    body = zlib.compress(b'{"not": "a summary"}')[2:-4]
    payload = summary._b64(summary._tag(KEY, "van-03", body) + body)
    with pytest.raises(summary.SummaryError, match="malformed"):
        summary.decode_summary(f"vankit:s/van-03/{payload}", keys({"van-03": KEY}))


def busy_night(crew_screening_items=6):
    """A realistic busy night in the database: 400 taps, 6 programme items played, a pledge, two polls."""
    s = make_screening(items=[("psa", "ring-the-bell"), ("game", "attitude@before"), ("film", "equal-voices"),
                              ("game", "attitude@after"), ("psa", "neighbour"), ("game", "pledge")])
    rng = random.Random(7)
    cats = tally.categories()
    taps = 0
    while taps < 400:
        c = rng.choice(cats)
        delta = -1 if (rng.random() < 0.05 and tally.counts(s.id)[c] > 0) else 1
        tally.record_tap(s.id, c, delta)
        taps += 1
    tally.record_headcount(s.id, "start", 240)
    tally.record_headcount(s.id, "end", 365)
    start = utcnow() - dt.timedelta(hours=2)
    media = ["ring-the-bell", "neighbour", "helpline-181", "equal-voices", "bell-song", "bell-chime"]
    outcomes = ["completed", "completed", "skipped", "completed", "error", "completed"]
    with db.atomic():
        for pos, (m, outcome) in enumerate(zip(media, outcomes)):
            PlayLog.create(screening=s.id, position=pos, media_id=m, started_at=start + dt.timedelta(minutes=5 * pos),
                           ended_at=start + dt.timedelta(minutes=5 * pos + 1), position_ms=rng.randint(1000, 600000),
                           duration_ms=600000, outcome=outcome)
        Game.insert(id="pledge", kind="pledge", title_hi="शपथ", title_en="Pledge",
                    content={"id": "pledge"}).on_conflict(conflict_target=[Game.id],
                                                          update={Game.kind: "pledge"}).execute()
        run = GameRun.create(screening=s.id, game_id="pledge", started_at=start, state="done")
        GameResult.create(run=run, question_id="pledge", counts={"pledged": {"phones": 61, "hands": 48}})
        for phase in ("before", "after"):
            poll = GameRun.create(screening=s.id, game_id="attitude", phase=phase, started_at=start, state="done")
            GameResult.create(run=poll, question_id="q1", counts={"yes": {"phones": 30, "hands": 20},
                                                                   "no": {"phones": 40, "hands": 35}})
    return s


def test_busy_night_fits_one_qr_code_and_zbar_reads_it(app, capsys):
    Setting.put("van_id", "van-03")
    Setting.put("hub_url", "https://hub.bellbajao.example.org")
    s = busy_night()
    data = report.screening_report(s.id)
    assert sum(data["counts"].values()) == data["total"] and data["pledges"] == {"pledge": 109}
    assert len(data["plays"]) == 6
    text = report.summary_qr_text(data)
    qr = qr_code(text)      # qrcode raises DataOverflowError past version 40
    with capsys.disabled():
        print(f"\nsummary QR for a busy night (400 taps, 6 items, pledges): {len(text)} characters, "
              f"version {qr.version}, error correction M")
    image = qr.make_image().get_image().convert("L")
    from pyzbar import pyzbar
    decoded = pyzbar.decode(image)
    assert len(decoded) == 1 and decoded[0].type == "QRCODE"
    read = decoded[0].data.decode("utf-8")
    assert read == text
    key = summary.summary_key(security.van_secret())
    night = summary.decode_summary(read, keys({"van-03": key}))
    assert night["counts"] == data["counts"] and night["screening"] == s.id
    assert night["headcounts"] == {"start": 240, "end": 365}
    assert [p["outcome"] for p in night["plays"]] == ["completed", "completed", "skipped", "completed", "error",
                                                     "completed"]
    assert night["pledges"] == {"pledge": 109}


def test_zbarimg_reads_the_summary_png(app, tmp_path):
    need_zbarimg()
    Setting.put("van_id", "van-03")
    s = busy_night()
    text = report.summary_qr_text(report.screening_report(s.id))
    png = tmp_path / "summary.png"
    qr_code(text).make_image().save(str(png))
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, check=True)
    read = out.stdout.decode("utf-8").strip()
    night = summary.decode_summary(read, keys({"van-03": summary.summary_key(security.van_secret())}))
    assert night["screening"] == s.id


def test_summary_page_shows_counts_and_an_inline_qr(crew):
    s = make_screening()
    tally.record_tap(s.id, "women", 1)
    tally.record_tap(s.id, "women", 1)
    page = crew.get(f"/attendance/screenings/{s.id}/summary").data.decode()
    assert '<svg' in page and "<img" not in page.split('class="qr"')[1][:200]
    assert 'data-category="women">2<' in page
    text = page.split('data-text="')[1].split('"')[0].replace("&amp;", "&")
    night = summary.decode_summary(text, lambda van: summary.summary_key(security.van_secret()))
    assert night["counts"]["women"] == 2


def test_inline_svg_of_the_summary_page_is_read_by_zbar(crew):
    """Rasterise the very SVG the page inlines (its squares) and read it with zbar."""
    import re
    from PIL import Image
    from pyzbar import pyzbar
    s = make_screening()
    tally.record_tap(s.id, "men", 1)
    page = crew.get(f"/attendance/screenings/{s.id}/summary").data.decode()
    svg = re.search(r'<div class="qr"[^>]*>(<svg.*?</svg>)', page, re.S).group(1)
    text = page.split('data-text="')[1].split('"')[0].replace("&amp;", "&")
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", svg)
    assert squares
    size = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    scale = 10
    img = Image.new("L", (round(size * scale), round(size * scale)), 255)
    px = img.load()
    for x0, y0, x1, y1 in squares:
        for y in range(round(float(y0) * scale), round(float(y1) * scale)):
            for x in range(round(float(x0) * scale), round(float(x1) * scale)):
                px[x, y] = 0
    read = pyzbar.decode(img)
    assert len(read) == 1 and read[0].data.decode() == text
    assert summary.decode_summary(text, lambda van: summary.summary_key(security.van_secret()))["counts"]["men"] == 1
