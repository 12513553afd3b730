"""Fetch and verify dataset files into the data directory (mirror first, then the network).

    python scripts/fetch_data.py all             # every registered file
    python scripts/fetch_data.py coil20 mnist    # the files of these dataset configs
    python scripts/fetch_data.py --list

Exit status is non-zero when any file could not be fetched or verified.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasets.fetch import ChecksumError, MissingDataError, data_dir, fetch  # noqa: E402
from datasets.sources import SOURCES  # noqa: E402

# which registered files each dataset config reads
_BY_DATASET = {
    "mnist": [p for p in SOURCES if p.startswith("mnist/")],
    "fashion_mnist": [p for p in SOURCES if p.startswith("fashion_mnist/")],
    "usps": ["usps/zip.train.gz", "usps/zip.test.gz"],
    "isolet_uci": ["isolet_uci/isolet1+2+3+4.data.Z", "isolet_uci/isolet5.data.Z"],
    "har": ["har/UCI HAR Dataset.zip"],
    "spambase": ["extras/spambase/spam.data"],
    "cifar10": ["cifar10/cifar-10-python.tar.gz"],
    "cifar100": ["cifar100/cifar-100-python.tar.gz"],
}


def files_for(name: str) -> list[str]:
    if name == "all":
        return list(SOURCES)
    if name in _BY_DATASET:
        return _BY_DATASET[name]
    from omegaconf import OmegaConf

    from datasets.registry import CONFIG_DIR

    cfg = CONFIG_DIR / f"{name}.yaml"
    if cfg.exists():
        file = OmegaConf.load(cfg).get("file")
        if file:
            return [file]
        return []  # bundled or generated data: nothing to fetch
    raise SystemExit(f"unknown dataset {name!r}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=["all"])
    ap.add_argument("--list", action="store_true", help="list registered files and exit")
    ap.add_argument("--offline", action="store_true", help="never use the network")
    args = ap.parse_args(argv)
    if args.list:
        for p, s in SOURCES.items():
            print(f"{p:45s} {s.digest or 'unpinned'}")
        return 0
    wanted = list(dict.fromkeys(f for n in args.names for f in files_for(n)))
    print(f"data directory: {data_dir()}")
    failed = 0
    for rel in wanted:
        try:
            where = fetch(rel, allow_download=not args.offline)
            print(f"ok       {rel}  <- {where}")
        except (MissingDataError, ChecksumError) as exc:
            failed += 1
            print(f"FAILED   {rel}\n{exc}\n", file=sys.stderr)
    print(f"{len(wanted) - failed} of {len(wanted)} file(s) ready")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
