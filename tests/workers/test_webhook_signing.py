"""The webhook signature as a receiver checks it, with nothing but the standard library."""

from __future__ import annotations

import hashlib
import hmac

from engine.signing import sign, verify


def test_signature_is_hmac_sha256_a_receiver_can_recompute() -> None:
    body = '{"event":"submission.created","name":"Jörg"}'.encode()
    header = sign(body, b"s3cret")
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"
    assert verify(body, b"s3cret", header)


def test_verify_refuses_other_body_secret_or_garbage() -> None:
    body = b'{"a":1}'
    header = sign(body, b"k")
    assert not verify(b'{"a":2}', b"k", header)
    assert not verify(body, b"other", header)
    assert not verify(body, b"k", None)
    assert not verify(body, b"k", "")
    assert not verify(body, b"k", header.removeprefix("sha256="))
    assert not verify(body, b"k", "sha256=zz\u00e4")
