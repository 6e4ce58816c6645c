"""axe-core (vendored, tests only) run in a Playwright page: what an accessibility audit finds."""
from pathlib import Path

AXE = (Path(__file__).parent / "axe" / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")


def violations(page, impacts=BLOCKING, exclude=()) -> list[dict]:
    """axe's violations of WCAG 2.x A/AA rules (contrast included) at `impacts` on the page now.

    The script is evaluated through the DevTools protocol, so a Content-Security-Policy that
    forbids inline scripts does not stop the audit."""
    page.evaluate(AXE)
    result = page.evaluate("""async (exclude) => {
        const context = exclude.length ? {exclude: exclude.map(s => [s])} : document;
        return await axe.run(context, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}});
    }""", list(exclude))
    return [v for v in result["violations"] if v["impact"] in impacts]


def describe(found: list[dict]) -> str:
    """One line per violation and node: rule, impact, selector, axe's own summary."""
    lines = []
    for v in found:
        for node in v["nodes"]:
            lines.append(f"{v['id']} ({v['impact']}): {' '.join(map(str, node['target']))}: "
                         f"{node.get('failureSummary', '').splitlines()[-1].strip() if node.get('failureSummary') else v['help']}")
    return "\n".join(lines)
