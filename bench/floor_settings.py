"""MoonVPN's settings with the floor's URLconf (bench/floor.py); for the benchmark only."""

from moonvpn.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor"
