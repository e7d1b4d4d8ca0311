"""The executors build decimals and closed-set strings with Arrow; both must be exact."""

from decimal import Decimal

import numpy as np
import pyarrow as pa

from synth_spark.job.emitters import decoded, money


def test_money_is_exact_cents_including_negative_and_beyond_32_bits():
    cents = np.array([0, 1, 99, 100, -1, -12345, 2**31 + 7, -(2**31) - 7, 99_999_999_99], dtype=np.int64)
    arr = money(cents)
    assert arr.type == pa.decimal128(10, 2)
    assert arr.to_pylist() == [Decimal(int(c)).scaleb(-2) for c in cents]
    assert money(cents, precision=14).type == pa.decimal128(14, 2)


def test_money_of_nothing_is_an_empty_decimal_array():
    assert len(money(np.array([], dtype=np.int64))) == 0


def test_decoded_maps_codes_to_values_and_none_to_null():
    arr = decoded(np.array([2, 0, 1, 0], dtype=np.int8), (None, "voluntary", "payment_failed"))
    assert arr.type == pa.string()
    assert arr.to_pylist() == ["payment_failed", None, "voluntary", None]
    assert decoded(np.array([True, False]), ("payment", "retry")).to_pylist() == ["retry", "payment"]
