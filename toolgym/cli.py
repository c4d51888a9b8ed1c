"""The ``toolgym`` command line: list, validate, run, generate, schema, train, recipe, serve, eval, compare.

Every command is a pydantic model (:func:`toolgym.cli_config.config_command`): ``--config FILE``,
``--set KEY=VALUE`` and its typed options are three sources of the same fields, and ``--help``
lists every field from the model.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, ConfigDict, Field

from toolgym.cli_config import Flag, config_command
from toolgym.cli_content import CONTENT_EPILOG, ContentOption, require_envs, use_content
from toolgym.cli_run import RUN_FLAGS, RunConfig, run
from toolgym.cli_user import USER_FLAGS, ready_user
from toolgym.eval.run import EvalConfig
from toolgym.formats import FormatName
from toolgym.llm.models import ModelName
from toolgym.tasks import Split
from toolgym.train.config import TrainConfig
from toolgym.train.recipe import RecipeConfig

app = typer.Typer(
    help="toolgym: Gymnasium environments for training and evaluating tool-calling LLM agents.",
    epilog=CONTENT_EPILOG,
    no_args_is_help=True,
    add_completion=False,
)
ProgressOption = Annotated[bool, typer.Option(help="Show a progress bar.")]


class _Command(BaseModel):
    """The settings of a small command: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ListConfig(_Command):
    """``toolgym list``: how to print the registered environments."""

    as_json: bool = Field(default=False, description="Print JSON instead of a table.")


class ValidateConfig(_Command):
    """``toolgym validate``: the task files to check."""

    paths: list[Path] = Field(description="Task files (.jsonl) or folders to search.")


class GenerateConfig(_Command):
    """``toolgym generate``: which suite, split and how many tasks to write where."""

    suite: str = Field(description="Suite name (folder under tools/).")
    out: Path = Field(description="Output .jsonl file.")
    split: Split = Field(default="train", description="Which task split.")
    n: int = Field(default=1000, description="Number of tasks.")
    seed: int = Field(default=0, description="Generator seed.")


class SchemaConfig(_Command):
    """``toolgym schema``: write or check the Task JSON Schema, or print the env spec fields."""

    out: Path = Field(
        default=Path("tasks/schema.json"), description="Where to write the Task JSON Schema."
    )
    check: bool = Field(default=False, description="Only check that the file is up to date.")
    env_spec: bool = Field(
        default=False,
        description="Print the env spec field reference (Markdown, as in the README).",
    )


class CompareConfig(_Command):
    """``toolgym compare``: the two eval run directories."""

    run_a: Path = Field(description="A run directory of toolgym eval.")
    run_b: Path = Field(description="Another run directory, compared with the first.")


class ServeConfig(_Command):
    """``toolgym serve``: the local model and how to serve it."""

    model: ModelName = Field(
        default="smollm2-135m",
        description="Local model to load: smollm2-135m (embedded) or tiny (random, tests).",
    )
    host: str = Field(default="127.0.0.1", description="Interface to bind (0.0.0.0: every one).")
    port: int = Field(default=8000, description="TCP port.")
    tool_format: FormatName = Field(
        default="hermes",
        description="How tools in a request are shown to the model and its calls read.",
    )
    served_name: str | None = Field(
        default=None, description="Model name clients send (default: --model)."
    )
    max_tokens: int = Field(
        default=512, ge=1, description="Token budget of a request that sets none."
    )


@config_command(app, ListConfig, name="list", flags=[Flag("as_json", ("--json",))])
def list_envs(settings: ListConfig, content: ContentOption = None) -> None:
    """List the registered environments and their task counts per split."""
    from toolgym.registry import registered_specs, split_tasks

    use_content(content)
    rows = []
    for env_id, spec in registered_specs().items():
        counts = {split: len(split_tasks(spec, split)) for split in ("train", "test")}
        rows.append(
            {
                "id": env_id,
                "suite": spec.suite,
                "format": spec.format,
                **counts,
                "description": spec.description,
            }
        )
    if settings.as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(
        f"{'environment':<24} {'suite':<10} {'format':<7} {'train':>6} {'test':>6}  description"
    )
    for r in rows:
        typer.echo(
            f"{r['id']:<24} {r['suite']:<10} {r['format']:<7} {r['train']:>6} {r['test']:>6}  {r['description']}"
        )


