"""The HTML report's two pictures, drawn here as inline SVG from the result: the page
needs no chart library and no network, and the pictures show even with scripts off.

``similarity_histogram``: every verified pair by cosine, the reported ones stacked on top,
so a teacher sees how far the reported pairs stand apart from the rest.
``cluster_graph``: one cell per cluster, its submissions on a circle, one edge per reported
pair (wider and redder the more probable), each edge a link that opens the pair.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from html import escape

from clonedetect.scanning.result import PairReport, ScanResult

BIN_WIDTH = 0.05
HISTOGRAM_SIZE = (460, 220)
MARGIN = {"left": 34, "right": 18, "top": 24, "bottom": 34}
CELL_SIZE = (230, 190)
CELLS_PER_ROW = 2
NODE_RADIUS = 8


def probability_colour(probability: float) -> str:
    """Amber for 0.5 and below, through orange, to red at 1 (the page's script uses the same)."""
    hue = 40 * (1 - max(0.0, min(1.0, (probability - 0.5) / 0.5)))
    return f"hsl({hue:.0f}, 85%, 45%)"


def _bins(similarities: Sequence[float], floor: float) -> tuple[float, int]:
    """The histogram's lowest edge (a multiple of ``BIN_WIDTH``) and its number of bins up to 1."""
    lowest = math.floor(min([floor, *similarities]) / BIN_WIDTH + 1e-9) * BIN_WIDTH
    return lowest, max(1, round((1.0 - lowest) / BIN_WIDTH))


def _counts(pairs: Sequence[PairReport], lowest: float, bins: int, threshold: float) -> list[tuple[int, int]]:
    """(pairs below the threshold, reported pairs) per bin."""
    counts = [[0, 0] for _ in range(bins)]
    for pair in pairs:
        index = min(bins - 1, max(0, int((pair.similarity - lowest) / BIN_WIDTH + 1e-9)))
        counts[index][pair.probability >= threshold] += 1
    return [(below, reported) for below, reported in counts]


def _axes(lowest: float, bins: int, tallest: int, floor: float) -> list[str]:
    width, height = HISTOGRAM_SIZE
    left, bottom, top = MARGIN["left"], height - MARGIN["bottom"], MARGIN["top"]
    plot_width = width - left - MARGIN["right"]
    parts = [f'<line class="axis" x1="{left}" y1="{bottom}" x2="{width - MARGIN["right"]}" y2="{bottom}"/>']
    step = max(1, math.ceil(bins / 8))
    for index in range(0, bins + 1, step):
        x = left + plot_width * index / bins
        parts.append(f'<text class="tick" x="{x:.1f}" y="{bottom + 14}">{lowest + index * BIN_WIDTH:.2f}</text>')
    parts.append(f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">{tallest}</text>')
    parts.append(f'<text class="tick" x="{left - 6}" y="{bottom}" text-anchor="end">0</text>')
    x = left + plot_width * (floor - lowest) / (bins * BIN_WIDTH)
    parts.append(f'<line class="floor" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}"/>')
    parts.append(
        f'<text class="tick" x="{x + 3:.1f}" y="{top - 8}" text-anchor="start">--min-similarity {floor:g}</text>'
    )
    parts.append(f'<text class="label" x="{left + plot_width / 2:.1f}" y="{height - 4}">cosine similarity</text>')
    return parts


def similarity_histogram(result: ScanResult) -> str:
    """Every verified candidate pair, binned by similarity; reported pairs in red on top."""
    if not result.candidates:
        return '<p class="empty">No pair was verified.</p>'
    settings = result.settings
    lowest, bins = _bins([p.similarity for p in result.candidates], settings.min_similarity)
    counts = _counts(result.candidates, lowest, bins, settings.threshold)
    tallest = max(below + reported for below, reported in counts)
    width, height = HISTOGRAM_SIZE
    plot_width, plot_height = width - MARGIN["left"] - MARGIN["right"], height - MARGIN["top"] - MARGIN["bottom"]
    bar_width, bottom = plot_width / bins, height - MARGIN["bottom"]
    bars = []
    for index, (below, reported) in enumerate(counts):
        x, start = MARGIN["left"] + index * bar_width, lowest + index * BIN_WIDTH
        base = bottom
        for kind, count in (("below", below), ("reported", reported)):
            if count:
                bar_height = plot_height * count / tallest
                base -= bar_height
                bars.append(
                    f'<rect class="bar {kind}" data-count="{count}" x="{x + 1:.1f}" y="{base:.1f}" '
                    f'width="{bar_width - 2:.1f}" height="{bar_height:.1f}"><title>{count} {kind} pair(s), '
                    f"similarity {start:.2f}-{start + BIN_WIDTH:.2f}</title></rect>"
                )
    body = "".join(bars + _axes(lowest, bins, tallest, settings.min_similarity))
    return f'<svg class="histogram" viewBox="0 0 {width} {height}" text-anchor="middle" role="img">{body}</svg>'


def _cell_origin(cell: int, cells: int) -> tuple[float, float]:
    """The top left corner of a cluster's cell; a row of fewer cells than fit is centred."""
    width, height = CELL_SIZE
    in_row = min(CELLS_PER_ROW, cells - cell // CELLS_PER_ROW * CELLS_PER_ROW)
    return (cell % CELLS_PER_ROW + (CELLS_PER_ROW - in_row) / 2) * width, (cell // CELLS_PER_ROW) * height


def _positions(members: Sequence[str], origin: tuple[float, float]) -> dict[str, tuple[float, float]]:
    """The members on a circle in their cell (two members: left and right)."""
    width, height = CELL_SIZE
    centre_x, centre_y = origin[0] + width / 2, origin[1] + height / 2 + 6
    radius = min(width, height) * 0.32
    return {
        name: (
            centre_x + radius * math.cos(math.pi + 2 * math.pi * index / len(members)),
            centre_y + radius * math.sin(math.pi + 2 * math.pi * index / len(members)),
        )
        for index, name in enumerate(members)
    }


def _edge(pair: PairReport, rank: int, where: dict[str, tuple[float, float]]) -> str:
    (x1, y1), (x2, y2) = where[pair.a], where[pair.b]
    return (
        f'<a href="#pair={rank}"><line class="edge" data-pair="{rank}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" '
        f'y2="{y2:.1f}" stroke="{probability_colour(pair.probability)}" '
        f'stroke-width="{1.5 + 6 * pair.probability:.1f}"><title>#{rank} {escape(pair.a)} ~ {escape(pair.b)}: '
        f"probability {pair.probability:.3f}</title></line></a>"
    )


def _node(name: str, x: float, y: float) -> str:
    label = os.path.basename(name.rstrip("/\\")) or name
    return (
        f'<g class="node"><circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_RADIUS}"><title>{escape(name)}</title></circle>'
        f'<text x="{x:.1f}" y="{y + NODE_RADIUS + 14:.1f}">{escape(label)}</text></g>'
    )


def cluster_graph(result: ScanResult) -> str:
    """The clusters side by side: nodes are submissions, edges the reported pairs."""
    if not result.clusters:
        return '<p class="empty">No pair reached the threshold: no cluster.</p>'
    rank_of = {(pair.a, pair.b): rank for rank, pair in enumerate(result.candidates, start=1)}
    parts = []
    where: dict[str, tuple[float, float]] = {}
    for cell, cluster in enumerate(result.clusters):
        origin = _cell_origin(cell, len(result.clusters))
        where.update(_positions(cluster.members, origin))
        parts.append(
            f'<text class="cluster-title" x="{origin[0] + 8:.0f}" y="{origin[1] + 16:.0f}" text-anchor="start">'
            f"cluster {cell + 1}: {len(cluster.members)} submissions, max {cluster.max_probability:.3f}</text>"
        )
    parts += [_edge(pair, rank_of[pair.a, pair.b], where) for pair in result.pairs]
    parts += [_node(name, x, y) for name, (x, y) in where.items()]
    rows = math.ceil(len(result.clusters) / CELLS_PER_ROW)
    width, height = CELL_SIZE[0] * CELLS_PER_ROW, CELL_SIZE[1] * rows  # one scale, however many clusters
    body = "".join(parts)
    return f'<svg class="graph" viewBox="0 0 {width} {height}" text-anchor="middle" role="img">{body}</svg>'
