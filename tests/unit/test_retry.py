import pytest

from jobs.retry import RetryPolicy


def test_fixed_and_exponential() -> None:
    assert RetryPolicy(max_retries=3, backoff="fixed", delay=10).schedule() == [10, 10, 10]
    assert RetryPolicy(max_retries=4, backoff="exponential", delay=5).schedule() == [5, 10, 20, 40]


def test_exponential_is_capped() -> None:
    policy = RetryPolicy(max_retries=5, backoff="exponential", delay=100, max_delay=300)
    assert policy.schedule() == [100, 200, 300, 300, 300]


def test_explicit_list_repeats_its_last_delay() -> None:
    policy = RetryPolicy(max_retries=6, backoff="list", delays=(60, 300, 900, 3600, 21600))
    assert policy.schedule() == [60, 300, 900, 3600, 21600, 21600]


def test_jitter_stays_within_its_fraction() -> None:
    policy = RetryPolicy(max_retries=1, delay=100, jitter=0.1)
    assert policy.delay_for(1, rand=lambda: 0.0) == pytest.approx(90)
    assert policy.delay_for(1, rand=lambda: 1.0) == pytest.approx(110)
    assert policy.delay_for(1, rand=lambda: 0.5) == pytest.approx(100)


def test_to_rq() -> None:
    assert RetryPolicy().to_rq() is None
    retry = RetryPolicy(max_retries=2, delay=7).to_rq()
    assert retry is not None
    assert retry.max == 2
    assert retry.intervals == [7, 7]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"max_retries": 26}, {"backoff": "linear"}, {"backoff": "list"}, {"delay": -1},
     {"jitter": 2}],
)  # fmt: skip
def test_invalid_policies(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)
