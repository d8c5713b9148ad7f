"""Schemathesis hooks of the contract test (tests/api/contract.rs).

Each generated request that carries a valid Idempotency-Key gets a key of its own. The
generator reuses a few short keys across requests with different bodies, and the API refuses
exactly that, as documented (422: "this Idempotency-Key was used with another request body") —
a refusal the positive-data check would count as a valid request rejected. What a repeated key
does is tested by the services' own integration tests; here each request is a new one.
Invalid keys are left as generated, so that their refusal is still checked.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[ -~]*[!-~][ -~]*$")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            key = headers[name]
            if isinstance(key, str) and 1 <= len(key) <= 200 and VALID_KEY.match(key):
                headers[name] = f"contract-{uuid.uuid4()}"
