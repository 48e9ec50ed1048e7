"""The Helm chart in helm/clonedetect: lint, render with the real Helm engine (Helm v4
Go SDK through helm-python-sdk), validate every manifest against the Kubernetes
schemas, check the behaviour of each profile, and start the bundled Triton with the
exact command line the rendered Deployment carries.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request

import helm_python
import jsonschema
import pytest
import yaml

from clonedetect import admission
from clonedetect.cli import main as cli_main
from clonedetect.paths import MODEL_REPOSITORY
from clonedetect.server import RESPONSE_CACHE_BYTES, ServerError, TritonProcess, check_repository, server_arguments
from tests.helm_rendering import (
    CHART_DIR,
    CRD_KINDS,
    FULLNAME,
    KUBE_VERSIONS,
    NAMESPACE,
    arg_values,
    container_env,
    deep_merge,
    free_ports,
    kinds,
    local_command_line,
    notes,
    one,
    pod_spec,
    render,
    rendered_secrets,
    triton,
    triton_args,
    validate_all,
)

CI_DIR = CHART_DIR / "ci"
PRODUCTION_VALUES = CHART_DIR / "examples" / "production.yaml"

PROFILES = {
    "default": {},
    "cpu": yaml.safe_load((CI_DIR / "cpu-values.yaml").read_text()),
    "gpu": yaml.safe_load((CI_DIR / "gpu-values.yaml").read_text()),
    "full": yaml.safe_load((CI_DIR / "full-values.yaml").read_text()),
    "production": yaml.safe_load(PRODUCTION_VALUES.read_text()),
}

# Other model-repository sources, rendered and validated like the profiles.
SOURCES = {
    "remote-s3": {
        "modelRepository": {
            "source": "remote",
            "remote": {"uri": "s3://https://minio.storage:9000/models/clonedetect", "existingSecret": "s3-creds"},
        }
    },
    "remote-gs": {
        "modelRepository": {
            "source": "remote",
            "remote": {"uri": "gs://acme-models/clonedetect", "existingSecret": "gcs-sa"},
        }
    },
    "remote-as": {
        "modelRepository": {
            "source": "remote",
            "remote": {"uri": "as://acmeaccount/models/clonedetect", "existingSecret": "azure-creds"},
        }
    },
    "sync": {
        "modelRepository": {
            "source": "sync",
            "revision": "42",
            "sync": {"uri": "s3://acme-models/clonedetect", "existingSecret": "s3-creds"},
        }
    },
    "pvc-existing": {"modelRepository": {"source": "pvc", "pvc": {"existingClaim": "clonedetect-models"}}},
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def chart():
    with helm_python.Chart.load(CHART_DIR) as loaded:
        yield loaded


# --------------------------------------------------------------------------- lint


@pytest.mark.parametrize("profile", list(PROFILES))
def test_lint_strict(profile):
    report = helm_python.lint(
        CHART_DIR, PROFILES[profile] or None, strict=True, namespace=NAMESPACE, kube_version="v1.30.0"
    )
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"], report["errors"]
    assert not problems, problems


def test_chart_metadata(chart):
    meta = chart.metadata
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == "clonedetect"
    assert meta["appVersion"] == "2.51.0"  # Triton 2.51.0 = tritonserver:24.10-py3
    assert chart.schema is not None
    for name in ("cpu-values.yaml", "gpu-values.yaml", "full-values.yaml"):
        assert (CI_DIR / name).is_file()


# --------------------------------------------------------------------------- manifests


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("profile", list(PROFILES))
def test_manifests_validate(chart, profile, version):
    docs = render(chart, PROFILES[profile])
    skipped = validate_all(docs, version)
    monitoring = {"full": CRD_KINDS, "production": {"ServiceMonitor", "PrometheusRule"}}
    assert set(skipped) == monitoring.get(profile, set())


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("source", list(SOURCES))
def test_model_repository_sources_validate(chart, source, version):
    validate_all(render(chart, SOURCES[source]), version)


def test_rendered_resources(chart):
    base = [
        f"Deployment/{FULLNAME}",
        f"PodDisruptionBudget/{FULLNAME}",
        f"Secret/{FULLNAME}-admin-key",
        f"Service/{FULLNAME}",
        f"Service/{FULLNAME}-headless",
        f"ServiceAccount/{FULLNAME}",
    ]
    assert kinds(render(chart, PROFILES["default"])) == sorted(base)
    assert kinds(render(chart, PROFILES["gpu"])) == sorted(base)
    assert kinds(render(chart, PROFILES["cpu"])) == sorted(base + [f"HorizontalPodAutoscaler/{FULLNAME}"])
    full = [k for k in base if not k.startswith("Secret/")]  # full uses an existing Secret
    full += [
        f"ConfigMap/{FULLNAME}-dashboard",
        f"HorizontalPodAutoscaler/{FULLNAME}",
        f"Job/{FULLNAME}-reload",
        f"NetworkPolicy/{FULLNAME}",
        f"PersistentVolumeClaim/{FULLNAME}-models",
        f"PodMonitor/{FULLNAME}",
        f"PrometheusRule/{FULLNAME}",
        f"ServiceMonitor/{FULLNAME}",
    ]
    assert kinds(render(chart, PROFILES["full"])) == sorted(full)


# --------------------------------------------------------------------------- profiles


def test_gpu_resources_and_tolerations_only_in_gpu_profile(chart):
    for profile in ("default", "cpu", "full"):
        docs = render(chart, PROFILES[profile])
        spec = pod_spec(docs)
        resources = triton(docs)["resources"]
        assert "nvidia.com/gpu" not in resources.get("limits", {})
        assert "nvidia.com/gpu" not in resources.get("requests", {})
        assert not any(t.get("key") == "nvidia.com/gpu" for t in spec.get("tolerations", []))
        assert "--allow-gpu-metrics=false" in triton_args(docs)
        assert "runtimeClassName" not in spec

    docs = render(chart, PROFILES["gpu"])
    spec = pod_spec(docs)
    assert triton(docs)["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]} in terms[0]["matchExpressions"]
    assert spec["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-L4"}
    assert spec["runtimeClassName"] == "nvidia"
    assert "--allow-gpu-metrics=true" in triton_args(docs)

    two = render(chart, {"profile": "gpu", "gpu": {"count": 2}})
    assert triton(two)["resources"]["limits"]["nvidia.com/gpu"] == 2


def test_cpu_profile_prefers_cpu_nodes(chart):
    docs = render(chart, PROFILES["cpu"])
    spec = pod_spec(docs)
    assert spec["nodeSelector"] == {"node.kubernetes.io/pool": "cpu-inference"}
    preferred = spec["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred[0]["preference"]["matchExpressions"][0] == {
        "key": "nvidia.com/gpu.present",
        "operator": "DoesNotExist",
    }
    anti = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"


def test_model_config_name_per_profile(chart):
    assert arg_values(triton_args(render(chart, PROFILES["cpu"])), "--model-config-name") == []
    assert arg_values(triton_args(render(chart, PROFILES["gpu"])), "--model-config-name") == ["gpu"]
    bundled = render(chart, {"cpu": {"modelConfigName": "bundled"}})
    assert arg_values(triton_args(bundled), "--model-config-name") == ["bundled"]
    custom = render(chart, {"profile": "gpu", "gpu": {"modelConfigName": "h100"}})
    assert arg_values(triton_args(custom), "--model-config-name") == ["h100"]


@pytest.mark.parametrize(
    ("values", "threads"),
    [
        ({}, "4"),
        ({"cpu": {"resources": {"limits": {"cpu": "2500m"}}}}, "2"),
        ({"cpu": {"resources": {"limits": {"cpu": "500m"}}}}, "1"),
        ({"cpu": {"resources": {"limits": {"cpu": 6}}}}, "6"),
        ({"cpu": {"resources": {"limits": {"cpu": None}, "requests": {"cpu": "3"}}}}, "3"),
        ({"onnxruntime": {"intraOpThreadCount": 3}}, "3"),
        ({"profile": "gpu"}, "8"),
    ],
)
def test_onnxruntime_threads_follow_cpu_limit(chart, values, threads):
    args = triton_args(render(chart, values))
    backend = arg_values(args, "--backend-config")
    assert "onnxruntime,enable-global-threadpool=1" in backend
    assert f"onnxruntime,intra_op_thread_count={threads}" in backend
    assert "onnxruntime,inter_op_thread_count=1" in backend


def test_onnxruntime_threads_can_be_left_to_model_config(chart):
    args = triton_args(render(chart, {"onnxruntime": {"globalThreadPool": False}}))
    assert not [a for a in arg_values(args, "--backend-config") if a.startswith("onnxruntime,")]


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize("profile", list(PROFILES))
def test_triton_args(chart, profile):
    docs = render(chart, PROFILES[profile])
    container = triton(docs)
    args = container["args"]
    assert args[0] == "tritonserver"
    assert "command" not in container  # the image's entrypoint runs tritonserver
    assert "--model-control-mode=explicit" in args
    assert arg_values(args, "--load-model") == ["*"]
    assert "--allow-metrics=true" in args
    assert "--metrics-config=summary_latencies=true" in args
    assert "--strict-readiness=true" in args
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert arg_values(args, "--http-port") == [str(ports["http"])]
    assert arg_values(args, "--grpc-port") == [str(ports["grpc"])]
    assert arg_values(args, "--metrics-port") == [str(ports["metrics"])]
    rule = "model-repository:admin-key=$(CLONEDETECT_ADMIN_KEY)"
    assert arg_values(args, "--http-restricted-api") == [rule]
    assert arg_values(args, "--grpc-restricted-protocol") == [rule]
    # Every flag is passed as one --flag=value item.
    assert all(a.startswith("--") and "=" in a for a in args[1:])


# Flags only the chart passes: GPU metrics, tracing, the restricted API (key from a
# Secret), the ORT backend's thread pool and the log level.
CHART_ONLY_FLAGS = {
    "--allow-gpu-metrics",
    "--trace-config",
    "--http-restricted-api",
    "--grpc-restricted-protocol",
    "--backend-config",
    "--log-verbose",
}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_chart_command_line_is_the_one_triton_command_line(chart, profile):
    """The chart cannot call clonedetect.server.server_arguments, so this proves that its
    command line holds every flag of that builder, with the same values for the same
    settings, and defaults the same cache and metrics settings."""
    docs = render(chart, PROFILES[profile])
    args = triton_args(docs)[1:]
    server = deep_merge(chart.values, PROFILES[profile])["server"]
    config_name = arg_values(args, "--model-config-name")
    expected = server_arguments(
        arg_values(args, "--model-repository")[0],
        host=server["bindAddress"],
        http_port=server["ports"]["http"],
        grpc_port=server["ports"]["grpc"],
        metrics_port=server["ports"]["metrics"],
        model_config_name=config_name[0] if config_name else None,
        exit_timeout_s=server["exitTimeoutSeconds"],
    )
    assert [a for a in expected if a not in args] == []
    assert {a.split("=", 1)[0] for a in args} - {a.split("=", 1)[0] for a in expected} <= CHART_ONLY_FLAGS
    assert server["responseCacheBytes"] == RESPONSE_CACHE_BYTES


def test_model_repository_path_per_source(chart):
    assert arg_values(triton_args(render(chart)), "--model-repository") == ["/models"]
    for name in ("remote-s3", "remote-gs", "remote-as"):
        args = triton_args(render(chart, SOURCES[name]))
        assert arg_values(args, "--model-repository") == [SOURCES[name]["modelRepository"]["remote"]["uri"]]
    assert arg_values(triton_args(render(chart, SOURCES["sync"])), "--model-repository") == ["/models"]
    assert arg_values(triton_args(render(chart, SOURCES["pvc-existing"])), "--model-repository") == ["/models"]


def test_extra_args_are_appended(chart):
    args = triton_args(render(chart, PROFILES["full"]))
    assert args[-1] == "--backend-config=python,shm-default-byte-size=4194304"
    assert "--log-verbose=1" in args


# --------------------------------------------------------------------------- health


READINESS_COMMAND = ["python3", "-m", "clonedetect.readiness", "--url", "127.0.0.1:8000"]
LIVENESS_COMMAND = ["python3", "-m", "clonedetect.liveness", "--url", "127.0.0.1:8000"]


@pytest.mark.parametrize("profile", list(PROFILES))
def test_probes_and_graceful_termination(chart, profile):
    docs = render(chart, PROFILES[profile])
    container = triton(docs)
    assert container["startupProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    # Live, and no READY Python-backend model without its process (checked in the container).
    assert container["livenessProbe"]["exec"] == {"command": LIVENESS_COMMAND}
    assert "httpGet" not in container["livenessProbe"]
    # Every ensemble can answer, checked by the project's readiness command in the container.
    assert container["readinessProbe"]["exec"] == {"command": READINESS_COMMAND}
    assert "httpGet" not in container["readinessProbe"]
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # time to load every model

    exit_timeout = int(arg_values(container["args"], "--exit-timeout-secs")[0])
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    sleep = int(re.search(r"sleep (\d+)", command[-1]).group(1))
    grace = pod_spec(docs)["terminationGracePeriodSeconds"]
    assert sleep > 0
    assert grace > exit_timeout + sleep


def test_liveness_probe_options(chart):
    http_probe = triton(render(chart, {"probes": {"liveness": {"checkStubs": False, "periodSeconds": 9}}}))
    probe = http_probe["livenessProbe"]
    assert probe["httpGet"] == {"path": "/v2/health/live", "port": "http"} and "exec" not in probe
    assert probe["periodSeconds"] == 9


def test_readiness_probe_options(chart):
    http_probe = triton(render(chart, {"probes": {"readiness": {"checkEnsembles": False, "periodSeconds": 7}}}))
    probe = http_probe["readinessProbe"]
    assert probe["httpGet"] == {"path": "/v2/health/ready", "port": "http"} and "exec" not in probe
    assert probe["periodSeconds"] == 7
    # Triton bound to one address is reached there, on the configured port.
    one_address = triton(render(chart, {"server": {"bindAddress": "10.1.2.3", "ports": {"http": 9000}}}))
    assert one_address["readinessProbe"]["exec"]["command"][-2:] == ["--url", "10.1.2.3:9000"]
    assert one_address["livenessProbe"]["exec"]["command"][-2:] == ["--url", "10.1.2.3:9000"]
    assert one_address["readinessProbe"]["timeoutSeconds"] == 5  # time for a Python process to start
    # The exec probe runs with the container's environment: the admin key is there.
    assert "CLONEDETECT_ADMIN_KEY" in {e["name"] for e in one_address["env"]}


def test_grace_period_shorter_than_drain_is_refused(chart):
    with pytest.raises(helm_python.HelmError, match="terminationGracePeriodSeconds"):
        render(chart, {"terminationGracePeriodSeconds": 35})


# --------------------------------------------------------------------------- security


def all_containers(docs: list[dict]) -> list[tuple[str, dict, dict]]:
    found = []
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            spec = doc["spec"]["template"]["spec"]
            for c in spec.get("initContainers", []) + spec["containers"]:
                found.append((f"{doc['kind']}/{c['name']}", spec, c))
    return found


@pytest.mark.parametrize(
    "values",
    [PROFILES["default"], PROFILES["gpu"], PROFILES["full"], PROFILES["production"], SOURCES["sync"]],
    ids=["default", "gpu", "full", "production", "sync"],
)
def test_security_context(chart, values):
    docs = render(chart, values)
    containers = all_containers(docs)
    assert containers
    for name, spec, container in containers:
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True, name
        assert pod_sc["runAsUser"] != 0, name
        assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["capabilities"]["drop"] == ["ALL"], name
        assert sc["runAsNonRoot"] is True, name
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, name  # the read-only root needs a writable /tmp
    sa = [d for d in docs if d["kind"] == "ServiceAccount"]
    assert sa and sa[0]["automountServiceAccountToken"] is False


def test_writable_volumes(chart):
    docs = render(chart)
    volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in triton(docs)["volumeMounts"]}
    assert mounts["dshm"] == "/dev/shm"
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "512Mi"}
    assert mounts["tmp"] == "/tmp"
    assert volumes["tmp"]["emptyDir"]["sizeLimit"] == "2Gi"


# --------------------------------------------------------------------------- admin key


def leaf_strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in leaf_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in leaf_strings(v)]
    return [str(node)] if node is not None else []


def test_no_admin_key_in_values(chart):
    restricted = chart.values["modelControl"]["restrictedApi"]
    assert set(restricted) == {"enabled", "header", "existingSecret", "existingSecretKey"}
    assert restricted["enabled"] is True
    assert restricted["existingSecret"] == ""

    docs = render(chart)
    secret = one(docs, "Secret")
    key = base64.b64decode(secret["data"]["admin-key"]).decode()
    assert re.fullmatch(r"[A-Za-z0-9]{40}", key)
    assert key not in leaf_strings(chart.values)
    # The Deployment only references the key; Kubernetes expands it at start.
    assert key not in json.dumps(one(docs, "Deployment"))
    env = {e["name"]: e for e in triton(docs)["env"]}
    assert env["CLONEDETECT_ADMIN_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": f"{FULLNAME}-admin-key",
        "key": "admin-key",
    }
    # Generated per install (lookup keeps an installed release's key).
    again = base64.b64decode(one(render(chart), "Secret")["data"]["admin-key"]).decode()
    assert again != key


def test_the_admission_steps_are_told_where_the_metrics_endpoint_is(chart):
    """clone_admission and clone_pair_check read Triton's pending-request gauge there."""
    for values, url in (
        ({}, "http://127.0.0.1:8002/metrics"),
        ({"server": {"bindAddress": "10.1.2.3", "ports": {"metrics": 9102}}}, "http://10.1.2.3:9102/metrics"),
    ):
        env = {e["name"]: e.get("value") for e in triton(render(chart, values))["env"]}
        assert env[admission.METRICS_URL_ENV] == url


