"""``omnigate webhooks dead-letters`` and ``omnigate webhooks replay``: what an operator does
with webhook deliveries the gateway kept because it could not apply them.

Listing shows each letter's identity and reason, never its body (personal data). Replaying
runs a letter through the webhook route again (:meth:`gateway.webhooks.WebhookRoute.replay`),
once the cause is fixed: a letter that applies is deleted, one that fails again is kept with
the new reason. See docs/runbooks.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connectors.records import Source
from gateway.webhooks import Outcome, WebhookRoute
from resolvers.store import DeadLetter, WebhookStore


@dataclass(frozen=True, slots=True)
class Replayed:
    letter: DeadLetter
    outcome: Outcome

    @property
    def applied(self) -> bool:
        return self.outcome.status == 200 and not self.outcome.dead_lettered

    def line(self) -> str:
        body = self.outcome.body
        if self.applied:
            result = f"applied {body.get('applied', 0)}, duplicates {body.get('duplicates', 0)}"
        elif self.outcome.dead_lettered:
            result = f"still dead: {body.get('reason')}"
        else:
            result = f"not now ({body.get('code')}): retry later"
        return f"{self.letter.source} {self.letter.body_digest[:16]} {result}"


def describe(letter: DeadLetter) -> str:
    """One line per letter: when, vendor, topic, event id, digest, deliveries, reason."""
    return "  ".join(
        (
            letter.received_at.isoformat(timespec="seconds"),
            str(letter.source),
            letter.topic or "-",
            letter.event_id or "-",
            letter.body_digest,
            f"x{letter.deliveries}",
            letter.reason,
        )
    )


async def list_letters(
    webhooks: WebhookStore, *, source: Source | None = None, limit: int = 100
) -> list[DeadLetter]:
    return await webhooks.dead_letters(source, limit=limit)


async def replay_letters(
    route: WebhookRoute,
    webhooks: WebhookStore,
    *,
    source: Source | None = None,
    digest: str | None = None,
    limit: int = 100,
    report: Callable[[Replayed], None] | None = None,
) -> list[Replayed]:
    """Replay the letter with ``digest`` (a prefix is enough when it is unambiguous), or every
    letter (of ``source``), oldest first, so events apply in the order they arrived."""
    letters = await webhooks.dead_letters(source, limit=limit)
    if digest is not None:
        letters = [d for d in letters if d.body_digest.startswith(digest)]
        if len(letters) > 1:
            raise ValueError(f"{digest!r} names {len(letters)} letters; give more of the digest")
    done = []
    for letter in reversed(letters):
        replayed = Replayed(letter, await route.replay(letter))
        done.append(replayed)
        if report is not None:
            report(replayed)
    return done
