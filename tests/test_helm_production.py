"""The chart's production options, rendered with the real Helm engine: OpenTelemetry or
Triton tracing, HTTPS through an Ingress, and examples/production.yaml (every manifest
validated against the Kubernetes schemas, the security-relevant fields asserted)."""

from __future__ import annotations

import helm_python
import pytest
import yaml

from tests.helm_rendering import (
    CHART_DIR,
    FULLNAME,
    KUBE_VERSIONS,
    arg_values,
    kinds,
    notes,
    one,
    pod_spec,
    render,
    triton,
    triton_args,
    validate_all,
)

PRODUCTION = yaml.safe_load((CHART_DIR / "examples" / "production.yaml").read_text())
COLLECTOR = "http://otel-collector.observability:4318/v1/traces"


@pytest.fixture(scope="module")
def chart():
    with helm_python.Chart.load(CHART_DIR) as loaded:
        yield loaded


# --------------------------------------------------------------------------- tracing


def test_tracing_is_off_by_default(chart):
    assert not arg_values(triton_args(render(chart)), "--trace-config")
    assert "Tracing:" not in notes(chart)


def test_opentelemetry_tracing_flags(chart):
    values = {"tracing": {"enabled": True, "rate": 50, "opentelemetry": {"url": COLLECTOR, "serviceName": "cd-prod"}}}
    args = triton_args(render(chart, values))
    assert arg_values(args, "--trace-config") == [
        "mode=opentelemetry",
        "level=TIMESTAMPS",
        "rate=50",
        "count=-1",
        f"opentelemetry,url={COLLECTOR}",
        "opentelemetry,resource=service.name=cd-prod",
    ]
    # Before the user's extra arguments, which keep the last word.
    assert args.index(f"--trace-config=opentelemetry,url={COLLECTOR}") < args.index("--log-verbose=0")
    assert f"OpenTelemetry spans to {COLLECTOR}" in notes(chart, values)


def test_triton_trace_file_flags(chart):
    values = {"tracing": {"enabled": True, "mode": "triton", "level": "TENSORS", "rate": 1, "count": 500}}
    traces = arg_values(triton_args(render(chart, values)), "--trace-config")
    assert traces == [
        "mode=triton",
        "level=TENSORS",
        "rate=1",
        "count=500",
        "triton,file=/tmp/triton-trace.json",
        "triton,log-frequency=100",
    ]
    assert not [t for t in traces if t.startswith("opentelemetry,")]
    # The trace file lands in the writable /tmp emptyDir (the root filesystem is read-only).
    mounts = {m["mountPath"] for m in triton(render(chart, values))["volumeMounts"]}
    assert "/tmp" in mounts


def test_opentelemetry_without_a_collector_is_refused(chart):
    with pytest.raises(helm_python.HelmError, match=r"tracing\.opentelemetry\.url is required"):
        render(chart, {"tracing": {"enabled": True}})


# --------------------------------------------------------------------------- ingress


def test_no_ingress_by_default(chart):
    assert not [d for d in render(chart) if d["kind"] == "Ingress"]


def test_ingress_routes_inference_and_health_only(chart):
    docs = render(chart, {"ingress": {"enabled": True, "host": "cd.example.com"}})
    ingress = one(docs, "Ingress")["spec"]
    [rule] = ingress["rules"]
    assert rule["host"] == "cd.example.com"
    paths = {p["path"]: p for p in rule["http"]["paths"]}
    assert set(paths) == {"/v2/models", "/v2/health"}  # not /v2/repository (model control)
    for path in paths.values():
        assert path["pathType"] == "Prefix"
        assert path["backend"]["service"] == {"name": FULLNAME, "port": {"name": "http"}}
    assert "tls" not in ingress and "ingressClassName" not in ingress
    for version in KUBE_VERSIONS:
        validate_all(docs, version)
    plain = {"ingress": {"enabled": True, "host": "h.example"}}
    assert "WARNING: ingress.tls.secretName is empty" in notes(chart, plain)


def test_ingress_without_host_is_refused(chart):
    with pytest.raises(helm_python.HelmError, match=r"ingress\.host is required"):
        render(chart, {"ingress": {"enabled": True}})


# --------------------------------------------------------------------------- Gateway API

GATEWAY = {
    "gateway": {
        "enabled": True,
        "parentRefs": [{"name": "public", "namespace": "gateways", "sectionName": "https"}],
        "hostnames": ["cd.example.com"],
    }
}


def test_no_gateway_routes_by_default(chart):
    assert not [d for d in render(chart) if d["kind"] in ("HTTPRoute", "GRPCRoute")]


