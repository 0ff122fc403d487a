"""The interactive docs in a real browser: Swagger UI's Authorize (OAuth2 password flow against
POST /token) and "Try it out" on GET /users/me/, and ReDoc rendering, in headless Chromium.

Debian's chromium (/usr/bin/chromium) driven by Playwright for Python; Playwright never
downloads a browser here. Without /usr/bin/chromium the tests skip, except under CI (CI=true),
where they fail: `.ci/run` installs it. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow  # a real browser: `make test-fast` leaves it out

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    # No connections to Google's services: this machine's network refuses them.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: 18172, or 18172 + n for pytest-xdist worker gwN (this project's ports are 18170-18189).
PORT = 18172 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
API_TITLE = "Personal Finance Tracker API"
#: Records every Content-Security-Policy violation the page reports, before any script runs.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run; .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is missing: pip install -r requirements-dev.txt")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test app on a real port, in a thread (werkzeug's server, quiet)."""
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    server = make_server("127.0.0.1", PORT, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORT}"
    server.shutdown()
    thread.join(timeout=10)
    werkzeug_log.setLevel(level)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.problems = lambda: errors + page.evaluate("window.__cspViolations")
    yield page
    context.close()


def screenshot(target, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    target.screenshot(path=str(path))
    return path


def authorize(page, username: str, password: str):
    """Swagger UI's Authorize dialog, password flow; returns the POST /token response."""
    page.click("button.authorize")
    page.fill("#oauth_username", username)
    page.fill("#oauth_password", password)
    with page.expect_response(lambda r: r.url.endswith("/token")) as token:
        page.click(".auth-btn-wrapper button.authorize")
    page.get_by_role("button", name="Logout").wait_for()
    page.click(".auth-btn-wrapper button.btn-done")
    return token.value


def test_swagger_ui_authorizes_with_the_password_flow_and_runs_get_users_me(
    live_server, page, user
):
    page.goto(f"{live_server}/swagger-ui")
    page.wait_for_selector("button.authorize")
    screenshot(page, "swagger-ui.png")

    token = authorize(page, user.username, PASSWORD)
    operation = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/users/me/"])')
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    with page.expect_response(lambda r: r.url.endswith("/users/me/")) as me:
        operation.locator("button.execute").click()
    result = operation.locator(".live-responses-table .response")
    result.locator(".response-col_status").get_by_text("200").wait_for()
    shot = screenshot(operation, "swagger-ui-users-me.png")

    assert token.status == 200
    assert me.value.status == 200
    assert me.value.request.headers["authorization"].startswith("Bearer ")
    assert (
        f'"username": "{user.username}"'
        in result.locator(".response-col_description .microlight").first.inner_text()
    )
    assert page.problems() == []
    assert shot.stat().st_size > 0


def test_swagger_ui_shows_a_wrong_password_as_an_authorization_error(live_server, page, user):
    page.goto(f"{live_server}/swagger-ui")
    page.click("button.authorize")
    page.fill("#oauth_username", user.username)
    page.fill("#oauth_password", "not the password")
    with page.expect_response(lambda r: r.url.endswith("/token")) as token:
        page.click(".auth-btn-wrapper button.authorize")

    page.locator(".modal-ux .errors").wait_for()
    assert token.value.status == 401
    assert page.get_by_role("button", name="Logout").count() == 0


def test_redoc_renders_the_title_and_the_operations(live_server, page):
    page.goto(f"{live_server}/redoc")

    page.locator("h1", has_text=API_TITLE).wait_for()
    operation = page.locator("h2", has_text="Log in with the OAuth2 password form").first
    operation.wait_for()
    operation.scroll_into_view_if_needed()
    screenshot(page, "redoc.png")

    assert page.title() == API_TITLE
    assert page.problems() == []