@config_command(app, ValidateConfig, flags=[Flag("paths", argument=True)])
def validate(settings: ValidateConfig, content: ContentOption = None) -> None:
    """Check task files; print every problem as FILE:LINE: FIELD: MESSAGE; exit 1 if any.

    A task's suite is looked for in the content root its file lies in (ROOT/tasks/...), then in every content root (--content, TOOLGYM_PATH, the bundled content).
    """
    from toolgym.validate import validate_files

    use_content(content)
    try:
        checked, problems = validate_files(settings.paths)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for problem in problems:
        typer.echo(str(problem))
    bad = len({(p.file, p.line) for p in problems})
    typer.echo(f"{checked} task(s) checked: {bad} invalid, {len(problems)} problem(s).")
    if problems:
        raise typer.Exit(1)


config_command(app, RunConfig, name="run", flags=RUN_FLAGS)(run)  # toolgym/cli_run.py


@config_command(
    app,
    GenerateConfig,
    flags=[Flag("suite", argument=True), Flag("out"), Flag("split"), Flag("n"), Flag("seed")],
)
def generate(settings: GenerateConfig, content: ContentOption = None) -> None:
    """Write procedurally generated tasks of a suite to a JSONL file."""
    from toolgym.content import load_suite
    from toolgym.tasks import write_tasks

    use_content(content)
    try:
        tool_suite = load_suite(settings.suite)
    except (LookupError, TypeError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if tool_suite.generate_tasks is None:
        raise typer.BadParameter(f"suite {settings.suite!r} has no task generator")
    tasks = list(tool_suite.generate_tasks(settings.split, settings.n, settings.seed))
    write_tasks(settings.out, tasks)
    typer.echo(f"wrote {len(tasks)} {settings.split} tasks of {settings.suite!r} to {settings.out}")


@config_command(app, SchemaConfig, flags=[Flag("out"), Flag("check"), Flag("env_spec")])
def schema(settings: SchemaConfig) -> None:
    """Export the JSON Schema of task lines (tasks/schema.json), or print the env spec fields."""
    from toolgym.tasks import task_json_schema

    out = settings.out
    if settings.env_spec:
        from toolgym.spec_docs import env_spec_reference

        typer.echo(env_spec_reference(), nl=False)
        return
    text = json.dumps(task_json_schema(), indent=2) + "\n"
    if settings.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            typer.echo(f"{out} is out of date: run `toolgym schema --out {out}`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")


TRAIN_FLAGS = [Flag("env"), Flag("algo"), Flag("model"), Flag("steps"), Flag("out"), Flag("init")]


@config_command(app, TrainConfig, flags=TRAIN_FLAGS)
def train(
    settings: TrainConfig,
    resume: Annotated[
        Path | None, typer.Option(help="Continue this run directory exactly where it stopped.")
    ] = None,
    progress: ProgressOption = True,
    content: ContentOption = None,
) -> None:
    """Train a policy on a toolgym environment and plot the learning curve.

    Nine algorithms (--algo) share one rollout, token-stream and loss core; every field below can be set.
    """
    from toolgym.train.loop import Trainer

    use_content(content)
    try:
        if resume is not None:
            settings = TrainConfig.model_validate_json((resume / "config.json").read_text())
        require_envs([settings.env])
        trainer = Trainer(settings, resume=resume is not None, progress=progress)
    except (ValueError, OSError) as exc:  # a bad config or bad SFT data: nothing has trained yet
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    final = _train_or_explain(trainer.run)
    typer.echo(
        f"{settings.algo} on {settings.env}: test success {final['eval_success']:.1%} "
        f"on {final['eval_tasks']} held-out tasks; learning curve: {settings.out / 'learning_curve.png'}"
    )


@config_command(
    app,
    RecipeConfig,
    flags=[Flag("out"), Flag("model")],
    check=RecipeConfig.stage_configs,  # validate both stages before spending any time
)
def recipe(
    settings: RecipeConfig, progress: ProgressOption = True, content: ContentOption = None
) -> None:
    """Evaluate, SFT cold start, evaluate, GRPO, evaluate (the GLM-4.5 recipe); print the three success rates.

    Stage fields are set as sft.FIELD or rl.FIELD (any TrainConfig field, e.g. --set rl.algo=rloo).
    """
    from toolgym.train.recipe import run_recipe

    use_content(content)
    require_envs([settings.env])
    result = _train_or_explain(lambda: run_recipe(settings, progress=progress))
    typer.echo(result.table())
    minutes = sum(result.seconds.values()) / 60
    typer.echo(f"wall time {minutes:.1f} min; plot: {result.plot}")


EVAL_FLAGS = [
    Flag("env"),
    Flag("agent", ("--agent", "-p")),
    *(Flag(key) for key in ("model", "base_url", "k", "split", "limit", "temperature")),
    *(Flag(key) for key in ("max_new_tokens", "tool_mode", "seed", "out")),
    Flag("log.to", ("--log-to",)),
    Flag("save_trajectories", metavar="PATH"),
    *USER_FLAGS,
]


@config_command(app, EvalConfig, name="eval", flags=EVAL_FLAGS)
def evaluate(
    settings: EvalConfig, progress: ProgressOption = True, content: ContentOption = None
) -> None:
    """Evaluate an agent K times per task; write results.jsonl, summary.json and report.html.

    Episodes whose simulated user failed are counted (failure kind user_backend) and left out of the success rate, pass@k and pass^k.
    """
    from toolgym.eval.markdown import markdown_summary
    from toolgym.eval.report import write_report
    from toolgym.eval.run import run_eval

    use_content(content)
    require_envs([settings.env])
    settings = settings.model_copy(update={"user": ready_user(settings.user, settings.seed)})
    try:
        run_eval(settings, progress=progress, command=" ".join(["toolgym", *sys.argv[1:]]))
    except (ValueError, KeyError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    out = settings.out
    report = write_report(out)
    typer.echo(markdown_summary(out))
    typer.echo(f"wrote {out / 'results.jsonl'}, {out / 'summary.json'} and {report}")


@config_command(
    app, CompareConfig, flags=[Flag("run_a", argument=True), Flag("run_b", argument=True)]
)
def compare(settings: CompareConfig) -> None:
    """Print two eval runs side by side: headline metrics with deltas, then per-task differences."""
    from toolgym.eval.markdown import compare_runs

    try:
        typer.echo(compare_runs(settings.run_a, settings.run_b))
    except (ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


SERVE_FLAGS = [Flag(key) for key in ServeConfig.model_fields]


@config_command(app, ServeConfig, flags=SERVE_FLAGS)
def serve(settings: ServeConfig) -> None:
    """Serve a local model over an OpenAI-compatible API (/v1/models, /v1/chat/completions)."""
    from toolgym.serve import serve as run_server

    name = settings.served_name or settings.model
    typer.echo(
        f"serving {name} ({settings.tool_format} tool format) at http://{settings.host}:{settings.port}/v1",
        err=True,
    )
    run_server(
        settings.model,
        host=settings.host,
        port=settings.port,
        tool_format=settings.tool_format,
        served_name=settings.served_name,
        default_max_tokens=settings.max_tokens,
    )


_T = TypeVar("_T")


def _train_or_explain(train: Callable[[], _T]) -> _T:
    """Run ``train``; a stop for want of reward signal prints its advice and exits 3."""
    from toolgym.train.rollouts import NoRewardSignal

    try:
        return train()
    except NoRewardSignal as stop:
        typer.echo(f"error: {stop}", err=True)
        raise typer.Exit(3) from None


from toolgym.cli_mcp import mcp_app  # noqa: E402

app.add_typer(mcp_app, name="mcp")

if __name__ == "__main__":
    app()
