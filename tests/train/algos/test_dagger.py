"""DAgger: the env's expert at visited states (its wrapper and collector), the labelled states, the
aggregate after two iterations."""

import gymnasium as gym
import numpy as np
import pytest

import toolgym  # noqa: F401  (registers the bundled envs)
from toolgym.policies import ExpertPolicy, play
from toolgym.tokens.env import Generation, TokenEnv
from toolgym.tooling import ToolCall
from toolgym.train.algos.dagger import (
    Aggregate,
    ExpertCollector,
    ExpertLabels,
    expert_agreement,
    label_states,
    labelled,
)

TASK = "calendar-train-016"  # find Sarah, ask which Sarah (before step 1), create the event
QUESTION = "Which Sarah do you mean, Sarah Kim or Sarah Patel?"


def texts():
    """The messages the learner plays and the expert's labels, in the env's hermes format."""
    env = gym.make("toolgym/Calendar-v0", split="train")
    task = next(t for t in env.unwrapped.tasks if t.id == TASK)
    render = env.unwrapped.tool_format.render_calls
    return {
        "gold1": render(task.gold_calls[0]),
        "gold2": render(task.gold_calls[1]),
        "wrong": render([ToolCall(name="find_people", arguments={"query": "Zed"})]),
        "question": QUESTION,
        "answer": task.answer(),
    }


def learner_episode(chat, messages):
    """Play ``messages`` as the learner's turns; the token trajectory with the expert's labels."""
    env = TokenEnv(ExpertLabels(gym.make("toolgym/Calendar-v0", split="train")), chat)
    env.reset(seed=0, options={"task_id": TASK})
    for text in messages:
        _, _, terminated, truncated, _ = env.step([*chat.encode(text), chat.end_of_turn_id])
        if terminated or truncated:
            break
    return labelled(env)


class Scripted:
    """A token policy playing ``messages[k]`` in round k of every episode (a batched generate)."""

    def __init__(self, chat, messages):
        self.chat, self.messages, self.round = chat, messages, 0

    def generate(self, prefixes, max_new_tokens=None):
        text = self.messages[self.round]
        self.round += 1
        return [Generation((*self.chat.encode(text), self.chat.end_of_turn_id)) for _ in prefixes]


def test_the_expert_labels_each_visited_state_with_the_gold_next_step(tiny):
    chat, t = tiny[2], texts()
    trajectory = learner_episode(
        chat, [t["wrong"], t["gold1"], t["question"], t["gold2"], t["answer"]]
    )
    assert trajectory.end_reason == "answered"
    # an off-gold call leaves the gold step next; the due question comes before the second call
    assert trajectory.expert == [t["gold1"], t["gold1"], t["question"], t["gold2"], t["answer"]]


def test_only_the_dagger_wrapper_asks_the_expert(tiny):
    chat, t = tiny[2], texts()
    plain = TokenEnv(gym.make("toolgym/Calendar-v0", split="train"), chat)
    plain.reset(seed=0, options={"task_id": TASK})
    plain.step([*chat.encode(t["wrong"]), chat.end_of_turn_id])
    assert plain.trajectory.expert == []  # other algorithms' rollouts carry no labels


def test_the_expert_collector_labels_every_episode(tiny):
    chat, t = tiny[2], texts()
    messages = [t["wrong"], t["gold1"], t["question"], t["gold2"], t["answer"]]
    make_env = lambda: gym.make("toolgym/Calendar-v0", split="train")  # noqa: E731
    collector = ExpertCollector(make_env, chat, Scripted(chat, messages), progress=False)
    trajectories, _ = collector.collect([TASK], group_size=2, seed=0)
    expected = [t["gold1"], t["gold1"], t["question"], t["gold2"], t["answer"]]
    assert [traj.expert for traj in trajectories] == [expected, expected]
    assert trajectories[0].expert == learner_episode(chat, messages).expert


