"""Rollouts and rollbacks of a repository the server reads from S3.

A rollout edits a few text files of the repository (configs, ``steps.json``,
``rollouts.json``: :mod:`clonedetect.rollout_repository`) and asks Triton to load after
each edit. For a repository in S3 those files are copied into a local folder first, the
rollout edits the copy as it would a local repository, and every edit is uploaded before
Triton is asked to load (Triton then reads the bucket itself). Weights are never
downloaded: a version folder is known by its keys. The record of rollouts stays in the
bucket, so a rollback can run from any machine.

Both S3 URL forms work: ``s3://bucket/prefix`` with the endpoint in ``AWS_ENDPOINT_URL``
(boto3 reads it), and Triton's ``s3://host:port/bucket/prefix``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clonedetect import paths
from clonedetect.importing.model_card import IMPORTS_FILE
from clonedetect.publishing import Target
from clonedetect.rollout_repository import ROLLOUTS_FILE, STEPS_FILE, RolloutError

# The files a rollout reads or writes, as keys relative to the repository's prefix (an
# import's record says the model is one, whose tokenizer moves with it).
_NAMES = "|".join(re.escape(name) for name in (paths.MODEL_CONFIG_FILE, ROLLOUTS_FILE, IMPORTS_FILE))
_EDITED = re.compile(rf"[^/]+/({_NAMES}|configs/[^/]+\.pbtxt|\d+/{re.escape(STEPS_FILE)})")
_VERSION_FOLDER = re.compile(r"([^/]+/\d+)/")


def parse_s3_url(url: str) -> tuple[str | None, Target]:
    """The endpoint (None: boto3's own, from ``AWS_ENDPOINT_URL`` or AWS) and the bucket and
    prefix of ``s3://bucket/prefix`` or ``s3://host:port/bucket/prefix``."""
    scheme, _, rest = url.partition("://")
    parts = [p for p in rest.split("/") if p]
    if scheme != "s3" or not parts:
        raise RolloutError(
            f"cannot roll out in {url!r}: rollouts edit a local folder or an S3 repository "
            "(s3://bucket/prefix or s3://host:port/bucket/prefix); for gs:// and as://, roll out "
            "in a local copy and publish it"
        )
    endpoint = None
    if ":" in parts[0]:
        endpoint, parts = f"http://{parts[0]}", parts[1:]
        if not parts:
            raise RolloutError(f"{url!r} names no bucket: use s3://host:port/bucket/prefix")
    return endpoint, Target("s3", parts[0], "/".join(parts[1:]))


class S3RolloutCopy:
    """A local copy of an S3 repository's rollout files; :meth:`push` uploads what changed."""

    def __init__(self, url: str, folder: Path):
        import boto3

        endpoint, self.location = parse_s3_url(url)
        self.folder = Path(folder)
        self._s3 = boto3.client("s3", **({"endpoint_url": endpoint} if endpoint else {}))
        self._pushed: dict[str, bytes] = {}
        self._download()

    def _keys(self) -> list[str]:
        start = self.location.key("")
        keys = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.location.bucket, Prefix=start):
            keys += [item["Key"][len(start) :] for item in page.get("Contents", [])]
        return keys

    def _download(self) -> None:
        keys = self._keys()
        if not any(k.endswith("/" + paths.MODEL_CONFIG_FILE) for k in keys):
            raise RolloutError(
                f"s3://{self.location.bucket}/{self.location.prefix} holds no model repository: "
                "publish one there first (clonedetect publish --to ...)"
            )
        for relative in keys:
            if version := _VERSION_FOLDER.match(relative):
                (self.folder / version.group(1)).mkdir(parents=True, exist_ok=True)
            if _EDITED.fullmatch(relative):
                body = self._s3.get_object(Bucket=self.location.bucket, Key=self.location.key(relative))["Body"].read()
                target = self.folder / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                self._pushed[relative] = body

    def push(self) -> list[str]:
        """Upload every rollout file made or changed since the last push; their keys."""
        uploaded = []
        for path in sorted(self.folder.rglob("*")):
            relative = path.relative_to(self.folder).as_posix()
            if not (path.is_file() and _EDITED.fullmatch(relative)):
                continue
            body = path.read_bytes()
            if self._pushed.get(relative) != body:
                self._s3.put_object(Bucket=self.location.bucket, Key=self.location.key(relative), Body=body)
                self._pushed[relative] = body
                uploaded.append(self.location.key(relative))
        return uploaded


class PushingClient:
    """A client whose ``load_model`` first uploads the copy's edits, so Triton reads them."""

    def __init__(self, client, copy: S3RolloutCopy):
        self._client, self._copy = client, copy

    def load_model(self, *args, **kwargs):
        self._copy.push()
        return self._client.load_model(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._client, name)


@contextmanager
def s3_rollout(url: str, client) -> Iterator[tuple[Path, PushingClient]]:
    """The local copy of the S3 repository at ``url`` and a client that uploads its edits
    before each load; the last edits (the rollout record, with no load after them) are
    uploaded on the way out, whatever happened."""
    with tempfile.TemporaryDirectory(prefix="clonedetect-rollout-") as folder:
        copy = S3RolloutCopy(url, Path(folder))
        try:
            yield copy.folder, PushingClient(client, copy)
        finally:
            copy.push()
