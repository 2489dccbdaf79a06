"""The Kubernetes manifests parse and agree with each other and with Kirb: variables it
reads, the port it serves, the drain it does, the metric the autoscaler uses."""

import pytest
from django.conf import settings

from core import metrics
from tests.deploy.helpers import DEPLOY, kirb_env_vars

K8S = DEPLOY / "kubernetes"
# The Secret keys are the secrets; nothing else belongs there, and none of them in the ConfigMap.
SECRET_KEYS = {"SERVER_SECRET", "DATABASE_URL", "REDIS_URL", "METRICS_TOKEN"}


@pytest.fixture(scope="module")
def manifests(load_yaml_documents):
    """``{(kind, name): document}`` of every manifest in deploy/kubernetes."""
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in load_yaml_documents(path):
            if document.get("kind") == "Kustomization":
                continue
            assert {"apiVersion", "kind", "metadata"} <= set(document), path.name
            key = (document["kind"], document["metadata"]["name"])
            assert key not in found, f"{key} defined twice"
            found[key] = document
    return found


@pytest.fixture(scope="module")
def kustomization(load_yaml):
    return load_yaml(K8S / "kustomization.yaml")


@pytest.fixture(scope="module")
def deployment(manifests):
    return manifests[("Deployment", "kirb")]


@pytest.fixture(scope="module")
def container(deployment):
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


@pytest.fixture(scope="module")
def config(manifests):
    return manifests[("ConfigMap", "kirb-config")]["data"]


def test_kustomization_lists_files_that_exist_and_the_kirb_image(kustomization, compose):
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource
    assert "secret.example.yaml" not in kustomization["resources"]  # never applied with placeholder values
    (image,) = kustomization["images"]
    compose_image = compose["services"]["kirb1"]["image"].split(":")[0]
    assert image["name"] == compose_image == "kirb"


def test_every_pod_runs_the_kirb_image_with_a_real_command(manifests):
    for (kind, name), document in manifests.items():
        if kind in {"Deployment", "Job", "CronJob"}:
            spec = document["spec"]["template"]["spec"] if kind != "CronJob" else (
                document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            )
            for container in spec["containers"]:
                assert container["image"] == "kirb", name
                assert container["command"][:2] == ["python", "manage.py"], name


def test_configmap_and_secret_hold_only_variables_kirb_reads(manifests, config):
    known = kirb_env_vars()
    secret = manifests[("Secret", "kirb-secrets")]["stringData"]
    assert set(config) <= known, sorted(set(config) - known)
    assert set(secret) == SECRET_KEYS and SECRET_KEYS <= known
    assert not set(config) & SECRET_KEYS


def test_pods_take_their_environment_from_the_configmap_and_secret(manifests, config):
    known = kirb_env_vars()
    for (kind, name), document in manifests.items():
        if kind not in {"Deployment", "Job", "CronJob"}:
            continue
        spec = document["spec"]["template"]["spec"] if kind != "CronJob" else (
            document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        )
        for container in spec["containers"]:
            sources = {next(iter(ref)): next(iter(ref.values()))["name"] for ref in container["envFrom"]}
            assert sources == {"configMapRef": "kirb-config", "secretRef": "kirb-secrets"}, name
            for variable in container.get("env", []):
                assert variable["name"] in known, variable["name"]


def test_one_port_everywhere(container, config, manifests):
    (port,) = container["ports"]
    assert str(port["containerPort"]) == config["PORT"] and config["HOST"] == "0.0.0.0"
    for probe, path in (("readinessProbe", "/health"), ("livenessProbe", "/health/live"), ("startupProbe", "/health")):
        check = container[probe]["httpGet"]
        assert check["path"] == path, probe
        assert check["port"] in (port["name"], port["containerPort"]), probe
    service = manifests[("Service", "kirb")]
    assert service["spec"]["ports"][0]["targetPort"] in (port["name"], port["containerPort"])
    annotations = manifests[("Deployment", "kirb")]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == config["PORT"]
    policy = manifests[("NetworkPolicy", "kirb")]
    assert policy["spec"]["ingress"][0]["ports"][0]["port"] in (port["name"], port["containerPort"])


