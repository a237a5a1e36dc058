"""The package version, read from the installed metadata so that it has one source."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("insole")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
