"""Every page of the web UI, as every caller allowed to open it sees it, in Chinese and in English,
is checked for what a screen reader and a keyboard user need and for what the CSP forbids:

- the document states its language, has a title, a viewport and exactly one ``<h1>``;
- every form control has a name a screen reader reads out (a ``<label for>``, a wrapping
  ``<label>``, ``aria-label`` or ``aria-labelledby``), every ``<label for>`` names a control
  that exists, and ids are unique;
- images carry ``alt``; links and buttons have text;
- no inline ``<script>``, no ``style`` attribute and no ``on…`` handler (the CSP refuses them).

The pages and their callers come from the access matrix, so a new page is checked as soon as
it is classified there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from test_access_matrix import ACCESS, CALLERS, REQUESTS, world  # noqa: F401  (fixture)

# Downloads (PDF, XLSX, CSV) and the static mount are not pages.
NOT_PAGES = (
    "/api/",
    "/openapi",
    "/static",
    "/download",
    ".pdf",
    "/statement.xlsx",
    "/filings/export",
    "/template.xlsx",
    "/errors.csv",
    "/progress",  # an export job's numbers for the page's script (JSON)
)
NAMELESS_INPUT_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})


@dataclass
class PageFacts:
    lang: str | None = None
    title: str = ""
    has_viewport: bool = False
    h1_count: int = 0
    ids: list[str] = field(default_factory=list)
    label_targets: list[str] = field(default_factory=list)
    # (tag, id, inside a <label>, has aria-label/aria-labelledby)
    controls: list[tuple[str, str | None, bool, bool]] = field(default_factory=list)
    images_without_alt: int = 0
    empty_links_or_buttons: list[str] = field(default_factory=list)
    inline_scripts: int = 0
    style_attributes: list[str] = field(default_factory=list)
    event_handlers: list[str] = field(default_factory=list)


class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self._label_depth = 0
        self._in_title = False
        # Text (or an accessible name) seen inside the open <a>/<button> elements.
        self._named_stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        facts = self.facts
        if attributes.get("id"):
            facts.ids.append(str(attributes["id"]))
        if "style" in attributes:
            facts.style_attributes.append(tag)
        facts.event_handlers.extend(
            f"{tag}[{name}]" for name in attributes if name.startswith("on")
        )
        aria_named = bool(attributes.get("aria-label") or attributes.get("aria-labelledby"))
        if self._named_stack and tag == "img" and attributes.get("alt"):
            self._mark_named()
        if tag == "html":
            facts.lang = attributes.get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag == "meta" and attributes.get("name") == "viewport":
            facts.has_viewport = True
        elif tag == "h1":
            facts.h1_count += 1
        elif tag == "label":
            self._label_depth += 1
            if attributes.get("for"):
                facts.label_targets.append(str(attributes["for"]))
        elif tag == "script":
            # A JSON data block is not executed; the CSP concerns code only.
            if not attributes.get("src") and attributes.get("type") != "application/json":
                facts.inline_scripts += 1
        elif tag == "img":
            if attributes.get("alt") is None:
                facts.images_without_alt += 1
        elif tag in ("a", "button"):
            self._named_stack.append((tag, aria_named or bool(attributes.get("title"))))
        if tag in ("select", "textarea") or (
            tag == "input"
            and (attributes.get("type") or "text").lower() not in NAMELESS_INPUT_TYPES
        ):
            facts.controls.append((tag, attributes.get("id"), self._label_depth > 0, aria_named))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "label":
            self._label_depth = max(0, self._label_depth - 1)
        elif tag in ("a", "button") and self._named_stack:
            opened, named = self._named_stack.pop()
            if not named:
                self.facts.empty_links_or_buttons.append(opened)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.facts.title += data
        if self._named_stack and data.strip():
            self._mark_named()

    def _mark_named(self) -> None:
        self._named_stack = [(tag, True) for tag, _ in self._named_stack]


def read_page(html: str) -> PageFacts:
    reader = _PageReader()
    reader.feed(html)
    reader.close()
    return reader.facts


def problems_of(facts: PageFacts) -> list[str]:
    found: list[str] = []
    if not facts.lang:
        found.append("<html> has no lang")
    if not facts.title.strip():
        found.append("no <title>")
    if not facts.has_viewport:
        found.append("no viewport meta")
    if facts.h1_count != 1:
        found.append(f"{facts.h1_count} <h1> elements")
    duplicated = sorted({i for i in facts.ids if facts.ids.count(i) > 1})
    if duplicated:
        found.append(f"duplicate ids {duplicated}")
    ids = set(facts.ids)
    dangling = sorted(set(facts.label_targets) - ids)
    if dangling:
        found.append(f"<label for> names no element: {dangling}")
    labelled = set(facts.label_targets)
    for tag, control_id, wrapped, aria_named in facts.controls:
        if not (wrapped or aria_named or (control_id and control_id in labelled)):
            found.append(f"<{tag} id={control_id!r}> has no label")
    if facts.images_without_alt:
        found.append(f"{facts.images_without_alt} <img> without alt")
    if facts.empty_links_or_buttons:
        found.append(f"links/buttons without text: {facts.empty_links_or_buttons}")
    if facts.inline_scripts:
        found.append(f"{facts.inline_scripts} inline <script>")
    if facts.style_attributes:
        found.append(f"style attributes on {sorted(set(facts.style_attributes))}")
    if facts.event_handlers:
        found.append(f"inline event handlers {sorted(set(facts.event_handlers))}")
    return found


def _page_cells() -> Iterator[tuple[str, str, str]]:
    for (method, template), callers in sorted(ACCESS.items()):
        if method != "GET" or any(part in template for part in NOT_PAGES):
            continue
        for caller in sorted(callers):
            for lang in ("zh", "en"):
                yield template, caller, lang


CELLS = list(_page_cells())


def test_the_checker_finds_what_it_is_meant_to_find() -> None:
    bad = read_page(
        "<html><head><title> </title></head><body><h1>a</h1><h1>b</h1>"
        '<label for="nowhere">x</label><input id="q"><input id="q" type="hidden">'
        '<select name="s"></select><img src="x.png"><a href="/"></a><button></button>'
        '<script>alert(1)</script><p style="color:red" onclick="f()">t</p></body></html>'
    )
    problems = " | ".join(problems_of(bad))
    for expected in (
        "no lang",
        "no <title>",
        "no viewport",
        "2 <h1>",
        "duplicate ids ['q']",
        "names no element: ['nowhere']",
        "<input id='q'> has no label",
        "<select id=None> has no label",
        "1 <img> without alt",
        "without text: ['a', 'button']",
        "1 inline <script>",
        "style attributes on ['p']",
        "inline event handlers ['p[onclick]']",
    ):
        assert expected in problems
    good = read_page(
        '<html lang="zh-CN"><head><title>备案</title>'
        '<meta name="viewport" content="width=device-width"></head><body><h1>备案</h1>'
        '<label for="q">姓名</label><input id="q"><label>类别 <select name="c"></select></label>'
        '<input type="search" aria-label="搜索"><input type="hidden" name="csrf">'
        '<a href="/"><img src="l.svg" alt="首页"></a><button>提交</button>'
        '<script src="/static/app.js"></script>'
        '<script type="application/json" id="d">{"a": 1}</script></body></html>'
    )
    assert problems_of(good) == []


@pytest.mark.parametrize(
    ("template", "caller", "lang"), CELLS, ids=[f"{t} as {c} ({lang})" for t, c, lang in CELLS]
)
def test_every_page_is_labelled_and_keyboard_ready(
    world: dict[str, Any],  # noqa: F811  (the access-matrix fixture)
    template: str,
    caller: str,
    lang: str,
) -> None:
    path, kwargs = REQUESTS.get(("GET", template), lambda w: (template, {}))(world)
    params = {**kwargs.pop("params", {}), "lang": lang}
    client = world["client"]
    headers = world["page_headers"][caller]
    response = client.get(path, headers=headers, params=params, follow_redirects=False, **kwargs)
    # A desk address sends each role on to its own desk; follow with the same session (the
    # client's cookie jar would replace the session header on a followed redirect).
    while response.status_code == 303 and response.headers["location"].startswith("/"):
        response = client.get(response.headers["location"], headers=headers, params={"lang": lang})
    client.cookies.clear()  # the language cookie stays out of the other cells
    assert response.status_code == 200, f"{response.status_code} {response.text[:200]}"
    assert response.headers["content-type"].startswith("text/html")
    facts = read_page(response.text)
    assert problems_of(facts) == []
    assert facts.lang == ("en" if lang == "en" else "zh-CN")


def test_every_page_cell_has_a_caller() -> None:
    assert CELLS and all(caller in CALLERS for _, caller, _ in CELLS)
