"""Client-side deadlines for PostgreSQL: a frozen or unreachable database answers 503
within DATABASE_QUERY_DEADLINE_SECONDS, not after HTTP_TIMEOUT_SECONDS (issue 11).

Why the server-side bounds are not enough: ``statement_timeout`` is enforced by the
server, so a server that is frozen (SIGSTOP, a stalled VM, a storage hang) never
enforces it; its kernel still ACKs our bytes, and libpq waits for an answer forever.
``connect_timeout`` is at least 2 s (libpq's minimum, copied by psycopg), which alone
uses the whole answer budget of a request.

What this does, in psycopg itself (so that every path is covered: Django's cursors,
COMMIT and ROLLBACK, the connection health check, server-side cursor fetches):

- ``DeadlineConnection.wait``, psycopg's one place where a connection waits for the
  server, is given a timeout of DATABASE_QUERY_DEADLINE_SECONDS. When it expires the
  connection is closed (it is in the middle of the protocol, unusable) and
  ``DeadlineExceeded``, an ``OperationalError``, is raised: Django drops the connection
  and the request answers 503 ``database_unavailable`` (core.errors).
- ``DeadlineConnection.connect`` runs psycopg's connect on a helper thread and waits at
  most the same deadline: a frozen postmaster accepts TCP but never answers the
  startup packet. The abandoned attempt ends by itself at ``connect_timeout`` and
  closes what it got if it got something late.
- A gate per database: the first deadline or failed connect opens it, and from then
  on every connect and query of this process fails at once (``DatabaseUnavailable``)
  instead of each spending the deadline again (a request that reconnects after a
  failed health check would otherwise spend it twice: over budget). One prober
  thread connects and runs ``SELECT 1`` every DATABASE_PROBE_INTERVAL_SECONDS; its
  first success closes the gate, so service returns within about that interval of
  the database coming back. A slow query that merely outlives the deadline opens the
  gate too; the first probe (sent at once) closes it again within milliseconds.

What a deadline cannot undo: a COMMIT the frozen server has already received commits
when the server resumes, though the client was answered 503 (and got its post slot
back). Such a post appears late, and the hubs deliver it from the event log; a post
answered 200 is always committed. The deadline must stay below
DATABASE_STATEMENT_TIMEOUT_SECONDS (that one still frees the server side of a slow
query we gave up on) and, with the rest of a request, below the 2 s answer budget.

``DATABASE_QUERY_DEADLINE_SECONDS=0`` turns all of this off (a one-off migration of a
large table needs more than a second per statement).
"""

import inspect
import threading
import time

import psycopg
from django.conf import settings
from psycopg.errors import _WaitTimeout

# psycopg's Connection.wait must take a timeout (psycopg >= 3.2): fail at import, not
# by silently having no deadline after an upgrade.
_WAIT_PARAMETERS = inspect.signature(psycopg.Connection.wait).parameters
if "timeout" not in _WAIT_PARAMETERS or "interval" not in _WAIT_PARAMETERS:
    raise ImportError("core.dbdeadline needs psycopg's Connection.wait(gen, interval, timeout) (psycopg >= 3.2)")
_WAIT_INTERVAL = _WAIT_PARAMETERS["interval"].default

# Connection arguments that are Python objects for Django's cursors, not for a probe.
_NOT_FOR_PROBES = ("cursor_factory", "row_factory", "context")


class DeadlineExceeded(psycopg.OperationalError):
    """The database did not answer within DATABASE_QUERY_DEADLINE_SECONDS."""


class DatabaseUnavailable(psycopg.OperationalError):
    """Refused without trying: the database did not answer lately and no probe has since."""


def query_deadline():
    return float(getattr(settings, "DATABASE_QUERY_DEADLINE_SECONDS", 0) or 0)


