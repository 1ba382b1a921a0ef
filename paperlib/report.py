"""The reproduction report: figures/<preset>/REPORT.md (+ REPORT.html), and an index of the
presets' reports in figures/REPORT.md.

Per notebook: its title (which names the paper's figure or table), the figures it wrote,
its claims with verdicts, effects and gates, and its wall time; plus the preset, the commit
and a summary of all verdicts. Built only from the records kept beside the figures
(figures/<preset>/records/<notebook>.run.json and .claims.json, committed with them), so
running one notebook with --only rewrites its own records and leaves every other section,
and every other preset's report, as it was."""

from __future__ import annotations

import dataclasses

import datetime as _dt
import json
import re
from collections import Counter
from pathlib import Path

from . import claims, coverage, files, paths, presets
from .data.tasksets import get_taskset, short_name

PAPERS = ("[Order Matters in the Presence of Dataset Imbalance for Multilingual Learning]"
          "(https://arxiv.org/abs/2312.06134) (Choi et al., NeurIPS 2023) · [Upsample or Upweight? Balanced "
          "Training on Heavily Imbalanced Datasets](https://arxiv.org/abs/2410.04579) (Li et al., NAACL 2025)")

NOT_SHIPPED = "no shipped runs"
"""Status of a notebook run figures-only whose runs are not in the shipped results."""

MARK = {claims.HOLDS: "✅ holds", claims.FAILS: "❌ does not hold", claims.INCONCLUSIVE: "➖ inconclusive",
        claims.OUT_OF_REGIME: "⛔ out of regime"}


def summary_path(figures_dir: Path, notebook: str) -> Path:
    return paths.records_dir(figures_dir) / f"{notebook}.run.json"


def _summaries(figures_dir: Path, names) -> dict[str, dict]:
    """{notebook: its recorded summary} for the notebooks of `names` that have one."""
    paths_ = {name: summary_path(figures_dir, name) for name in names}
    return {name: json.loads(p.read_text()) for name, p in paths_.items() if p.exists()}


def record_notebook(figures_dir: Path, result, redrawn: bool = False) -> None:
    """Keep one notebook's status, wall time and figures for the report. redrawn: the
    notebook only redrew its figures from shipped runs, so the wall time of the run that
    trained them (the one the report states) is kept, and the redraw's is added beside it."""
    path = summary_path(figures_dir, result.name)
    row = {"name": result.name, "status": result.status, "seconds": round(result.seconds, 1),
           "figures": [p.name for p in result.figures], "error": result.error, "trained": not redrawn}
    if redrawn:
        old = json.loads(path.read_text()) if path.exists() else {}
        if old.get("trained") and old.get("status") == "ok" and result.status == "ok":
            row["seconds"], row["trained"] = old["seconds"], True
        row["redrawn_seconds"] = round(result.seconds, 1)
    files.atomic_write(path, json.dumps(row, indent=2))


def record_training(figures_dir: Path, seconds: float, runs: int, busiest_seconds: float | None = None,
                    commits: list[str] | None = None) -> None:
    """Keep the wall time of the schedule that trained the notebooks' runs before they ran
    (`reproduce._train_planned`): the notebooks' own times then hold drawing only. And the
    training seconds of its busiest worker, from which the report states the overhead; and the
    commits the runs were trained at (each run's config.json), which the report lists."""
    files.atomic_write(paths.records_dir(figures_dir) / "training.json",
                       json.dumps({"seconds": round(seconds, 1), "runs": runs,
                                   "busiest_worker_seconds": None if busiest_seconds is None else round(busiest_seconds, 1),
                                   "commits": sorted(set(commits or []))},
                                  indent=2))


def overhead(training: dict) -> float | None:
    """Orchestration overhead of the training schedule: its wall time minus the busiest
    worker's own training time (spawning, loading, waiting for prefixes, idling), as a share
    of that wall time; None when the record predates the busiest worker's time."""
    busiest = training.get("busiest_worker_seconds")
    wall = training["seconds"]
    return None if busiest is None or wall <= 0 else max(0.0, wall - busiest) / wall


