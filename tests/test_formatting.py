"""The one way sizes, numbers and names are written, by the app and the commands alike."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meteorgui import formatting as fmt


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1536, "1.5 kB"),
        (99_949, "99.9 kB"),
        (99_950, "100 kB"),
        (999_499, "999 kB"),
        (999_500, "1.0 MB"),
        (12_345_678, "12.3 MB"),
        (5 * 10**12, "5.0 TB"),
        (5 * 10**16, "50000 TB"),
        (None, "—"),
    ],
)
def test_size_is_decimal_with_three_significant_figures(n, text):
    assert fmt.size(n) == text


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=10**15))
def test_a_larger_size_never_reads_smaller(a, extra):
    def value(text: str) -> float:
        number, unit = text.split()
        return float(number) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]

    assert value(fmt.size(a + extra)) >= value(fmt.size(a))
