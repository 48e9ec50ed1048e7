"""``clonedetect publish``: a model repository, or one new version of a model, to object storage.

Triton reads a repository from S3, Google Cloud Storage or Azure Blob itself
(``--model-repository s3://…``, ``gs://…``, ``as://…``), so publishing is an upload of the
repository's files under a prefix, through each store's maintained client library (boto3,
google-cloud-storage, azure-storage-blob, imported only for that store). An S3-compatible
endpoint comes from the standard ``AWS_ENDPOINT_URL`` variable, credentials from each
library's usual sources. Publishing one version uploads the model's configuration and that
version's folder only, so the versions already there are left as they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class PublishError(ValueError):
    """A target URL, repository or store this command cannot publish to."""


@dataclass(frozen=True)
class Target:
    scheme: str  # s3, gs or as
    bucket: str  # for as://: "account/container"
    prefix: str

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative


def parse_target(url: str) -> Target:
    """``s3://bucket/prefix``, ``gs://bucket/prefix`` or ``as://account/container/prefix``."""
    scheme, _, rest = url.partition("://")
    parts = [p for p in rest.split("/") if p]
    needed = 2 if scheme == "as" else 1
    if scheme not in ("s3", "gs", "as") or len(parts) < needed:
        raise PublishError(
            f"cannot publish to {url!r}: use s3://bucket/prefix, gs://bucket/prefix or as://account/container/prefix"
        )
    return Target(scheme, "/".join(parts[:needed]), "/".join(parts[needed:]))


def _is_published(relative: Path) -> bool:
    """Caches and unfinished folders (``__pycache__``, ``.3.staging``) stay local."""
    return not any(part == "__pycache__" or (part.startswith(".") and part != ".gitkeep") for part in relative.parts)


def repository_files(repository: Path, model: str | None = None, version: int | None = None) -> list[str]:
    """The files to upload, relative to ``repository`` (POSIX paths): all of them, or one
    model's ``config.pbtxt``, ``configs/``, ``warmup/`` and ``<version>/``."""
    repository = Path(repository)
    if not repository.is_dir():
        raise PublishError(f"model repository {repository} does not exist or is not a folder")
    if model is None:
        roots = [repository]
    else:
        folder = repository / model
        if version is None or not (folder / str(version)).is_dir():
            raise PublishError(f"{folder / str(version)} does not exist: name a model and one of its versions")
        roots = [folder / str(version), folder / "configs", folder / "warmup"]  # warmup/: model_warmup data
        roots += [path for path in folder.glob("*.pbtxt")]
    files = []
    for root in roots:
        candidates = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in candidates:
            relative = path.relative_to(repository)
            if path.is_file() and _is_published(relative):
                files.append(relative.as_posix())
    return files


def _s3_uploader(target: Target) -> Callable[[Path, str], None]:
    import boto3  # reads AWS_ENDPOINT_URL, credentials and region itself

    client = boto3.client("s3")
    return lambda path, key: client.upload_file(str(path), target.bucket, key)


def _gcs_uploader(target: Target) -> Callable[[Path, str], None]:
    from google.cloud import storage

    bucket = storage.Client().bucket(target.bucket)
    return lambda path, key: bucket.blob(key).upload_from_filename(str(path))


def _azure_uploader(target: Target) -> Callable[[Path, str], None]:
    from azure.storage.blob import BlobServiceClient

    account, container = target.bucket.split("/")
    credential = os.environ.get("AZURE_STORAGE_KEY")
    service = BlobServiceClient(f"https://{account}.blob.core.windows.net", credential=credential)
    client = service.get_container_client(container)

    def upload(path: Path, key: str) -> None:
        with open(path, "rb") as data:
            client.upload_blob(key, data, overwrite=True)

    return upload


UPLOADERS = {
    "s3": (_s3_uploader, "boto3"),
    "gs": (_gcs_uploader, "google-cloud-storage"),
    "as": (_azure_uploader, "azure-storage-blob"),
}


def publish(repository: Path, url: str, model: str | None = None, version: int | None = None) -> list[str]:
    """Upload the repository (or ``model``'s ``version``) under ``url``; the keys written."""
    target = parse_target(url)
    files = repository_files(repository, model, version)
    make_uploader, package = UPLOADERS[target.scheme]
    try:
        upload = make_uploader(target)
    except ImportError:
        raise PublishError(
            f"publishing to {target.scheme}:// needs the {package} package: pip install {package}"
        ) from None
    keys = []
    for relative in files:
        upload(Path(repository) / relative, target.key(relative))
        keys.append(target.key(relative))
    return keys
