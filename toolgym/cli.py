"""The ``toolgym`` command line: list, validate, run, generate, schema, train, recipe, serve, eval, compare."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import typer

from toolgym.cli_content import CONTENT_EPILOG, ContentOption, require_envs, use_content
from toolgym.cli_user import (
    UserBaseUrlOption,
    UserCacheModeOption,
    UserCacheOption,
    UserEndingOption,
    UserMaxTokensOption,
    UserModelOption,
    UserOption,
    user_settings,
)
from toolgym.formats import FormatName
from toolgym.models import ModelName
from toolgym.train.config import Algo, deep_merge, problems

if TYPE_CHECKING:
    pass

from toolgym.cli_run import run

app = typer.Typer(
    help="toolgym: Gymnasium environments for training and evaluating tool-calling LLM agents.",
    epilog=CONTENT_EPILOG,
    no_args_is_help=True,
    add_completion=False,
)

Split = Literal["train", "test"]
AgentName = Literal["hf", "openai", "oracle", "random"]

ToolMode = Literal["text", "native"]


@app.command("list")
def list_envs(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    content: ContentOption = None,
) -> None:
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
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(
        f"{'environment':<24} {'suite':<10} {'format':<7} {'train':>6} {'test':>6}  description"
    )
    for r in rows:
        typer.echo(
            f"{r['id']:<24} {r['suite']:<10} {r['format']:<7} {r['train']:>6} {r['test']:>6}  {r['description']}"
        )


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Task files (.jsonl) or folders to search.")],
    content: ContentOption = None,
) -> None:
    """Check task files; print every problem as FILE:LINE: FIELD: MESSAGE; exit 1 if any.

    A task's suite is looked for in the content root its file lies in (ROOT/tasks/...), then in every content root (--content, TOOLGYM_PATH, the bundled content).
    """
    from toolgym.validate import validate_files

    use_content(content)
    try:
        checked, problems = validate_files(paths)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for problem in problems:
        typer.echo(str(problem))
    bad = len({(p.file, p.line) for p in problems})
    typer.echo(f"{checked} task(s) checked: {bad} invalid, {len(problems)} problem(s).")
    if problems:
        raise typer.Exit(1)


app.command()(run)  # toolgym/cli_run.py


@app.command()
def generate(
    suite: Annotated[str, typer.Argument(help="Suite name (folder under tools/).")],
    out: Annotated[Path, typer.Option(help="Output .jsonl file.")],
    split: Annotated[Split, typer.Option(help="Which task split.")] = "train",
    n: Annotated[int, typer.Option(help="Number of tasks.")] = 1000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 0,
    content: ContentOption = None,
) -> None:
    """Write procedurally generated tasks of a suite to a JSONL file."""
    from toolgym.content import load_suite
    from toolgym.tasks import write_tasks

    use_content(content)
    try:
        tool_suite = load_suite(suite)
    except (LookupError, TypeError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if tool_suite.generate_tasks is None:
        raise typer.BadParameter(f"suite {suite!r} has no task generator")
    tasks = list(tool_suite.generate_tasks(split, n, seed))
    write_tasks(out, tasks)
    typer.echo(f"wrote {len(tasks)} {split} tasks of {suite!r} to {out}")


@app.command()
def schema(
    out: Annotated[Path, typer.Option(help="Where to write the Task JSON Schema.")] = Path(
        "tasks/schema.json"
    ),
    check: Annotated[bool, typer.Option(help="Only check that the file is up to date.")] = False,
    env_spec: Annotated[
        bool,
        typer.Option(
            "--env-spec", help="Print the env spec field reference (Markdown, as in the README)."
        ),
    ] = False,
) -> None:
    """Export the JSON Schema of task lines (tasks/schema.json), or print the env spec fields."""
    from toolgym.tasks import task_json_schema

    if env_spec:
        from toolgym.spec_docs import env_spec_reference

        typer.echo(env_spec_reference(), nl=False)
        return
    text = json.dumps(task_json_schema(), indent=2) + "\n"
    if check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            typer.echo(f"{out} is out of date: run `toolgym schema --out {out}`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")


@app.command()
def train(
    env: Annotated[str | None, typer.Option(help="Environment id.")] = None,
    algo: Annotated[
        Algo | None,
        typer.Option(
            help="Algorithm: sft, grpo, rloo, reinforce, ppo, rest, online-em, dagger or dpo."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="smollm2-135m (default) or tiny.")] = None,
    steps: Annotated[int | None, typer.Option(help="Iterations (rollout, then update).")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory.")] = None,
    init: Annotated[
        Path | None, typer.Option(help="Start from another run's latest checkpoint.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file of TrainConfig fields.")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=VALUE, repeatable (e.g. --set lr=1e-5)."),
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue this run directory exactly where it stopped.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    content: ContentOption = None,
) -> None:
    """Train a policy on a toolgym environment and plot the learning curve.

    Nine algorithms (--algo) share one rollout, token-stream and loss core; fields: --set.
    """
    from toolgym.train.config import TrainConfig, load_config
    from toolgym.train.loop import Trainer

    use_content(content)
    try:
        if resume is not None:
            settings = TrainConfig.model_validate_json((resume / "config.json").read_text())
        else:
            fields = {
                "env": env,
                "algo": algo,
                "model": model,
                "steps": steps,
                "out": out,
                "init": init,
            }
            settings = load_config(config, fields | _parse_overrides(overrides or []))
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


@app.command()
def recipe(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file of RecipeConfig fields.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/recipe).")] = None,
    model: Annotated[str | None, typer.Option(help="smollm2-135m (default) or tiny.")] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="FIELD=VALUE, repeatable; stage fields as sft.FIELD or rl.FIELD."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    content: ContentOption = None,
) -> None:
    """Evaluate, SFT cold start, evaluate, GRPO, evaluate (the GLM-4.5 recipe); print the three success rates."""
    import tomllib

    from pydantic import ValidationError

    from toolgym.train.recipe import RecipeConfig, run_recipe

    use_content(content)
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8")) if config else {}
        given = {k: v for k, v in {"out": out, "model": model}.items() if v is not None}
        data = deep_merge(data, _parse_overrides(overrides or []) | given)
        settings = RecipeConfig.model_validate(data)
        settings.stage_configs()  # validate both stages before spending any time
    except (ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        message = problems(exc) if isinstance(exc, ValidationError) else str(exc)
        typer.echo(f"error: {config}: {message}" if config else f"error: {message}", err=True)
        raise typer.Exit(2) from None
    require_envs([settings.env])
    result = _train_or_explain(lambda: run_recipe(settings, progress=progress))
    typer.echo(result.table())
    minutes = sum(result.seconds.values()) / 60
    typer.echo(f"wall time {minutes:.1f} min; plot: {result.plot}")


@app.command("eval")
def evaluate(
    env: Annotated[str, typer.Option(help="Environment id, e.g. toolgym/Calendar-v0.")],
    agent: Annotated[
        AgentName, typer.Option(help="oracle, random, hf (a local model) or openai (an endpoint).")
    ] = "oracle",
    model: Annotated[
        str | None,
        typer.Option(help="hf: smollm2-135m (default) or tiny; openai: the served model id."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="openai: API root, e.g. http://127.0.0.1:8000/v1.")
    ] = None,
    k: Annotated[int, typer.Option(min=1, max=64, help="Samples per task (pass@k, pass^k).")] = 1,
    split: Annotated[Split, typer.Option(help="Which task split.")] = "test",
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N tasks.")] = None,
    temperature: Annotated[
        float, typer.Option(min=0.0, help="hf/openai sampling temperature.")
    ] = 0.7,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="hf/openai tokens per turn.")] = 256,
    tool_mode: Annotated[
        ToolMode, typer.Option(help="openai: tools in the prompt text, or native tools=.")
    ] = "text",
    seed: Annotated[int, typer.Option(help="Seed of sampling and random agents.")] = 0,
    out: Annotated[Path, typer.Option(help="Run directory.")] = Path("runs/eval"),
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    user: UserOption = "scripted",
    user_model: UserModelOption = "smollm2-135m",
    user_base_url: UserBaseUrlOption = None,
    user_cache: UserCacheOption = None,
    user_cache_mode: UserCacheModeOption = "record",
    user_max_tokens: UserMaxTokensOption = 96,
    user_ending: UserEndingOption = "signal",
    content: ContentOption = None,
) -> None:
    """Evaluate an agent K times per task; write results.jsonl, summary.json and report.html.

    Episodes whose simulated user failed are counted (failure kind user_backend) and left out of the success rate, pass@k and pass^k.
    """
    from toolgym.eval.run import EvalConfig, run_eval

    use_content(content)
    require_envs([env])
    user_config = user_settings(user, user_model, user_base_url, user_cache, user_cache_mode,
                                user_max_tokens, user_ending, seed)  # fmt: skip
    try:
        config = EvalConfig(
            env=env, agent=agent, model=model, base_url=base_url, k=k, split=split, limit=limit,
            temperature=temperature, max_new_tokens=max_new_tokens, tool_mode=tool_mode,
            seed=seed, out=out, user=user_config,
        )  # fmt: skip
        run_eval(config, progress=progress, command=" ".join(["toolgym", *sys.argv[1:]]))
    except (ValueError, KeyError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from toolgym.eval.markdown import markdown_summary
    from toolgym.eval.report import write_report

    report = write_report(out)
    typer.echo(markdown_summary(out))
    typer.echo(f"wrote {out / 'results.jsonl'}, {out / 'summary.json'} and {report}")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="A run directory of toolgym eval.")],
    run_b: Annotated[Path, typer.Argument(help="Another run directory, compared with the first.")],
) -> None:
    """Print two eval runs side by side: headline metrics with deltas, then per-task differences."""
    from toolgym.eval.markdown import compare_runs

    try:
        typer.echo(compare_runs(run_a, run_b))
    except (ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    model: Annotated[
        ModelName,
        typer.Option(help="Local model to load: smollm2-135m (embedded) or tiny (random, tests)."),
    ] = "smollm2-135m",
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0: every one).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    tool_format: Annotated[
        FormatName,
        typer.Option(help="How tools in a request are shown to the model and its calls read."),
    ] = "hermes",
    served_name: Annotated[
        str | None, typer.Option(help="Model name clients send (default: --model).")
    ] = None,
    max_tokens: Annotated[
        int, typer.Option(min=1, help="Token budget of a request that sets none.")
    ] = 512,
) -> None:
    """Serve a local model over an OpenAI-compatible API (/v1/models, /v1/chat/completions)."""
    from toolgym.serve import serve as run_server

    typer.echo(
        f"serving {served_name or model} ({tool_format} tool format) at http://{host}:{port}/v1",
        err=True,
    )
    run_server(
        model,
        host=host,
        port=port,
        tool_format=tool_format,
        served_name=served_name,
        default_max_tokens=max_tokens,
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


def _parse_overrides(items: list[str]) -> dict[str, object]:
    """``--set`` items as a nested dict: ``user.kind=llm`` -> ``{"user": {"kind": "llm"}}``.

    Values are JSON where they parse as JSON (numbers, booleans, lists, objects), else strings.
    """
    parsed: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: expected FIELD=VALUE")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        *parents, name = key.strip().split(".")
        for parent in reversed(parents):
            value = {name: value}
            name = parent
        parsed = deep_merge(parsed, {name: value})
    return parsed


if __name__ == "__main__":
    app()
