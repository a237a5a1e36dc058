"""Sequence accounting for one insole stream: what was sent, received, lost, repeated or late.

Pure bookkeeping, no I/O. One :class:`SequenceTracker` covers one *stream*:
the packets an insole numbers from 0 after a ``START_STREAMING`` (``PROTOCOL.md``
section 4). The firmware numbers a packet when it forms it and a lost packet
takes its number with it, so the highest number seen (plus one) is how many
packets the insole sent up to then, and every missing number is exactly one
lost packet, whether it was lost in the firmware or in the air.

Numbers are uint32 on the wire and wrap after 2**32 - 1; the tracker unwraps
them to plain increasing ints (a stream index), taking the nearest candidate
to the highest index seen so far.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

__all__ = ["SEQUENCE_MODULUS", "Arrival", "SequenceCounts", "SequenceTracker", "unwrap_sequence"]

SEQUENCE_MODULUS = 1 << 32
_HALF = SEQUENCE_MODULUS >> 1


def unwrap_sequence(sequence: int, highest: int) -> int:
    """The stream index of a wire ``sequence`` nearest to the ``highest`` index seen.

    ``unwrap_sequence(3, 2**32 - 2) == 2**32 + 3``; ``unwrap_sequence(5, 9) == 5``.
    A result can be negative (a number "before" the stream began); callers treat
    that as a packet that cannot belong to this stream.
    """
    delta = (sequence - highest) % SEQUENCE_MODULUS
    if delta >= _HALF:
        delta -= SEQUENCE_MODULUS
    return highest + delta


class Arrival(enum.Enum):
    """How a packet's number relates to the numbers seen before it in its stream."""

    #: Higher than every number seen so far (possibly after a gap).
    NEW = "new"
    #: Lower than the highest seen and not seen before: it overtook nothing, it came late.
    REORDERED = "reordered"
    #: Seen before (the bytes are counted once).
    DUPLICATE = "duplicate"
    #: Too old to tell (further behind than the tracking window) or before the stream began.
    STALE = "stale"


@dataclass(frozen=True)
class SequenceCounts:
    """Packet counts of one stream.

    ``sent`` is the highest index seen plus one (the insole numbered that many
    packets; trailing packets that never arrived cannot be known from numbers
    alone). ``lost = sent - received``.
    """

    sent: int
    received: int
    duplicates: int
    reordered: int
    stale: int

    @property
    def lost(self) -> int:
        return self.sent - self.received


class SequenceTracker:
    """Classifies each packet number of one stream and keeps the counts.

    ``window`` is how far behind the highest number a packet may arrive and
    still be recognised as reordered or duplicate; older ones are ``STALE``.
    """

    def __init__(self, window: int = 8192) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self._window = window
        self._seen = np.zeros(window, dtype=bool)  # ring, indexed by stream index % window
        self.highest = -1
        self.received = 0
        self.duplicates = 0
        self.reordered = 0
        self.stale = 0

    def observe(self, sequence: int) -> tuple[Arrival, int]:
        """Account one received packet; return how it arrived and its stream index."""
        index = unwrap_sequence(sequence, max(self.highest, 0))
        if index > self.highest:
            self._advance_to(index)
            self._seen[index % self._window] = True
            self.received += 1
            return Arrival.NEW, index
        if index < 0 or index <= self.highest - self._window:
            self.stale += 1
            return Arrival.STALE, index
        slot = index % self._window
        if self._seen[slot]:
            self.duplicates += 1
            return Arrival.DUPLICATE, index
        self._seen[slot] = True
        self.received += 1
        self.reordered += 1
        return Arrival.REORDERED, index

    def _advance_to(self, index: int) -> None:
        """Clear the ring slots of the indices between the old highest and ``index``."""
        first, count = self.highest + 1, index - self.highest
        if count >= self._window:
            self._seen[:] = False
        else:
            start = first % self._window
            end = start + count
            if end <= self._window:
                self._seen[start:end] = False
            else:
                self._seen[start:] = False
                self._seen[: end - self._window] = False
        self.highest = index

    @property
    def counts(self) -> SequenceCounts:
        return SequenceCounts(
            sent=self.highest + 1,
            received=self.received,
            duplicates=self.duplicates,
            reordered=self.reordered,
            stale=self.stale,
        )