class Gate:
    """Open while the database is known not to answer; one prober closes it."""

    def __init__(self, conninfo, params):
        self.conninfo = conninfo
        self.params = {key: value for key, value in params.items() if key not in _NOT_FOR_PROBES}
        self.open_since = None
        self._lock = threading.Lock()

    @property
    def is_open(self):
        return self.open_since is not None

    def admit(self):
        open_since = self.open_since
        if open_since is not None:
            raise DatabaseUnavailable(
                f"the database has not answered for {time.monotonic() - open_since:.1f} s; "
                "refused at once until a probe gets an answer"
            )

    def trip(self, error):
        with self._lock:
            if self.open_since is not None:
                return
            self.open_since = time.monotonic()
        from core import outages  # its metrics need Django set up

        outages.database.failed(error)
        threading.Thread(target=self._probe_until_answered, name="kirb-db-probe", daemon=True).start()

    def _probe_until_answered(self):
        interval = float(settings.DATABASE_PROBE_INTERVAL_SECONDS)
        while True:
            started = time.monotonic()
            if self._probe():
                break
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
        with self._lock:
            self.open_since = None
        from core import outages  # logs the one line saying the outage ended

        outages.database.recovered()

    def _probe(self):
        """Any failure counts as no answer: the prober must outlive every error, or
        the gate would stay open for good."""
        try:
            connection = _ProbeConnection.connect(self.conninfo, **self.params)
        except Exception:
            return False
        try:
            connection.execute("SELECT 1")
            return True
        except Exception:
            return False
        finally:
            connection.close()


_gates = {}
_gates_lock = threading.Lock()


def gate_for(conninfo, params):
    """The gate of the database these connection arguments reach (one per server and database)."""
    key = (conninfo, params.get("host"), params.get("port"), params.get("dbname"), params.get("user"))
    gate = _gates.get(key)
    if gate is None:
        with _gates_lock:
            gate = _gates.setdefault(key, Gate(conninfo, params))
    return gate


class _ConnectAttempt:
    """psycopg's connect on a helper thread, waited for at most a deadline."""

    def __init__(self, connect):
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._abandoned = False
        self._connection = None
        self._error = None
        threading.Thread(target=self._run, args=(connect,), name="kirb-db-connect", daemon=True).start()

    def _run(self, connect):
        try:
            connection = connect()
        except BaseException as error:  # handed to the waiting thread
            self._error = error
            self._done.set()
            return
        with self._lock:
            late = self._abandoned
            if not late:
                self._connection = connection
        if late:
            connection.close()
        self._done.set()

    def result(self, deadline):
        if not self._done.wait(deadline):
            with self._lock:
                if self._connection is None and self._error is None:
                    self._abandoned = True
                    raise DeadlineExceeded(f"no answer to the connection attempt within {deadline:g} s")
        if self._error is not None:
            raise self._error
        return self._connection


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every wait on the server is bounded (see the module)."""

    _gated = True  # the prober's connections are not: they are how the gate closes
    _gate = None
    _deadline = 0.0

    @classmethod
    def connect(cls, conninfo="", **kwargs):
        deadline = query_deadline()
        if not deadline:
            return super().connect(conninfo, **kwargs)
        gate = gate_for(conninfo, kwargs)
        if cls._gated:
            gate.admit()
        attempt = _ConnectAttempt(lambda: super(DeadlineConnection, cls).connect(conninfo, **kwargs))
        try:
            connection = attempt.result(deadline)
        except psycopg.OperationalError as error:  # timed out, refused, or turned away
            if cls._gated:
                gate.trip(error)
            raise
        connection._gate, connection._deadline = gate, deadline
        return connection

    def wait(self, gen, interval=_WAIT_INTERVAL, timeout=None):
        deadline = self._deadline
        if not deadline:
            return super().wait(gen, interval=interval, timeout=timeout)
        if self._gated:
            self._gate.admit()  # nothing sent yet: the connection stays as it was
        ours = timeout is None or deadline < timeout
        try:
            return super().wait(gen, interval=interval, timeout=deadline if ours else timeout)
        except _WaitTimeout:
            if not ours:
                raise  # the caller's own, shorter timeout (e.g. notifies())
            # Mid-protocol: the answer may still come, so the connection is unusable.
            self.close()
            error = DeadlineExceeded(f"no answer from the database within {deadline:g} s")
            if self._gated:
                self._gate.trip(error)
            raise error from None


class _ProbeConnection(DeadlineConnection):
    _gated = False


class _Driver:
    """psycopg as Django's PostgreSQL backend sees it (``DatabaseWrapper.Database``),
    except that ``connect`` makes DeadlineConnections."""

    connect = staticmethod(DeadlineConnection.connect)

    def __getattr__(self, name):
        return getattr(psycopg, name)


driver = _Driver()
