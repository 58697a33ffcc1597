#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Wraps layer tarballs into an OCI image layout (and optionally an oci-archive) for the image
tests: hostile or unusual layers are built by the tests with tarfile, then packaged here.

usage: images-mkimage.py OUT_DIR [--archive FILE] [--compress none|gzip|zstd]
                          [--platforms os/arch,...] [--name NAME] LAYER.tar...
--platforms makes index.json point at a nested index with one manifest per platform.
"""
import argparse
import gzip
import hashlib
import json
import os
import subprocess
import tarfile

LAYER_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


def put_blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def compress(data, how):
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE,
                              check=True).stdout
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("layers", nargs="*")
    ap.add_argument("--archive")
    ap.add_argument("--compress", default="gzip", choices=LAYER_TYPES)
    ap.add_argument("--platforms")
    ap.add_argument("--name", default="localhost/test:latest")
    ap.add_argument("--cmd", default='["sh"]')
    ap.add_argument("--bad-diff-id", action="store_true", help="a config that lies about the layers")
    a = ap.parse_intermixed_args()
    os.makedirs(os.path.join(a.out, "blobs", "sha256"), exist_ok=True)
    layers, diff_ids = [], []
    for path in a.layers:
        raw = open(path, "rb").read()
        diff_ids.append("sha256:" + hashlib.sha256(raw + (b"x" if a.bad_diff_id else b"")).hexdigest())
        d = put_blob(a.out, compress(raw, a.compress))
        d["mediaType"] = LAYER_TYPES[a.compress]
        layers.append(d)

    def image_for(os_name, arch, variant=None):
        config = {"architecture": arch, "os": os_name, "created": "2024-01-01T00:00:00Z",
                  "config": {"Cmd": json.loads(a.cmd)},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}}
        c = put_blob(a.out, json.dumps(config).encode())
        c["mediaType"] = "application/vnd.oci.image.config.v1+json"
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": c, "layers": layers}
        d = put_blob(a.out, json.dumps(m).encode())
        d["mediaType"] = m["mediaType"]
        d["platform"] = {"os": os_name, "architecture": arch}
        if variant:
            d["platform"]["variant"] = variant
        return d

    ann = {"io.containerd.image.name": a.name}
    if a.platforms:
        entries = [image_for(*p.split("/")) for p in a.platforms.split(",")]
        idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": entries}
        top = put_blob(a.out, json.dumps(idx).encode())
        top["mediaType"] = idx["mediaType"]
    else:
        top = image_for("linux", "amd64")
        del top["platform"]
    top["annotations"] = ann
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [top]}
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(a.out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    if a.archive:
        with tarfile.open(a.archive, "w") as t:
            for name in ("oci-layout", "index.json", "blobs"):
                t.add(os.path.join(a.out, name), arcname=name)


if __name__ == "__main__":
    main()