def _no_negative_zero(x):
    """-0.0 (a rounded tiny negative) printed as 0.0, in nested numbers too."""
    if isinstance(x, dict):
        return {k: _no_negative_zero(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_no_negative_zero(v) for v in x]
    return 0.0 if isinstance(x, float) and x == 0 else x


def _fmt_numbers(numbers: dict) -> str:
    return "; ".join(f"{k} = {json.dumps(_no_negative_zero(v), ensure_ascii=False)}" for k, v in numbers.items())


def _verdict_row(v: dict) -> str:
    c = v["claim"]
    scope = short_name(v.get("scope") or "")  # a corpus task set without its folder (the header has it)
    what = f"**{v['id']}**{' (' + scope + ')' if scope else ''}: {c['statement']}"
    paper = c["reference"] + (f"; paper: {c['paper_number']}" if c.get("paper_number") else "")
    e = v.get("effect")
    effect = "–"
    if e:
        basis = ([f"seeds {'/'.join(map(str, e['seeds']))}"] if e.get("seeds") else []) + \
                ([f"{e['sentences']} sentences"] if e.get("sentences") else []) + \
                (["the interval covers the sentences only: one seed cannot measure the seed spread"]
                 if e.get("seeds") and min(e["seeds"]) == 1 else [])
        effect = (f"{e['estimate']:+.3f} [{e['low']:+.3f}, {e['high']:+.3f}] {e['unit']}; "
                  + (", ".join(basis) + "; " if basis else "") + f"practical minimum {c['minimum']:g}")
    if c.get("statistic"):  # what the effect is (a tolerance it includes, its sign), folded away
        statistic = c["statistic"].replace("|", r"\|")  # a '|' of the text, not a cell's end
        effect += f"<details><summary>how it is decided</summary>{statistic}</details>"
    gate_text = "<br>".join(f"{'✓' if g['passed'] else '✗'} {g['name']}: {g['measured']}" for g in v.get("gates", [])) or "–"
    anchor = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{v['id']}-{scope}".strip("-")).strip("-")
    what = f'<a id="{anchor}"></a>{what}'
    return (f"| {what} | {paper} | {MARK[v['status']]} | {effect} | {gate_text} | {_fmt_numbers(v['numbers'])} | "
            f"{v['note']} |").replace("\n", " ")


def _sized(preset: str, hub: bool = False):
    """The preset as the report's notebooks ran it: on the hub, with the hub's HRL+LRL pairs
    (`experiments.HUB_PARAMETERS`) in place of its DDTP ones."""
    p = presets.get(preset)
    if hub:
        from .experiments import HUB_PARAMETERS

        p = dataclasses.replace(p, hrl_lrl_sets=tuple(HUB_PARAMETERS["A2_fig02_hrl_lrl_fronts"]["tasksets"]))
    return p


def scale_markdown(preset: str, hub: bool = False, corpus: str | None = None) -> list[str]:
    """The sizes a figure's deviation depends on: this preset beside the `paper` preset
    (Order Matters' own settings), so that the coverage notes need not repeat them. hub:
    the figures were trained on the hub's corpora (their pairs, not the preset's DDTP ones);
    corpus: on a researcher's corpus folder (its one pair, not the preset's)."""
    p, ref = _sized(preset, hub), presets.get("paper")

    def model(m):
        return f"{m.layers}+{m.layers} layers, d {m.d_model}, FFN {m.ffn}, {m.heads} heads, max {m.max_len} tokens"

    def rows(q):
        return {
            "model": model(q.model),
            "two-task NMT run": f"{q.steps:,} steps = {q.pretrain:,} pre-training + {q.finetune:,} fine-tuning; "
                                f"COOLDOWN switch at {q.switch:,}",
            "LM run": f"{q.lm_steps:,} steps ({q.lm_pretrain:,} pre-training)",
            "batch, learning rate": f"{q.batch_size} examples; peak {q.lr:g}"
                                    + (f" (best of {len(q.lr_grid)})" if q.lr_grid else "")
                                    + f", warm-up {q.warmup:,}, {q.lr_schedule.replace('_', ' ')}",
            "seeds": ", ".join(map(str, q.seeds)),
            "LRL rates (Order Matters fronts)": (", ".join(f"τ={t:g}" for t in q.front_taus)
                                                 + " (temperatures; the rates they give are on the fronts)")
            if q.front_taus else ", ".join(f"{r:g}" for r in q.rate_grid),
            "HRL+LRL pairs": f"your corpus's HRL and LRL (`{corpus}`; `paperlib data info --source dir {corpus}` "
                             "lists its pairs)" if corpus and q is p else
                             "; ".join(f"{name} ({', '.join(get_taskset(name).tasks)})" for name in q.hrl_lrl_sets),
            "validation per task": "all (the task set's split)" if q.max_valid is None else f"≤ {q.max_valid} sentences",
            "precision": q.precision,
        }

    mine, paper = rows(p), rows(ref)
    lines = ["## Scale of this preset", "",
             f"What every figure of the `{preset}` preset was trained at, beside the `paper` preset (Order Matters' "
             "Tables 3-4 sizes; its pairs are the papers' through the hub loaders). The deviations below refer to it.",
             "", f"| | {preset} | paper |", "|---|---|---|"]
    lines += [f"| {k} | {mine[k]} | {paper[k] if k != 'HRL+LRL pairs' else 'WMT En→{Ro, Fr}, En→{Hi, Fr}'} |"
              for k in mine]
    return lines


def build(preset: str, titles: dict[str, str], figures_dir: Path, corpus: str | None = None, hub: bool = False) -> str:
    verdicts = _registered(claims.load(preset, paths.records_dir(figures_dir)), titles)
    summaries = _summaries(figures_dir, titles)
    counts = Counter(v["status"] for nb in verdicts.values() for v in nb["verdicts"])
    total = sum(s["seconds"] for s in summaries.values())
    redrawn = [s["redrawn_seconds"] for s in summaries.values() if "redrawn_seconds" in s]
    trained = any(s.get("trained") for s in summaries.values())
    schedule = paths.records_dir(figures_dir) / "training.json"
    training = json.loads(schedule.read_text()) if schedule.exists() else None
    lines = [
        f"# Reproduction report ({preset} preset{', your corpus' if corpus else ', the hub' if hub else ''})",
        "",
        *([f"Trained on the corpus in `{corpus}` (`--source dir`), at the {preset} preset's sizes; the regime gates "
           "say whether its models learned enough for each verdict.", ""] if corpus else []),
        *([f"Trained on the papers' own corpora from the Hugging Face hub (`--source hub`: WMT, OPUS-100 and mC4, "
           f"the task sets `paperlib.data.tasksets.HUB_TASKSETS`), scaled by the {preset} preset's fractions; the "
           "regime gates say whether its models learned enough for each verdict.", ""] if hub else []),
        f"Commit `{files.git_commit(short=True) or 'unknown'}`, written {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. "
        f"Every figure comes from runs this code executed (`runs/`); every verdict is computed by "
        f"`paperlib.claims` from those runs. Claims that do not hold at our scale are reported as such.",
        "",
        f"The papers: {PAPERS}.",
        "",
        f"**Verdicts:** {claims.count_statuses(counts.elements(), zeros=True, sep=', ')} "
        f"(not judged: the runs are not in the regime the claim needs): {sum(counts.values())} verdicts on "
        f"{len({v['id'] for nb in verdicts.values() for v in nb['verdicts']})} of the {len(claims.CLAIMS)} claims of "
        f"both papers (`paperlib claims list`); the others were not judged here (most belong to notebooks this report does "
        f"not draw). "
        + (f"**Training wall time:** {training['seconds'] / 60:.1f} min ({training['runs']} runs and prefixes in one "
           f"schedule, before the notebooks)"
           + (f"; orchestration overhead {share:.1%} of it (its wall time minus the busiest worker's "
              f"{training['busiest_worker_seconds'] / 60:.1f} min of training). "
              if (share := overhead(training)) is not None else ". ")
           + (f"Its runs were trained at commit{'s' if len(training['commits']) > 1 else ''} "
              + ", ".join(f"`{c[:7]}`" for c in training["commits"]) + ". " if training.get("commits") else "")
           if training else "")
        + f"**Notebook wall time:** {total / 60:.1f} min in all"
        + ("." if not redrawn else
           f" (as measured when their runs were trained; redrawn from the shipped runs in {sum(redrawn) / 60:.1f} min)."
           if trained else " (redrawing from the shipped runs; the runs were trained elsewhere, their time is not "
                           "recorded here).")
        + (" The smoke preset exists to run every code path in seconds: its models learn nothing, so every "
           "claim that needs trained runs is out of regime by design." if preset == "smoke" else ""),
        "",
        *([family, ""] if (family := claims.multiplicity(
            [v for nb in verdicts.values() for v in nb["verdicts"]]).sentence()) else []),
        "| notebook | status | wall time | figures (PNG) |",
        "|---|---|---|---|",
    ]
    sized = _sized(preset, hub)
    # the HRL+LRL pairs the notebooks were given: a corpus's one (`reproduce.CORPUS_PARAMETERS`), else the preset's
    pairs = 1 if corpus else len(sized.hrl_lrl_sets)

    gpu_summaries = _summaries(figures_dir.parent / "gpu", titles)

    def gpu_has(name) -> bool:
        return gpu_summaries.get(name, {}).get("status") == "ok"

    def not_run(name):
        if sized.runs_notebook(name):
            return "not run"
        if sized.varies:
            return f"not part of this preset — see the {sized.varies} report"
        return "not run at this size — " + ("see the gpu report" if gpu_has(name) else "no preset's shipped runs draw it yet")

    def drawn(item) -> str:
        """Whether this report draws a figure of the coverage table (and if not, why)."""
        if item.notebook is None:
            return "–"
        six = sized.model.layers == 6
        if item.six_layer and not six:
            return "6-layer preset (gpu6, paper6)"
        if six and not item.six_layer and "6-layer" not in item.content:  # a figure with a 6-layer panel is drawn there
            return "3-layer presets"
        if item.second_pair and pairs < 2:
            return "second pair: your corpus gives one" if corpus else "second pair: not at this preset"
        s = summaries.get(item.notebook)
        return "drawn" if s and s["status"] == "ok" else (s["status"] if s else not_run(item.notebook))

    for name in titles:
        s = summaries.get(name)
        lines.append(f"| {name} | {s['status'] if s else 'not run'} | {s['seconds'] / 60:.1f} min | "
                     f"{sum(f.endswith('.png') for f in s['figures'])} |"
                     if s else f"| {name} | {not_run(name)} | – | – |")
    counts_by_status = coverage.counts()
    marks = {item: drawn(item) for item in coverage.ITEMS}
    lines += ["", "**Contents:** [scale of this preset](#scale) · [every figure and table of both papers](#coverage)"]
    lines += [f"- [{title}](#{name})" + (f" — {summaries[name]['status']}" if name in summaries else "")
              for name, title in titles.items()]
    lines += ["", '<a id="scale"></a>', ""] + scale_markdown(preset, hub, corpus)
    lines += ["", '<a id="coverage"></a>', "", "## Every figure and table of both papers", "",
              "What reproduces each one, and how far (`paperlib/coverage.py`): "
              + ", ".join(f"{n} {status}" for status, n in counts_by_status.items())
              + f"; {sum(mark == 'drawn' for mark in marks.values())} of them drawn in this report (column "
                "\"in this report\").", "",
              coverage.table_markdown(marks.get).rstrip("\n")]
    for name, title in titles.items():
        lines += ["", f'<a id="{name}"></a>', "", f"## {title}", "", f"Notebook `notebooks/{name}.ipynb`."]
        s = summaries.get(name)
        if s is None and not sized.runs_notebook(name):
            lines += ["", f"Not run at the {preset} size: its runs would not reach the regime its claims need "
                          f"(`paperlib.presets`). "
                          + ("The [gpu report](../gpu/REPORT.md) has it." if gpu_has(name) else
                             f"No preset's shipped runs draw it yet: `paperlib reproduce --preset gpu --only {name}` on a GPU "
                             "trains its runs.")]
        elif s and s["status"] == NOT_SHIPPED:
            missing = re.search(r"run (\S+) \(([^)]*)\)", s["error"] or "")
            near = re.search(r" -- (the closest stored run .*?): the code has moved on", s["error"] or "")
            lines += ["", "**Not drawn: its runs are not in the shipped results**"
                      + (f" (the first missing: `{missing[1]}`, {missing[2]}"
                         + (f"; {near[1]}" if near else "") + ")" if missing else "")
                      + f"; `paperlib reproduce --preset {preset} --only {name}` trains them."]
        elif s and s["status"] != "ok":
            lines += ["", f"**The notebook failed:** `{s['error'].splitlines()[0] if s['error'] else 'unknown error'}`"]
        for fig in (s["figures"] if s else []):
            if fig.endswith(".png"):
                lines += ["", f"![{fig}]({fig})"]
        advice = paths.records_dir(figures_dir) / f"{name}.advice.json"
        if advice.exists():  # a recommendation (`paperlib.advise.record`), with its held-out error
            lines += ["", "**Recommendation** (`paperlib advise`, from this report's runs):", "", "```",
                      json.loads(advice.read_text())["text"], "```"]
        nb = verdicts.get(name)
        if nb and nb["verdicts"]:
            lines += ["", "| claim | paper | verdict | effect (95% CI) | gates | numbers | note |",
                      "|---|---|---|---|---|---|---|"]
            lines += [_verdict_row(v) for v in nb["verdicts"]]
    return "\n".join(lines) + "\n"


def write(preset: str, titles: dict[str, str], figures_dir: Path, corpus: str | None = None,
          hub: bool = False) -> list[Path]:
    """Write figures_dir/REPORT.md and REPORT.html, and the index of every preset's report
    one folder up (figures/REPORT.md). corpus: the folder of a researcher's corpus the
    notebooks ran on (`--source dir`); hub: they ran on the hub's corpora; said in the report."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    md = build(preset, titles, figures_dir, corpus, hub)
    out = [figures_dir / "REPORT.md", figures_dir / "REPORT.html"]
    files.atomic_write(out[0], md)
    files.atomic_write(out[1], _html(md, f"paperlib report ({preset})"))
    return out + write_index(figures_dir.parent, titles)


def _registered(records: dict, notebooks) -> dict:
    """The records of the report's notebooks: one left by a notebook since renamed or removed
    is neither shown nor counted (counted but never shown, the totals would not add up)."""
    return {name: nb for name, nb in records.items() if notebooks is None or name in notebooks}


def write_index(root: Path, notebooks=None) -> list[Path]:
    """figures/REPORT.md: one line per published report -- a preset whose runs are shipped
    with the repository (`paths.shipped_runs_dir`) -- with its verdict counts. A report of a
    local run (smoke, a corpus of one's own) is not listed: the committed index stays as it is.
    notebooks: the names whose records count (default: every record)."""
    lines = ["# Reproduction reports", "",
             "One report per preset whose runs are shipped (`results/<preset>/runs`); each is rebuilt from the "
             "records beside its figures.", "",
             "| preset | report | verdicts |", "|---|---|---|"]
    for report in sorted(Path(root).glob("*/REPORT.md")):
        preset = report.parent.name
        if not paths.shipped_runs_dir(preset).is_dir():
            continue
        records = _registered(claims.load(preset, paths.records_dir(report.parent)), notebooks)
        counts = Counter(v["status"] for nb in records.values() for v in nb["verdicts"])
        summary = claims.count_statuses(counts.elements()) if counts else \
            "no records: a report from before claims were library predicates (its verdicts are superseded)"
        lines.append(f"| {preset} | [{preset}/REPORT.md]({preset}/REPORT.md) | {summary} |")
    md = "\n".join(lines) + "\n"
    out = [Path(root) / "REPORT.md", Path(root) / "REPORT.html"]
    files.atomic_write(out[0], md)
    files.atomic_write(out[1], _html(md.replace("REPORT.md)", "REPORT.html)"), "paperlib reports"))
    return out


# a code span (kept: mistune escapes it), or a '<' that opens none of the report's own tags
# (anchors, line breaks, folded details) nor an autolink
_CODE_OR_STRAY_LT = re.compile(r"(`+).*?(?<!`)\1(?!`)|<(?!/?(?:a|details|summary|br)[\s>/]|https?:)")


def _html(markdown_text: str, title: str) -> str:
    import mistune  # ships with nbconvert (jupyter)

    # escape=False: the report's own anchors, line breaks and folded details are HTML; any other
    # '<' is text (a placeholder such as <preset>, a comparison, a task name) and is escaped here,
    # outside code spans (mistune escapes those itself)
    text = _CODE_OR_STRAY_LT.sub(lambda m: m[0] if m[1] else "&lt;", markdown_text)
    body = mistune.create_markdown(escape=False, plugins=["table"])(text)
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}"
             "img{max-width:100%}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head><body>{body}</body></html>"
