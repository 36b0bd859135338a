"""The expert's signature on a report: an Ed25519 key of their own (made by `ascertain key expert new`), the
report's manifest.json signed with it (signature.json beside it), and the check `verify` makes.

What a valid signature proves: the manifest, and through its sha256 list every file of the report, the store
digests and the audit head it records, are byte for byte what the holder of the private key signed. It does
not say who that holder is: the public key's fingerprint must be compared with the one the expert gave the
court or the other side by another channel (`verify --signer-key` or `--fingerprint`). docs/methods.md.

Key files are PEM (PKCS #8 private, SubjectPublicKeyInfo public; `openssl pkey` reads them) with the signer's
name on a line before the PEM block. Ed25519 signatures are deterministic: the same manifest and key give the
same signature bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ascertain.errors import AscertainError
from ascertain.new_files import write_new

SIGNATURE_NAME = "signature.json"
ALGORITHM = "Ed25519"
PRIVATE_HEADER = "ascertain expert signing key (Ed25519): keep it private; whoever holds it signs as you"
PUBLIC_HEADER = "ascertain expert public key (Ed25519): give it, or its fingerprint, to the court and the parties"
SIGNER_RE = re.compile(r"^Signer: (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: Ed25519PrivateKey

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.private.public_key())

    def info(self) -> dict:
        return {"name": self.name, "fingerprint": self.fingerprint, "algorithm": ALGORITHM}


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex: what the expert reads out or files with the court."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def grouped(fp: str, indent: str | None = None) -> str:
    """A fingerprint in groups of four, for reading aloud and comparing by eye; with `indent`, on two lines
    of eight groups each so a terminal of 80 columns never breaks a group."""
    groups = [fp[i:i + 4] for i in range(0, len(fp), 4)]
    if indent is None:
        return " ".join(groups)
    return "\n".join(indent + " ".join(groups[i:i + 8]) for i in range(0, len(groups), 8))


def normalize_fingerprint(text: str) -> str:
    fp = re.sub(r"[\s:]", "", text.strip().lower()).removeprefix("sha256")
    if not re.fullmatch(r"[0-9a-f]{64}", fp):
        raise AscertainError(text, "is not a key fingerprint (64 hex digits, spaces allowed)",
                             "copy the fingerprint `ascertain key expert show` prints")
    return fp


def check_signer_name(name: str) -> str:
    name = name.strip()
    bad = [c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    if not name or len(name) > 200 or bad:
        raise AscertainError(repr(name), "is not a usable signer name (1-200 printable characters, no control "
                             "or direction-changing characters)", "give the expert's name as it should be printed")
    return name


def new_expert_key(path: Path, name: str) -> dict:
    """A new key pair: PATH (private, mode 0600, never overwritten) and PATH.pub (public)."""
    path = Path(path)
    name = check_signer_name(name)
    public_path = path.with_name(path.name + ".pub")
    for p in (path, public_path):
        if p.exists():
            raise AscertainError(str(p), "already exists (a key file is never overwritten: reports signed with it "
                                 "would lose the key their fingerprint names)", "choose another file name")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    _write_new(path, f"{PRIVATE_HEADER}\nSigner: {name}\n".encode() + pem, 0o600)
    _write_new(public_path, _public_pem(name, key.public_key()), 0o644)
    return {"key_file": str(path), "public_key_file": str(public_path), "signer": name,
            "fingerprint": fingerprint(key.public_key()), "algorithm": ALGORITHM}


def _public_pem(name: str, public: Ed25519PublicKey) -> bytes:
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"{PUBLIC_HEADER}\nSigner: {name}\nFingerprint: {grouped(fingerprint(public))}\n".encode() + pem


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        write_new(path, data, mode)
    except OSError as e:
        raise AscertainError(str(path), f"cannot be created ({e.strerror})",
                             "choose a new file in a folder you can write") from e


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise AscertainError(str(path), f"cannot be read ({e.strerror})", "check the key file's path") from e


def _signer(data: bytes, path: Path) -> str:
    m = SIGNER_RE.search(data.split(b"-----BEGIN", 1)[0].decode("utf-8", "replace"))
    if not m:
        raise AscertainError(str(path), "names no signer (no `Signer:` line before the key)",
                             "use a key file made by `ascertain key expert new`")
    return check_signer_name(m.group(1))


def load_signing_key(path: Path, case_root: Path | None = None) -> SigningKey:
    """The private key of PATH. Refused inside the case folder (whoever can write the case could read it and
    re-sign an altered report) and when others than its owner can read it."""
    path = Path(path)
    if case_root is not None and path.resolve().is_relative_to(Path(case_root).resolve()):
        raise AscertainError(str(path), "lies inside the case folder: whoever can change the case could read it "
                             "and sign an altered report", "keep the signing key outside the case (your own "
                             "folder, an encrypted disk or token)")
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise AscertainError(str(path), f"is not an unencrypted PEM private key ({e})",
                             "pass the private key made by `ascertain key expert new` (not the .pub file)") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise AscertainError(str(path), "is not an Ed25519 key", "make one with `ascertain key expert new`")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise AscertainError(str(path), f"can be read by others than its owner (mode {mode:04o})",
                             f"run `chmod 600 {path}`, and consider the key exposed if others could read it")
    return SigningKey(_signer(data, path), key)


def load_public(path: Path) -> dict:
    """{name, fingerprint} of a public key file (or of a private one: its public half)."""
    data = _read(Path(path))
    try:
        if b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as e:
        raise AscertainError(str(path), f"is not a PEM key file ({e})",
                             "pass the .pub file made by `ascertain key expert new`") from e
    if not isinstance(key, Ed25519PublicKey):
        raise AscertainError(str(path), "is not an Ed25519 key", "pass the expert's key from `ascertain key "
                             "expert new`")
    return {"name": _signer(data, Path(path)), "fingerprint": fingerprint(key), "algorithm": ALGORITHM}


def sign_manifest(folder: Path, key: SigningKey, manifest_name: str = "manifest.json") -> bytes:
    """signature.json for the folder's manifest (the bytes, to be written by the caller with the report)."""
    data = (Path(folder) / manifest_name).read_bytes()
    public = key.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    doc = {"algorithm": ALGORITHM, "signed_file": manifest_name, "signed_sha256": hashlib.sha256(data).hexdigest(),
           "signer": key.name, "fingerprint": key.fingerprint, "public_key": base64.b64encode(public).decode(),
           "signature": base64.b64encode(key.private.sign(data)).decode()}
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def check_signature(folder: Path, manifest: dict) -> dict:
    """{signed, valid, signer, fingerprint, problem}: the signature over the folder's manifest.json, and that the
    manifest names the same signer and key (a signature moved from another report names another one)."""
    p = Path(folder) / SIGNATURE_NAME
    if not p.is_file():
        return {"signed": False, "valid": False, "problem": None}
    try:
        doc = json.loads(p.read_bytes())
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(doc["public_key"], validate=True))
        sig = base64.b64decode(doc["signature"], validate=True)
        name, claimed = str(doc["signer"]), str(doc["fingerprint"])
    except (ValueError, KeyError, TypeError) as e:
        return {"signed": True, "valid": False, "problem": f"{SIGNATURE_NAME} cannot be read ({e})"}
    fp = fingerprint(public)
    out = {"signed": True, "valid": False, "signer": name, "fingerprint": fp, "problem": None}
    if doc.get("signed_file") != "manifest.json":
        out["problem"] = "the signature is not over manifest.json"
    elif claimed != fp:
        out["problem"] = "the signature's recorded fingerprint is not its key's"
    else:
        try:
            public.verify(sig, (Path(folder) / "manifest.json").read_bytes())
        except InvalidSignature:
            out["problem"] = ("the signature does not match manifest.json (the manifest changed after signing, "
                              "or the signature was made by another key)")
    if out["problem"] is None:
        signer = manifest.get("signer") or {}
        if signer.get("fingerprint") != fp or signer.get("name") != name:
            out["problem"] = "the manifest names another signer or key than its signature"
        else:
            out["valid"] = True
    return out
