"""Daily use on a phone and a desktop, in both languages: the compact header and folding menu,
list tables as cards, numbers that stay whole, the full desktop width, one design system,
English everywhere, the printable 附件1, the guided check's feedback and next step, and the
accessibility of what these pages changed (labels, focus order, contrast)."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from yidi.kernel.regions import default_registry

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 768}
HAN = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture
def open_context(chromium: Browser, base_url: str) -> Iterator[Callable[..., BrowserContext]]:
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int], locale: str = "zh-CN") -> BrowserContext:
        context = chromium.new_context(base_url=base_url, viewport=viewport, locale=locale)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _sign_in(page: Page, username: str) -> None:
    page.goto("/signin")
    page.locator("#username").fill(username)
    page.locator("#password").fill(f"{username}-demo-2017")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()


# --- point 7: phones ----------------------------------------------------------------------


def test_on_a_phone_the_header_is_one_bar_and_the_menu_folds_behind_a_button(
    open_context: Callable[..., BrowserContext], shot: Shot
) -> None:
    page = open_context(PHONE).new_page()
    _sign_in(page, "hengyang")
    page.wait_for_url("**/agency")
    header = page.locator(".site-header")
    height = header.evaluate("e => e.getBoundingClientRect().height")
    assert height <= 64, f"the header takes {height}px of 812"
    nav = page.get_by_role("navigation", name="主导航")
    toggle = page.get_by_role("button", name="菜单")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(page.get_by_role("button", name="退出登录")).to_be_hidden()
    shot(page, "phone-header-folded")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="备案审核与查询")).to_be_visible()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    shot(page, "phone-header-menu-open")
    page.keyboard.press("Tab")  # into the menu, then Escape folds it and returns to the button
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(nav).to_be_hidden()


def test_on_a_desktop_the_menu_is_open_and_there_is_no_menu_button(
    open_context: Callable[..., BrowserContext],
) -> None:
    page = open_context(DESKTOP).new_page()
    _sign_in(page, "hengyang")
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="备案审核与查询")
    ).to_be_visible()
    height = page.locator(".site-header").evaluate("e => e.getBoundingClientRect().height")
    assert height <= 100, height


CELL_LAYOUT = """table => Array.from(table.tBodies[0].rows).slice(0, 5).map(row =>
  Array.from(row.cells).map(cell => ({
    display: getComputedStyle(cell).display,
    label: getComputedStyle(cell, '::before').content,
    width: cell.getBoundingClientRect().width,
    height: cell.getBoundingClientRect().height,
    controls: cell.querySelectorAll('select, button, input').length,
  })))"""


@pytest.mark.parametrize(
    ("username", "path", "table"),
    [
        ("hengyang", "/filings?state=", "#filing-table"),
        ("nhfy1", "/hospital/encounters", "#encounter-table"),
        ("admin", "/admin/users", "#users-table"),
    ],
)
def test_on_a_phone_list_tables_are_cards_of_label_value_lines(
    open_context: Callable[..., BrowserContext], shot: Shot, username: str, path: str, table: str
) -> None:
    page = open_context(PHONE).new_page()
    _sign_in(page, username)
    page.goto(path)
    # textContent, not innerText: on phones the heading row's sort links are hidden (they
    # leave the focus order), but each heading still names its column.
    headers = [
        text.rstrip("↑↓ ")
        for text in page.locator(f"{table} thead th").evaluate_all(
            "ths => ths.map(th => th.textContent)"
        )
    ]
    rows: list[list[dict[str, Any]]] = page.locator(table).evaluate(CELL_LAYOUT)
    assert rows, "the demo list is empty"
    for row in rows:
        labels = [cell["label"].strip('"') for cell in row]
        assert labels == [h.strip() for h in headers]  # each line names its column
        for cell in row:
            assert cell["display"] != "table-cell"
            assert cell["width"] >= 280, cell  # a full-width line, not a squeezed column
            # one or two lines of text, not one glyph per line (a cell holding a form, such as
            # the queue's reviewer choice, wraps its controls onto lines of their own)
            assert cell["height"] <= (80 if not cell["controls"] else 160), cell
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, f"phone-cards-{username}")
    desktop = open_context(DESKTOP).new_page()
    _sign_in(desktop, username)
    desktop.goto(path)
    wide: list[list[dict[str, Any]]] = desktop.locator(table).evaluate(CELL_LAYOUT)
    assert all(cell["display"] == "table-cell" for row in wide for cell in row)


WHOLE_NUMBERS = r"""() => {
  const pattern = /(?:\d[\d*]{5,}[\dX*]|0\d{2,3}-\d{7,8}|1[3-9]\d{9}|1\d{2}\*{4}\d{4})/g;
  const broken = [];
  let checked = 0;
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement || !node.parentElement.getClientRects().length) continue;
    for (const match of node.textContent.matchAll(pattern)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
      checked += 1;
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return {checked, broken};
}"""


def test_on_a_phone_phone_numbers_and_id_numbers_never_break(
    open_context: Callable[..., BrowserContext], shot: Shot
) -> None:
    page = open_context(PHONE).new_page()
    page.goto("/agencies")
    result = page.evaluate(WHOLE_NUMBERS)
    assert result["checked"] >= 5 and result["broken"] == [], result
    shot(page, "phone-agencies")
    _sign_in(page, "hengyang")
    for path in ("/filings?state=", "/filings/incomplete", "/filings/emergency"):
        page.goto(path)
        result = page.evaluate(WHOLE_NUMBERS)
        assert result["checked"] >= 1 and result["broken"] == [], (path, result)
    shot(page, "phone-emergency-list")


# --- point 15: the desktop's full width ------------------------------------------------------


def test_on_a_desktop_pages_use_the_full_width_and_wide_tables_scroll_in_their_box(
    open_context: Callable[..., BrowserContext], shot: Shot
) -> None:
    page = open_context(DESKTOP).new_page()
    _sign_in(page, "henan")
    for path in ("/filings?state=", "/province/submissions"):
        page.goto(path)
        main = page.locator("main").evaluate("e => e.getBoundingClientRect().width")
        assert main >= 1300, f"{path}: content is {main}px wide on a 1366px screen"
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path
    table = page.locator("#submissions-table")
    wrap = table.locator("xpath=..")
    assert wrap.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    last = table.locator("thead th").last
    fits = wrap.evaluate("e => e.scrollWidth <= e.clientWidth")
    if not fits:  # then the box scrolls to the last column instead of cutting it off
        wrap.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    box = wrap.evaluate("e => e.getBoundingClientRect().right")
    assert last.evaluate("e => e.getBoundingClientRect().right") <= box + 1
    expect(last).to_be_in_viewport()
    shot(page, "desktop-submissions-full-width")


# --- one design system -----------------------------------------------------------------------

TOKENS = ("--color-ink", "--color-paper", "--space-4", "--text-base", "--text-xl", "--table-pad-x")
PAGES_BY_USER = {
    "hengyang": ["/agency", "/filings", "/filings/incomplete", "/province/submissions", "/claims"],
    "nhfy1": ["/hospital", "/hospital/encounters", "/hospital/check"],
    "clearing": ["/funds/statistics", "/funds/clearing"],
    "admin": ["/admin/users"],
}


def test_every_page_uses_the_one_local_stylesheet_and_its_custom_properties(
    open_context: Callable[..., BrowserContext], base_url: str
) -> None:
    page = open_context(DESKTOP).new_page()
    foreign: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base_url) else foreign.append(r.url))
    paths = ["/", "/check", "/hospitals", "/agencies", "/signin"]
    for path in paths:
        _check_design_system(page, path)
    for username, own in PAGES_BY_USER.items():
        page.context.clear_cookies()
        _sign_in(page, username)
        for path in own:
            _check_design_system(page, path)
    assert foreign == [], foreign


def _check_design_system(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    sheets = page.evaluate(
        "Array.from(document.styleSheets).map(s => s.href && new URL(s.href).pathname)"
    )
    assert sheets == ["/static/css/yidi.css"], (path, sheets)
    assert " style=" not in response.text(), path  # as served (chart.js styles its canvas)
    values = page.evaluate(
        "names => names.map(n => getComputedStyle(document.documentElement).getPropertyValue(n).trim())",
        list(TOKENS),
    )
    assert all(values), (path, dict(zip(TOKENS, values, strict=True)))
    body_size = page.evaluate("getComputedStyle(document.body).fontSize")
    assert body_size == "16px", (path, body_size)  # --text-base


def _luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# Each text colour of the design system on each ground it is used on.
TEXT_ON_GROUND = [
    ("--color-ink", "--color-paper"),
    ("--color-ink", "--color-ground"),
    ("--color-ink", "--table-row-hover"),
    ("--color-muted", "--color-paper"),
    ("--color-muted", "--color-ground"),
    ("--color-brand", "--color-paper"),
    ("--color-brand", "--color-ground"),
    ("--color-brand", "--color-selected-bg"),
    ("--color-brand-dark", "--color-paper"),
    ("--color-on-brand", "--color-brand"),
    ("--color-on-brand", "--color-brand-dark"),
    ("--color-ok", "--color-ok-bg"),
    ("--color-ok", "--color-paper"),
    ("--color-warn", "--color-warn-bg"),
    ("--color-warn", "--color-paper"),
    ("--color-bad", "--color-bad-bg"),
    ("--color-bad", "--color-paper"),
]


def test_the_design_systems_text_colours_reach_4_5_to_1(
    open_context: Callable[..., BrowserContext],
) -> None:
    page = open_context(DESKTOP).new_page()
    page.goto("/check")
    names = sorted({name for pair in TEXT_ON_GROUND for name in pair})
    values: dict[str, str] = page.evaluate(
        "names => Object.fromEntries(names.map(n => [n, getComputedStyle(document.documentElement).getPropertyValue(n).trim()]))",
        names,
    )
    low = {
        f"{fg} on {bg}": round(contrast(values[fg], values[bg]), 2)
        for fg, bg in TEXT_ON_GROUND
        if contrast(values[fg], values[bg]) < 4.5
    }
    assert low == {}, low
    # and the page really uses them: the body text is --color-ink
    ink = page.evaluate("getComputedStyle(document.body).color")
    red, green, blue = (int(v) for v in re.findall(r"\d+", ink)[:3])
    assert f"#{red:02x}{green:02x}{blue:02x}" == values["--color-ink"].lower()


# --- point 13: English everywhere ----------------------------------------------------------

# The words a page itself supplies: headings, column heads, labels, options, buttons, states,
# the history's verbs, the document names and checklists. Data (people's and hospitals' names,
# addresses, region names) may stay Chinese, and so may text marked lang="zh-CN" (quoted rules,
# the official annex titles) and the citations of policy documents (《…》第15条, 豫人社办函〔2017〕63号,
# the policy data's own "（示例值 illustrative…）" mark).
DOCUMENT_NAMES = re.compile(
    r"《[^》]*》(?:第\d+条)?|（示例值 illustrative[^）]*）|[\u3400-\u9fff]+〔\d{4}〕\d+号"
)
LABELS_OF_THE_PAGE = r"""() => {
  const selectors = ['h1', 'h2', 'h3', 'th', 'label', 'legend', 'option', 'dt', 'button',
    'summary', 'caption', '.state', '.main-nav a', '.card', '.checklist li', '.evidence-needs li',
    '.materials li', '.steps li', '[data-material]', '.hint', '.lead'];
  const found = [];
  const own = element => {  // the element's text without its parts marked lang="zh-CN"
    const copy = element.cloneNode(true);
    copy.querySelectorAll('[lang="zh-CN"]').forEach(part => part.remove());
    return copy.textContent || '';
  };
  for (const element of document.querySelectorAll(selectors.join(','))) {
    if (element.closest('[lang="zh-CN"]')) continue;
    found.push(own(element));
  }
  // the history: "time · verb → state · actor：reason" -- the verb and the state are the page's
  for (const item of document.querySelectorAll('.events li')) {
    const text = item.textContent || '';
    found.push(text.split('·').slice(1, 2).join(''));
  }
  // evidence tables: the first column names the document
  for (const cell of document.querySelectorAll('table[id$="evidence-table"] td:first-child, #evidence-table td:first-child')) {
    found.push(cell.textContent || '');
  }
  return found;
}"""

ROLES_IN_ENGLISH = ["hengyang", "henan", "nhfy1", "clearing", "admin", "xiedeming"]


def _data_names(page: Page) -> list[str]:
    """Names that are data, not labels: regions, hospitals, agencies, people on the lists."""
    names = {division.name for division in default_registry().all()}
    page.goto("/hospitals")
    names.update(page.locator("table.hospitals tbody td:first-child").all_inner_texts())
    page.goto("/agencies")
    names.update(page.locator("table.agencies tbody td:first-child").all_inner_texts())
    return sorted((n.strip() for n in names if n.strip()), key=len, reverse=True)


def _walk(page: Page) -> list[str]:
    """The desk, every page its header and cards link to, and the first record of each list;
    links to files (marked `download`) are not pages."""
    desk = page.url
    seen: list[str] = []
    links = [
        desk,
        *page.locator(
            "header a[href^='/']:not([download]), main a[href^='/']:not([download])"
        ).evaluate_all("as => as.map(a => a.getAttribute('href'))"),
    ]
    for link in links:
        if link.split("?")[0].endswith((".csv", ".xlsx", ".pdf")) or "lang=" in link:
            continue
        if link in seen:
            continue
        seen.append(link)
        page.goto(link)
        first = page.locator("main table tbody a[href^='/']:not([download])").first
        if first.count():
            href = first.get_attribute("href") or ""
            if href and href not in seen and not href.endswith((".csv", ".xlsx", ".pdf")):
                seen.append(href)
    return seen


@pytest.mark.parametrize("username", ROLES_IN_ENGLISH)
def test_in_english_each_roles_pages_have_no_chinese_only_labels(
    open_context: Callable[..., BrowserContext], base_url: str, shot: Shot, username: str
) -> None:
    context = open_context(DESKTOP, locale="en-GB")
    context.add_cookies([{"name": "yidi_lang", "value": "en", "url": base_url}])
    page = context.new_page()
    allowed = _data_names(page)
    _sign_in(page, username)
    problems: dict[str, list[str]] = {}
    pages = _walk(page)
    assert len(pages) >= 3, pages
    for path in pages:
        response = page.goto(path)
        assert response is not None and response.status < 400, path
        assert page.locator("html").get_attribute("lang") == "en", path
        for text in page.evaluate(LABELS_OF_THE_PAGE):
            rest = DOCUMENT_NAMES.sub("", text)
            for name in allowed:
                if name in rest:
                    rest = rest.replace(name, "")
            if HAN.search(rest):
                problems.setdefault(path, []).append(rest.strip()[:160])
    shot(page, f"english-{username}")
    assert problems == {}, problems


# --- point 14: the printable 附件1 ----------------------------------------------------------

ANNEX1_LABELS = [
    "转往省（市、区）",
    "地区（市、州）",
    "县（区）名称",
    "社会保障卡号",
    "（可选）",
    "异地联系地址",
    "（现住址）",
    "本人（被委托人）",
]


def test_the_annex1_pdf_keeps_its_labels_whole_and_names_the_insured_region(
    open_context: Callable[..., BrowserContext], tmp_path: Path
) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    page = open_context(DESKTOP).new_page()
    _sign_in(page, "hengyang")
    page.goto("/filings?q=谢德明&state=")
    page.locator("#filing-table tr", has_text="谢德明").get_by_role("link").first.click()
    href = page.locator("#annex1-link").get_attribute("href") or ""
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    path = tmp_path / "annex1.pdf"
    path.write_bytes(response.body())
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:  # no label breaks inside a parenthesis
        assert line.count("（") == line.count("）"), line
    for label in ANNEX1_LABELS:
        assert label in lines, (label, lines[:40])
    assert "参保地市（县、市、区）：湖南省衡阳市衡阳县" in lines
    assert not any(line.endswith("市（县、市、区）") for line in lines)


# --- point 10: the guided check --------------------------------------------------------------


def test_the_guided_check_answers_an_empty_submit_with_every_question_marked(
    open_context: Callable[..., BrowserContext], shot: Shot
) -> None:
    page = open_context(PHONE).new_page()
    page.goto("/check")
    page.get_by_role("button", name="查看结果").click()
    page.wait_for_url(re.compile(r"/check\?asked=1"))
    summary = page.locator("#check-errors")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # not the body: a screen reader hears what is missing
    for name in ("category", "care", "accident", "filed"):
        expect(page.locator(f"#{name}-error")).to_have_text("请选择一项")
    expect(summary.get_by_role("link")).to_have_count(4)
    summary.get_by_role("link").nth(1).click()
    expect(page.locator("#q-care")).to_be_in_viewport()
    shot(page, "check-empty-submit")


def test_the_guided_check_leads_an_unfiled_person_to_file_online(
    open_context: Callable[..., BrowserContext], shot: Shot
) -> None:
    page = open_context(PHONE).new_page()
    page.goto("/check")
    page.get_by_role("radio", name="异地安置退休人员", exact=True).check()
    page.get_by_role("radio", name="住院", exact=True).check()
    page.locator("#q-accident").get_by_role("radio", name="否", exact=True).check()
    page.locator("#q-filed").get_by_role("radio", name="否", exact=True).check()
    page.get_by_role("button", name="查看结果").click()
    page.wait_for_url(re.compile(r"/check\?"))
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "not_direct")
    cta = page.locator("#file-online").get_by_role("link", name="在线办理备案")
    expect(cta).to_be_visible()
    shot(page, "check-file-online")
    cta.click()
    page.wait_for_url(re.compile(r"/signin"))  # anonymous: sign in first, then the form
    page.locator("#username").fill("xiedeming")
    page.locator("#password").fill("xiedeming-demo-2017")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/me/filings/wizard?category=retiree_resettled")
    expect(page.locator("h1")).to_be_visible()
    # the step-by-step filing starts with the type the check was asked about
    expect(page.locator("#category-retiree_resettled")).to_be_checked()
    # a person already filed and settled directly is not sent to file again
    page.goto("/check?asked=1&category=retiree_resettled&care=inpatient&accident=no&filed=yes")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "direct")
    expect(page.locator("#file-online")).to_have_count(0)
    # nor is one whose stay is an accident's: filing would not make it direct
    page.goto("/check?asked=1&category=retiree_resettled&care=inpatient&accident=yes&filed=no")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "not_direct")
    expect(page.locator("#file-online")).to_have_count(0)


# --- accessibility of the changed pages ---------------------------------------------------

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(c => c.type !== 'hidden' && c.type !== 'submit' && c.type !== 'button')
  .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
               && !c.getAttribute('aria-labelledby'))
  .map(c => c.outerHTML.slice(0, 120))"""