def test_gateway_routes_inference_and_health_over_http_and_grpc(chart):
    docs = render(chart, GATEWAY)
    http, grpc = one(docs, "HTTPRoute"), one(docs, "GRPCRoute")
    for route in (http, grpc):
        assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
        assert route["spec"]["parentRefs"] == GATEWAY["gateway"]["parentRefs"]
        assert route["spec"]["hostnames"] == ["cd.example.com"]
    [rule] = http["spec"]["rules"]
    assert [m["path"] for m in rule["matches"]] == [
        {"type": "PathPrefix", "value": "/v2/models"},
        {"type": "PathPrefix", "value": "/v2/health"},
    ]  # not /v2/repository (model control)
    assert rule["backendRefs"] == [{"name": FULLNAME, "port": 8000}]
    [rule] = grpc["spec"]["rules"]
    methods = {m["method"]["method"] for m in rule["matches"]}
    assert "ModelInfer" in methods and not any(m.startswith("Repository") for m in methods)
    assert {m["method"]["service"] for m in rule["matches"]} == {"inference.GRPCInferenceService"}
    assert {m["method"]["type"] for m in rule["matches"]} == {"Exact"}
    assert rule["backendRefs"] == [{"name": FULLNAME, "port": 8001}]
    assert "GRPCRoute" in notes(chart, GATEWAY) and "public" in notes(chart, GATEWAY)
    http_only = {"gateway": {**GATEWAY["gateway"], "grpc": {"enabled": False}}}
    assert not [d for d in render(chart, http_only) if d["kind"] == "GRPCRoute"]


def test_gateway_without_parent_refs_is_refused(chart):
    with pytest.raises(helm_python.HelmError, match=r"gateway\.parentRefs is required"):
        render(chart, {"gateway": {"enabled": True}})
    with pytest.raises(helm_python.HelmError):  # the schema: a parentRef names its Gateway
        render(chart, {"gateway": {"enabled": True, "parentRefs": [{"namespace": "gateways"}]}})


# --------------------------------------------------------------------------- production example


@pytest.fixture(scope="module")
def production(chart):
    return render(chart, PRODUCTION)


def test_production_resources(production):
    """Lint and validation of every manifest: the "production" profile of test_helm_chart."""
    expected = [
        f"{kind}/{FULLNAME}"
        for kind in (
            "Deployment",
            "HorizontalPodAutoscaler",
            "Ingress",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "PrometheusRule",
            "Service",
            "ServiceAccount",
            "ServiceMonitor",
        )
    ]
    assert kinds(production) == sorted([*expected, f"Service/{FULLNAME}-headless"])


def test_production_https_ingress(production):
    ingress = one(production, "Ingress")
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["clonedetect.example.com"], "secretName": "clonedetect-tls"}]
    paths = [p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    # Prefixes that would route the model-repository API (/v2/repository/...) outside.
    assert not [p for p in paths if "/v2/repository".startswith(p.rstrip("/")) or p.startswith("/v2/repository")]


def test_production_network_policy_admits_named_clients_only(production):
    policy = one(production, "NetworkPolicy")["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "server"
    inference, metrics = policy["ingress"]
    assert {p["port"] for p in inference["ports"]} == {"http", "grpc"}
    peers = inference["from"]
    assert peers == PRODUCTION["networkPolicy"]["clients"]
    for peer in peers:  # each peer is a namespace AND a pod label, never "any pod"
        assert peer["namespaceSelector"]["matchLabels"] and peer["podSelector"]["matchLabels"]
    # The ingress controller is one of them, or HTTPS could not reach Triton.
    assert any(p["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"} for p in peers)
    assert [p["port"] for p in metrics["ports"]] == ["metrics"]
    assert metrics["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def test_production_model_control_needs_the_admin_key(production):
    args = triton_args(production)
    rule = "model-repository:admin-key=$(CLONEDETECT_ADMIN_KEY)"
    assert arg_values(args, "--http-restricted-api") == [rule]
    assert arg_values(args, "--grpc-restricted-protocol") == [rule]
    env = {e["name"]: e for e in triton(production)["env"]}
    key_ref = env["CLONEDETECT_ADMIN_KEY"]["valueFrom"]["secretKeyRef"]
    assert key_ref == {"name": "clonedetect-admin", "key": "admin-key"}
    assert not [d for d in production if d["kind"] == "Secret"]  # the key is not in the release


def test_production_pods_are_locked_down(production):
    spec = pod_spec(production)
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 10001
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = triton(production)
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert "@sha256:" in container["image"]


def test_production_capacity_and_availability(production):
    container = triton(production)
    resources = container["resources"]
    assert resources["requests"] == resources["limits"] == {"cpu": "4", "memory": "6Gi"}  # Guaranteed QoS
    assert "onnxruntime,intra_op_thread_count=4" in arg_values(triton_args(production), "--backend-config")
    hpa = one(production, "HorizontalPodAutoscaler")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 12)
    assert "replicas" not in one(production, "Deployment")["spec"]
    pdb = one(production, "PodDisruptionBudget")["spec"]
    assert pdb["minAvailable"] == 2 and pdb["minAvailable"] < hpa["minReplicas"]  # drains can proceed
    spread = pod_spec(production)["topologySpreadConstraints"]
    assert spread[0]["topologyKey"] == "topology.kubernetes.io/zone"


def test_production_readiness_and_tracing(production):
    container = triton(production)
    assert container["readinessProbe"]["exec"]["command"][:3] == ["python3", "-m", "clonedetect.readiness"]
    traces = arg_values(container["args"], "--trace-config")
    assert "mode=opentelemetry" in traces and "rate=100" in traces
    assert f"opentelemetry,url={COLLECTOR}" in traces


def test_readme_documents_tracing_https_and_the_production_example():
    readme = (CHART_DIR / "README.md").read_text()
    for phrase in ("--trace-config", "opentelemetry", "cert-manager.io/cluster-issuer", "examples/production.yaml"):
        assert phrase in readme, phrase
