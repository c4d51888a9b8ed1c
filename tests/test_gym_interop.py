"""Every registered toolgym env behaves like a Gymnasium env: wrappers, vector envs, pickle, copy.

The oracle (:class:`~toolgym.policies.reference.OraclePolicy`) plays each env to success through
Gymnasium's standard wrappers, in ``SyncVectorEnv`` and in spawned ``AsyncVectorEnv`` workers; a
copy made mid-episode with ``pickle`` (here or in a fresh interpreter) or ``copy.deepcopy`` plays
the rest of the episode exactly as the original does.
"""

from __future__ import annotations

import copy
import functools
import pickle
import subprocess
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, RecordEpisodeStatistics, TimeLimit

import toolgym  # noqa: F401  (registers the envs)
from toolgym.llm.backends import BackendError, BackendReply
from toolgym.policies.play import play
from toolgym.policies.reference import OraclePolicy
from toolgym.spaces import Messages, SharedJSON, Text
from toolgym.tasks import Task
from toolgym.tooling import Tool, tool
from toolgym.users import EndpointBackend, LLMUser, UserCache

#: Ids that need a user's argument to exist at all: MCP-v0 wraps the server it is given (its
#: Gymnasium behaviour is tested over a real server in tests/mcp/test_gym_interop_mcp.py).
NEEDS_ARGUMENTS = {"toolgym/MCP-v0"}
ENV_IDS = sorted(e for e in gym.registry if e.startswith("toolgym/") and e not in NEEDS_ARGUMENTS)
Step = tuple[Any, float, bool, bool, dict[str, Any]]
SPLITS = {"mylab/Counters-v0": "train"}  # the conftest's user content has only train tasks


def make(env_id: str, **kwargs: Any) -> gym.Env[Any, Any]:
    """``gym.make`` of the env's test split (BFCL has no other)."""
    return gym.make(env_id, split=SPLITS.get(env_id, "test"), **kwargs)


@functools.cache
def reference(env_id: str) -> Any:
    """An unwrapped env of ``env_id``: the oracle's tool format and the task list."""
    return make(env_id).unwrapped


def oracle(env: Any, task: Task) -> OraclePolicy:
    """The oracle for ``task`` in ``env`` (the unwrapped env it plays: some oracles follow it)."""
    policy = OraclePolicy()
    policy.reset(env, task)
    return policy


@functools.cache
def oracle_actions(env_id: str, task_id: str) -> tuple[str, ...]:
    """The assistant messages with which the oracle solves ``task_id``."""
    result = play(make(env_id), OraclePolicy(), task_id=task_id, seed=0)
    assert result.components["completion"] == 1.0, (env_id, task_id, result.end_reason)
    return tuple(m["content"] for m in result.messages if m["role"] == "assistant")


def long_task(env_id: str) -> str:
    """A task of the env that takes the oracle several steps, if it has one in its first ten."""
    ids = [t.id for t in reference(env_id).tasks[:10]]
    return max(ids, key=lambda task_id: min(len(oracle_actions(env_id, task_id)), 4))


def steps(env: gym.Env[Any, Any], actions: tuple[str, ...]) -> list[Step]:
    """Step ``env`` with each action (the episode must not end before the last)."""
    return [env.step(action) for action in actions]


def play_oracle(env: gym.Env[Any, Any], env_id: str, task_id: str, seed: int = 0) -> list[Step]:
    """Every step of the oracle's episode of ``task_id`` in ``env`` (however wrapped)."""
    env.reset(seed=seed, options={"task_id": task_id})
    policy = oracle(env.unwrapped, env.unwrapped.task)
    played: list[Step] = []
    while not played or not (played[-1][2] or played[-1][3]):
        played.append(env.step(policy.act([])))
    return played


# ---------------------------------------------------------------- wrappers
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_standard_wrappers_play_the_oracle_to_success(env_id):
    base = make(env_id).unwrapped
    check_env(base, skip_render_check=True)
    env = RecordEpisodeStatistics(
        TimeLimit(OrderEnforcing(PassiveEnvChecker(base)), max_episode_steps=50)
    )
    for task in base.tasks[:2]:
        played = play_oracle(env, env_id, task.id)
        info = played[-1][4]
        assert info["reward_components"]["completion"] == 1.0
        assert info["toolgym"]["task_id"] == task.id and info["end_reason"] == "answered"
        stats = info["episode"]  # RecordEpisodeStatistics' own key, not toolgym's summary
        assert set(stats) == {"r", "l", "t"} and stats["l"] == len(played)
        assert stats["r"] == pytest.approx(sum(step[1] for step in played))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_record_episode_statistics_with_defaults_over_two_episodes(env_id):
    env = RecordEpisodeStatistics(make(env_id))
    lengths = []
    for task in reference(env_id).tasks[:2]:
        played = play_oracle(env, env_id, task.id)
        lengths.append(len(played))
        assert played[-1][4]["episode"]["l"] == len(played)
        assert all("episode" not in step[4] for step in played[:-1])
    assert list(env.length_queue) == lengths and len(env.return_queue) == 2


