"""The hash chain of a program's entries: each entry's hash is the SHA-256 of the previous
entry's hash and the entry's canonical content.

One home for the canonical form, because three parties must agree on it byte for byte: the
posting path that writes `Entry.hash`, `verify_ledger` that recomputes it, and the bench's
bulk loader that builds a chain without the services.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable


def canonical_content(
    *,
    program_id: int,
    seq: int,
    kind: str,
    contribution_id: int | None,
    payout_id: int | None,
    reverses_hash: str | None,
    memo: str,
    posted_at,
    effective_date,
    postings: Iterable[tuple[str, int, str]],
    adjusts_hash: str | None = None,
    dispute_id: int | None = None,
) -> str:
    """The entry as canonical JSON: what its hash covers (postings sorted, UTC microseconds).

    `postings` are (account code, amount in minor units, currency) triples. An adjustment
    also covers the hash of the entry it adjusts and its dispute's id; the keys appear only
    on adjustments, so every other entry hashes exactly as it did before adjustments existed.
    """
    links = {}
    if adjusts_hash is not None or dispute_id is not None:
        links = {"adjusts": adjusts_hash, "dispute": dispute_id}
    return json.dumps(
        {
            **links,
            "program": program_id,
            "seq": seq,
            "kind": kind,
            "contribution": contribution_id,
            "payout": payout_id,
            "reverses": reverses_hash,
            "memo": memo,
            "posted_at": posted_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "effective_date": effective_date.isoformat(),
            "postings": sorted(
                [code, int(amount), currency] for code, amount, currency in postings
            ),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash(prev_hash: str, content: str) -> str:
    """Hex SHA-256 of the previous hash followed by this entry's canonical content."""
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


def entry_hash(
    entry, postings: Iterable[tuple[str, int, str]], reverses_hash=None, adjusts_hash=None
) -> str:
    """Recompute a stored `Entry`'s hash from its fields and postings (`reverses_hash`,
    `adjusts_hash`: the hashes of the entries it reverses or adjusts)."""
    return chain_hash(
        entry.prev_hash,
        canonical_content(
            program_id=entry.program_id,
            seq=entry.seq,
            kind=entry.kind,
            contribution_id=entry.contribution_id,
            payout_id=entry.payout_id,
            reverses_hash=reverses_hash,
            memo=entry.memo,
            posted_at=entry.posted_at,
            effective_date=entry.effective_date,
            postings=postings,
            adjusts_hash=adjusts_hash,
            dispute_id=entry.dispute_id,
        ),
    )
