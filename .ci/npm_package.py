"""Fetch one npm package tarball from the npm registry, check its sha512, unpack it.

Usage: python .ci/npm_package.py NAME VERSION SHA512_BASE64 DEST

The package lands in DEST (its "package/" folder's content). No npm needed: only the registry.
"""

import base64
import hashlib
import io
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path


def main(name: str, version: str, sha512: str, dest: str) -> None:
    url = f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != sha512:
        sys.exit(f"{url}: sha512 {digest} is not the pinned {sha512}")
    target = Path(dest)
    if target.exists():
        shutil.rmtree(target)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("package/") and m.isfile()]
        for member in members:
            member.name = member.name[len("package/"):]
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(target, members=members, **safe)
    print(f"{name} {version}: {len(members)} files in {target}")


if __name__ == "__main__":
    main(*sys.argv[1:])
