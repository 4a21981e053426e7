"""Browser tests: a real `yidi serve --demo` on a loopback port, driven by Debian's Chromium.

No browser is downloaded: Playwright drives ``/usr/bin/chromium`` (installed by the
Debian package; ``.ci/run`` installs it). Without it the tests are skipped, unless
``YIDI_REQUIRE_BROWSER=1`` says they must run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SERVER_START_SECONDS = 120  # the demo load is slow on a busy two-core machine
# The database of the running demo server, for tests that add records through the use cases.
SERVER_DATABASE: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("YIDI_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"YIDI_REQUIRE_BROWSER=1 but {CHROMIUM} is not installed")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`yidi serve --demo` against a fresh SQLite file, as a user would start it."""
    with demo_server(tmp_path_factory, shared=True) as url:
        yield url


@contextlib.contextmanager
def demo_server(tmp_path_factory: pytest.TempPathFactory, *, shared: bool = False) -> Iterator[str]:
    """Start `yidi serve --demo` on a fresh SQLite file; its URL while it runs. A module whose
    tests must not see what earlier modules did to the shared server starts its own."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    database = tmp_path_factory.mktemp("browser-db") / "yidi.sqlite3"
    port = _free_port()
    env = {
        **os.environ,
        "YIDI_DATABASE_URL": f"sqlite:///{database}",
        "YIDI_DEMO_MODE": "1",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[2] / "src"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    log_path = tmp_path_factory.mktemp("browser-log") / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "yidi",
                "serve",
                "--demo",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    if shared:  # the session's server: the fixtures below name its files
        SERVER_DATABASE.update(url=env["YIDI_DATABASE_URL"], file=str(database), log=str(log_path))
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"yidi serve exited early:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(url + "/api/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"yidi serve did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server_database_url(base_url: str) -> str:
    """The running demo server's database URL (tests add records through the use cases)."""
    return SERVER_DATABASE["url"]


@pytest.fixture(scope="session")
def demo_server_files(base_url: str) -> tuple[Path, Path]:
    """The running demo server's SQLite file and its log (where the console sender writes
    one-time codes, as a demo user reads them)."""
    return Path(SERVER_DATABASE["file"]), Path(SERVER_DATABASE["log"])


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser, base_url: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=base_url, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot under test-artifacts/screenshots/ (kept out of git)."""

    def take(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Page, username: str, password: str = "") -> None:
    """Sign in through the form's labelled fields (with the demo password unless one is given)."""
    page.goto("/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password or f"{username}-demo-2017")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def script_problems(page: Page) -> list[str]:
    """Collects the page's script errors and console errors from now on."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    return problems