def test_existing_admin_key_secret(chart):
    docs = render(
        chart, {"modelControl": {"restrictedApi": {"existingSecret": "ops-keys", "existingSecretKey": "triton"}}}
    )
    assert not [d for d in docs if d["kind"] == "Secret"]
    env = {e["name"]: e for e in triton(docs)["env"]}
    assert env["CLONEDETECT_ADMIN_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "ops-keys", "key": "triton"}


def test_restricted_api_can_be_disabled_with_a_warning(chart):
    values = {"modelControl": {"restrictedApi": {"enabled": False}}}
    docs = render(chart, values)
    args = triton_args(docs)
    assert not arg_values(args, "--http-restricted-api")
    assert not arg_values(args, "--grpc-restricted-protocol")
    assert not [d for d in docs if d["kind"] == "Secret"]
    assert "WARNING" in notes(chart, values)


# --------------------------------------------------------------------------- sources


def test_remote_credentials(chart):
    s3 = triton(render(chart, SOURCES["remote-s3"]))
    assert s3["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    azure = triton(render(chart, SOURCES["remote-as"]))
    assert azure["envFrom"] == [{"secretRef": {"name": "azure-creds"}}]

    docs = render(chart, SOURCES["remote-gs"])
    gs = triton(docs)
    assert "envFrom" not in gs
    env = {e["name"]: e.get("value") for e in gs["env"]}
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == "/var/run/secrets/clonedetect/gcs/credentials.json"
    volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
    assert volumes["gcs-credentials"]["secret"]["secretName"] == "gcs-sa"


def test_sync_init_container(chart):
    docs = render(chart, SOURCES["sync"])
    spec = pod_spec(docs)
    init = one(
        [{"kind": "c", "metadata": {"name": c["name"]}, **c} for c in spec["initContainers"]], "c", "sync-models"
    )
    env = {e["name"]: e.get("value") for e in init["env"]}
    assert env["MODEL_REPOSITORY_URI"] == "s3://acme-models/clonedetect"
    assert env["MODEL_REPOSITORY_PATH"] == "/models"
    assert init["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert "$(MODEL_REPOSITORY_URI)" in init["args"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes["model-repository"]
    mount = next(m for m in triton(docs)["volumeMounts"] if m["name"] == "model-repository")
    assert mount == {"name": "model-repository", "mountPath": "/models", "readOnly": True}
    # A new revision re-syncs through a rollout.
    annotations = one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["clonedetect.io/model-revision"] == "42"


def test_pvc_source(chart):
    docs = render(chart, SOURCES["pvc-existing"])
    volumes = {v["name"]: v for v in pod_spec(docs)["volumes"]}
    assert volumes["model-repository"]["persistentVolumeClaim"] == {"claimName": "clonedetect-models", "readOnly": True}
    assert not [d for d in docs if d["kind"] == "PersistentVolumeClaim"]

    full = render(chart, PROFILES["full"])
    pvc = one(full, "PersistentVolumeClaim")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
    volumes = {v["name"]: v for v in pod_spec(full)["volumes"]}
    assert volumes["model-repository"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    mount = next(m for m in triton(full)["volumeMounts"] if m["name"] == "model-repository")
    assert mount["subPath"] == "clonedetect" and mount["readOnly"] is True


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"modelRepository": {"source": "pvc"}}, "existingClaim"),
        ({"modelRepository": {"source": "remote", "remote": {"uri": "http://bucket/x"}}}, "uri"),
        ({"modelRepository": {"source": "sync"}}, "uri"),
    ],
)
def test_incomplete_sources_are_refused(chart, values, message):
    with pytest.raises(helm_python.HelmError, match=message):
        render(chart, values)


