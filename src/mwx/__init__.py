"""mwx: a missile-warning exchange — simulate, track, share, fuse and warn."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mwx")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
