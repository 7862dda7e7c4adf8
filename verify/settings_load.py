"""The load test's settings: the project's own, served behind ``bench.urls`` (the bare view first)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
