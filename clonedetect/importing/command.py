"""The ``clonedetect import-model`` command: arguments, the call, JSON out, exit status."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from clonedetect import paths
from clonedetect.importing.errors import ImportModelError
from clonedetect.importing.model_configs import DEFAULT_NAME


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", metavar="SOURCE", help="a HuggingFace model directory, or a .onnx file (with --tokenizer)"
    )
    parser.add_argument("--model-repository", default=str(paths.MODEL_REPOSITORY), metavar="DIR")
    parser.add_argument(
        "--name",
        default=DEFAULT_NAME,
        help=f"Triton model name (default {DEFAULT_NAME}); an earlier import's name adds a version",
    )
    parser.add_argument("--int8", action="store_true", help="install the INT8 dynamic quantisation")
    parser.add_argument("--tokenizer", metavar="DIR", help="HuggingFace tokenizer directory (default: SOURCE's own)")
    parser.add_argument(
        "--cross-encoder",
        action="store_true",
        help="SOURCE is a sequence-classification model scoring a pair of programs: served as NAME_compare",
    )


def command_import_model(args: argparse.Namespace) -> int:
    """0 once installed (the report as JSON); 2, with the reason, for anything refused."""
    if args.cross_encoder:
        from clonedetect.importing.pair_pipeline import import_cross_encoder as import_model
    else:
        from clonedetect.importing.pipeline import import_model

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)  # the fusions' chatter
    try:
        report = import_model(
            Path(args.source),
            Path(args.model_repository),
            args.name,
            int8=args.int8,
            tokenizer_dir=Path(args.tokenizer) if args.tokenizer else None,
        )
    except ImportModelError as error:
        print(f"clonedetect import-model: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2))
    return 0
