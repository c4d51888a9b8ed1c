"""Token streams: chat-template deltas, the token-level env wrapper, trajectories and collation."""

from toolgym.tokens.chat import ChatTokenizer
from toolgym.tokens.env import Generation, TokenEnv
from toolgym.tokens.trajectory import Batch, Segment, Trajectory, collate, token_logprobs

__all__ = [
    "Batch",
    "ChatTokenizer",
    "Generation",
    "Segment",
    "TokenEnv",
    "Trajectory",
    "collate",
    "token_logprobs",
]