def test_liveness_is_gentler_than_readiness(container):
    ready, live = container["readinessProbe"], container["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] > ready["periodSeconds"] * ready["failureThreshold"]
    # A draining pod answers 503 for DRAIN_LINGER_SECONDS at least; it must not be restarted.
    assert live["periodSeconds"] * live["failureThreshold"] > settings.KIRB_DEFAULTS["DRAIN_DEADLINE_SECONDS"]


def test_the_grace_period_covers_the_prestop_sleep_and_the_drain(deployment, container, config):
    drain = int(config.get("KIRB_DRAIN_DEADLINE_SECONDS", settings.KIRB_DEFAULTS["DRAIN_DEADLINE_SECONDS"]))
    assert drain == settings.KIRB_DEFAULTS["DRAIN_DEADLINE_SECONDS"]  # the ConfigMap restates the default
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = int(command[1])
    assert 1 <= pre_stop <= 5
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > pre_stop + drain


def test_selectors_match_the_pods(manifests, deployment):
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert manifests[("Service", "kirb")]["spec"]["selector"].items() <= labels.items()
    assert manifests[("PodDisruptionBudget", "kirb")]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert manifests[("NetworkPolicy", "kirb")]["spec"]["podSelector"]["matchLabels"].items() <= labels.items()


def test_pdb_keeps_most_pods_and_the_hpa_never_goes_below_it(manifests):
    pdb = manifests[("PodDisruptionBudget", "kirb")]["spec"]
    hpa = manifests[("HorizontalPodAutoscaler", "kirb")]["spec"]
    assert 1 <= pdb["minAvailable"] < hpa["minReplicas"] <= hpa["maxReplicas"]


def test_hpa_scales_the_deployment_on_open_websockets(manifests, config):
    hpa = manifests[("HorizontalPodAutoscaler", "kirb")]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "kirb"}
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Pods"
    assert metric["pods"]["metric"]["name"] == metrics.active_websocket_connections._name
    target = int(metric["pods"]["target"]["averageValue"])
    limit = int(config.get("KIRB_WS_MAX_CONNECTIONS", settings.KIRB_DEFAULTS["WS_MAX_CONNECTIONS"]))
    assert 0 < target < limit


def test_pods_run_as_the_image_user(manifests, deployment):
    from tests.deploy.helpers import dockerfile_instructions

    run = " ".join(args for kw, args in dockerfile_instructions() if kw == "RUN" and "useradd" in args)
    uid = int(run.split("--uid", 1)[1].split()[0])
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == uid
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


# --- Offline validation against the Kubernetes API schemas ---------------------------------

# The oldest Kubernetes still commonly run and the newest the schemas know: every API
# the manifests use (autoscaling/v2, policy/v1, batch/v1 CronJob) is GA in both.
K8S_VERSIONS = ["1.27.0", "latest"]


def kustomize_render(kustomization, load_yaml_documents):
    """The documents `kubectl apply -k deploy/kubernetes` applies, by kustomize's rules for
    what this kustomization uses: namespace, labels (without selectors) and images."""
    image_tags = {image["name"]: image for image in kustomization.get("images", [])}
    rendered = []
    for resource in kustomization["resources"]:
        for document in load_yaml_documents(K8S / resource):
            if document["kind"] != "Namespace" and kustomization.get("namespace"):
                document["metadata"]["namespace"] = kustomization["namespace"]
            for labels in kustomization.get("labels", []):
                document["metadata"].setdefault("labels", {}).update(labels["pairs"])
            for container in pod_containers(document):
                image = image_tags.get(container["image"])
                if image:
                    container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
            rendered.append(document)
    return rendered


def pod_containers(document):
    spec = document.get("spec", {})
    if document["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec.get("template", {}).get("spec", {}).get("containers", [])


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_manifests_validate_against_the_kubernetes_api_schemas(version, kustomization, load_yaml_documents):
    try:
        import kubernetes_validate
        from kubernetes_validate.utils import latest_version
    except ImportError:
        pytest.fail("kubernetes-validate is not installed: it is in requirements-dev.txt (`make install`).")
    version = latest_version() if version == "latest" else version
    documents = kustomize_render(kustomization, load_yaml_documents)
    # Applied by hand (docs/DEPLOY.md), not through the kustomization.
    for extra in ("migrate-job.yaml", "secret.example.yaml"):
        documents += load_yaml_documents(K8S / extra)
    kinds = {document["kind"] for document in documents}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Secret",
            "NetworkPolicy", "CronJob", "Job", "Namespace"} <= kinds
    errors = []
    for document in documents:
        try:
            # strict: no field the API does not know (a typo would be dropped silently).
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{document['kind']}/{document['metadata']['name']}: {'.'.join(map(str, error.path))}: {error.message}")
    assert not errors, f"Kubernetes {version}:\n" + "\n".join(errors)


def test_the_scrape_path_is_answered_whatever_the_host(deployment):
    """Prometheus scrapes pods by IP (the Host is `10.x.y.z:8000`), and the HPA's metric
    comes from those scrapes: /metrics is answered before Django's ALLOWED_HOSTS check
    (kirb_project/metrics_view.py, tests/deploy/test_metrics_scrape.py)."""
    from kirb_project import asgi, metrics_view

    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == metrics_view.PATH
    assert isinstance(asgi.application.application_mapping["http"], metrics_view.MetricsEndpoint)
