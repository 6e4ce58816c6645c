"""media/catalog.yaml: validation that names file, line and field, and an all-or-nothing upsert."""
import pytest

from vanapp.media.catalog import load_catalog, read_catalog
from vanapp.models import MediaItem, Outbox

GOOD = """\
items:
  - id: ring-the-bell
    file: psa/ring-the-bell.mp4
    title: {hi: "घंटी बजाओ", en: "Ring the Bell"}
    language: hi
    kind: psa
    campaign: bell-bajao
  - id: bell-chime
    file: sound/bell.ogg
    title: {hi: "घंटी की आवाज़", en: "Bell chime"}
    language: none
    kind: sound
"""


def _write(tmp_path, text):
    folder = tmp_path / "lib"
    folder.mkdir(exist_ok=True)
    (folder / "catalog.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_shipped_catalogue_is_valid(media_dir):
    result = read_catalog(media_dir)
    assert result.errors == []
    assert {e.kind for e in result.entries} == {"psa", "film", "song", "sound"}
    assert all(e.title_hi and e.title_en for e in result.entries)


def test_load_creates_rows_and_a_second_load_touches_nothing(app, tmp_path):
    folder = _write(tmp_path, GOOD)
    first = load_catalog(folder)
    assert sorted(first.created) == ["bell-chime", "ring-the-bell"]
    row = MediaItem.get_by_id("ring-the-bell")
    assert (row.title_hi, row.title_en, row.kind, row.campaign, row.in_catalog) == \
        ("घंटी बजाओ", "Ring the Bell", "psa", "bell-bajao", True)
    assert MediaItem.get_by_id("bell-chime").campaign == ""
    outbox = Outbox.select().count()

    again = load_catalog(folder)
    assert sorted(again.unchanged) == ["bell-chime", "ring-the-bell"]
    assert again.created == again.updated == again.removed == []
    assert Outbox.select().count() == outbox
    assert MediaItem.get_by_id("ring-the-bell").version == row.version


def test_a_changed_title_updates_only_that_row(app, tmp_path):
    load_catalog(_write(tmp_path, GOOD))
    before = {m.id: m.version for m in MediaItem.select()}
    result = load_catalog(_write(tmp_path, GOOD.replace("Ring the Bell", "Ring The Bell!")))
    assert result.updated == ["ring-the-bell"] and result.unchanged == ["bell-chime"]
    assert MediaItem.get_by_id("ring-the-bell").version == before["ring-the-bell"] + 1
    assert MediaItem.get_by_id("bell-chime").version == before["bell-chime"]


def test_an_item_dropped_from_the_catalogue_is_kept_but_marked(app, tmp_path):
    load_catalog(_write(tmp_path, GOOD))
    shorter = GOOD.split("  - id: bell-chime")[0]
    result = load_catalog(_write(tmp_path, shorter))
    assert result.removed == ["bell-chime"]
    assert MediaItem.get_by_id("bell-chime").in_catalog is False
    back = load_catalog(_write(tmp_path, GOOD))
    assert back.updated == ["bell-chime"]
    assert MediaItem.get_by_id("bell-chime").in_catalog is True


BROKEN = [
    # (what is wrong, replace this, with that, line, field, words in the message)
    ("missing field", "    file: psa/ring-the-bell.mp4\n", "", 2, "items[0].file", "missing field"),
    ("unknown field", "    campaign: bell-bajao\n", "    campain: bell-bajao\n", 7, "items[0].campain",
     "unknown field"),
    ("id not a slug", "id: ring-the-bell", "id: Ring The Bell", 2, "items[0].id", "not a slug"),
    ("unknown kind", "kind: psa", "kind: movie", 6, "items[0].kind", "unknown kind 'movie'"),
    ("path escapes", "file: psa/ring-the-bell.mp4", "file: ../secret.mp4", 3, "items[0].file",
     "leaves the media folder"),
    ("absolute path", "file: psa/ring-the-bell.mp4", "file: /etc/passwd", 3, "items[0].file",
     "absolute path"),
    ("duplicate id", "id: bell-chime", "id: ring-the-bell", 8, "items[1].id",
     "duplicate id 'ring-the-bell' (first on line 2)"),
    ("title without English", '{hi: "घंटी बजाओ", en: "Ring the Bell"}', '{hi: "घंटी बजाओ"}', 4,
     "items[0].title.en", "missing field"),
    ("title as plain text", '{hi: "घंटी बजाओ", en: "Ring the Bell"}', '"Ring the Bell"', 4,
     "items[0].title", "both titles"),
    ("field given twice", "    kind: psa\n", "    kind: psa\n    kind: film\n", 7, "items[0].kind",
     "given twice"),
    ("duration not a length", "    campaign: bell-bajao\n", "    campaign: bell-bajao\n    duration: six\n", 8,
     "items[0].duration", "'six' is not a length"),
    ("duration of zero", "    campaign: bell-bajao\n", "    campaign: bell-bajao\n    duration: 0:00\n", 8,
     "items[0].duration", "is not a length"),
    ("sha256 too short", "    campaign: bell-bajao\n", "    campaign: bell-bajao\n    sha256: abc123\n", 8,
     "items[0].sha256", "not a SHA-256 checksum"),
]


def test_duration_and_sha256_are_read_as_written(app, tmp_path):
    sha = "ab" * 32
    folder = _write(tmp_path, GOOD.replace("    campaign: bell-bajao\n",
                                           f"    campaign: bell-bajao\n    duration: 1:35\n    sha256: {sha.upper()}\n", 1)
                    .replace("    kind: sound\n", "    kind: sound\n    duration: 1.5\n"))
    assert load_catalog(folder).ok
    bell, chime = MediaItem.get_by_id("ring-the-bell"), MediaItem.get_by_id("bell-chime")
    # `1:35` is 95 seconds (not YAML 1.1's sexagesimal surprise); the checksum is kept lower-case
    assert (bell.expected_ms, bell.expected_sha256) == (95_000, sha)
    assert (chime.expected_ms, chime.expected_sha256) == (1_500, "")


@pytest.mark.parametrize("what,old,new,line,field,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_catalogue_names_file_line_and_field_and_writes_nothing(
        app, tmp_path, what, old, new, line, field, words):
    assert old in GOOD
    folder = _write(tmp_path, GOOD.replace(old, new, 1))
    outbox = Outbox.select().count()
    result = load_catalog(folder)
    assert not result.ok
    error = next((e for e in result.errors if e.field == field), None)
    assert error is not None, [str(e) for e in result.errors]
    assert error.line == line and words in error.message
    assert error.file.endswith("catalog.yaml")
    assert f"catalog.yaml:{line}: {field}: " in str(error)
    assert MediaItem.select().count() == 0 and Outbox.select().count() == outbox


def test_a_broken_catalogue_leaves_the_previous_rows_as_they_were(app, tmp_path):
    load_catalog(_write(tmp_path, GOOD))
    snapshot = [m.to_wire() for m in MediaItem.select().order_by(MediaItem.id)]
    bad = GOOD.replace("Ring the Bell", "Changed title").replace("kind: sound", "kind: noise")
    assert not load_catalog(_write(tmp_path, bad)).ok
    assert [m.to_wire() for m in MediaItem.select().order_by(MediaItem.id)] == snapshot


def test_yaml_syntax_errors_give_the_line(app, tmp_path):
    result = read_catalog(_write(tmp_path, GOOD.replace("kind: psa", "kind: [psa")))
    assert len(result.errors) == 1
    assert result.errors[0].line is not None and result.errors[0].line >= 6
    assert "not valid YAML" in result.errors[0].message


@pytest.mark.parametrize("text,words", [
    ("", "the catalogue is empty"),
    ("- id: x\n", "expected a mapping"),
    ("items: {id: x}\n", "expected a list"),
    ("items: []\nextra: 1\n", "unknown field"),
])
def test_a_catalogue_of_the_wrong_shape_is_refused(app, tmp_path, text, words):
    result = read_catalog(_write(tmp_path, text))
    assert any(words in e.message for e in result.errors), [str(e) for e in result.errors]


def test_a_missing_catalogue_is_an_error(app, tmp_path):
    result = load_catalog(tmp_path)
    assert not result.ok and "missing" in result.errors[0].message