# ------------------------------------------------------------- vector envs
def drive_oracles(envs: VectorEnv, env_ids: list[str], seed: int = 0) -> list[float]:
    """Play the oracle in every sub-env (tasks drawn by seed) once; each one's completion.

    Sub-envs autoreset on the step after their episode ends (``AutoresetMode.NEXT_STEP``); they
    then get an empty message until every sub-env has finished its first episode.
    """
    envs.reset(seed=[seed + i for i in range(envs.num_envs)])
    tasks = envs.get_attr("task")
    # an AsyncVectorEnv's sub-envs live in its workers: script the oracle on a local copy
    played = [e.unwrapped for e in envs.envs] if isinstance(envs, SyncVectorEnv) else None
    policies = [
        oracle(played[i] if played else reference(env_id), task)
        for i, (env_id, task) in enumerate(zip(env_ids, tasks, strict=True))
    ]
    completion: list[float | None] = [None] * envs.num_envs
    while None in completion:
        actions = tuple(
            "" if c is not None else p.act([]) for c, p in zip(completion, policies, strict=True)
        )
        observations, _, terminated, truncated, infos = envs.step(actions)
        assert isinstance(observations, tuple) and len(observations) == envs.num_envs
        for i in np.flatnonzero(terminated | truncated):
            if completion[i] is None:
                completion[i] = float(infos["reward_components"]["completion"][i])
    return [c for c in completion if c is not None]


def test_text_spaces_batch_as_tuples():
    for space, value in ((Messages(), [{"role": "user", "content": "hi"}]), (Text(8), "hi")):
        batched = batch_space(space, 3)
        assert isinstance(batched, gym.spaces.Tuple) and batched.spaces == (space,) * 3
        assert batched.contains(batched.sample())
        empty = create_empty_array(space, 3)
        assert len(empty) == 3 and all(space.contains(v) for v in empty)
        assert concatenate(space, [value, value], empty) == (value, value)


def test_shared_memory_slots_round_trip_any_text_and_refuse_what_does_not_fit():
    import multiprocessing

    memory = SharedJSON(2, 256, multiprocessing)
    odd = [{"role": "tool", "name": "x", "content": "é 🙂 \x00 \ud800 \"'"}]
    memory.write(1, odd)
    assert memory.read(0) is None and memory.read(1) == odd
    with pytest.raises(ValueError, match="shared_memory=False"):
        memory.write(0, [{"role": "user", "content": "x" * 300}])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sync_vector_env_plays_the_oracle_in_four_copies(env_id):
    envs = SyncVectorEnv(
        [functools.partial(make, env_id)] * 4, autoreset_mode=AutoresetMode.NEXT_STEP
    )
    assert envs.observation_space == gym.spaces.Tuple([Messages()] * 4)
    assert drive_oracles(envs, [env_id] * 4) == [1.0] * 4
    envs.close()


def test_make_vec_async_with_spawn_plays_the_oracle_in_four_copies():
    envs = gym.make_vec(
        "toolgym/Calendar-v0",
        num_envs=4,
        vectorization_mode="async",
        vector_kwargs={"context": "spawn"},
        split="test",
    )
    try:
        assert drive_oracles(envs, ["toolgym/Calendar-v0"] * 4, seed=5) == [1.0] * 4
    finally:
        envs.close()


MIXED = [
    "toolgym/Files-v0",
    "toolgym/Travel-v0",
    "toolgym/BFCL-multiple-v0",
    "toolgym/BFCL-irrelevance-v0",
]


def test_async_vector_env_with_spawn_runs_envs_from_their_plain_ids():
    """Spawned workers whose factory is only ``gym.make("toolgym/...")``: toolgym is imported
    there by the shared memory they are handed, which registers the ids."""
    factories = [functools.partial(gym.make, env_id, split="test") for env_id in MIXED]
    envs = AsyncVectorEnv(factories, context="spawn")
    try:
        assert drive_oracles(envs, MIXED) == [1.0] * len(MIXED)
        observations, _ = envs.reset(seed=1)
        assert all(Messages().contains(o) and o[0]["role"] == "system" for o in observations)
    finally:
        envs.close()