def test_the_dagger_dataset_after_two_iterations(tiny):
    _, tokenizer, chat = tiny
    t = texts()
    first = learner_episode(chat, [t["wrong"], t["gold1"], t["question"], t["gold2"], t["answer"]])
    # the second iteration's learner skips the question: the expert asks it before the step that
    # needs it; once the learner has made that step anyway (a guess), what is left is the answer
    second = learner_episode(chat, [t["gold1"], t["gold2"], t["answer"]])
    assert second.expert == [t["gold1"], t["question"], t["answer"]]

    aggregate = Aggregate()
    assert aggregate.add([first], chat) == 5
    assert aggregate.add([second], chat) == 3
    assert len(aggregate) == 8
    labels = [tokenizer.decode(list(d.action[:-1])) for d in aggregate.demonstrations]
    assert labels == [t["gold1"], t["gold1"], t["question"], t["gold2"], t["answer"],
                      t["gold1"], t["question"], t["answer"]]  # fmt: skip
    assert all(d.action[-1] == chat.end_of_turn_id for d in aggregate.demonstrations)
    # each state is the learner's stream exactly up to the turn it took there
    for trajectory, demonstrations in (
        (first, aggregate.demonstrations[:5]),
        (second, aggregate.demonstrations[5:]),
    ):
        starts, position = [], 0
        for segment in trajectory.segments:
            if segment.role == "assistant":
                starts.append(position)
            position += len(segment.token_ids)
        assert [d.state for d in demonstrations] == [
            tuple(trajectory.token_ids[:s]) for s in starts
        ]
    # as training streams, only the expert's reply is trainable
    stream = aggregate.demonstrations[2].trajectory()
    trainable = [i for i, m in zip(stream.token_ids, stream.loss_mask, strict=True) if m]
    assert tokenizer.decode(trainable[:-1]) == QUESTION


def test_minibatches_cover_the_aggregate_once(tiny):
    chat, t = tiny[2], texts()
    aggregate = Aggregate()
    aggregate.add(
        [learner_episode(chat, [t["wrong"], t["gold1"], t["question"], t["gold2"], t["answer"]])],
        chat,
    )
    batches = list(aggregate.minibatches(2, np.random.default_rng(0)))
    assert [len(b) for b in batches] == [2, 2, 1]
    seen = sorted(tuple(b.token_ids) for batch in batches for b in batch)
    assert seen == sorted(tuple(d.trajectory().token_ids) for d in aggregate.demonstrations)


def test_states_over_the_budget_and_unseen_turns_are_left_out(tiny):
    chat, t = tiny[2], texts()
    trajectory = learner_episode(
        chat, [t["wrong"], t["gold1"], t["question"], t["gold2"], t["answer"]]
    )
    everything = label_states(trajectory, chat)
    short = label_states(
        trajectory, chat, max_tokens=len(everything[2].state) + len(everything[2].action)
    )
    assert len(short) == 3  # the last two states (longer streams) do not fit
    trajectory.expert = trajectory.expert[:2]  # e.g. the token budget ended before turn 3 ran
    assert len(label_states(trajectory, chat)) == 2


def test_expert_agreement_counts_turns_equal_to_the_label(tiny):
    _, tokenizer, chat = tiny
    t = texts()
    trajectory = learner_episode(
        chat, [t["wrong"], t["gold1"], t["question"], t["gold2"], t["answer"]]
    )
    assert expert_agreement([trajectory], tokenizer) == pytest.approx(
        4 / 5
    )  # all but the wrong call


def test_the_expert_takes_over_after_an_off_gold_call():
    env = gym.make("toolgym/Calendar-v0", split="train")
    env.reset(seed=0, options={"task_id": TASK})
    env.step(texts()["wrong"])
    expert = ExpertPolicy()
    expert.reset(env.unwrapped, env.unwrapped.task)
    result = None
    for _ in range(6):
        _, _, terminated, truncated, info = env.step(expert.act([]))
        if terminated or truncated:
            result = info
            break
    assert result is not None and result["end_reason"] == "answered"
    assert result["reward_components"]["completion"] == 1.0
    assert play(env, ExpertPolicy(), task_id=TASK, seed=0).components["completion"] == 1.0
