"""Every remote data file: its path in the data directory, where to download it, its digest.

This is the one place where URLs and checksums live. ``path`` is relative to the data
directory and to the mirror (it matches the layout of the project's shared mirror).

Digests are ``"sha256:<hex>"`` or, where only an md5 is published, ``"md5:<hex>"``.
``content=True`` means the digest is of the *decompressed* bytes of a ``.gz`` file: the
MNIST, Fashion-MNIST and USPS archives circulate re-compressed (Debian, PyPI wheels, the
mirror), with different gzip headers but identical content, and all of them should verify.
``digest=None`` marks a file for which no published checksum was found; it downloads with a
warning that prints its sha256 so that it can be pinned here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SOURCES", "Source"]


@dataclass(frozen=True)
class Source:
    path: str
    urls: tuple[str, ...]
    digest: str | None
    content: bool = False  # digest of the decompressed content (gzip files)
    note: str = ""


_SKF_ASU = "https://jundongl.github.io/scikit-feature/files/datasets/"
_AUTOUFS = ("https://raw.githubusercontent.com/farhadabedinzadeh/AutoUFSTool/"
            "8e3231a12cfe/")
_GENERIC = "https://raw.githubusercontent.com/ImYoungUn/GenericAlgorithms/32f0ce766ba6/dataset/"
_ZHANG = ("https://raw.githubusercontent.com/Zhang-ZeSheng/Feature-Selection-Datasets/"
          "c03e9e89403b/")
_ESL = "https://hastie.su.domains/ElemStatLearn/datasets/"
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/"


def _s(path, urls, digest, **kw):
    return Source(path, tuple(urls), digest, **kw)


SOURCES: dict[str, Source] = {s.path: s for s in [
    # scikit-feature .mat files (Li et al., "Feature Selection: A Data Perspective")
    _s("coil20/COIL20.mat", [_AUTOUFS + "COIL20.mat", _SKF_ASU + "COIL20.mat"],
       "sha256:4595ebdda07f47b0eb014fcfaddc22b452f9aed9c1d9261a0d5bc336c1ee1344"),
    _s("isolet/Isolet.mat", [_GENERIC + "Isolet.mat", _SKF_ASU + "Isolet.mat"],
       "sha256:9e97b91e5cf97cd6a190fc0f2cbbc935244fe8d61060bdab85dc55f0b70e91bf"),
    _s("basehock/BASEHOCK.mat", [_GENERIC + "BASEHOCK.mat", _SKF_ASU + "BASEHOCK.mat"],
       "sha256:d1c122649d9f000baf64ceb956b50a487317847c5b0d72b63101445a02f6c0f7"),
    _s("prostate_ge/Prostate_GE.mat",
       [_GENERIC + "Prostate_GE.mat", _SKF_ASU + "Prostate_GE.mat"],
       "sha256:1aaebb18a96a61fe0ebd92174ac27afa47caecfde5b0da4f377b998a49b8517a"),
    _s("arcene/arcene.mat", [_AUTOUFS + "UFSs/RNE/arcene.mat", _SKF_ASU + "arcene.mat"],
       "sha256:779d678207b9a8c0ba8f2f5ecdb2216d9f98bf475ab040e806797efd36331bc5"),
    _s("madelon/madelon.mat", [_AUTOUFS + "UFSs/RNE/madelon.mat", _SKF_ASU + "madelon.mat"],
       "sha256:7dc9c9ff8d902651948e2df7f9cb6ed38c5d91e4c4159914cecb1ddbc7def12c"),
    _s("extras/allaml/ALLAML.mat", [_AUTOUFS + "UFSs/RNE/ALLAML.mat"],
       "sha256:cf3eeafb0ad11fc20a1cf28ed16c6eb346b627b490680ff84e7ad448d93d805e"),
    _s("extras/colon/colon.mat",
       ["https://raw.githubusercontent.com/wzkhan89/TOCDMB_Sourcecode/55db6560b797/data/"
        "colon.mat"],
       "sha256:ffcdeba03eb67cec403fa1dc9f827c22a6e2c57786bf3e01dfe1b4b3e25e0a2f"),
    _s("extras/leukemia/leukemia.mat", [_ZHANG + "leukemia.mat"],
       "sha256:7a6a43094c4c8d745f94e814d923a33236b3ded211d1d561655381a3963ffd78"),
    _s("extras/lymphoma/lymphoma.mat", [_ZHANG + "lymphoma.mat"],
       "sha256:5b46f7bd8e82752468a2e525b3348b39c2f2ceedbae2bb2b2e1debf548a36901"),
    _s("extras/orl/ORL.mat", [_GENERIC + "ORL.mat", _SKF_ASU + "ORL.mat"],
       "sha256:040d530ac8b958150100b35e5e50d90c0cc6f4aed5c6a328dd7554b765171fc8"),
    _s("extras/yale/Yale.mat", [_GENERIC + "Yale.mat", _SKF_ASU + "Yale.mat"],
       "sha256:207a027a8796bf42f6357dafa448c41211f7314dad3a3482b7edfa93def1eacd"),
    _s("extras/warpar10p/warpAR10P.mat", [_AUTOUFS + "UFSs/RNE/warpAR10P.mat"],
       "sha256:f0b13577a0de53131b5cd15ea3adb67561b48d45ea80f3ec39715a0a5bd86241"),
    _s("extras/warppie10p/warpPIE10P.mat", [_GENERIC + "warpPIE10P.mat"],
       "sha256:503810766c197ae21b744cade746b029e1b320e827c2538f0c72b45dfa31496d"),
    _s("smk_can_187/SMK_CAN_187.mat", [_GENERIC + "SMK_CAN_187.mat",
                                       _SKF_ASU + "SMK_CAN_187.mat"], None,
       note="about 30 MB; no published checksum found"),
    _s("gla_bra_180/GLA-BRA-180.mat", [_GENERIC + "GLA-BRA-180.mat",
                                       _SKF_ASU + "GLA-BRA-180.mat"], None,
       note="about 70 MB; no published checksum found"),
    # MNIST-style IDX (content digests = the canonical LeCun / Zalando files)
    *[_s(f"mnist/{f}", [_MNIST + f], d, content=True) for f, d in [
        ("train-images-idx3-ubyte.gz",
         "sha256:ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        ("train-labels-idx1-ubyte.gz",
         "sha256:65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        ("t10k-images-idx3-ubyte.gz",
         "sha256:0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        ("t10k-labels-idx1-ubyte.gz",
         "sha256:ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ]],
    *[_s(f"fashion_mnist/{f}", [_FASHION + f], d, content=True) for f, d in [
        ("train-images-idx3-ubyte.gz",
         "sha256:c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        ("train-labels-idx1-ubyte.gz",
         "sha256:bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        ("t10k-images-idx3-ubyte.gz",
         "sha256:5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        ("t10k-labels-idx1-ubyte.gz",
         "sha256:0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ]],
    # USPS in the ESL text format (Hastie, Tibshirani, Friedman)
    _s("usps/zip.train.gz", [_ESL + "zip.train.gz"],
       "sha256:abc9f5c75b997cabe66b5d01727d5a681c69298e1641a8d37b55433a52129dc0",
       content=True),
    _s("usps/zip.test.gz", [_ESL + "zip.test.gz"],
       "sha256:6bde17b4f1cd68e0630cd2751d6495b5795d9165ab2dc4a0be8b7002b732f4cc",
       content=True),
    # UCI
    _s("extras/spambase/spam.data", [_ESL + "spam.data", _UCI + "spambase/spambase.data"],
       "sha256:3713db45216898c90b939f058343a8b2317a401e5f018c9a5d7673f7d70a591e"),
    _s("isolet_uci/isolet1+2+3+4.data.Z", [_UCI + "isolet/isolet1+2+3+4.data.Z"], None,
       note="UCI ISOLET training part (6238 rows), compress(1)-ed; no published checksum"),
    _s("isolet_uci/isolet5.data.Z", [_UCI + "isolet/isolet5.data.Z"], None,
       note="UCI ISOLET test part (1559 rows), compress(1)-ed; no published checksum"),
    _s("har/UCI HAR Dataset.zip", [_UCI + "00240/UCI%20HAR%20Dataset.zip"], None,
       note="about 60 MB; no published checksum found"),
    # CIFAR (python pickles)
    _s("cifar10/cifar-10-python.tar.gz",
       ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"],
       "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    _s("cifar100/cifar-100-python.tar.gz",
       ["https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"],
       "md5:eb9058c3a382ffc7106e4002c42a8d85", note="only the md5 is published"),
]}
