"""README stays true: its settings table is the one in vanapp/config.py."""
from pathlib import Path

from vanapp.config import SETTINGS

README = Path(__file__).resolve().parents[1] / "README.md"


def settings_table() -> str:
    rows = ["| setting | default | what it does |", "| --- | --- | --- |"]
    for name, (default, help_text) in SETTINGS.items():
        shown = f"`{default}`" if default else "*(empty)*"
        rows.append(f"| `{name}` | {shown} | {help_text} |")
    return "\n".join(rows)


def test_readme_settings_table_matches_config():
    text = README.read_text()
    start = text.index("<!-- settings")
    start = text.index("\n", start) + 1
    end = text.index("<!-- /settings -->")
    assert text[start:end].strip() == settings_table(), \
        "README's settings table is stale; regenerate with: python -c 'from tests.test_readme " \
        "import settings_table; print(settings_table())'"
