"""Shared pieces of the export tests: a source archive filled with a night, importers, TLS."""

from __future__ import annotations

import contextlib
import datetime
import io
import ipaddress
import ssl
import threading
from pathlib import Path

from werkzeug.serving import make_server

from meteorgui.archive import Archive
from meteorgui.exporter import Exporter, FileSecrets
from meteorgui.simulate import Night, make_night

from .seed_importer import SeedImporter, serving

SEED_USERS = {"exporter": ("export-pw-1", ("import",)), "viewer": ("viewer-pw", ("user",))}


def fill_archive(archive: Archive, night: Night) -> None:
    """Put a simulated night in an archive as if cameras had sent it."""
    for status in night.statuses:
        archive.store_status(status, "camera")
    for event in night.events:
        for record in event.files:
            assert archive.store.put(
                record.file_id, record.md5, io.BytesIO(night.file_bytes(record.file_id))
            )
        archive.store_event(event, "camera")
    for record in night.files:
        assert archive.store.put(
            record.file_id, record.md5, io.BytesIO(night.file_bytes(record.file_id))
        )
        archive.store_file(record, "camera")


def small_night(events: int = 3, timelapse: int = 3, seed: int = 11) -> Night:
    return make_night(seed, events=events, timelapse=timelapse)


@contextlib.contextmanager
def source_archive(path: Path, night: Night | None = None, secrets_file: Path | None = None):
    """An archive holding ``night`` and an Exporter on it (file secrets); closed after."""
    archive = Archive(path)
    try:
        if night is not None:
            fill_archive(archive, night)
        exporter = Exporter(archive, FileSecrets(secrets_file or path.parent / "secrets.json"))
        try:
            yield archive, exporter
        finally:
            exporter.close()
    finally:
        archive.close()


@contextlib.contextmanager
def seed_importer(folder: Path, **kw):
    imp = SeedImporter(folder, SEED_USERS, **kw)
    with serving(imp.app) as base:
        imp.url = f"{base}/import"
        yield imp


def all_entity_ids(night: Night) -> list[str]:
    return [getattr(e, "event_id", None) or e.file_id for e in night.entities()]


# --------------------------------------------------------------------------- TLS


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it.
    Returns (ca.pem, server.pem, server.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meteorgui test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_path.write_bytes(ca.public_bytes(pem))
    cert_path.write_bytes(cert.public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


@contextlib.contextmanager
def https_serving(app, cert: Path, key: Path):
    """A small HTTPS server (werkzeug) on 127.0.0.1, port 0; yields the base URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="https-importer"
    )
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