def test_import_toolgym_does_not_import_torch():
    code = "import sys, toolgym; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------- pickle, copy
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pickle_round_trips_a_new_env(env_id):
    env = make(env_id)
    clone = pickle.loads(pickle.dumps(env))
    task_id = long_task(env_id)
    assert play_oracle(clone, env_id, task_id) == play_oracle(env, env_id, task_id)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_copy_made_mid_episode_plays_the_rest_identically(env_id, how):
    task_id = long_task(env_id)
    actions = oracle_actions(env_id, task_id)
    cut = len(actions) // 2
    env = make(env_id)
    env.reset(seed=3, options={"task_id": task_id})
    steps(env, actions[:cut])
    clone = pickle.loads(pickle.dumps(env)) if how == "pickle" else copy.deepcopy(env)
    rest = steps(env, actions[cut:])
    assert steps(clone, actions[cut:]) == rest
    assert rest[-1][2] and rest[-1][4]["reward_components"]["completion"] == 1.0  # terminated


REPLAY = """
import pickle, sys
played = []
for blob in pickle.loads(sys.stdin.buffer.read()):
    env, actions = pickle.loads(blob)
    played.append([env.step(action) for action in actions])
sys.stdout.buffer.write(pickle.dumps(played))
"""


def test_envs_pickled_mid_episode_continue_in_a_fresh_interpreter(counters_env_id):
    """The suites are imported again there (from their folders, a user content root included)."""
    env_ids = [*ENV_IDS, counters_env_id]
    blobs, expected = [], []
    for env_id in env_ids:
        task_id = long_task(env_id)
        actions = oracle_actions(env_id, task_id)
        cut = len(actions) // 2
        env = make(env_id)
        env.reset(seed=0, options={"task_id": task_id})
        steps(env, actions[:cut])
        blobs.append(pickle.dumps((env, actions[cut:])))
        expected.append(steps(env, actions[cut:]))
    done = subprocess.run(
        [sys.executable, "-c", REPLAY], input=pickle.dumps(blobs), capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert pickle.loads(done.stdout) == expected


class SeededBackend:
    """A user model stand-in: replies name the call's seed (which hashes the conversation)."""

    fingerprint = "seeded"

    def complete(self, messages: list[dict[str, str]], seed: int) -> BackendReply:
        return BackendReply(f"It is the day number {seed % 97}.", 10, 5)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_an_env_with_a_model_user_and_its_cache_copies_mid_episode(tmp_path, how):
    user = LLMUser(
        SeededBackend(), cache=UserCache(tmp_path / "users.sqlite"), ending="signal_or_answer"
    )
    env = gym.make("toolgym/Calendar-v0", split="test", user=user)
    task_id = "calendar-test-006"  # under-specified: the oracle asks the user first
    actions = oracle_actions("toolgym/Calendar-v0", task_id)
    env.reset(seed=0, options={"task_id": task_id})
    assert env.step(actions[0])[0][0]["role"] == "user"
    clone = pickle.loads(pickle.dumps(env)) if how == "pickle" else copy.deepcopy(env)
    assert steps(clone, actions[1:]) == steps(env, actions[1:])
    assert len(clone.unwrapped.user.cache) == 1  # the copy records into the same file


def test_an_endpoint_backend_pickles_as_its_config_even_after_a_failed_call():
    from toolgym.policies import OpenAIConfig

    config = OpenAIConfig(base_url="http://127.0.0.1:9/v1", model="m", max_retries=0)
    backend = EndpointBackend(config)
    with pytest.raises(BackendError):
        backend.complete([{"role": "user", "content": "hi"}], seed=0)
    clone = pickle.loads(pickle.dumps(backend))
    assert isinstance(clone, EndpointBackend) and clone.config == config
    assert copy.deepcopy(backend) is backend
    clone.close()
    backend.close()


def test_a_decorated_tool_pickles_by_reference_and_others_by_their_function():
    suite = reference("toolgym/Calendar-v0").suite
    for t in suite.tools:
        assert pickle.loads(pickle.dumps(t)) is t and copy.deepcopy(t) is t
    assert pickle.loads(pickle.dumps(suite)) is suite and copy.deepcopy(suite) is suite
    standalone = tool(_double)  # ``_double`` stays in place, so the tool is rebuilt from it
    clone = pickle.loads(pickle.dumps(standalone))
    assert isinstance(clone, Tool) and clone is not standalone
    assert clone.spec() == standalone.spec() and clone.run(None, {"x": 2}) == 4


def test_an_object_other_than_the_tool_at_its_path_is_refused():
    from toolgym.tooling import _tool_by_reference

    with pytest.raises(pickle.UnpicklingError, match="is a function"):
        _tool_by_reference(__name__, "_double", "double", None)
    with pytest.raises(pickle.UnpicklingError, match="does not exist"):
        _tool_by_reference(__name__, "_gone", "gone", None)


def _double(db: Any, x: int) -> int:
    """Twice ``x``.

    Args:
        x: A number.
    """
    return 2 * x
