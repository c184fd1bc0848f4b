"""What a burst of sign-ups costs a worker's memory: Argon2id holds its memory cost per hash at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from service.settings import Settings

# Run in a fresh interpreter: what the process's allocator keeps is what this test is about, and
# the test process has allocated (and kept) plenty of its own.
_BURST = textwrap.dedent(
    """
    import asyncio, re
    from service.settings import Settings
    from service.users.security import create_password_hasher, hash_password, keep_large_blocks_returnable

    def mib(field):
        status = open("/proc/self/status").read()
        return int(re.search(field + r":\\s+(\\d+) kB", status).group(1)) / 1024

    async def burst():
        hasher = create_password_hasher(Settings())  # the production cost
        await asyncio.gather(*(hash_password(hasher, f"password-{n}") for n in range(100)))

    keep_large_blocks_returnable()  # what create_app does
    before = mib("VmRSS")
    asyncio.run(burst())
    print(before, mib("VmHWM"), mib("VmRSS"))
    """
)
_HASH_MIB = Settings().argon2_memory_kib / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_burst_of_100_password_hashes_is_bounded_and_given_back() -> None:
    result = subprocess.run([sys.executable, "-c", _BURST], capture_output=True, text=True, check=True, timeout=120)
    before, peak, after = map(float, result.stdout.split())
    cores = len(os.sched_getaffinity(0))
    # One hash per core at a time (asyncio's default pool would run cores + 4: 6 blocks at once on 2 cores).
    assert peak - before < (cores + 1) * _HASH_MIB, f"peak RSS {before:.0f} -> {peak:.0f} MiB on {cores} cores"
    # And the memory goes back: with glibc's sliding mmap threshold the process keeps a block per
    # hashing thread (+2 blocks on 2 cores); with the threshold fixed, under 1 MiB.
    assert after - before < _HASH_MIB, f"RSS {before:.0f} MiB before the burst, {after:.0f} MiB after"
