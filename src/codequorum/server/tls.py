"""TLS for the network transports, with the standard library's `ssl`.

The certificate and key are loaded when the server starts: a missing file, a key that does
not match the certificate or a file that is not PEM stops it with a message naming the file,
before it listens. Protocols below TLS 1.2 are refused.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from codequorum.vocabulary.errors import CodequorumError


class TlsError(CodequorumError):
    """The server cannot use this certificate or key."""


def server_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The TLS context for --tls-cert/--tls-key, or None when neither is given."""
    if cert is None and key is None:
        return None
    if cert is None:
        raise TlsError("--tls-key needs --tls-cert (the certificate chain, PEM)")
    for path, what in ((cert, "certificate"), (key, "key")):
        if path is not None and not path.is_file():
            raise TlsError(f"the TLS {what} {path} does not exist or is not a file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as error:
        raise TlsError(
            f"cannot use the TLS certificate {cert}" + (f" with the key {key}" if key else "") +
            f": {error.reason or error} (both must be PEM, the key unencrypted and matching the "
            "certificate; without --tls-key the key must be in the certificate file)") from error
    except OSError as error:
        raise TlsError(f"cannot read the TLS certificate {cert} or key {key}: "
                       f"{error.strerror or error}") from error
    return context
