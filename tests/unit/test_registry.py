import pytest

from jobs.registry import DuplicateTask, TaskRegistry, UnknownTask, load_tasks
from jobs.retry import RetryPolicy


def test_register_and_lookup() -> None:
    tasks = TaskRegistry()

    @tasks.task("demo.hello", queue="low", timeout=5, retry=RetryPolicy(max_retries=2, delay=3))
    def hello(name: str) -> str:
        """Say hello."""
        return f"hello {name}"

    spec = tasks.get("demo.hello")
    assert spec.func("x") == "hello x"
    assert spec.queue == "low"
    assert spec.timeout == 5
    assert spec.description == "Say hello."
    assert spec.path.endswith("test_register_and_lookup.<locals>.hello")


def test_duplicate_names_are_errors() -> None:
    tasks = TaskRegistry()
    tasks.task("demo.once")(lambda: None)
    with pytest.raises(DuplicateTask):
        tasks.task("demo.once")(lambda: None)


def test_unknown_and_malformed_names() -> None:
    tasks = TaskRegistry()
    with pytest.raises(UnknownTask):
        tasks.get("os.system")
    with pytest.raises(ValueError, match="dotted lowercase"):
        tasks.task("NoDots")(lambda: None)


def test_builtins_are_registered() -> None:
    tasks = load_tasks()
    assert "system.echo" in tasks
    assert "system.sleep" in tasks
    assert tasks.get("system.echo").func(1, a=2) == {"a": 2}
