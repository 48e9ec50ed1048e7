"""The benchmark report as people read it: the table on stdout and the PNG of
throughput and p99 latency against concurrency."""

from __future__ import annotations

from pathlib import Path


def format_table(report: dict) -> str:
    lines = [
        f"{'mode':<18} {'conc':>5} {'programs/s':>11} {'p50 ms':>9} {'p99 ms':>9} {'fails':>6} "
        f"{'client cores':>13} {'server cores':>13} {'system %':>9}"
    ]
    for mode, rows in report["results"].items():
        for concurrency, r in sorted(rows.items(), key=lambda kv: int(kv[0])):
            cpu, nan = r.get("cpu", {}), float("nan")
            lines.append(
                f"{mode:<18} {concurrency:>5} {r['throughput']:>11.1f} {r['p50_ms']:>9.1f} {r['p99_ms']:>9.1f} "
                f"{r['failures']:>6} {cpu.get('client_cores', nan):>13.2f} {cpu.get('server_cores', nan):>13.2f} "
                f"{cpu.get('system_util_pct', nan):>9.1f}"
            )
    if "hardware_limit" in report:
        h = report["hardware_limit"]
        lines.append(
            f"hardware limit (in-process sweep best: {h['setting']}): {h['throughput']:.1f} programs/s"
            + (
                f"; in the c={h['concurrency']} run: {h['throughput_same_run']:.1f}"
                if "throughput_same_run" in h
                else ""
            )
        )
    for name, row in report.get("ratios", {}).items():
        lines.append(
            f"{name:<36} {row['value']:>8} (target {row['target']}, c={row['concurrency']}) "
            f"{'met' if row['met'] else 'MISSED'}"
        )
    return "\n".join(lines)


def plot(report: dict, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, rows in report["results"].items():
        if not rows:
            continue
        xs = sorted(int(c) for c in rows)
        left.plot(xs, [rows[str(x)]["throughput"] for x in xs], marker="o", label=mode)
        right.plot(xs, [rows[str(x)]["p99_ms"] for x in xs], marker="o", label=mode)
    if "hardware_limit" in report:
        limit = report["hardware_limit"]
        if "throughput_same_run" in limit:  # measured interleaved with the served modes
            left.axhline(
                limit["throughput_same_run"],
                color="grey",
                linestyle=":",
                label=f"hardware limit (in-process best, c={limit['concurrency']} run)",
            )
        else:
            left.axhline(
                limit["throughput"], color="grey", linestyle=":", label="hardware limit (in-process sweep best)"
            )
    ticks = sorted({int(c) for rows in report["results"].values() for c in rows})
    for axis, label in ((left, "throughput (programs/s)"), (right, "p99 latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_xticks(ticks, [str(t) for t in ticks])
        axis.minorticks_off()
        axis.set_xlabel("concurrency (clients, 1 program per request)")
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
    right.set_yscale("log")
    left.set_ylim(bottom=0)
    left.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def total_failures(section: dict) -> int:
    """Failed requests over every mode and concurrency of a report (or its BERT-base section)."""
    return sum(r.get("failures", 0) for rows in section.get("results", {}).values() for r in rows.values())
