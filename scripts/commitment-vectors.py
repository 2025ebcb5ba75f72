#!/usr/bin/env python3
"""Computes the commitment wire-format v1 test vector independently of the Rust code.

Needs `pip install pycryptodome`. The values it prints are the ones asserted by
pallets/primitives/tests/commitment.rs and documented in pallets/primitives/src/commitment.rs.
"""
import hashlib
import struct

from Crypto.Cipher import ChaCha20_Poly1305


def blake2_256(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


key = bytes(range(32))
task, round_, worker = 42, 1, b"\x11" * 32
context = struct.pack("<Q", task) + struct.pack("<I", round_) + worker
nonce = blake2_256(b"replica/nonce/v1" + context)[:24]
# SCALE(ResultPayload::Text(TextResult { tokens_digest: [0xaa; 32], text: b"hello" }))
payload = b"\x01" + b"\xaa" * 32 + bytes([len(b"hello") << 2]) + b"hello"
cipher = ChaCha20_Poly1305.new(key=key, nonce=nonce)  # 24-byte nonce: XChaCha20-Poly1305
cipher.update(context)
body, tag = cipher.encrypt_and_digest(payload)
ciphertext = body + tag
commitment = blake2_256(b"replica/commit/v1" + context + key + ciphertext)
print("nonce     ", nonce.hex())
print("ciphertext", ciphertext.hex())
print("commitment", commitment.hex())
