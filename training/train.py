"""Train the code encoder: ``python -m clonedetect.training.train [--device cpu|cuda] [--minutes N] ...``.

Recipe (defaults; everything seeded):

1. Tokenizer: BPE, 8,192 tokens (:mod:`clonedetect.training.tokenizer_training`), trained
   once into the cache if absent; token ids of every corpus cached too.
2. Data (:mod:`clonedetect.training.corpus`): POJ-104 train (64 problems), 8,000 of the
   training 80 % of BigCloneBench Java functions, the training 80 % of Python stdlib
   blocks. POJ-104 valid is never trained on: 25 programs per problem (400) are the
   early-stopping set; the rest, with the held-out Java / Python, feed the calibration.
   Disguised copies: obfuscator variants pre-generated once (when the obfuscator is
   installed) mixed with the regex augmentation of :mod:`clonedetect.training.augment`.
3. Model: :class:`CodeEncoder` (comments removed by the tokenizer step), 2 layers, 128-d,
   4 heads, FFN 512, 256-token windows, plus hashed bigram/trigram input embeddings
   (65,536 x 64) and sublinear-TF pooling; pooling weights start at the training IDF,
   the layers' residual branches at zero.
4. Loss: ``NT-Xent(copy positives, tau=0.05) + sup_weight * SupCon(problem labels, tau=0.1)``
   over anchors + copies; other programs of the same problem are the copy term's hard
   negatives.
5. Stage "bag": the layers are skipped (exact while they are still the identity), so a
   step is cheap: 16 problems x 8 programs + 8 Java + 8 Python anchors, crops of <= 512
   tokens, lr 1e-2. Stage "full" (``--full-minutes``, default 0): the whole transformer
   from the bag stage's best state, 8 x 3 + 4 + 4 anchors, crops of <= 256 tokens, lr
   3e-4. On 2 CPU cores the full stage (6-9 min after the bag stage, lr 1e-3 or 3e-4)
   never beat the bag stage's early-stopping MAP@R, so by default the whole ``--minutes``
   budget goes to the bag stage; with a GPU, give the full stage time. AdamW, warm-up
   then cosine decay over each stage's time budget (the schedule follows the clock, so a
   shared machine only means fewer steps; ``--bag-steps`` / ``--steps`` fix the step
   count instead, for exact reproduction).
6. Early stopping: MAP@R on the early-stopping set every ``--eval-every`` steps; the best
   state over both stages is kept; ``--patience`` evaluations without improvement end a
   stage.
7. Structural fingerprint ("skeleton", ``--skeleton-dim``, :mod:`clonedetect.training.skeleton`):
   the rename-invariant n-gram sketch's IDF on 16,000 training programs and the obfuscator
   variants, and its share of the cosine chosen on the early-stopping programs and the
   held-out calibration pairs (best AUC copy-vs-same-task while MAP@R stays within 0.08 of
   its best).
8. Export ONNX, parity vs torch (max abs diff <= 1e-4 or the run fails), its INT8
   quantisation (:mod:`clonedetect.training.quantization`), Platt calibration
   (:mod:`clonedetect.training.calibration`), MAP@R of the exported model on all of
   POJ-104 valid, ``--install`` into ``model_repository`` (FP32 as the encoder's version 1,
   INT8 as its version 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from clonedetect import data, paths
from clonedetect.evaluation.map_at_r import map_at_r
from clonedetect.preprocessing.tokenization import CodeTokenizer
from clonedetect.training import corpus as corpora
from clonedetect.training.batches import Batch, BatchSampler
from clonedetect.training.calibration import build_pairs
from clonedetect.training.embedding import embed_programs
from clonedetect.training.export import export_onnx, parity_max_abs_diff, save_checkpoint, write_model_metadata
from clonedetect.training.initialisation import document_term, idf, init_pooling_from_idf, zero_residual_branches
from clonedetect.training.losses import combined_loss
from clonedetect.training.model import CodeEncoder, EncoderConfig
from clonedetect.training.quantization import quantize_encoder
from clonedetect.training.scorer_fit import ANCHORS, EVAL_PER_PROBLEM, fit_scorer, literal_rarity
from clonedetect.training.skeleton import choose_share, fit_skeleton, split_parts
from clonedetect.training.tokenizer_training import TOKENIZER_RECIPE, train_tokenizer
from clonedetect.training.variants import load_obfuscator, pregenerate

PARITY_TOLERANCE = 1e-4
# A run folder's artifact -> where --install puts it in the model repository.
INSTALL_TARGETS = {
    paths.TOKENIZER_FILE: paths.tokenizer_file(),
    paths.ENCODER_FILE: paths.encoder_file(),
    paths.INT8_ENCODER_FILE: paths.encoder_file(version=paths.INT8_VERSION),
    paths.CALIBRATION_FILE: paths.calibration_file(),
    paths.LITERAL_RARITY_FILE: paths.literal_rarity_file(),
}


class ParityError(RuntimeError):
    """The exported ONNX model does not reproduce the torch model."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m clonedetect.training.train", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--minutes", type=float, default=20.0, help="training time budget, both stages (default 20)")
    p.add_argument(
        "--full-minutes",
        type=float,
        default=0.0,
        help="of which the full-transformer stage (default 0: on 2 CPU cores it did not beat the bag stage)",
    )
    p.add_argument("--wall-minutes", type=float, default=29.0, help="whole-run budget; training is cut to fit it")
    p.add_argument("--bag-steps", type=int, default=None, help="fix the bag stage's steps (else from the budget)")
    p.add_argument("--steps", type=int, default=None, help="fix the full stage's steps (else from the budget)")
    p.add_argument("--output", type=Path, default=paths.PROJECT_ROOT / "runs" / "latest")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--install", action="store_true", help="copy the artifacts into model_repository")
    p.add_argument("--tokenizer", type=Path, default=None, help="tokenizer.json to use (trained when absent)")
    # model
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn-dim", type=int, default=512)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--ngram-buckets", type=int, default=65536, help="0 disables the n-gram embeddings")
    p.add_argument("--ngram-dim", type=int, default=64)
    p.add_argument("--sublinear-tf", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--skeleton-dim", type=int, default=256, help="structural fingerprint size (0 disables)")
    p.add_argument("--skeleton-programs", type=int, default=16000, help="training programs for the skeleton's IDF")
    # data
    p.add_argument("--java-limit", type=int, default=8000)
    p.add_argument("--variant-minutes", type=float, default=3.0, help="budget to pre-generate obfuscator variants")
    p.add_argument(
        "--variant-programs", type=int, default=8000, help="POJ-104 programs to obfuscate (+1/4 as many extra)"
    )
    p.add_argument("--variants-per-program", type=int, default=2)
    # loss
    p.add_argument("--copy-temperature", type=float, default=0.05)
    p.add_argument("--sup-temperature", type=float, default=0.1)
    p.add_argument("--sup-weight", type=float, default=3.0)
    # optimisation, per stage: bag / full
    p.add_argument("--bag-lr", type=float, default=1e-2)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--bag-batch", default="16x8+8+8", help="problems x programs + java + python anchors")
    p.add_argument("--batch", default="8x3+4+4")
    p.add_argument("--bag-crop", type=int, default=512)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--eval-per-problem", type=int, default=EVAL_PER_PROBLEM)
    p.add_argument("--patience", type=int, default=4)
    # after training
    p.add_argument("--calibration-anchors", type=int, default=ANCHORS)
    p.add_argument(
        "--final-eval",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="MAP@R of the exported model on the whole POJ-104 valid split",
    )
    return p.parse_args(argv)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def ensure_tokenizer(path: Path | None, seed: int) -> Path:
    path = path or data.cache_dir() / "training" / f"tokenizer-{TOKENIZER_RECIPE}-8192-s{seed}.json"
    if not path.exists():
        log(f"training the tokenizer -> {path}")
        train_tokenizer(path, seed=seed)
    return path


def parse_batch(spec: str) -> dict:
    """``"16x8+8+8"`` -> problems 16, per_problem 8, java 8, python 8."""
    poj, java, python = spec.split("+")
    problems, per_problem = poj.split("x")
    return {"problems": int(problems), "per_problem": int(per_problem), "java": int(java), "python": int(python)}


def lr_factor(step: int, progress: float, warmup: int, floor: float = 0.05) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``floor`` as ``progress``
    (fraction of the stage's steps or time budget used) goes from 0 to 1."""
    cosine = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    return cosine * min(1.0, (step + 1) / warmup)


def make_optimizer(model: CodeEncoder, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW; no decay on biases, norms, embeddings' pooling weights."""
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "token_weight" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "token_weight" not in n)]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr
    )