FOCUSED_BOX = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const r = e.getClientRects()[0] || e.getBoundingClientRect();  // a wrapped link: its first line
  return {tag: e.tagName, text: (e.innerText || e.value || e.id || '').slice(0, 30),
          top: r.top + window.scrollY, left: r.left + window.scrollX, height: r.height}; }"""


def _focus_order(page: Page, stops: int) -> list[dict[str, Any]]:
    """The Tab stops from the top of the page (the skip link) until the focus comes round."""
    page.locator(".skip-link").focus()
    order: list[dict[str, Any]] = [page.evaluate(FOCUSED_BOX)]
    for _ in range(stops):
        page.keyboard.press("Tab")
        box = page.evaluate(FOCUSED_BOX)
        if box is None or box == order[0]:
            break
        order.append(box)
    return order[1:]  # the skip link itself shows only while focused


def _assert_reading_order(order: list[dict[str, Any]], where: str) -> None:
    """Each stop is below the previous one, or on the same line to its right."""
    for before, after in itertools.pairwise(order):
        same_line = abs(after["top"] - before["top"]) < max(8, before["height"] / 2)
        if same_line:
            assert after["left"] >= before["left"] - 1, (where, before, after)
        else:
            assert after["top"] > before["top"], (where, before, after)


@pytest.mark.parametrize(("viewport", "label"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_the_changed_pages_label_every_control_and_focus_in_reading_order(
    open_context: Callable[..., BrowserContext], viewport: dict[str, int], label: str
) -> None:
    page = open_context(viewport).new_page()
    for path in ("/check", "/check?asked=1", "/agencies", "/hospitals", "/signin"):
        page.goto(path)
        assert page.evaluate(UNLABELLED) == [], path
        page.goto(path)  # fresh: no focus moved by the page
        order = _focus_order(page, 40)
        assert len(order) >= 3, (path, order)
        _assert_reading_order(order, f"{label} {path}")
    _sign_in(page, "hengyang")
    for path in ("/agency", "/filings?state=", "/province/submissions"):
        page.goto(path)
        assert page.evaluate(UNLABELLED) == [], path
        if label == "phone":
            page.get_by_role("button", name="菜单").click()
        order = _focus_order(page, 60)
        assert len(order) >= 5, (path, order)
        _assert_reading_order(order, f"{label} {path}")
