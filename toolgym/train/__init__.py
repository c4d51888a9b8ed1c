"""Training math (advantages and losses, one function per equation).

The GRPO / PPO / SFT training loop that uses these is not built yet (see the open trainer issue).
"""