def training_step(
    model: CodeEncoder,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    device: torch.device | str,
    copy_temperature: float,
    sup_temperature: float,
    sup_weight: float,
    use_layers: bool = True,
) -> tuple[float, float, float]:
    """One optimiser step on ``batch``; returns (loss, copy term, supervised term)."""
    model.train()
    embeddings = model.encode(batch.input_ids.to(device), batch.attention_mask.to(device), use_layers=use_layers)
    loss, copy, supervised = combined_loss(
        embeddings, batch.labels.to(device), copy_temperature, sup_temperature, sup_weight
    )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item(), copy.item(), supervised.item()


@dataclass
class Stage:
    name: str
    use_layers: bool
    sampler: BatchSampler
    lr: float
    budget_s: float
    steps: int | None


class Trainer:
    """Runs the stages, evaluates, keeps the best state (over all stages)."""

    def __init__(self, model: CodeEncoder, args: argparse.Namespace, device, stop_ids, stop_labels):
        self.model, self.args, self.device = model, args, device
        self.stop_ids, self.stop_labels = stop_ids, stop_labels
        self.history: list[dict] = []
        self.best = {"map_at_r": -1.0, "stage": None, "step": 0}
        self.best_state: dict[str, torch.Tensor] | None = None

    def evaluate(self, stage: str, step: int, use_layers: bool, extra: dict | None = None) -> tuple[float, float]:
        started = time.monotonic()
        model = self.model.eval()
        with torch.no_grad():
            if use_layers:
                embeddings = embed_programs(model, self.stop_ids, str(self.device))
            else:
                embeddings = embed_programs(BagStageView(model), self.stop_ids, str(self.device))
        score = map_at_r(embeddings, self.stop_labels)
        improved = score > self.best["map_at_r"]
        if improved:
            self.best = {"map_at_r": score, "stage": stage, "step": step}
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.history.append({"stage": stage, "step": step, "map_at_r": score, **(extra or {})})
        log(
            f"{stage} step {step}: early-stopping MAP@R {score:.4f}{' *' if improved else ''}"
            + (
                f" (loss {extra['loss']:.3f}, copy {extra['copy_loss']:.3f}, sup {extra['sup_loss']:.3f})"
                if extra
                else ""
            )
        )
        return score, time.monotonic() - started

    def run(self, stage: Stage) -> None:
        """Train one stage. Without a fixed step count the schedule follows the clock
        (progress = time used / budget), so it adapts when the machine is shared."""
        args, model = self.args, self.model
        optimizer = make_optimizer(model, stage.lr, args.weight_decay)
        started = time.monotonic()
        step, bad, losses, last_eval = 0, 0, [], 0
        while True:
            elapsed = time.monotonic() - started
            progress = step / stage.steps if stage.steps else elapsed / max(stage.budget_s, 1e-9)
            if progress >= 1.0 or (stage.steps and elapsed > stage.budget_s):
                break
            for group in optimizer.param_groups:
                group["lr"] = stage.lr * lr_factor(step, progress, args.warmup)
            losses.append(
                training_step(
                    model,
                    optimizer,
                    stage.sampler.sample(),
                    self.device,
                    args.copy_temperature,
                    args.sup_temperature,
                    args.sup_weight,
                    use_layers=stage.use_layers,
                )
            )
            step += 1
            if step % args.eval_every == 0:
                last_eval = step
                if not self._evaluate_stage(stage, step, losses, started):
                    bad += 1
                    if bad >= args.patience:
                        log(f"{stage.name}: early stop, no improvement in {args.patience} evaluations")
                        break
                else:
                    bad = 0
        log(f"{stage.name}: {step} steps in {(time.monotonic() - started) / 60:.1f} min")
        if step > last_eval and bad < args.patience:
            self._evaluate_stage(stage, step, losses, started)  # the last, lowest-lr steps
        if self.best_state is not None:
            model.load_state_dict(self.best_state)

    def _evaluate_stage(self, stage: Stage, step: int, losses: list, started: float) -> bool:
        """Evaluate; True when the best score improved."""
        recent = np.mean(losses[-self.args.eval_every :], axis=0)
        before = self.best["map_at_r"]
        self.evaluate(
            stage.name,
            step,
            stage.use_layers,
            {
                "loss": float(recent[0]),
                "copy_loss": float(recent[1]),
                "sup_loss": float(recent[2]),
                "elapsed_s": time.monotonic() - started,
            },
        )
        return self.best["map_at_r"] > before


