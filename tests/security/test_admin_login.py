"""Admin login throttling (django-axes) and the /admin/ allowlist, against a real server.

Clients are told apart by X-Forwarded-For through the trusted loopback proxy, as
everywhere in the suite, or by their own loopback source address when the point is
that an untrusted peer's header is ignored.
"""

import re

import httpx
import psutil
import pytest

from tests.clients import BROWSER_USER_AGENT, new_ip
from tests.conftest import ServerPool

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME = "moderator"
PASSWORD = "correct-horse-battery-staple-9"
FAILURE_LIMIT = 5
ATTEMPTS = 40


class AdminClient:
    """A browser at the admin login page, from one client address."""

    def __init__(self, server, ip=None, source_address=None):
        transport = httpx.HTTPTransport(local_address=source_address) if source_address else None
        self.ip = ip
        self.http = httpx.Client(base_url=server.url, transport=transport, timeout=30)
        self.http.headers["User-Agent"] = BROWSER_USER_AGENT
        if ip:
            self.http.headers["X-Forwarded-For"] = ip
        page = self.http.get("/admin/login/")
        assert page.status_code == 200, page.text[:300]
        self.csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def login(self, password, username=USERNAME, forwarded_for=None):
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return self.http.post(
            "/admin/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": self.csrf_token, "next": "/admin/"},
            headers=headers,
        )

    @property
    def logged_in(self):
        return self.http.get("/admin/", follow_redirects=False).status_code == 200


def is_locked_out(response):
    return response.status_code == 429 and response.json()["error"] == "login_locked"


def cpu_seconds(process):
    times = process.cpu_times()
    return times.user + times.system


@pytest.fixture(scope="module")
def login_server(server_env, tmp_path_factory):
    pool = ServerPool(server_env, tmp_path_factory.mktemp("admin-login"))
    # Plain-HTTP test server: cookies without the Secure flag, or the client would not
    # send back the CSRF and session cookies.
    yield pool.start(SECURE_COOKIES="false", KIRB_ADMIN_LOGIN_FAILURE_LIMIT=str(FAILURE_LIMIT))
    pool.stop_all()


@pytest.fixture
def admin_server(login_server, django_user_model):
    """The server, with a staff account (the database, lockouts included, is emptied
    after each test)."""
    django_user_model.objects.create_superuser(USERNAME, "moderator@example.com", PASSWORD)
    return login_server


def test_wrong_passwords_lock_out_that_client_cheaply_and_the_admin_shows_it(admin_server):
    server = admin_server
    process = psutil.Process(server.pid)
    attacker = AdminClient(server, ip=new_ip())

    started = cpu_seconds(process)
    answers = [attacker.login(f"wrong-password-{n}") for n in range(FAILURE_LIMIT)]
    hashed = cpu_seconds(process) - started
    started = cpu_seconds(process)
    answers += [attacker.login(f"wrong-password-{n}") for n in range(FAILURE_LIMIT, ATTEMPTS)]
    locked = cpu_seconds(process) - started

    # Wrong passwords get the form again; the one that reaches the limit, and every
    # one after it, the lockout, in JSON.
    assert [a.status_code for a in answers[: FAILURE_LIMIT - 1]] == [200] * (FAILURE_LIMIT - 1)
    assert all(is_locked_out(a) for a in answers[FAILURE_LIMIT - 1 :])
    assert int(answers[-1].headers["Retry-After"]) > 0
    # The right password is refused too, and no session is opened.
    right = attacker.login(PASSWORD)
    assert is_locked_out(right)
    assert not attacker.logged_in
    # A locked-out attempt never reaches the password hasher (about 0.3 s of CPU per
    # hashed attempt): the 35 locked attempts cost less than a few hashed ones.
    per_hashed, per_locked = hashed / FAILURE_LIMIT, locked / (ATTEMPTS - FAILURE_LIMIT)
    assert per_locked < per_hashed / 5, f"{per_locked * 1000:.0f} ms per locked attempt, {per_hashed * 1000:.0f} ms hashed"

    # The same account from another address is not locked out.
    moderator = AdminClient(server, ip=new_ip())
    assert moderator.login(PASSWORD).status_code == 302
    assert moderator.logged_in

    # The moderator sees the lockout, under the attacker's real address (not the proxy's).
    page = moderator.http.get("/admin/axes/accessattempt/", params={"q": attacker.ip})
    assert page.status_code == 200
    assert attacker.ip in page.text and "Locked Out" in page.text
    assert USERNAME in page.text


def test_a_forwarded_address_from_an_untrusted_peer_does_not_escape_the_lockout(admin_server):
    """Only the trusted proxy may say who the client is: a client connecting directly
    and inventing a new X-Forwarded-For per attempt is still one client."""
    attacker = AdminClient(admin_server, source_address="127.0.0.23")
    answers = [attacker.login(f"wrong-{n}", forwarded_for=new_ip()) for n in range(FAILURE_LIMIT)]
    assert [a.status_code for a in answers[: FAILURE_LIMIT - 1]] == [200] * (FAILURE_LIMIT - 1)
    assert is_locked_out(answers[-1])
    assert is_locked_out(attacker.login(PASSWORD, forwarded_for=new_ip()))


def test_admin_allowlist_refuses_other_networks_with_the_json_404(start_server):
    server = start_server(ADMIN_ALLOWED_CIDRS="198.51.100.0/24,2001:db8::/32")
    for path in ("/admin/", "/admin/login/", "/admin/axes/accessattempt/"):
        outsider = httpx.get(server.url + path, headers={"X-Forwarded-For": new_ip()})
        assert outsider.status_code == 404 and outsider.json()["error"] == "not_found", path
        # Exactly what an address that does not exist answers: the admin is not advertised.
        assert outsider.json() == httpx.get(server.url + "/no-such-page").json()
    refused_post = httpx.post(server.url + "/admin/login/", data={"username": "x"}, headers={"X-Forwarded-For": new_ip()})
    assert refused_post.status_code == 404

    insider = httpx.get(server.url + "/admin/login/", headers={"X-Forwarded-For": "198.51.100.7"})
    assert insider.status_code == 200 and "csrfmiddlewaretoken" in insider.text
    # A direct client naming an allowed address in a header it may not set is an outsider.
    spoofed = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.24")).get(
        server.url + "/admin/login/", headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert spoofed.status_code == 404
    # The rest of the site is for everyone.
    assert httpx.get(server.url + "/messages", headers={"X-Forwarded-For": new_ip()}).status_code == 200
