"""The pairs a re-match's researchers' blocks found, kept for its needs' blocks.

A researchers' block ranks its researchers' best needs; the pair is stored by the block of its
need, together with that need's own ranking (app/domain/matching/runs.py). Between the two the
pairs wait here, by need block, one entry per researchers' block: a block run again replaces
its own entries, never adds to them. Workers on several machines share them through Redis
(16 bytes a pair: 32 MB at province scale, 320 MB at 10x national, for the run's duration); a
run in one process keeps them in memory.
"""
import numpy as np

from app.core.queue import redis_connection

PAIR = np.dtype([("need", "<i4"), ("researcher", "<i4"), ("score", "<f8")])
# Kept this long at most (seconds), should the run never end to remove them.
TTL = 7 * 24 * 3600


def pairs(need_ids, researcher_ids, scores) -> np.ndarray:
    found = np.empty(len(need_ids), dtype=PAIR)
    found["need"], found["researcher"], found["score"] = need_ids, researcher_ids, scores
    return found


class MemoryStash:
    """For a run whose blocks all run in this process (``flask matching rematch --inline``)."""

    def __init__(self):
        self.kept = {}

    def put(self, run_id: int, researcher_block: int, by_need_block: dict) -> None:
        for need_block, found in by_need_block.items():
            self.kept.setdefault((run_id, need_block), {})[researcher_block] = found

    def get(self, run_id: int, need_block: int) -> np.ndarray:
        parts = self.kept.get((run_id, need_block), {})
        return _joined([parts[number] for number in sorted(parts)])

    def clear(self, run_id: int, need_blocks) -> None:
        for number in need_blocks:
            self.kept.pop((run_id, number), None)


class RedisStash:
    """For workers anywhere: a Redis hash per need block, a field per researchers' block."""

    def __init__(self, connection=None):
        self.redis = connection or redis_connection()

    @staticmethod
    def key(run_id: int, need_block: int) -> str:
        return f"rematch:{run_id}:pairs:{need_block}"

    def put(self, run_id: int, researcher_block: int, by_need_block: dict) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            for need_block, found in by_need_block.items():
                key = self.key(run_id, need_block)
                pipe.hset(key, str(researcher_block), found.astype(PAIR).tobytes())
                pipe.expire(key, TTL)
            pipe.execute()

    def get(self, run_id: int, need_block: int) -> np.ndarray:
        parts = self.redis.hgetall(self.key(run_id, need_block))
        return _joined([np.frombuffer(parts[field], dtype=PAIR)
                        for field in sorted(parts, key=int)])

    def clear(self, run_id: int, need_blocks) -> None:
        keys = [self.key(run_id, number) for number in need_blocks]
        if keys:
            self.redis.delete(*keys)


def _joined(parts) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=PAIR)
