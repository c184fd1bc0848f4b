"""Schemathesis hooks for qa/test_contract.py (loaded through SCHEMATHESIS_HOOKS).

Each generated Idempotency-Key is replaced by a fresh UUID: generated keys repeat ("0", "00"), and
the API rightly refuses a key reused with another body (422), which Schemathesis would report as a
valid request rejected. Negative cases and malformed keys are left alone, so their 422 is still
checked; key reuse and replay are checked by qa/test_retries.py.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    if case.meta is not None and case.meta.generation.mode.is_negative:
        # Negative cases expect a refusal anyway, and Schemathesis revalidates a case a hook
        # changed: a missing-Authorization case would then be sent with the token after all.
        return
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and _VALID_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
