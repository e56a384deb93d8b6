import subprocess
import sys

import pytest

from jobs.settings import SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.redis.url == "redis://127.0.0.1:6379/0"
    assert settings.web.port == 5000
    assert settings.access.admin_token is None
    assert settings.scheduler.enabled is True


def test_values_are_typed() -> None:
    settings = load_settings(
        {
            "REDIS_URL": "rediss://:secret@example.com:6380/2?ssl_cert_reqs=none",
            "PORT": "8080",
            "JOB_CONCURRENCY": "4",
            "JOB_MAX_RETRIES": "0",
            "ENABLE_TASK_SCHEDULING": "false",
            "LOG_LEVEL": "debug",
            "QUEUES": "a, b",
        }
    )
    assert settings.web.port == 8080
    assert settings.worker.concurrency == 4
    assert settings.worker.max_retries == 0
    assert settings.scheduler.enabled is False
    assert settings.process.log_level == "DEBUG"
    assert settings.worker.queues == ("a", "b")


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("PORT", "abc", "whole number"),
        ("PORT", "70000", "at most"),
        ("REDIS_URL", "http://localhost", "redis://"),
        ("REDIS_URL", "redis://", "no host"),
        ("REDIS_URL", "redis://localhost:port/0", "bad port"),
        ("REDIS_URL", "redis://localhost/db", "database number"),
        ("JOB_CONCURRENCY", "0", "at least 1"),
        ("ENABLE_TASK_SCHEDULING", "maybe", "true or false"),
        ("LOG_LEVEL", "chatty", "one of"),
        ("ADMIN_TOKEN", "short", "16 characters"),
        ("TASK_MODULES", "not a module", "dotted module"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: value})
    assert caught.value.variable == variable
    assert fragment in str(caught.value)


@pytest.mark.parametrize("module", ["jobs.worker", "scheduler", "web.server"])
def test_processes_refuse_bad_settings_with_one_line(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module],
        env={"PORT": "abc", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "taskyard: configuration error: PORT: expected a whole number, got 'abc'"


def test_redis_tls_verify_false_accepts_a_self_signed_managed_redis() -> None:
    """Heroku's Redis add-on hands out a bare rediss:// URL with a self-signed certificate."""
    unverified = load_settings({"REDIS_URL": "rediss://:pw@redis.example:6380", "REDIS_TLS_VERIFY": "false"})
    assert unverified.redis.url == "rediss://:pw@redis.example:6380?ssl_cert_reqs=none"
    verified = load_settings({"REDIS_URL": "rediss://:pw@redis.example:6380"})
    assert verified.redis.url == "rediss://:pw@redis.example:6380"
    own = load_settings({"REDIS_URL": "rediss://h:1/0?ssl_cert_reqs=required", "REDIS_TLS_VERIFY": "false"})
    assert own.redis.url == "rediss://h:1/0?ssl_cert_reqs=required"
    plain = load_settings({"REDIS_URL": "redis://h:1/0", "REDIS_TLS_VERIFY": "false"})
    assert plain.redis.url == "redis://h:1/0"
