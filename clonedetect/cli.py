"""The ``clonedetect`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from clonedetect import __version__, paths
from clonedetect.client import errors as client_errors
from clonedetect.client.protocol import DEFAULT_URLS, PRECISIONS


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="server address host:port (default: 127.0.0.1:8000 for http, :8001 for grpc)")
    parser.add_argument("--protocol", choices=("http", "grpc"), default="http")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for an answer (default 60)")
    parser.add_argument("--tls-ca", help="gRPC over TLS: the CA certificate (PEM) that signed the server's")
    parser.add_argument("--tls-cert", help="gRPC mutual TLS: this client's certificate (PEM)")
    parser.add_argument("--tls-key", help="gRPC mutual TLS: this client's private key (PEM)")


def _add_precision_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="encoder version to use: fp32 (version 1, default) or its INT8 quantisation (version 2)",
    )


def _tls(args: argparse.Namespace):
    from clonedetect.client import GrpcTls

    if not args.tls_ca:
        if args.tls_cert or args.tls_key:
            raise client_errors.InvalidInputError("--tls-cert and --tls-key need --tls-ca (the server's CA)")
        return None
    if args.protocol != "grpc":
        raise client_errors.InvalidInputError("--tls-ca applies to --protocol grpc")
    try:
        return GrpcTls(args.tls_ca, args.tls_cert, args.tls_key)
    except ValueError as error:
        raise client_errors.InvalidInputError(str(error)) from None


def _client(args: argparse.Namespace, admin_key: str | None = None):
    from clonedetect.client import CloneDetectorClient

    return CloneDetectorClient(
        args.url or DEFAULT_URLS[args.protocol],
        protocol=args.protocol,
        timeout=args.timeout,
        admin_key=admin_key,
        precision=getattr(args, "precision", "fp32"),
        tls=_tls(args),
        compare_model=getattr(args, "compare_model", None),
    )


def _admin_key(args: argparse.Namespace) -> str | None:
    return args.admin_key or os.environ.get("CLONEDETECT_ADMIN_KEY")


def _add_admin_key_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin-key", help="key of a server that restricts model control (default: $CLONEDETECT_ADMIN_KEY)"
    )


def _read_sources(paths: list[str]) -> list[bytes]:
    sources = []
    for path in paths:
        try:
            sources.append(Path(path).read_bytes())
        except OSError as error:
            raise client_errors.InvalidInputError(f"cannot read {path}: {error.strerror}") from None
    return sources


def _print_json(payload) -> None:
    print(json.dumps(payload, indent=2))


def command_serve(args: argparse.Namespace) -> int:
    from clonedetect import server
    from clonedetect.supervisor import SUPERVISING, Supervisor

    repository = server.repository_location(args.model_repository)
    extra = list(args.triton_args)
    admin_key, generated = server.model_control_key(args.host, _admin_key(args))
    if admin_key:
        extra += server.restricted_model_control_arguments(admin_key)
    if args.grpc_tls_cert or args.grpc_tls_key or args.grpc_tls_client_ca:
        if not (args.grpc_tls_cert and args.grpc_tls_key):
            print("clonedetect serve: gRPC TLS needs both --grpc-tls-cert and --grpc-tls-key", file=sys.stderr)
            return 2
        extra += server.grpc_tls_arguments(args.grpc_tls_cert, args.grpc_tls_key, args.grpc_tls_client_ca)
    if generated:
        print(
            f"clonedetect: {args.host} is not loopback, so model load/unload needs this admin key "
            f"(shown once; choose your own with --admin-key or $CLONEDETECT_ADMIN_KEY):\n  {admin_key}",
            flush=True,
        )
    try:
        triton = server.local_server(
            repository,
            host=args.host,
            http_port=args.http_port,
            grpc_port=args.grpc_port,
            metrics_port=args.metrics_port,
            model_config_name=args.model_config_name or None,
            extra=tuple(extra),
            log_path=Path(args.log_file) if args.log_file else None,
        )
        triton.start()
    except server.ServerError as error:
        print(f"clonedetect serve: {error}", file=sys.stderr)
        return 2

    server.unwind_on_sigterm()
    try:
        triton.wait_until_ready(args.ready_timeout)
        print(
            f"clonedetect: Triton is ready on model repository {repository}\n"
            f"  HTTP    http://{triton.http_url}\n"
            f"  gRPC    {triton.grpc_url}\n"
            f"  metrics {triton.metrics_url}\n"
            f"{SUPERVISING}",
            flush=True,
        )
        supervisor = Supervisor(
            triton, max_restarts=args.max_restarts, ready_timeout=args.ready_timeout, admin_key=admin_key
        )
        return supervisor.watch()
    except server.ServerError as error:
        print(f"clonedetect serve: {error}", file=sys.stderr)
        triton.stop()
        return 1
    except KeyboardInterrupt:
        print("clonedetect: stopping Triton...", file=sys.stderr, flush=True)
        triton.stop()
        return 0


def command_embed(args: argparse.Namespace) -> int:
    sources = _read_sources(args.files)
    with _client(args) as client:
        embeddings = client.embed(sources)
    _print_json(
        [
            {"file": path, "embedding": [round(float(v), 6) for v in row]}
            for path, row in zip(args.files, embeddings, strict=True)
        ]
    )
    return 0


def command_compare(args: argparse.Namespace) -> int:
    code_a, code_b = _read_sources([args.file_a, args.file_b])
    with _client(args) as client:
        result = client.compare(code_a, code_b)
    _print_json({"file_a": args.file_a, "file_b": args.file_b, **result.to_dict()})
    return 0


def command_scan(args: argparse.Namespace) -> int:
    from clonedetect.scanning.command import check_output_paths, write_outputs
    from clonedetect.scanning.progress import TerminalProgress

    check_output_paths(args)
    progress = TerminalProgress()
    try:
        with _client(args) as client:
            result = client.scan(
                args.submissions,
                base_code=args.base_code,
                authors=args.author_map,
                threshold=args.threshold,
                language=args.language,
                top_k=args.top_k,
                min_similarity=args.min_similarity,
                max_verified=args.max_verified,
                common_code_share=args.common_code,
                progress=progress,
                archive=args.archive,
                checkpoint=args.checkpoint,
            )
    finally:
        progress.close()
    write_outputs(result, args)
    return 0


def command_archive(args: argparse.Namespace) -> int:
    from clonedetect.archive.add import add_submissions
    from clonedetect.archive.info import archive_info
    from clonedetect.archive.store import open_existing, open_store
    from clonedetect.scanning.progress import TerminalProgress

    if args.archive_command == "info":
        _print_json(archive_info(open_existing(args.archive)))
        return 0
    store, progress = open_store(args.archive), TerminalProgress()
    try:
        with _client(args) as client:
            options = {"term": args.term, "course": args.course, "base_code": args.base_code, "language": args.language}
            added = add_submissions(
                store, client, args.submissions, author_map=args.author_map, progress=progress, **options
            )
    finally:
        progress.close()
    _print_json(added)
    return 0


def command_status(args: argparse.Namespace) -> int:
    from clonedetect.ensembles import ensemble_states

    with _client(args, admin_key=_admin_key(args)) as client:
        live, ready = client.is_live(), client.is_ready()
        if not live:
            raise client_errors.ServerUnavailableError(
                f"no Triton server at {client.url}; start one with `clonedetect serve`"
            )
        models = [state.__dict__ for state in client.model_status()]
        ensembles = {state.name: state.to_dict() for state in ensemble_states(client)}
    _print_json({"url": client.url, "live": live, "ready": ready, "models": models, "ensembles": ensembles})
    return 0 if ready else 1


def _rollout_progress(message: str) -> None:
    print(f"clonedetect: {message}", file=sys.stderr, flush=True)


def _roll(args: argparse.Namespace, client, repository: Path) -> dict:
    from clonedetect.rollout import rollback, rollout

    if args.command == "rollout":
        return rollout(client, repository, args.model, args.version, args.replace, _rollout_progress)
    return rollback(client, repository, args.model, _rollout_progress)


def command_rollout(args: argparse.Namespace) -> int:
    from clonedetect import server
    from clonedetect.rollout import RolloutError

    try:
        with _client(args, admin_key=_admin_key(args)) as client:
            if server.is_remote(args.model_repository):
                from clonedetect.remote_rollout import s3_rollout

                with s3_rollout(args.model_repository, client) as (repository, pushing):
                    report = _roll(args, pushing, repository)
            else:
                report = _roll(args, client, Path(args.model_repository))
    except RolloutError as error:
        raise client_errors.InvalidInputError(str(error)) from None
    _print_json(report)
    return 0


def command_reload(args: argparse.Namespace) -> int:
    with _client(args, admin_key=_admin_key(args)) as client:
        client.load_model(args.model, version=args.version)
        states = [s.__dict__ for s in client.model_status() if s.name == args.model]
    _print_json({"reloaded": args.model, "version": args.version, "models": states})
    return 0


def command_publish(args: argparse.Namespace) -> int:
    from clonedetect.publishing import PublishError, publish

    if (args.model is None) != (args.version is None):
        raise client_errors.InvalidInputError("--model and --version go together: one model version, or neither")
    try:
        keys = publish(Path(args.model_repository), args.to, args.model, args.version)
    except PublishError as error:
        raise client_errors.InvalidInputError(str(error)) from None
    _print_json({"published": args.to, "files": len(keys), "model": args.model, "version": args.version})
    return 0


def command_calibrate(args: argparse.Namespace) -> int:
    from clonedetect.recalibration_command import recalibrate

    with _client(args, admin_key=_admin_key(args)) as client:
        report = recalibrate(client, Path(args.pairs), Path(args.model_repository))
        if args.reload:
            client.load_model(paths.SCORER_MODEL)
            report["reloaded"] = paths.SCORER_MODEL
    _print_json(report)
    return 0


def command_train(args: argparse.Namespace) -> int:
    from clonedetect.training.train import main as train

    train(args.arguments)
    return 0


def command_evaluate(args: argparse.Namespace) -> int:
    from clonedetect.evaluation.harness import main as evaluate

    return evaluate(args.arguments)


def _add_forwarding_command(commands, name: str, help_text: str, handler) -> None:
    """A subcommand whose arguments (``--help`` included) belong to the module it runs."""
    parser = commands.add_parser(name, help=help_text, add_help=False)
    parser.set_defaults(handler=handler, forwards_arguments=True)


def build_parser() -> argparse.ArgumentParser:
    from clonedetect import server, supervisor

    parser = argparse.ArgumentParser(prog="clonedetect", description="Code-clone and plagiarism detection on Triton.")
    parser.add_argument("--version", action="version", version=f"clonedetect {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bundled Triton server in the foreground")
    serve.add_argument(
        "--model-repository",
        default=str(paths.MODEL_REPOSITORY),
        help="a folder, or s3://bucket/prefix (endpoint from $AWS_ENDPOINT_URL), s3://host:port/bucket/prefix, "
        "gs://bucket/prefix, as://account/container/prefix",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for all)")
    serve.add_argument("--http-port", type=int, default=server.DEFAULT_PORTS["http"])
    serve.add_argument("--grpc-port", type=int, default=server.DEFAULT_PORTS["grpc"])
    serve.add_argument("--metrics-port", type=int, default=server.DEFAULT_PORTS["metrics"])
    serve.add_argument(
        "--model-config-name",
        default=server.BUNDLED_CONFIG_NAME,
        help="configs/<name>.pbtxt to use where a model has one (default: bundled; '' for config.pbtxt)",
    )
    serve.add_argument(
        "--admin-key",
        help="restrict model load/unload to callers sending this key (default: $CLONEDETECT_ADMIN_KEY; "
        "on an address other than loopback one is generated and printed when none is given)",
    )
    serve.add_argument("--grpc-tls-cert", help="serve gRPC over TLS with this certificate (PEM)")
    serve.add_argument("--grpc-tls-key", help="the private key (PEM) of --grpc-tls-cert")
    serve.add_argument(
        "--grpc-tls-client-ca", help="mutual TLS: accept only gRPC clients with a certificate signed by this CA (PEM)"
    )
    serve.add_argument("--ready-timeout", type=float, default=300.0, help="seconds to wait for the models to load")
    serve.add_argument("--log-file", help="write Triton's log here instead of the terminal")
    serve.add_argument(
        "--max-restarts",
        type=supervisor.restart_count,
        default=supervisor.MAX_RESTARTS,
        help=f"restart a tritonserver that exits unexpectedly, at most N times in {supervisor.RESTART_WINDOW_MINUTES} "
        f"minutes (default {supervisor.MAX_RESTARTS}; 0: never)",
    )
    serve.add_argument("triton_args", nargs="*", help="extra tritonserver arguments, after --")
    serve.set_defaults(handler=command_serve)

    embed = commands.add_parser("embed", help="print the embedding of each file (JSON)")
    embed.add_argument("files", nargs="+")
    _add_connection_options(embed)
    _add_precision_option(embed)
    embed.set_defaults(handler=command_embed)

    compare = commands.add_parser("compare", help="similarity and derived-from probability of two files (JSON)")
    compare.add_argument("file_a")
    compare.add_argument("file_b")
    _add_connection_options(compare)
    _add_precision_option(compare)
    compare.add_argument(
        "--model",
        dest="compare_model",
        metavar="NAME",
        help="a model with clone_compare's interface instead (e.g. an imported cross-encoder's NAME_compare)",
    )
    compare.set_defaults(handler=command_compare)

    from clonedetect.scanning.command import add_scan_arguments

    scan = commands.add_parser("scan", help="every submission of an assignment against every other (ranked pairs)")
    add_scan_arguments(scan)
    _add_connection_options(scan)
    _add_precision_option(scan)
    scan.set_defaults(handler=command_scan)

    from clonedetect.archive.command import add_archive_arguments

    def add_server_options(parser: argparse.ArgumentParser) -> None:
        _add_connection_options(parser)
        _add_precision_option(parser)

    archive = commands.add_parser("archive", help="past submissions that `scan --archive` also compares with")
    add_archive_arguments(archive, add_server_options)
    archive.set_defaults(handler=command_archive)

    status = commands.add_parser("status", help="server health and the state of every model (JSON)")
    _add_connection_options(status)
    _add_admin_key_option(status)
    status.set_defaults(handler=command_status)

    reload = commands.add_parser("reload", help="(re)load a model from the repository, optionally one version")
    reload.add_argument("model")
    reload.add_argument(
        "--version",
        type=int,
        nargs="+",
        help="load exactly these versions, e.g. --version 1 2 (default: as the repository's version policy says)",
    )
    _add_connection_options(reload)
    _add_admin_key_option(reload)
    reload.set_defaults(handler=command_reload)

    rollout = commands.add_parser(
        "rollout", help="make another version of a model live, warm, with no failed request (JSON)"
    )
    rollout.add_argument("model", help="a model the ensembles call, e.g. code_clone_detector or clone_scorer")
    rollout.add_argument("--version", type=int, required=True, help="the version to make live (its folder exists)")
    rollout.add_argument(
        "--replace", type=int, help="the live version it replaces (needed where the model serves several)"
    )
    rollback = commands.add_parser("rollback", help="undo the last rollout of a model, with no failed request (JSON)")
    rollback.add_argument("model")
    for version_command in (rollout, rollback):
        version_command.add_argument(
            "--model-repository",
            default=str(paths.MODEL_REPOSITORY),
            help="the repository the server serves: a folder, or s3://bucket/prefix, s3://host:port/bucket/prefix",
        )
        _add_connection_options(version_command)
        _add_admin_key_option(version_command)
        version_command.set_defaults(handler=command_rollout)

    from clonedetect.importing.command import add_import_arguments, command_import_model

    import_model = commands.add_parser(
        "import-model", help="install a fine-tuned HuggingFace or ONNX encoder as new Triton models"
    )
    add_import_arguments(import_model)
    import_model.set_defaults(handler=command_import_model)

    publish = commands.add_parser("publish", help="upload the model repository (or one model version) to S3/GCS/Azure")
    publish.add_argument("--model-repository", default=str(paths.MODEL_REPOSITORY))
    publish.add_argument(
        "--to", required=True, help="s3://bucket/prefix, gs://bucket/prefix or as://account/container/prefix"
    )
    publish.add_argument("--model", help="publish only this model's configuration and --version")
    publish.add_argument("--version", type=int, help="the version folder of --model to publish")
    publish.set_defaults(handler=command_publish)

    calibrate = commands.add_parser(
        "calibrate", help="refit the probability on your labelled pairs; install it as the scorer's next version"
    )
    calibrate.add_argument("--pairs", required=True, help="CSV with the columns file_a,file_b,label (0 or 1)")
    calibrate.add_argument(
        "--model-repository", default=str(paths.MODEL_REPOSITORY), help="the repository the server serves"
    )
    calibrate.add_argument("--reload", action="store_true", help="make the new scorer version live at once")
    _add_connection_options(calibrate)
    _add_admin_key_option(calibrate)
    calibrate.set_defaults(handler=command_calibrate)

    _add_forwarding_command(commands, "train", "retrain the shipped model (needs the 'train' extra)", command_train)
    _add_forwarding_command(
        commands,
        "evaluate",
        "plagiarism AUC, MAP@R, BigCloneBench and calibration report, with baselines",
        command_evaluate,
    )

    from clonedetect.load_tests.bench import add_bench_arguments, command_bench
    from clonedetect.load_tests.run import add_load_arguments, command_load

    bench = commands.add_parser("bench", help="side-by-side throughput/latency benchmark (JSON, table, plot)")
    add_bench_arguments(bench)
    bench.set_defaults(handler=command_bench)
    load = commands.add_parser("load", help="bounded headless Locust load test against Triton")
    add_load_arguments(load)
    load.set_defaults(handler=command_load)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if getattr(args, "forwards_arguments", False):
        args.arguments = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return args.handler(args)
    except client_errors.InvalidInputError as error:
        print(f"clonedetect {args.command}: {error}", file=sys.stderr)
        return 2
    except client_errors.ClonedetectError as error:
        print(f"clonedetect {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
