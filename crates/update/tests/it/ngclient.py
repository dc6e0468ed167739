"""A second, independent TUF client for the interop and attack tests:
python-tuf's ngclient, over a real local HTTP server.

Usage: python ngclient.py CONFIG.json   (prints a JSON list of results)

CONFIG: {"serve": DIR, "root": TRUSTED_ROOT_JSON, "allow": {publisher: [hex keys]},
         "runs": [{"repo": SUBDIR, "local": DIR, "target": NAME or null}, ...]}

Runs share nothing but what they name: runs with the same "local" folder
keep python-tuf's trusted metadata between them (for the rollback case).
On top of ngclient's verified target info, the publisher check is the
same one Transit's client makes: the Ed25519 signature of the manifest
(with the same signing context) and the publisher allow-list.
"""

import functools
import hashlib
import http.server
import json
import os
import sys
import threading
import tomllib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from tuf.ngclient import Updater

CONTEXT = b"transit-update-bundle-v1\n"


class BundleUnsigned(Exception):
    pass


class BadBundleSignature(Exception):
    pass


class PublisherNotAllowed(Exception):
    pass


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def check_publisher(info, allow):
    transit = (info.custom or {}).get("transit") or {}
    text, sig = transit.get("manifest"), transit.get("signature")
    if not text or not sig:
        raise BundleUnsigned(f"{info.path} carries no publisher signature")
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["key"]))
        key.verify(bytes.fromhex(sig["signature"]), CONTEXT + text.encode())
    except (InvalidSignature, ValueError) as e:
        raise BadBundleSignature(f"{info.path}: {e!r}")
    manifest = tomllib.loads(text)
    if sig["key"] not in allow.get(manifest["publisher"], []):
        raise PublisherNotAllowed(
            f"publisher {manifest['publisher']!r} with key {sig['key'][:16]} is not on the allow-list"
        )
    payload = manifest["payload"]
    if payload["sha256"] != info.hashes.get("sha256") or payload["length"] != info.length:
        raise BadBundleSignature(f"{info.path}: the target differs from the signed manifest")


def one_run(cfg, run, base):
    with open(cfg["root"], "rb") as f:
        trusted_root = f.read()
    local = run["local"]
    os.makedirs(local, exist_ok=True)
    downloads = os.path.join(local, "downloads")
    os.makedirs(downloads, exist_ok=True)
    updater = Updater(
        metadata_dir=local,
        metadata_base_url=f"{base}/{run['repo']}/metadata/",
        target_dir=downloads,
        target_base_url=f"{base}/{run['repo']}/targets/",
        bootstrap=trusted_root,
    )
    stage = "refresh"
    try:
        updater.refresh()
        result = {"stage": "ok", "error": None, "message": "", "sha256": None}
        if run.get("target"):
            stage = "target"
            info = updater.get_targetinfo(run["target"])
            if info is None:
                raise LookupError(f"{run['target']} is not in the repository")
            stage = "publisher"
            check_publisher(info, cfg["allow"])
            stage = "download"
            path = updater.download_target(info)
            with open(path, "rb") as f:
                result["sha256"] = hashlib.sha256(f.read()).hexdigest()
        return result
    except Exception as e:  # every refusal is reported, by class
        return {"stage": stage, "error": type(e).__name__, "message": str(e), "sha256": None}


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    handler = functools.partial(Quiet, directory=cfg["serve"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        results = [one_run(cfg, run, base) for run in cfg["runs"]]
    finally:
        server.shutdown()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
