"""Token streams: chat-template deltas, the token-level env wrapper, trajectories and collation."""

from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.env import Generation, TokenEnv
from toolgym.tokens.scoring import Scores, score, token_logprobs
from toolgym.tokens.trajectory import Batch, Segment, Trajectory, collate

__all__ = [
    "Batch",
    "ChatTokenizer",
    "Generation",
    "Scores",
    "Segment",
    "TokenEnv",
    "Trajectory",
    "collate",
    "score",
    "token_logprobs",
]