# --------------------------------------------------------------------------- scaling, availability, network


def test_hpa(chart):
    docs = render(chart, PROFILES["full"])
    assert "replicas" not in one(docs, "Deployment")["spec"]
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": FULLNAME}
    metrics = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    assert metrics["Resource"]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert metrics["Pods"]["pods"]["metric"]["name"] == "triton_queue_time_us_per_request"
    assert metrics["Pods"]["pods"]["target"]["type"] == "AverageValue"
    assert one(render(chart), "Deployment")["spec"]["replicas"] == 2


def test_pdb(chart):
    assert one(render(chart), "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    full = one(render(chart, PROFILES["full"]), "PodDisruptionBudget")["spec"]
    assert full["minAvailable"] == 1 and "maxUnavailable" not in full
    assert full["selector"]["matchLabels"]["app.kubernetes.io/component"] == "server"


def test_network_policy(chart):
    policy = one(render(chart, PROFILES["full"]), "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    inference, metrics = policy["ingress"]
    assert {p["port"] for p in inference["ports"]} == {"http", "grpc"}
    peers = inference["from"]
    assert {"podSelector": {"matchLabels": {"clonedetect-client": "true"}}} in peers
    assert any(
        p.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "reload" for p in peers
    )
    assert [p["port"] for p in metrics["ports"]] == ["metrics"]
    assert metrics["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]

    open_policy = one(render(chart, {"networkPolicy": {"enabled": True}}), "NetworkPolicy")["spec"]
    assert "from" not in open_policy["ingress"][0]


def test_services(chart):
    docs = render(chart)
    service = one(docs, "Service", FULLNAME)
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"http": 8000, "grpc": 8001, "metrics": 8002}
    headless = one(docs, "Service", f"{FULLNAME}-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert "metrics" not in {p["name"] for p in headless["spec"]["ports"]}
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    for svc in (service, headless):
        assert all(pod_labels[k] == v for k, v in svc["spec"]["selector"].items())


# --------------------------------------------------------------------------- monitoring CRDs


def label_match(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def test_service_monitor_and_pod_monitor(chart):
    docs = render(chart, PROFILES["full"])
    sm = one(docs, "ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    [endpoint] = sm["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    # Selects the main Service (which has the metrics port), not the headless one.
    assert label_match(sm["spec"]["selector"], one(docs, "Service", FULLNAME)["metadata"]["labels"])
    assert not label_match(sm["spec"]["selector"], one(docs, "Service", f"{FULLNAME}-headless")["metadata"]["labels"])

    pm = one(docs, "PodMonitor")
    assert pm["apiVersion"] == "monitoring.coreos.com/v1"
    [endpoint] = pm["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert label_match(pm["spec"]["selector"], pod_labels)
    job_labels = one(docs, "Job")["spec"]["template"]["metadata"]["labels"]
    assert not label_match(pm["spec"]["selector"], job_labels)


def test_prometheus_rule(chart):
    rule = one(render(chart, PROFILES["full"]), "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    [group] = rule["spec"]["groups"]
    alerts = {r["alert"]: r for r in group["rules"]}
    assert set(alerts) == {
        "CloneDetectInferenceFailureRate",
        "CloneDetectQueueTimeHigh",
        "CloneDetectP99LatencyHigh",
        "CloneDetectMetricsAbsent",
    }
    failure = alerts["CloneDetectInferenceFailureRate"]
    assert "nv_inference_request_failure" in failure["expr"] and "> 0.05" in failure["expr"]
    assert "nv_inference_queue_duration_us" in alerts["CloneDetectQueueTimeHigh"]["expr"]
    assert 'quantile="0.99"' in alerts["CloneDetectP99LatencyHigh"]["expr"]
    for r in group["rules"]:
        assert set(r) == {"alert", "expr", "for", "labels", "annotations"}
        assert r["labels"]["severity"] in {"warning", "critical"}
        assert f'namespace="{NAMESPACE}"' in r["expr"]
        # Prometheus templates survive Helm's templating.
        assert "{{" not in r["annotations"]["summary"] or "$labels" in r["annotations"]["summary"]
    assert "{{ $labels.model }}" in failure["annotations"]["summary"]


def test_grafana_dashboard(chart):
    cm = one(render(chart, PROFILES["full"]), "ConfigMap")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "Inference"}
    dashboard = json.loads(cm["data"]["clonedetect-triton.json"])
    assert dashboard["uid"] == "clonedetect-triton"
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    text = "\n".join(exprs)
    for metric in (
        "nv_inference_request_success",
        "nv_inference_request_failure",
        "nv_inference_queue_duration_us",
        "nv_inference_compute_infer_duration_us",
        "nv_inference_count",
        "nv_inference_exec_count",
    ):
        assert metric in text, metric
    assert re.search(r'nv_inference_request_summary_us\{[^}]*quantile="0\.5"', text)
    assert re.search(r'nv_inference_request_summary_us\{[^}]*quantile="0\.99"', text)
    assert any("nv_inference_count" in e and "nv_inference_exec_count" in e for e in exprs)  # batch size
    assert "_bucket" not in text  # no histograms in this Triton build
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "namespace", "pod", "model"} <= variables


# --------------------------------------------------------------------------- reload hook


def test_reload_hook(chart):
    docs = render(chart, PROFILES["full"])
    job = one(docs, "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == triton(docs)["image"]
    script = container["args"][0]
    assert 'clonedetect reload "$model" --url "$host:$TRITON_HTTP_PORT" --protocol http' in script
    # The CLI takes the key from CLONEDETECT_ADMIN_KEY: not on the command line.
    assert "--admin-key" not in script
    env = {e["name"]: e for e in container["env"]}
    assert env["TRITON_HEADLESS_SERVICE"]["value"] == f"{FULLNAME}-headless.{NAMESPACE}.svc"
    assert env["RELOAD_MODELS"]["value"] == "code_tokenizer code_clone_detector clone_scorer"
    assert env["CLONEDETECT_ADMIN_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "clonedetect-admin", "key": "key"}
    # Hook pods never become Service endpoints.
    selector = one(docs, "Service", FULLNAME)["spec"]["selector"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert not all(labels.get(k) == v for k, v in selector.items())

    with pytest.raises(helm_python.HelmError, match="restrictedApi"):
        render(chart, {"reloadHook": {"enabled": True}, "modelControl": {"restrictedApi": {"enabled": False}}})


# --------------------------------------------------------------------------- values schema


BAD_VALUES = {
    "negative replicas": {"replicaCount": -1},
    "unknown profile": {"profile": "tpu"},
    "zero gpus": {"profile": "gpu", "gpu": {"count": 0}},
    "unknown source": {"modelRepository": {"source": "ftp"}},
    "remote without uri": {"modelRepository": {"source": "remote"}},
    "http remote uri": {"modelRepository": {"source": "remote", "remote": {"uri": "http://host/models"}}},
    "sync without uri": {"modelRepository": {"source": "sync"}},
    "port out of range": {"server": {"ports": {"http": 70000}}},
    "uppercase header": {"modelControl": {"restrictedApi": {"header": "Admin-Key"}}},
    "key in values": {"modelControl": {"restrictedApi": {"key": "s3cret"}}},
    "unknown top-level value": {"replicas": 3},
    "unknown control mode": {"modelControl": {"mode": "auto"}},
    "negative exit timeout": {"server": {"exitTimeoutSeconds": -5}},
    "bad pull policy": {"image": {"pullPolicy": "Sometimes"}},
    "bad cpu quantity": {"cpu": {"resources": {"limits": {"cpu": "four"}}}},
    "threads negative": {"onnxruntime": {"intraOpThreadCount": -1}},
    "extra arg without dashes": {"server": {"extraArgs": ["model-repository=/x"]}},
    "failure ratio above 1": {"metrics": {"prometheusRule": {"failureRatio": 2}}},
    "readiness switch not a boolean": {"probes": {"readiness": {"checkEnsembles": "yes"}}},
    "liveness switch not a boolean": {"probes": {"liveness": {"checkStubs": 1}}},
    "unknown trace mode": {"tracing": {"mode": "jaeger"}},
    "unknown trace level": {"tracing": {"level": "DEBUG"}},
    "trace rate zero": {"tracing": {"rate": 0}},
    "collector url without scheme": {"tracing": {"opentelemetry": {"url": "collector:4318"}}},
    "relative trace file": {"tracing": {"triton": {"file": "trace.json"}}},
    "ingress path without slash": {"ingress": {"paths": ["v2/models"]}},
    "ingress host with scheme": {"ingress": {"host": "https://clonedetect.example.com"}},
    "unknown ingress value": {"ingress": {"tlsSecret": "x"}},
}


@pytest.fixture(scope="module")
def schema():
    return json.loads((CHART_DIR / "values.schema.json").read_text())


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_schema_rejects_bad_values(chart, schema, name):
    merged = deep_merge(chart.values, BAD_VALUES[name])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(merged, schema)
    with pytest.raises(helm_python.HelmError):
        chart.validate_schema(BAD_VALUES[name])


@pytest.mark.parametrize("values", list(PROFILES.values()) + list(SOURCES.values()), ids=list(PROFILES) + list(SOURCES))
def test_schema_accepts_examples(chart, schema, values):
    jsonschema.validate(deep_merge(chart.values, values), schema)
    chart.validate_schema(values)


def test_render_checks_schema(chart):
    with pytest.raises(helm_python.HelmError):
        render(chart, {"profile": "tpu"})


# --------------------------------------------------------------------------- docs


def documented_params() -> list[str]:
    return re.findall(r"^\s*## @param (\S+) ", (CHART_DIR / "values.yaml").read_text(), re.M)


def leaf_paths(node, prefix="") -> list[str]:
    if isinstance(node, dict) and node:
        return [p for k, v in node.items() for p in leaf_paths(v, f"{prefix}.{k}" if prefix else k)]
    return [prefix]


def test_every_value_is_documented(chart):
    params = documented_params()
    assert len(params) == len(set(params))
    documented = set(params)
    for path in leaf_paths(chart.values):
        parts = path.split(".")
        assert any(".".join(parts[:i]) in documented for i in range(1, len(parts) + 1)), f"{path} has no @param"
    for param in params:  # and every @param names a real value
        node = chart.values
        for part in param.split("."):
            assert isinstance(node, dict) and part in node, f"@param {param} is not in values.yaml"
            node = node[part]
    readme = (CHART_DIR / "README.md").read_text()
    parameters = readme.split("\n## Parameters\n", 1)[1]
    table_keys = set(re.findall(r"^\| `([^`]+)` \|", parameters, re.M))
    assert documented <= table_keys, sorted(documented - table_keys)
    assert table_keys <= documented, sorted(table_keys - documented)


def test_readme_documents_sources_and_reload():
    readme = (CHART_DIR / "README.md").read_text()
    for phrase in (
        "s3://",
        "gs://",
        "as://",
        "existingClaim",
        "sync",
        "clonedetect reload",
        "prometheus-adapter",
        "nv_inference_queue_duration_us",
        "--model-config-name",
    ):
        assert phrase in readme, phrase


# --------------------------------------------------------------------------- the real Triton


@pytest.mark.integration
@pytest.mark.timeout(420)
def test_chart_command_line_starts_triton(chart, tmp_path, monkeypatch):
    try:
        check_repository(MODEL_REPOSITORY)
    except ServerError as exc:
        pytest.skip(f"model repository not loadable yet: {exc}")

    # CPU profile; the bundled server has no ONNX Runtime backend, so the models'
    # configs/bundled.pbtxt (onnxruntime inside the Python backend) is selected.
    docs = render(chart, {"profile": "cpu", "cpu": {"modelConfigName": "bundled"}})
    for item in triton(docs)["env"]:
        if item["name"] == "OMP_NUM_THREADS":
            monkeypatch.setenv("OMP_NUM_THREADS", item["value"])
    host = "127.0.0.1"
    ports = free_ports(host)
    env = container_env(triton(docs), rendered_secrets(docs))
    args = local_command_line(docs, host, ports, env, repository=MODEL_REPOSITORY)
    assert "--model-config-name=bundled" in args
    assert not any("$(" in a for a in args)
    key = base64.b64decode(one(docs, "Secret")["data"]["admin-key"]).decode()

    log_path = tmp_path / "triton.log"
    server = TritonProcess(args, host, ports["http"], ports["grpc"], ports["metrics"], log_path=log_path)
    server.start()
    try:
        try:
            server.wait_until_ready(timeout=300)
        except ServerError as exc:
            tail = log_path.read_text(errors="replace")[-4000:] if log_path.exists() else ""
            pytest.fail(f"{exc}\n--- tritonserver log (tail) ---\n{tail}")
        base = f"http://{host}:{ports['http']}"

        def post(path: str, headers: dict[str, str]) -> int:
            request = urllib.request.Request(base + path, data=b"{}", method="POST", headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as reply:
                    return reply.status
            except urllib.error.HTTPError as exc:
                return exc.code

        # The model-repository API answers only with the key from the Secret.
        assert post("/v2/repository/index", {}) == 403
        assert post("/v2/repository/index", {"admin-key": "wrong"}) == 403
        assert post("/v2/repository/index", {"admin-key": key}) == 200
        # Inference-side APIs stay open.
        with urllib.request.urlopen(f"{base}/v2/health/live", timeout=10) as reply:
            assert reply.status == 200
        with urllib.request.urlopen(server.metrics_url, timeout=10) as reply:
            metrics = reply.read().decode()
        for name in (
            "nv_inference_request_success",
            "nv_inference_request_failure",
            "nv_inference_count",
            "nv_inference_exec_count",
            "nv_inference_queue_duration_us",
            "nv_inference_compute_infer_duration_us",
        ):
            assert re.search(rf"^{name}\{{.*model=\"code_clone_detector\"", metrics, re.M), name

        # The documented reload procedure, with the CLI, over both protocols.
        monkeypatch.delenv("CLONEDETECT_ADMIN_KEY", raising=False)
        http_url, grpc_url = server.http_url, server.grpc_url
        reload = ["reload", "code_clone_detector"]
        assert cli_main(reload + ["--url", http_url, "--protocol", "http"]) == 1  # no key: refused
        assert cli_main(reload + ["--url", http_url, "--protocol", "http", "--admin-key", key]) == 0
        assert cli_main(reload + ["--url", grpc_url, "--protocol", "grpc", "--admin-key", key]) == 0
        # As the reload hook and `kubectl exec` run it: the key from the pod's environment.
        monkeypatch.setenv("CLONEDETECT_ADMIN_KEY", key)
        assert cli_main(reload + ["--url", http_url, "--protocol", "http"]) == 0
        assert server.is_ready()
    finally:
        server.stop()
    log = log_path.read_text(errors="replace")
    assert "successfully loaded 'code_clone_detector'" in log
