"""Fixtures for the deployment checks: parsed files, tools, and a cluster behind nginx."""

import shutil

import pytest

from devtools.cluster import Cluster, nginx_binary
from devtools.embedded_redis import free_port
from tests.deploy.helpers import BASE_DIR


def _yaml():
    try:
        import yaml
    except ImportError:
        pytest.fail("PyYAML is not installed: it is in requirements.txt (`make install`).")
    return yaml


@pytest.fixture(scope="session")
def load_yaml():
    yaml = _yaml()

    def load(path):
        with open(path) as handle:
            return yaml.safe_load(handle)

    return load


@pytest.fixture(scope="session")
def load_yaml_documents():
    yaml = _yaml()

    def load(path):
        with open(path) as handle:
            return [document for document in yaml.safe_load_all(handle) if document]

    return load


@pytest.fixture(scope="session")
def compose(load_yaml):
    return load_yaml(BASE_DIR / "docker-compose.yml")


@pytest.fixture(scope="session")
def nginx():
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    return binary


@pytest.fixture(scope="session")
def promtool():
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it)")
    return binary


# Every client of the cluster tests reaches nginx from loopback, so Kirb sees one
# network address for all of them: the per-IP write ceiling is raised so that it does
# not limit the tests' many "people" (who differ by fingerprint).
CLUSTER_TEST_ENV = {"KIRB_IP_WRITE_LIMIT": "100000"}


@pytest.fixture
def start_cluster(nginx, server_env, tmp_path):
    """Start clusters of one's own (three instances behind nginx); stopped after the test."""
    started = []

    def start(instances=3, **extra_env):
        cluster = Cluster(
            {**server_env, **CLUSTER_TEST_ENV, **extra_env},
            instances=instances,
            port=free_port(),
            workdir=tmp_path / f"cluster-{len(started)}",
        )
        started.append(cluster)
        return cluster.start()

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture(scope="module")
def cluster(nginx, server_env, tmp_path_factory):
    """Three instances behind nginx, shared by a module's tests (which must not stop any)."""
    with Cluster(
        {**server_env, **CLUSTER_TEST_ENV}, port=free_port(), workdir=tmp_path_factory.mktemp("cluster")
    ) as running:
        yield running

