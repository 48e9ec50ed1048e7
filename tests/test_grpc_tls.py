"""gRPC over TLS: the bundled Triton with certificates made in the test (mutual TLS), the
client with and without its certificate, and the CLI's checks of the TLS options."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from clonedetect import server
from clonedetect.cli import main
from clonedetect.client import CloneDetectorClient, GrpcTls, ServerError
from tests.conftest import start_server

PROGRAM = "int twice(int x) { return 2 * x; }\n"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _signed(name: str, subject: str, folder: Path, extensions: str | None = None) -> None:
    request = ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-subj", subject]
    _openssl(*request, "-out", f"{name}.csr", cwd=folder)
    sign = ["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"]
    sign += ["-days", "2", "-out", f"{name}.pem"]
    if extensions:
        (folder / f"{name}.ext").write_text(extensions)
        sign += ["-extfile", f"{name}.ext"]
    _openssl(*sign, cwd=folder)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it."""
    folder = tmp_path_factory.mktemp("tls")
    authority = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"]
    _openssl(*authority, "-days", "2", "-subj", "/CN=clonedetect test CA", cwd=folder)
    _signed("server", "/CN=127.0.0.1", folder, "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _signed("client", "/CN=a course's checker", folder)
    return folder


@pytest.fixture(scope="module")
def tls_triton(model_repository_copy, certificates, tmp_path_factory):
    tls = server.grpc_tls_arguments(
        certificates / "server.pem", certificates / "server.key", client_ca=certificates / "ca.pem"
    )
    process = start_server(model_repository_copy, tmp_path_factory.mktemp("tls-log") / "triton.log", tuple(tls))
    yield process
    process.stop()


@pytest.mark.integration
def test_mutual_tls_lets_in_only_clients_with_a_certificate(tls_triton, certificates):
    ca, certificate, key = (str(certificates / name) for name in ("ca.pem", "client.pem", "client.key"))
    with_certificate = GrpcTls(ca, certificate, key)
    with CloneDetectorClient(tls_triton.grpc_url, protocol="grpc", tls=with_certificate, timeout=30) as client:
        assert client.embed([PROGRAM]).shape == (1, 384)
        assert client.compare(PROGRAM, PROGRAM).probability > 0.5
    for tls in (GrpcTls(ca), None):  # no client certificate / no TLS at all
        with CloneDetectorClient(tls_triton.grpc_url, protocol="grpc", tls=tls, timeout=30) as client:
            started = time.monotonic()
            with pytest.raises(ServerError, match="TLS handshake") as refused:
                client.embed([PROGRAM])
            assert time.monotonic() - started < 5, "a refused handshake is reported at once, not retried"
            assert "client certificate" in str(refused.value)


def test_tls_options_are_checked_before_anything_is_sent(capsys, tmp_path):
    sample = tmp_path / "a.c"
    sample.write_text(PROGRAM)
    assert main(["embed", str(sample), "--tls-ca", "ca.pem"]) == 2  # HTTP: TLS is the Ingress's job
    assert "--protocol grpc" in capsys.readouterr().err
    assert main(["embed", str(sample), "--protocol", "grpc", "--tls-cert", "c.pem"]) == 2
    assert "need --tls-ca" in capsys.readouterr().err
    options = ["--protocol", "grpc", "--tls-ca", "ca.pem", "--tls-cert", "c.pem"]
    assert main(["embed", str(sample), *options]) == 2
    assert "give both or neither" in capsys.readouterr().err


def test_grpc_tls_arguments_for_server_and_mutual_tls():
    assert server.grpc_tls_arguments("s.pem", "s.key") == [
        "--grpc-use-ssl=true",
        "--grpc-server-cert=s.pem",
        "--grpc-server-key=s.key",
    ]
    mutual = server.grpc_tls_arguments("s.pem", "s.key", "ca.pem")
    assert mutual[0] == "--grpc-use-ssl-mutual=true" and "--grpc-root-cert=ca.pem" in mutual