class BagStageView(torch.nn.Module):
    """The encoder without its layers, for evaluating the bag stage with the same batching."""

    def __init__(self, model: CodeEncoder):
        super().__init__()
        self.inner = model
        self.config = dataclasses.replace(model.config, skeleton_dim=0)  # it outputs the semantic part only

    def forward(self, input_ids, attention_mask):
        return self.inner.encode(input_ids, attention_mask, use_layers=False)


def load_corpora(tokenizer_path: Path, args) -> tuple[corpora.Corpus, corpora.Corpus, corpora.Corpus]:
    poj = corpora.tokenize(corpora.poj104("train"), tokenizer_path, "poj104-train")
    valid = corpora.tokenize(corpora.poj104("valid"), tokenizer_path, "poj104-valid")
    java = corpora.tokenize(corpora.java(False, args.java_limit), tokenizer_path, "java-train")
    python = corpora.tokenize(corpora.python(False), tokenizer_path, "python-train")
    return poj, corpora.drop_short(corpora.concat(java, python)), valid


def obfuscator_variants(poj, extra, args, obfuscate) -> dict[str, list[str]]:
    if obfuscate is None or args.variant_minutes <= 0:
        log("obfuscator not available: regex augmentation only")
        return {}
    rng = random.Random(args.seed)
    items = [
        (f"poj:{i}", poj.texts[i], "cpp") for i in rng.sample(range(len(poj)), min(args.variant_programs, len(poj)))
    ]
    items += [
        (f"extra:{i}", extra.texts[i], extra.languages[i])
        for i in rng.sample(range(len(extra)), min(args.variant_programs // 4, len(extra)))
    ]
    log(f"obfuscator found: variants of {len(items)} items (cached; else <= {args.variant_minutes} min)")
    variants = pregenerate(
        items,
        seed=args.seed,
        budget_s=args.variant_minutes * 60,
        processes=cpu_count(),
        per_item=args.variants_per_program,
    )
    log(f"{sum(map(len, variants.values()))} variants for {len(variants)} items")
    return variants


def fit_skeleton_part(model, tokenizer, poj, extra, variants, stop_ids, stop_labels, pairs, args) -> dict | None:
    """Fit the structural fingerprint (IDF on training programs and their obfuscator
    variants) and choose its share of the cosine on the early-stopping programs and the
    held-out pairs."""
    if not model.config.skeleton_dim:
        return None
    programs = poj.ids + extra.ids
    sample = random.Random(args.seed).sample(range(len(programs)), min(args.skeleton_programs, len(programs)))
    # The variants count as documents too: n-grams that disguises typically add (helper
    # functions, dead code) then weigh less, as the semantic part learns from them too.
    disguised = tokenizer.token_ids([text for texts in variants.values() for text in texts])
    report = fit_skeleton(model, tokenizer.vocab, [programs[i] for i in sample] + disguised, args.seed)
    probe = 0.5  # embed once with both parts present, then weigh them analytically
    model.skeleton_share.fill_(probe)
    semantic_dim = model.config.embedding_dim
    stop_parts = split_parts(embed_programs(model, stop_ids), semantic_dim, probe)
    a, b = (
        split_parts(side, semantic_dim, probe) for side in pairs.embed_sides(lambda seqs: embed_programs(model, seqs))
    )
    cosines = (np.sum(a[0] * b[0], axis=1), np.sum(a[1] * b[1], axis=1))
    kinds = np.asarray(pairs.kind)
    share, table = choose_share(stop_parts, stop_labels, cosines, kinds == "copy", kinds == "same-task")
    model.skeleton_share.fill_(share)
    for row in table:
        log(
            f"skeleton share {row['share']:.1f}: AUC copy vs same task {row['auc_copy_vs_same_task']:.4f}, "
            f"early-stopping MAP@R {row['map_at_r']:.4f}"
        )
    log(f"skeleton: {report}; share {share}")
    return {**report, "share": share, "selection": table}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started = time.monotonic()
    wall_deadline = started + args.wall_minutes * 60
    seed_everything(args.seed)
    torch.set_num_threads(cpu_count())
    device = torch.device(args.device)
    args.output.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    tokenizer_path = ensure_tokenizer(args.tokenizer, args.seed)
    tokenizer = CodeTokenizer.from_file(tokenizer_path)
    shutil.copyfile(tokenizer_path, args.output / paths.TOKENIZER_FILE)
    log("loading and tokenising the corpora (cached after the first run)")
    poj, extra, valid = load_corpora(tokenizer_path, args)
    stop_indices, rest_indices = corpora.valid_split(valid, args.eval_per_problem)
    stop_ids = [valid.ids[i] for i in stop_indices]
    stop_labels = [valid.labels[i] for i in stop_indices]
    log(f"POJ-104 train {len(poj)}, Java+Python {len(extra)}, early-stopping set {len(stop_ids)}")
    obfuscate = load_obfuscator()
    variants = obfuscator_variants(poj, extra, args, obfuscate)
    timings["data_s"] = time.monotonic() - started

    config = EncoderConfig(
        vocab_size=tokenizer.vocab_size,
        dim=args.dim,
        layers=args.layers,
        heads=args.heads,
        ffn_dim=args.ffn_dim,
        dropout=args.dropout,
        ngram_buckets=args.ngram_buckets,
        ngram_dim=args.ngram_dim,
        sublinear_tf=args.sublinear_tf,
        skeleton_dim=args.skeleton_dim,
    )
    model = CodeEncoder(config)
    init_pooling_from_idf(model, idf(document_term(poj.ids + extra.ids, config.vocab_size)))
    zero_residual_branches(model)
    model.to(device)
    log(f"model: {sum(p.numel() for p in model.parameters()):,} parameters, {config}")

    def sampler(spec: str, crop: int, seed: int) -> BatchSampler:
        return BatchSampler(poj, extra, tokenizer, **parse_batch(spec), crop=crop, seed=seed, variants=variants)

    trainer = Trainer(model, args, device, stop_ids, stop_labels)
    trainer.evaluate("init", 0, use_layers=False)
    # Skeleton fit, export, parity, calibration, full-valid MAP@R: ~6 min on 2 busy cores (measured 5.8
    # before the skeleton), plus ~2 min for the skeleton's share selection.
    reserve_s = 480 if args.final_eval else 320
    train_started = time.monotonic()
    budget_s = max(0.0, min(args.minutes * 60, wall_deadline - reserve_s - train_started))
    bag_budget = max(0.0, budget_s - args.full_minutes * 60)
    trainer.run(
        Stage("bag", False, sampler(args.bag_batch, args.bag_crop, args.seed), args.bag_lr, bag_budget, args.bag_steps)
    )
    timings["bag_s"] = time.monotonic() - train_started
    full_budget = budget_s - (time.monotonic() - train_started)
    if (args.full_minutes > 0 and full_budget > 60) or args.steps:
        crop = min(args.crop, config.window)
        trainer.run(
            Stage("full", True, sampler(args.batch, crop, args.seed + 1), args.lr, max(full_budget, 0), args.steps)
        )
    timings["train_s"] = time.monotonic() - train_started
    best = trainer.best
    model = model.to("cpu").eval()
    log(f"best early-stopping MAP@R {best['map_at_r']:.4f} ({best['stage']} step {best['step']})")

    held = corpora.calibration_corpus(valid.subset(rest_indices), tokenizer_path)
    pairs = build_pairs(held, tokenizer, args.calibration_anchors, seed=args.seed + 1, obfuscate=obfuscate)
    skeleton_report = fit_skeleton_part(model, tokenizer, poj, extra, variants, stop_ids, stop_labels, pairs, args)
    save_checkpoint(
        model, args.output / "checkpoint.pt", {"best": best, "args": {k: str(v) for k, v in vars(args).items()}}
    )

    onnx_path = export_onnx(model, args.output / paths.ENCODER_FILE)
    parity = parity_max_abs_diff(model, onnx_path)
    log(f"ONNX parity: max |torch - onnxruntime| = {parity:.2e}")
    if not parity <= PARITY_TOLERANCE:
        raise ParityError(f"ONNX parity {parity:.3e} exceeds {PARITY_TOLERANCE:g}: refusing to ship {onnx_path}")
    quantize_encoder(onnx_path, args.output / paths.INT8_ENCODER_FILE)

    from clonedetect.onnx_encoder import OnnxEncoder

    encoder = OnnxEncoder(onnx_path)
    rarity = literal_rarity()
    rarity.save(args.output / paths.LITERAL_RARITY_FILE)
    calibration, calibration_report = fit_scorer(pairs, encoder.embed_sequences, rarity)
    calibration.save(args.output / paths.CALIBRATION_FILE)
    log(f"calibration: {json.dumps(calibration_report)}")

    report = {
        "best": best,
        "history": trainer.history,
        "parity_max_abs_diff": parity,
        "calibration": calibration_report,
        "skeleton": skeleton_report,
        "config": config.to_dict(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "tokenizer": str(tokenizer_path),
        "obfuscator_variants": sum(map(len, variants.values())),
        "timings": timings,
    }
    if args.final_eval:
        t0 = time.monotonic()
        report["valid_map_at_r"] = map_at_r(encoder.embed_sequences(valid.ids), valid.labels)
        timings["final_eval_s"] = time.monotonic() - t0
        log(f"POJ-104 valid MAP@R (all {len(valid)} programs, exported model): {report['valid_map_at_r']:.4f}")
    write_model_metadata(args.output / "model_metadata.json", config, best=best)
    if args.install:
        for name, target in INSTALL_TARGETS.items():
            shutil.copyfile(args.output / name, target)
        log(f"installed {', '.join(INSTALL_TARGETS)} into {paths.MODEL_REPOSITORY}")
    timings["total_s"] = time.monotonic() - started
    (args.output / "training_report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    log(f"done in {timings['total_s'] / 60:.1f} min; report: {args.output / 'training_report.json'}")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
