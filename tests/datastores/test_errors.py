"""What a driver says reaches the person, the log and the timeline: its first line only, cut
short, with any personal value it quotes redacted."""

from __future__ import annotations

from faker import Faker

from jagadata.datastores.errors import driver_reason


class _DriverError(Exception):
    pass


class _Wrapped(Exception):
    def __init__(self, orig: BaseException) -> None:
        super().__init__("wrapped")
        self.orig = orig


def test_a_driver_message_quoting_a_row_s_values_is_redacted() -> None:
    fake = Faker("id_ID")
    fake.seed_instance(8)
    email, phone = fake.email(), "+6281234567890"
    said = driver_reason(
        _Wrapped(
            _DriverError(f"(1062, \"Duplicate entry '{email}' for key 'email'\")\nDETAIL: {phone}")
        )
    )
    assert email not in said and "Duplicate entry" in said and "for key 'email'" in said
    assert phone not in said  # the second line is never shown
    assert driver_reason(_DriverError("x" * 1000)) == "x" * 300
    assert driver_reason(_DriverError("")) == "_DriverError"
