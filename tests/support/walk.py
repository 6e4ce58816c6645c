"""What a walk over the pages looks at, in real Chromium: sideways scroll and targets under
48x48 CSS px (the phone probe), Latin-script words on a Hindi page, Hindi drawn with a font the
app does not carry, and axe-core's serious or critical findings. Each probe returns findings as
text lines that name the page and the element, so a failure says what to fix."""
import re

from . import a11y

TAP = 48            # CSS px, both ways: the smallest target a thumb hits in the dark

# Everything a person can press, type into or open.
_TARGETS = ("a[href], button, input:not([type=hidden]), select, textarea, summary, "
            "[role=button], [role=link], [role=tab], [role=checkbox], [role=radio], "
            "[tabindex]:not([tabindex='-1'])")

_PROBE = """([targets, tap]) => {
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = (el.getAttribute('class') || '').trim().split(/\\s+/).filter(Boolean).slice(0, 2);
    if (cls.length) s += '.' + cls.join('.');
    const label = (el.getAttribute('aria-label') || el.innerText || el.value || el.getAttribute('name') || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 40);
    return label ? `${s} "${label}"` : s;
  };
  const shown = (el) => el.checkVisibility({checkVisibilityCSS: true}) &&
                       el.getClientRects().length > 0;
  const out = {width: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
               wide: [], scrollers: [], small: []};
  const limit = window.innerWidth;
  if (out.scrollWidth > limit) {
    for (const el of document.body.querySelectorAll('*')) {
      if (!shown(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.right > limit + 1 && r.width > 0) {
        // name the outermost culprit only: its children stick out because it does
        if (![...out.wide].some(w => w.el.contains(el))) out.wide.push({el, right: Math.round(r.right)});
      }
    }
  }
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (!['auto', 'scroll'].includes(style.overflowX) || !shown(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1) out.scrollers.push(`${name(el)} (${el.scrollWidth}px in ${el.clientWidth}px)`);
  }
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el) || el.closest('[inert]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < tap - 0.5 || r.height < tap - 0.5)
      out.small.push(`${name(el)} is ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  out.wide = out.wide.map(w => `${name(w.el)} reaches ${w.right}px`);
  return out;
}"""


def phone_fit(page, where: str) -> list[str]:
    """Sideways scroll (the page's, or a box's of its own) and targets under TAP px, named."""
    found = page.evaluate(_PROBE, [_TARGETS, TAP])
    lines = []
    if found["scrollWidth"] > found["width"]:
        lines.append(f"{where}: the page is {found['scrollWidth']}px wide in a {found['width']}px window: "
                     + "; ".join(found["wide"][:6]))
    lines += [f"{where}: scrolls sideways inside {s}" for s in found["scrollers"]]
    lines += [f"{where}: {s} (under {TAP}x{TAP})" for s in found["small"]]
    return lines


def page_fits_window(page, where: str) -> list[str]:
    """The sideways-scroll half of phone_fit (for laptop and projector sizes)."""
    return [line for line in phone_fit(page, where) if f"under {TAP}x{TAP}" not in line]


# What a person reads or hears: the text on screen, and the words of labels, titles and
# placeholders (a screen reader says them).
_WORDS = """() => {
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], img[alt], [aria-valuetext]')) {
    if (!el.checkVisibility({checkVisibilityCSS: true}) && el.tagName !== 'TITLE') continue;
    for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'aria-valuetext'])
      if (el.getAttribute(a)) parts.push(el.getAttribute(a));
  }
  for (const el of document.querySelectorAll('option, input[type=submit], input[type=button]')) {
    const box = el.closest('select') || el;
    if (box.checkVisibility({checkVisibilityCSS: true})) parts.push(el.textContent || el.value);
  }
  return parts.join('\\n');
}"""
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'’./_:@][A-Za-z0-9]+)*")


def latin_words(page, where: str, allowed, not_words=()) -> list[str]:
    """Latin-script words on a page that is in Hindi, unless `allowed(word)` says the word is a
    reviewed exception (a proper name, a file name on the Media page); `not_words`: patterns of
    things that are not words of any language (a web address, a code to type)."""
    text = page.evaluate(_WORDS)
    for pattern in not_words:
        text = re.sub(pattern, " ", text)
    bad = {}
    for match in TOKEN.finditer(text):
        word = match.group(0)
        if not re.search("[A-Za-z]", word) or allowed(word):
            continue
        start = max(0, match.start() - 30)
        bad.setdefault(word, text[start:match.end() + 30].replace("\n", " ⏎ "))
    return [f"{where}: {word!r} in “…{context}…”" for word, context in sorted(bad.items())]


_DEVANAGARI_NODES = """(limit) => {
  const seen = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const tagged = new Set();
  while (walker.nextNode() && seen.length < limit) {
    const node = walker.currentNode;
    if (!/[\\u0900-\\u097F]/.test(node.data)) continue;
    const el = node.parentElement;
    if (!el || tagged.has(el) || !el.checkVisibility({checkVisibilityCSS: true})) continue;
    if (!el.getClientRects().length) continue;
    tagged.add(el);
    el.setAttribute('data-font-probe', String(seen.length));
    seen.push(node.data.trim().slice(0, 30));
  }
  return seen;
}"""


def hindi_fonts(page, where: str, limit: int = 25) -> list[str]:
    """Hindi laid out with a font other than the one the app carries (on a machine without
    Devanagari fonts that is empty boxes), per element, asked of Chromium itself."""
    texts = page.evaluate(_DEVANAGARI_NODES, limit)
    if not texts:
        return []
    page.evaluate("document.fonts.ready")
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": False})["root"]["nodeId"]
        lines = []
        for n, text in enumerate(texts):
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f'[data-font-probe="{n}"]'})["nodeId"]
            if not node:
                continue
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            if not any(f["isCustomFont"] and "Devanagari" in f["familyName"] for f in fonts):
                used = ", ".join(f"{f['familyName']} ({f['glyphCount']})" for f in fonts)
                lines.append(f"{where}: “{text}” is drawn with {used}, not the app's Devanagari font")
        return lines
    finally:
        cdp.detach()


def axe(page, where: str) -> list[str]:
    found = a11y.violations(page)
    return [f"{where}: {line}" for line in a11y.describe(found).splitlines()]
