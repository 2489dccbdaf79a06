"""The Kirb page as a person uses it, through Playwright (sync API)."""

import json
import os
import re

from tests.clients import BROWSER_USER_AGENT

try:
    from playwright.sync_api import expect
except ImportError:  # the tests are skipped; keep the module importable
    expect = None

PLAYWRIGHT_VERSION = "1.65.2"
PLAYWRIGHT_AVAILABLE = expect is not None
CHROMIUM_PATH = "/usr/bin/chromium"
BROWSER_SKIP_REASON = (
    "Browser tests need Debian's Chromium and Playwright: "
    f"apt-get install chromium && pip install playwright=={PLAYWRIGHT_VERSION}"
)
BROWSERS_AVAILABLE = PLAYWRIGHT_AVAILABLE and os.path.exists(CHROMIUM_PATH)

# A person's desktop browser. Headless Chromium says "HeadlessChrome", which Kirb
# rightly treats as automation; these tests play people, so they send what a person's
# Chrome sends.
DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

# How long a person waits for the page at most (the event usually takes milliseconds).
WAIT_MS = 5000


class Person:
    """One browser profile (context) with one tab, on its own client IP."""

    def __init__(self, context, page, name, ip):
        self.context = context
        self.page = page
        self.name = name
        self.ip = ip
        self.server = None
        self.closed = False
        self.responses = []  # (status, method, url) of every HTTP response the page saw
        self.sockets = []  # URLs of the WebSockets the page opened
        self.websockets = []  # and Playwright's handles on them
        self.console_errors = []
        page.on("response", lambda response: self.responses.append((response.status, response.request.method, response.url)))
        page.on("websocket", self._opened_socket)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        page.on("console", lambda message: message.type in ("error", "warning") and self.console_errors.append(f"{message.type}: {message.text}"))

    def _opened_socket(self, socket):
        self.sockets.append(socket.url)
        self.websockets.append(socket)

    @classmethod
    def create(cls, browser, name, *, ip, viewport=(1280, 900), city=None, mobile=False, reduced_motion=None):
        options = {
            "viewport": {"width": viewport[0], "height": viewport[1]},
            "user_agent": BROWSER_USER_AGENT if mobile else DESKTOP_USER_AGENT,
            "extra_http_headers": {"X-Forwarded-For": ip},
            "locale": "en-IN",
            "timezone_id": "Asia/Kolkata",
        }
        if reduced_motion:
            options["reduced_motion"] = reduced_motion
        if mobile:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        context = browser.new_context(**options)
        context.set_default_timeout(WAIT_MS)
        if city is not None:
            # A returning visitor: the city chosen on an earlier visit is in localStorage.
            # (An init script, before the page's own; cheaper than a storage_state.)
            context.add_init_script(
                f"if (!localStorage.getItem('kirb.city')) localStorage.setItem('kirb.city', {json.dumps(city)});"
            )
        return cls(context, context.new_page(), name, ip)

    # --- navigation -----------------------------------------------------------------

    def open(self, server, wait_live=True):
        self.server = server
        self.page.goto(server.url + "/")
        if wait_live:
            self.wait_live()
        return self

    def reload(self):
        self.page.reload()
        self.wait_live()

    def wait_live(self, timeout=WAIT_MS):
        expect(self.page.locator("#connection")).to_have_attribute("data-state", "live", timeout=timeout)
        expect(self.page.locator("#feed-status")).to_be_empty(timeout=timeout)

    def choose_city(self, city):
        with self.page.expect_response(lambda r: "/messages?" in r.url and f"location={city}" in r.url.replace("+", " ").replace("%20", " ")):
            self.page.get_by_label("City", exact=True).select_option(city)
        self.wait_live()

    @property
    def fingerprint(self):
        return self.page.evaluate("localStorage.getItem('kirb.fingerprint')")

    # --- the feed ---------------------------------------------------------------------

    def posts(self):
        return self.page.locator("#feed .post")

    def post_card(self, text):
        return self.page.locator("#feed .post", has=self.page.locator(".post-text", has_text=text))

    def expect_post(self, text, timeout=WAIT_MS):
        expect(self.post_card(text)).to_have_count(1, timeout=timeout)
        return self.post_card(text)

    def expect_no_post(self, text):
        expect(self.post_card(text)).to_have_count(0, timeout=0)

    def card_by_id(self, message_id):
        return self.page.locator(f'#feed .post[data-id="{message_id}"]')

    # --- the form ---------------------------------------------------------------------

    def post(self, text, message_type="offered", phone=""):
        """Write and submit a post through the form; returns the server's answer (dict)."""
        page = self.page
        self.open_composer()
        page.get_by_label("I need a room" if message_type == "requested" else "I have a room").check()
        page.get_by_label("Your post").fill(text)
        page.get_by_label(re.compile("^Phone number")).fill(phone)
        with page.expect_response(lambda r: r.url.endswith("/messages") and r.request.method == "POST") as answer:
            page.locator("#post-submit").click()
        response = answer.value
        assert response.status == 200, response.text()
        return response.json()

    def open_composer(self):
        """On a phone the form is behind "Write a post"; on a desktop it is always open."""
        toggle = self.page.locator("#composer-toggle")
        if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
            toggle.click()

    def error_texts(self):
        """Every error sentence the page shows (form, feed and per-post notes)."""
        selectors = "#post-error:not([hidden]), .field-error:not([hidden]), #feed-status[data-kind=error], #feed-end[data-kind=error], .post-note[data-kind=error]:not([hidden])"
        return [text for text in self.page.locator(selectors).all_inner_texts() if text.strip()]

    def refused_responses(self):
        return [entry for entry in self.responses if entry[0] in (403, 429)]

    def close(self):
        if not self.closed:
            self.closed = True
            self.context.close()
