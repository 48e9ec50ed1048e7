"""Rendering the Helm chart in helm/clonedetect with the real Helm engine (Helm v4 Go SDK
through helm-python-sdk), reading the manifests, and turning a rendered container into the
process Kubernetes would start: its environment (Secrets, $(VAR) expansion) and, for the
Triton container, its command line on this machine. Shared by the chart's tests."""

from __future__ import annotations

import base64
import copy
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from clonedetect.paths import PROJECT_ROOT
from clonedetect.server import free_port, local_arguments

CHART_DIR = PROJECT_ROOT / "helm" / "clonedetect"
RELEASE = "cd"
NAMESPACE = "ml"
FULLNAME = f"{RELEASE}-clonedetect"

KUBE_VERSIONS = ["1.30.0", latest_version()]
# Prometheus Operator CRDs: kubernetes-validate has no schema for them; their
# structure is asserted by the tests instead.
CRD_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}


def deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def render(chart, values: dict | None = None, **kwargs) -> list[dict]:
    """Every manifest the chart renders for ``values`` (NOTES.txt left out)."""
    out = chart.render(values or {}, name=RELEASE, namespace=NAMESPACE, **kwargs)
    docs = []
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


def notes(chart, values: dict | None = None) -> str:
    out = chart.render(values or {}, name=RELEASE, namespace=NAMESPACE)
    return next(text for path, text in out.items() if path.endswith("NOTES.txt"))


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def kinds(docs: list[dict]) -> list[str]:
    return sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)


def pod_spec(docs: list[dict]) -> dict:
    return one(docs, "Deployment")["spec"]["template"]["spec"]


def triton(docs: list[dict]) -> dict:
    containers = pod_spec(docs)["containers"]
    return next(c for c in containers if c["name"] == "triton")


def triton_args(docs: list[dict]) -> list[str]:
    return triton(docs)["args"]


def arg_values(args: list[str], flag: str) -> list[str]:
    return [a.split("=", 1)[1] for a in args if a.startswith(f"{flag}=")]


def validate_all(docs: list[dict], version: str) -> list[str]:
    """Strictly validate each manifest; returns the kinds skipped as CRDs."""
    skipped = []
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            skipped.append(doc["kind"])
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(
                f"{doc['kind']}/{doc['metadata']['name']} invalid for Kubernetes {version}: {path}: {exc.message}"
            )
    return skipped


# --------------------------------------------------------------------------- as Kubernetes starts it


def expand_kubernetes_vars(arg: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion of container args ($$ escapes a dollar)."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", replace, arg)


def rendered_secrets(docs: list[dict]) -> dict[str, dict[str, str]]:
    """The Secrets the chart renders: name -> decoded data."""
    return {
        d["metadata"]["name"]: {key: base64.b64decode(value).decode() for key, value in d.get("data", {}).items()}
        for d in docs
        if d["kind"] == "Secret"
    }


def container_env(container: dict, secrets: dict[str, dict[str, str]]) -> dict[str, str]:
    """The environment Kubernetes gives ``container``: each ``envFrom`` Secret, then ``env``
    in order (``$(VAR)`` in a value expanded from the variables before it, ``secretKeyRef``
    looked up). ``secrets`` maps a Secret's name to its data."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(secrets[source["secretRef"]["name"]])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = expand_kubernetes_vars(item["value"], env)
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[ref["name"]][ref["key"]]
    return env


def free_ports(host: str) -> dict[str, int]:
    """Three distinct free ports on ``host`` for Triton's HTTP, gRPC and metrics endpoints."""
    ports: dict[str, int] = {}
    for name in ("http", "grpc", "metrics"):
        port = free_port(host)
        while port in ports.values():
            port = free_port(host)
        ports[name] = port
    return ports


def local_command_line(
    docs: list[dict], host: str, ports: dict[str, int], env: dict[str, str], repository: Path | None = None
) -> list[str]:
    """The Deployment's tritonserver arguments, ``$(VAR)`` expanded from ``env``, on this
    machine's ``host`` and ``ports``, with the bundled server's backend and cache folders;
    ``repository`` replaces the rendered ``--model-repository`` (None keeps it)."""
    args = triton_args(docs)
    assert args[0] == "tritonserver"
    local = []
    for arg in args[1:]:
        arg = expand_kubernetes_vars(arg, env)
        flag = arg.split("=", 1)[0]
        if flag == "--model-repository" and repository is not None:
            arg = f"--model-repository={repository}"
        elif flag in ("--http-address", "--grpc-address", "--metrics-address"):
            arg = f"{flag}={host}"
        elif flag in ("--http-port", "--grpc-port", "--metrics-port"):
            arg = f"{flag}={ports[flag[2:].split('-')[0]]}"
        local.append(arg)
    return local + local_arguments()
