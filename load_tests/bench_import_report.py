"""The import benchmark's figures as people read them: ratios from the one run, memory
per worker, a Markdown table (pasted into docs/PERFORMANCE.md) and a bar chart."""

from __future__ import annotations

from pathlib import Path

from clonedetect.load_tests.bench_import_variants import BASELINE_VARIANT

SERVER_LABELS = {"triton_grpc": "Triton (gRPC)", "per_request": "per-request ORT"}
STUB = "python_backend_stub:"


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def import_ratios(results: dict) -> dict:
    """Throughput ratios within the run: Triton over the per-request worker of each
    variant, and each variant over the plain FP32 export on the same server."""
    base = results.get(BASELINE_VARIANT, {})
    servers = sorted({server for rows in results.values() for server in rows})
    return {
        "triton_over_per_request": {
            variant: _ratio(rows["triton_grpc"]["throughput"], rows["per_request"]["throughput"])
            for variant, rows in results.items()
            if {"triton_grpc", "per_request"} <= set(rows)
        },
        f"over_{BASELINE_VARIANT}": {
            server: {
                variant: _ratio(rows[server]["throughput"], base[server]["throughput"])
                for variant, rows in results.items()
                if server in rows and server in base
            }
            for server in servers
        },
    }


def _rss(tree: dict, label: str) -> float:
    return round(sum(row["rss_mb"] for row in tree["processes"] if row["process"] == label), 1)


def worker_memory(memory: dict, imports: dict) -> dict:
    """Resident MB per variant: its Triton stubs (encoder + tokenizer) and its per-request
    worker, idle and at the peak under load; tritonserver itself serves every variant."""
    idle_triton, peak_triton = memory["idle"]["triton"], memory["peak"]["triton"]["by_process"]
    out = {
        "tritonserver": {"idle_mb": _rss(idle_triton, "tritonserver"), "peak_mb": peak_triton.get("tritonserver", 0.0)},
        "triton_total": {
            "idle_mb": idle_triton["total_rss_mb"],
            "peak_mb": memory["peak"]["triton"]["total_rss_mb"],
        },
    }
    for variant, imported in imports.items():
        stubs = [STUB + imported["encoder_model"], STUB + imported["tokenizer_model"]]
        worker = f"per_request:{variant}"
        out[variant] = {
            "triton_stubs_idle_mb": round(sum(_rss(idle_triton, s) for s in stubs), 1),
            "triton_stubs_peak_mb": round(sum(peak_triton.get(s, 0.0) for s in stubs), 1),
            "triton_encoder_stub_peak_mb": peak_triton.get(stubs[0], 0.0),
            "per_request_idle_mb": memory["idle"][worker]["total_rss_mb"],
            "per_request_peak_mb": memory["peak"][worker]["total_rss_mb"],
        }
    return out


def _memory_cell(per_worker: dict, server: str) -> str:
    if server == "triton_grpc":
        return f"{per_worker['triton_stubs_idle_mb']:,.0f} → {per_worker['triton_stubs_peak_mb']:,.0f}"
    return f"{per_worker['per_request_idle_mb']:,.0f} → {per_worker['per_request_peak_mb']:,.0f}"


def format_table(report: dict) -> str:
    """Markdown: every variant on every server, then the ratios and each import."""
    memory, ratios = report["memory_per_worker"], report["ratios"]
    lines = [
        "| variant | server | programs/s | p50 ms | p99 ms | requests | server cores | MB per worker, idle → peak |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for variant, rows in report["results"].items():
        for server, row in rows.items():
            cores = row.get("cpu", {}).get("server_cores", float("nan"))
            lines.append(
                f"| {variant} | {SERVER_LABELS[server]} | {row['throughput']:.2f} | {row['p50_ms']:,.0f} "
                f"| {row['p99_ms']:,.0f} | {row['requests']} | {cores:.2f} | {_memory_cell(memory[variant], server)} |"
            )
    server = memory["tritonserver"]
    lines += [
        "",
        f"tritonserver itself (shared by all variants): {server['idle_mb']:,.0f} → {server['peak_mb']:,.0f} MB; "
        f"the whole Triton tree {memory['triton_total']['idle_mb']:,.0f} → {memory['triton_total']['peak_mb']:,.0f} MB",
        "",
        f"| variant | Triton / per-request | × {BASELINE_VARIANT}, Triton | × {BASELINE_VARIANT}, per-request "
        "| import s | graph MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    over = ratios[f"over_{BASELINE_VARIANT}"]
    for variant, imported in report["imports"].items():
        cells = [
            ratios["triton_over_per_request"].get(variant),
            over.get("triton_grpc", {}).get(variant),
            over.get("per_request", {}).get(variant),
        ]
        text = " | ".join("–" if c is None else f"{c:.2f}" for c in cells)
        lines.append(f"| {variant} | {text} | {imported['import_s']:.0f} | {imported['graph']['bytes'] / 2**20:,.0f} |")
    return "\n".join(lines)


def plot(report: dict, path: Path) -> Path:
    """Throughput and p99 of every variant, one bar per server."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    variants = list(report["results"])
    servers = list(SERVER_LABELS)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.8 / len(servers)
    for index, server in enumerate(servers):
        rows = [report["results"][v].get(server, {}) for v in variants]
        xs = np.arange(len(variants)) + (index - (len(servers) - 1) / 2) * width
        left.bar(xs, [r.get("throughput", 0.0) for r in rows], width, label=SERVER_LABELS[server])
        right.bar(xs, [r.get("p99_ms", 0.0) / 1000.0 for r in rows], width, label=SERVER_LABELS[server])
    for axis, label in ((left, "throughput (programs/s)"), (right, "p99 latency (s)")):
        axis.set_xticks(np.arange(len(variants)), variants)
        axis.set_ylabel(label)
        axis.grid(True, axis="y", alpha=0.3)
    left.legend(fontsize=8)
    shape, concurrency = report["model"], report["settings"]["concurrency"]
    figure.suptitle(
        f"imported BERT {shape['layers']} x {shape['hidden']}, window {shape['window']}, "
        f"concurrency {concurrency}, {report['machine']['logical_cpus']} CPUs"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
