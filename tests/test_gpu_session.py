"""The prepared GPU session (benchmarks/gpu_session.py) runs rarely, on a lent GPU whose
minutes are few: its phases that can run on a CPU are run here, at the smoke size, so that
a change elsewhere cannot break it unseen."""

import json
import sys
import tarfile
import time
from pathlib import Path

import pytest

from paperlib import experiments as E
from paperlib import paths, presets

sys.path.insert(0, str(paths.PACKAGE_ROOT))
gpu_session = pytest.importorskip("benchmarks.gpu_session")


@pytest.mark.slow
def test_the_stacked_phase_checks_stacked_against_separate_steps_and_times_each_stack():
    out = gpu_session.stacked_throughput("smoke", E.pair("smoke"), 1e11, stacks=(1, 2), steps=5, device="cpu")
    check = out["matches_separate_steps"]
    assert "error" not in check, check
    assert check["max_loss_difference"] < 1e-5 and check["max_parameter_difference"] < 1e-5
    for k in (1, 2):
        assert "error" not in out[k], out[k]
        assert out[k]["run_steps_per_s"] == pytest.approx(k * out[k]["stack_steps_per_s"])
    json.dumps(out)  # what gpu_session.json holds


@pytest.mark.slow
def test_the_trainer_phase_times_both_mask_forms_and_its_runs_stay_out_of_the_shipped_tarball(tmp_path):
    runs_root = tmp_path / "runs"
    out = gpu_session.trainer_alone("smoke", E.pair("smoke"), runs_root, steps=8)
    assert out["steps_per_s"] > 0 and out["steps_per_s_2d_masks"] > 0
    shipped = runs_root / "order_matters_nmt-smoke" / "abc"
    shipped.mkdir(parents=True)
    (shipped / "metrics.jsonl").write_text("{}\n")
    (shipped / "ckpt").mkdir()
    (shipped / "ckpt" / "last.pt").write_bytes(b"x")
    gpu_session.pack_runs(runs_root, tmp_path)
    with tarfile.open(tmp_path / "runs.tar.xz") as tar:
        assert tar.getnames() == ["runs/order_matters_nmt-smoke/abc/metrics.jsonl"]


@pytest.mark.slow
def test_the_stacked_trainer_phase_trains_each_stack_through_paperlibs_loop(tmp_path):
    out = gpu_session.trainer_stacked("smoke", E.pair("smoke"), tmp_path / "runs", stacks=(2,), steps=8)
    assert "error" not in out[2], out[2]
    assert out[2]["run_steps_per_s"] > 0
    assert len(list((tmp_path / "runs" / "gpu_bench" / "trainer_stacked_2").glob("*/DONE"))) == 2
    json.dumps(out)


def test_both_groups_plan_runs_at_every_preset_size():
    for name in gpu_session.GROUPS:
        assert gpu_session.group_configs(name, "smoke", E.pair("smoke"))


@pytest.mark.slow
def test_fig3_statistics_phase_keeps_what_the_notebook_reads(tmp_path):
    """After the cooldown group, the session measures Fig. 3 at Fig. 1's τ=5 run and keeps it in
    the run's directory with B1's own settings: B1 then reads it without checkpoints."""
    import shutil

    from paperlib import gradvar, runs

    root = tmp_path / "runs"
    assert "skipped" in gpu_session.gradient_variance("smoke", E.pair("smoke"), root, device="cpu")
    points = E.gradient_variance_checkpoints("smoke")
    settings = runs.Settings(root, progress=False)
    trained = {name: None if c is None else runs.get_or_train(c, settings) for name, c in points.items()}
    summary = gpu_session.gradient_variance("smoke", E.pair("smoke"), root, device="cpu")
    assert list(summary) == list(points)
    for run in trained.values():
        if run is not None:
            shutil.rmtree(run.dir / "ckpt")
    s = E.scale("smoke")  # the notebook's call, on runs without checkpoints: read back, not measured
    kept = gradvar.at_checkpoints(trained, 5.0, s.gradvar_batches, per_task=s.gradvar_per_task, seed=0)
    assert {n: r["TS"]["norm_variance"] for n, r in kept.items()} == {n: v["norm_variance_ts"] for n, v in summary.items()}


@pytest.mark.slow
def test_a_session_without_measurements_trains_a_group_as_stacks_and_ships_it(tmp_path):
    """The whole script as the device runs it (on this CPU, at smoke size): with `--stack-seeds`
    every run of the group is a run of a stack, and the tarball holds them; the measurements
    before the groups train their runs alone."""
    import subprocess

    out, root = tmp_path / "out", tmp_path / "runs"
    subprocess.run([sys.executable, "-m", "benchmarks.gpu_session", "--out", str(out), "--budget", "300",
                    "--preset", "smoke", "--groups", "cooldown_fig1", "--stack-seeds",
                    "--runs-root", str(root), "--workers", "2"], check=True, cwd=paths.PACKAGE_ROOT,
                   capture_output=True)
    result = json.loads((out / "gpu_session.json").read_text())
    assert result["stack_seeds"] and result["cooldown_fig1"]["done"] == result["cooldown_fig1"]["of"] > 0
    with tarfile.open(out / "runs.tar.xz") as tar:
        written = [json.load(tar.extractfile(m)) for m in tar.getmembers() if m.name.endswith("config.json")]
    configs = [w["config"] for w in written]
    assert configs and all(c["stack_seeds"] == [0, 1] for c in configs)
    assert "error" not in result["trainer_alone"], result["trainer_alone"]
    measured = [json.loads(p.read_text())["config"] for p in (root / "gpu_bench").rglob("config.json")]
    assert measured and all(c["stack_seeds"] == [] for c in measured)
    # the rate the dry run charges stacked runs at: every step the group's runs (each shipped
    # run directory: from where it forks to where it stops) trained, none of the measurements'
    # (trained alone, before it), over the group's wall time
    own_steps = [(w["config"]["stop_at"] or sum(p["steps"] for p in w["plan"]["phases"])) - (w["config"]["fork_at"] or 0)
                 for w in written]
    rate, group = result["side_by_side_stacked"], result["cooldown_fig1"]
    assert "side_by_side" not in result and rate["stacked"] and rate["groups"] == ["cooldown_fig1"]
    assert rate["steps"] == group["run_steps"] == sum(own_steps) > 0 and rate["runs"] == len(configs)
    assert rate["aggregate_steps_per_s"] == round(rate["steps"] / group["wall_s"], 1)
    # and their FLOPs as the dry run counts a step; no MFU without a GPU's measured peak
    from paperlib import costs
    from paperlib.config import from_dict

    flops = sum(n * costs.flops_per_step(from_dict(w["config"])) for n, w in zip(own_steps, written))
    assert group["flops"] == rate["flops"] == pytest.approx(flops) and flops > 0
    assert group["mfu"] is None and rate["mfu"] is None and "peak_bf16_flops" not in result


@pytest.mark.slow
def test_a_notebook_named_as_a_group_trains_every_run_its_notebook_reads(tmp_path):
    """`--groups B5_table4_multilingual_lm`: the notebook's runs, then its DoReMi weights and
    DoReMi run, as the notebook would train them: afterwards it finds every run it reads
    with training off (how the shipped runs are drawn)."""
    from paperlib import doremi, runs
    from paperlib.executors import Executor

    name, root = "B5_table4_multilingual_lm", tmp_path / "runs"
    before = gpu_session.group_summary(name, "smoke", E.pair("smoke"), root)
    assert before["done"] == 0 and before["runs"][0]["method"].startswith("DoReMi weights")  # not learned yet
    assert gpu_session.doremi_proxy_work(name, "smoke", root) == (0, 0.0)
    gpu_session.train_group(name, "smoke", E.pair("smoke"), root, workers=1)
    # the proxy, trained with no run directory, counts in the group's run-steps and FLOPs once learned
    from paperlib import costs

    proxy = E.doremi_proxy_config("smoke", *E.doremi_taskset(name))
    steps, flops = gpu_session.doremi_proxy_work(name, "smoke", root)
    assert steps == proxy.plan.steps > 0 and flops == pytest.approx(steps * costs.flops_per_step(proxy))
    summary = gpu_session.group_summary(name, "smoke", E.pair("smoke"), root)
    # the notebook's runs and, its weights learned, its DoReMi run
    assert summary["done"] == summary["of"] == len(E.notebook_runs("smoke")[name]) + 1
    assert summary["runs"][-1]["method"] == "DoReMi"
    shipped = runs.Settings(root, executor=Executor(workers=1), progress=False, train_missing=False)
    taskset, experiment = E.doremi_taskset(name)
    proxy = E.doremi_proxy_config("smoke", taskset, experiment)
    weights = doremi.learn_weights(proxy, proxy.plan.steps, settings=shipped)  # cached: nothing trains
    assert len(runs.train_labelled(E.method_table_runs("smoke", taskset, 1, experiment=experiment)
                                   + E.doremi_runs("smoke", taskset, weights, experiment), shipped)) == 7
    with pytest.raises(ValueError, match="or a notebook"):
        gpu_session.group_configs("nope", "smoke", E.pair("smoke"))


def test_an_unknown_group_is_refused_before_anything_runs(tmp_path):
    import subprocess

    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_session", "--out", str(tmp_path / "out"),
                           "--preset", "smoke", "--groups", "cooldown_fig1,B4_table3_one_to_mny,B0_fig02_variance_theory"],
                          cwd=paths.PACKAGE_ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "unknown group(s) B4_table3_one_to_mny, B0_fig02_variance_theory" in done.stderr
    assert not (tmp_path / "out").exists()


def test_auto_stacking_needs_a_stack_of_four_well_ahead_of_one_run_on_the_groups_own_kernel():
    alone = {"steps_per_s": 40.0}
    assert gpu_session.stacking_pays(alone, {4: {"run_steps_per_s": 120.0}}, 2.5)[0]
    no, why = gpu_session.stacking_pays(alone, {4: {"run_steps_per_s": 90.0}}, 2.5)
    assert not no and "2.25x" in why and "alone" in why
    # a stack that trained only on the math attention kernel: the groups would not use it
    retried = {4: {"error": "RuntimeError: no batching rule", "math_attention": {"run_steps_per_s": 400.0}}}
    assert not gpu_session.stacking_pays(alone, retried, 2.5)[0]
    assert not gpu_session.stacking_pays({"error": "x"}, {4: {"run_steps_per_s": 400.0}}, 2.5)[0]
    assert not gpu_session.stacking_pays(None, None, 2.5)[0]


def test_the_groups_rate_and_mfu_join_every_group_that_trained():
    """`side_by_side`: run-steps, FLOPs and wall time summed over the groups that trained
    (a group that trained nothing, e.g. found all its runs done, is left out), MFU against
    the peak measured in the same call."""
    groups = {"a": {"run_steps": 300, "flops": 6e15, "wall_s": 10.0, "runs_trained": 3},
              "b": {"run_steps": 100, "flops": 2e15, "wall_s": 30.0, "runs_trained": 1},
              "c": {"run_steps": 0, "flops": 0.0, "wall_s": 5.0, "runs_trained": 0}}
    rate = gpu_session.side_by_side(groups, "smoke", "hrl_lrl_fi", workers=4, stacked=True, peak=1e15)
    assert rate["groups"] == ["a", "b"] and rate["runs"] == 4 and rate["steps"] == 400 and rate["wall_s"] == 40.0
    assert rate["aggregate_steps_per_s"] == 10.0 and rate["mfu"] == pytest.approx(8e15 / 40.0 / 1e15)
    assert rate["stack"] == len(presets.get("smoke").seeds)
    assert gpu_session.side_by_side(groups, "smoke", "hrl_lrl_fi", 4, stacked=False)["mfu"] is None


def test_a_phase_is_cut_where_its_time_ends_and_one_that_has_none_does_not_start():
    """The measurements may not eat the groups' time (a lent GPU's minutes are counted)."""

    start = time.time()
    with pytest.raises(gpu_session.OutOfTime, match="stopped after"):
        with gpu_session._time_limit(0.3):
            while True:
                time.sleep(0.01)
    assert time.time() - start < 2
    with pytest.raises(gpu_session.OutOfTime, match="not started"):
        with gpu_session._time_limit(-1):
            pytest.fail("ran without time left")
    with gpu_session._time_limit(5):
        pass
    time.sleep(0.1)  # the alarm was disarmed: nothing fires after the block


def test_auto_stacking_in_a_call_without_measurements_takes_the_earlier_calls_decision(tmp_path):
    """The second call on a warm machine measures nothing: with auto it trains as the first
    call decided, so that the runs the first left unfinished resume (stacked runs are other runs)."""
    root = tmp_path / "runs"
    with pytest.raises(ValueError, match="no earlier call on this machine kept a decision"):
        gpu_session.auto_stacking(True, root, {}, 2.5)  # a fresh machine: no guess at the identities
    measured = {"trainer_alone": {"steps_per_s": 40.0}, "trainer_stacked": {4: {"run_steps_per_s": 120.0}}}
    assert gpu_session.auto_stacking(False, root, measured, 2.5)[0]
    stack, why = gpu_session.auto_stacking(True, root, {}, 2.5)
    assert stack and why.startswith("as an earlier call decided: a stack of 4 made 120.0")
    gpu_session.pack_runs(root, tmp_path)  # the decision stays on the machine
    with tarfile.open(tmp_path / "runs.tar.xz") as tar:
        assert tar.getnames() == []


def test_the_stacked_trainer_phase_stops_at_the_first_failing_stack(tmp_path, monkeypatch):
    """No retry on the math kernel (the groups would not train on it) and no larger stack after
    a failure: each costs K evaluations and hundreds of steps of the one shot."""
    from paperlib import train

    tried = []

    def failing(cfgs, dirs, progress=True):
        tried.append(len(cfgs))
        raise RuntimeError("attn_bias is not correctly aligned")

    monkeypatch.setattr(train, "train_stack", failing)
    out = gpu_session.trainer_stacked("smoke", E.pair("smoke"), tmp_path / "runs", stacks=(4, 8), steps=8,
                                      device="cuda")
    assert tried == [4] and list(k for k in out if isinstance(k, int)) == [4]
    assert out[4] == {"error": "RuntimeError: attn_bias is not correctly aligned"}


def test_a_phase_out_of_time_is_not_swallowed_by_an_except_oserror_on_its_way():
    """The library reads files under `except OSError`; TimeoutError is one, so a phase cut
    there would have run on past its time."""
    give_up = time.time() + 5
    with pytest.raises(gpu_session.OutOfTime):
        with gpu_session._time_limit(0.2):
            while time.time() < give_up:
                try:
                    time.sleep(0.01)
                except OSError:
                    pass


def test_auto_without_measurements_on_a_fresh_machine_is_refused_before_anything_runs(tmp_path):
    import subprocess

    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_session", "--out", str(tmp_path / "out"),
                           "--preset", "smoke", "--no-measure", "--stack-seeds", "auto",
                           "--runs-root", str(tmp_path / "runs")], cwd=paths.PACKAGE_ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "no earlier call on this machine kept a decision" in done.stderr
    assert not (tmp_path / "out").exists()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended


@pytest.mark.parametrize("worker_ignores_term", [False, True])
def test_a_group_cut_at_its_deadline_is_stopped_with_the_workers_it_started(tmp_path, worker_ignores_term):
    """A group's workers are processes of their own: stopping the group's child alone would
    leave them training on the GPU beside what comes after (TERM first; KILL for one that
    does not end)."""
    pid_file = tmp_path / "worker.pid"
    worker = ("import signal, time; " + ("signal.signal(signal.SIGTERM, signal.SIG_IGN); " if worker_ignores_term else "")
              + "time.sleep(60)")
    child = ("import subprocess, sys, time; "
             f"w = subprocess.Popen([sys.executable, '-c', {worker!r}]); "
             f"time.sleep(1); open({str(pid_file)!r}, 'w').write(str(w.pid)); time.sleep(60)")
    start = time.time()
    assert gpu_session.run_until([sys.executable, "-c", child], 3, grace=1) == "stopped at the deadline"
    assert time.time() - start < 20
    worker_pid = int(pid_file.read_text())
    time.sleep(0.3)
    assert not _running(worker_pid), f"the worker {worker_pid} still runs"
    assert gpu_session.run_until([sys.executable, "-c", "raise SystemExit(3)"], 30) == 3


def test_a_stacked_group_that_fails_before_a_step_is_trained_again_alone(tmp_path, monkeypatch):
    """The trainer phases test a stack on one plain static run; a group's forks, resets and
    BLEU may fail where it did not. Then that group trains alone (the others still try their
    stacks), and a later auto call on the machine trains it alone too."""
    monkeypatch.setitem(presets.PRESETS, "smoke", presets.PRESETS["smoke"])  # main stacks the preset in-process
    calls = []

    def child(cmd, seconds):
        calls.append(("--stack-seeds" in cmd, cmd[cmd.index("--group") + 1]))
        return 1 if "--stack-seeds" in cmd and "cooldown_fig1" in cmd else 0

    monkeypatch.setattr(gpu_session, "run_until", child)
    monkeypatch.setattr(gpu_session, "group_summary", lambda *a: {"runs": [], "done": 0, "of": 1})
    monkeypatch.setattr(gpu_session, "gradient_variance", lambda *a: {})
    monkeypatch.setattr(gpu_session, "STARTED", time.time())  # the budget counts from here, not from the import
    root, out = tmp_path / "runs", tmp_path / "out"
    gpu_session.keep_decision(root, True, "measured earlier")
    argv = ["gpu_session", "--out", str(out), "--budget", "400", "--preset", "smoke",
            "--measure", "none", "--stack-seeds", "auto", "--runs-root", str(root)]
    monkeypatch.setattr(sys, "argv", argv)
    gpu_session.main()
    assert calls == [(True, "cooldown_fig1"), (False, "cooldown_fig1"), (True, "order_matters_fig2")]
    result = json.loads((out / "gpu_session.json").read_text())
    assert result["stack_seeds"] is True and result["groups_alone"] == ["cooldown_fig1"]
    assert result["cooldown_fig1 (stacked, failed)"]["exit"] == 1  # the failed attempt stays on record
    assert result["cooldown_fig1"]["stacked"] is False and result["order_matters_fig2"]["stacked"] is True
    assert gpu_session.auto_stacking(True, root, {}, 2.5)[0] and gpu_session.kept_alone(root) == {"cooldown_fig1"}
    assert gpu_session.kept_decision(root)["why"] == "measured earlier"  # the first call's reason, not nested
    calls.clear()  # the warm continuation: the failed group alone again, at once
    gpu_session.main()
    assert calls == [(False, "cooldown_fig1"), (True, "order_matters_fig2")]
    # a call told to stack, over an earlier auto call's kept "no": its continuation stacks as it did
    gpu_session.keep_decision(root, False, "measured earlier: below 2.5x")
    monkeypatch.setattr(sys, "argv", argv[:-3] + ["on", "--runs-root", str(root)])
    calls.clear()
    gpu_session.main()
    assert calls[:2] == [(True, "cooldown_fig1"), (False, "cooldown_fig1")]
    assert gpu_session.kept_decision(root) == {"stack": True, "why": "--stack-seeds on", "alone": ["cooldown_fig1"]}
    # a failure after steps were trained, or a cut, is not the stacks' to answer for
    assert gpu_session.stack_failed(1, 0) and not gpu_session.stack_failed(1, 10)
    assert not gpu_session.stack_failed("stopped at the deadline", 0) and not gpu_session.stack_failed(0, 0)


def test_the_groups_rate_counts_finished_groups_only_while_any_finished():
    done = {"run_steps": 300, "flops": 6e15, "wall_s": 10.0, "runs_trained": 3, "done": 3, "of": 3}
    cut = {"run_steps": 100, "flops": 2e15, "wall_s": 30.0, "runs_trained": 1, "done": 0, "of": 5}
    rate = gpu_session.side_by_side({"a": done, "b": cut}, "smoke", "hrl_lrl_fi", 4, stacked=False)
    assert rate["groups"] == ["a"] and rate["steps"] == 300 and "partial" not in rate
    rate = gpu_session.side_by_side({"b": cut}, "smoke", "hrl_lrl_fi", 4, stacked=False)
    assert rate["groups"] == ["b"] and rate["partial"] == ["b"] and rate["aggregate_steps_per_s"] == 3.3


def test_a_group_whose_summary_failed_is_not_taken_for_a_finished_one():
    """0 of 0 runs done is a summary that failed (`main` records it so), not a finished group:
    with no finished group, every group that trained counts and is named partial."""
    failed = {"run_steps": 100, "flops": 1e15, "wall_s": 10.0, "runs_trained": 1, "done": 0, "of": 0}
    cut = {"run_steps": 50, "flops": 5e14, "wall_s": 10.0, "runs_trained": 1, "done": 1, "of": 4}
    rate = gpu_session.side_by_side({"a": failed, "b": cut}, "smoke", "hrl_lrl_fi", 4, stacked=False)
    assert rate["groups"] == ["a", "b"] and rate["partial"] == ["a", "b"] and rate["steps"] == 150
    assert rate["stack"] == 1  # unstacked: one run per step of a worker


def test_a_group_that_trained_nothing_gives_no_rate_rather_than_a_division_by_zero():
    rate = gpu_session.side_by_side({"a": {"run_steps": 0, "wall_s": 5.0}}, "smoke", "hrl_lrl_fi", 4, stacked=True,
                                    peak=1e15)
    assert rate["steps"] == 0 and rate["aggregate_steps_per_s"] is None and rate["mfu"] is None
    assert rate["groups"] == [] and "partial" not in rate


def test_auto_stacking_stacks_at_exactly_the_ratio_and_keeps_a_no_for_the_continuation(tmp_path):
    """'ratio times or more' (`stacking_pays`); a call that decided against stacking leaves
    that decision, so that its continuation resumes the unstacked runs it started."""
    assert gpu_session.stacking_pays({"steps_per_s": 40.0}, {4: {"run_steps_per_s": 100.0}}, 2.5)[0]
    root = tmp_path / "runs"
    measured = {"trainer_alone": {"steps_per_s": 40.0}, "trainer_stacked": {4: {"run_steps_per_s": 60.0}}}
    stack, why = gpu_session.auto_stacking(False, root, measured, 2.5)
    assert not stack and "below 2.5x" in why
    later, later_why = gpu_session.auto_stacking(True, root, {}, 2.5)
    assert later is False and later_why == f"as an earlier call decided: {why}"
    assert gpu_session.kept_alone(root) == set()


def test_a_measuring_call_decides_afresh_and_forgets_the_groups_an_earlier_decision_left_alone(tmp_path):
    root = tmp_path / "runs"
    gpu_session.keep_decision(root, True, "earlier", alone={"order_matters_fig2", "cooldown_fig1"})
    assert gpu_session.kept_alone(root) == {"cooldown_fig1", "order_matters_fig2"}
    measured = {"trainer_alone": {"steps_per_s": 40.0}, "trainer_stacked": {4: {"run_steps_per_s": 120.0}}}
    assert gpu_session.auto_stacking(False, root, measured, 2.5)[0]
    assert gpu_session.kept_alone(root) == set() and gpu_session.kept_decision(root)["stack"] is True


def test_a_retry_on_the_math_kernel_is_recorded_beside_the_error_never_in_its_place():
    """`stacking_pays` reads a stack's rate at the top level: a rate measured only on the math
    kernel (which the groups would not use) must stay under its own key; on a CPU there is no
    retry."""
    calls = []

    def fails_first():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("no batching rule")
        return {"run_steps_per_s": 400.0}

    out = gpu_session._with_math_attention_retry(fails_first, "cuda")
    assert out == {"error": "RuntimeError: no batching rule", "math_attention": {"run_steps_per_s": 400.0}}
    assert not gpu_session.stacking_pays({"steps_per_s": 40.0}, {4: out}, 2.5)[0]
    calls.clear()
    assert gpu_session._with_math_attention_retry(fails_first, "cpu") == {"error": "RuntimeError: no batching rule"}
    assert len(calls) == 1
    assert gpu_session._with_math_attention_retry(lambda: {"ok": 1}, "cuda") == {"ok": 1}


def test_a_runs_steps_per_second_is_timed_between_its_first_and_last_evaluation(tmp_path):
    """Rows without a validation loss (training logs) lie outside the window."""
    rows = [{"step": 0, "wall_time": 1.0}, {"step": 0, "valid_loss": 5.0, "wall_time": 3.0},
            {"step": 50, "loss": 4.0, "wall_time": 5.0}, {"step": 100, "valid_loss": 4.0, "wall_time": 8.0},
            {"step": 100, "bleu": 1.0, "wall_time": 20.0}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert gpu_session._steps_per_s(tmp_path, 100) == pytest.approx(100 / 5.0)


def test_the_tarball_leaves_out_the_job_logs_and_checkpoints_at_any_depth(tmp_path):
    root = tmp_path / "runs"
    for rel in ("_jobs/notebooks/log.out", "gpu_bench/x/metrics.jsonl", "exp/abc/ckpt/step_10/model.pt",
                "exp/abc/metrics.jsonl", "exp/abc/DONE"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    gpu_session.pack_runs(root, tmp_path)
    with tarfile.open(tmp_path / "runs.tar.xz") as tar:
        assert sorted(tar.getnames()) == ["runs/exp/abc/DONE", "runs/exp/abc/metrics.jsonl"]
    assert not (tmp_path / "runs.tar.xz.partial").exists()


def test_a_groups_flops_count_each_run_at_the_steps_it_trained_itself():
    from paperlib import costs

    (a, _), (b, _) = E.cooldown_runs("smoke", E.pair("smoke"))[:2]
    assert gpu_session.group_flops({"x": (10, a), "y": (3, b)}) == pytest.approx(
        10 * costs.flops_per_step(a) + 3 * costs.flops_per_step(b))
    assert gpu_session.group_flops({}) == 0


def test_the_groups_rate_goes_under_the_key_the_dry_run_charges_from():
    from paperlib import costs

    assert gpu_session.costs_key(True) == costs.SIDE_BY_SIDE[True] != gpu_session.costs_key(False)
    assert gpu_session.costs_key(False) == costs.SIDE_BY_SIDE[False]


def _session(tmp_path, monkeypatch, argv, fig3_kept=False, group_seconds=100.0, started_ago=0.0, trains=None,
             resumed=0):
    """main() with a clock that stands still but for the groups' children (each takes
    `group_seconds`), the process having started `started_ago` seconds before main:
    [(group, seconds it was given)] and gpu_session.json. trains(group, stacked): the child's
    (exit code, the steps its one run per group and way has trained by its end), order_matters_fig2's
    stacked run having trained `resumed` steps in an earlier call."""
    import types

    clock = [1000.0]
    monkeypatch.setitem(presets.PRESETS, "smoke", presets.PRESETS["smoke"])  # main stacks the preset in-process
    monkeypatch.setattr(gpu_session, "time", types.SimpleNamespace(time=lambda: clock[0],
                                                                   perf_counter=time.perf_counter))
    monkeypatch.setattr(gpu_session, "STARTED", clock[0] - started_ago)
    calls = []

    def child(cmd, seconds):
        calls.append((cmd[cmd.index("--group") + 1], seconds))
        clock[0] += min(seconds, group_seconds)
        if trains is not None:
            code, steps = trains(calls[-1][0], "--stack-seeds" in cmd)
            if steps:
                trained[f"{calls[-1][0]}/{'stacked' if '--stack-seeds' in cmd else 'alone'}"] = (steps, group_cfg)
            return code
        return 0 if group_seconds <= seconds else "stopped at the deadline"

    trained, group_cfg = {}, E.cooldown_runs("smoke", E.pair("smoke"))[0][0]
    if resumed:
        trained["order_matters_fig2/stacked"] = (resumed, group_cfg)
    monkeypatch.setattr(gpu_session, "trained_steps", lambda root: dict(trained))

    monkeypatch.setattr(gpu_session, "run_until", child)
    monkeypatch.setattr(gpu_session, "group_summary", lambda *a: {"runs": [], "done": 1, "of": 1})
    monkeypatch.setattr(gpu_session, "fig3_statistics_kept", lambda *a: fig3_kept)
    monkeypatch.setattr(gpu_session, "gradient_variance", lambda *a: {"measured": True})
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["gpu_session", "--out", str(out), "--preset", "smoke", "--measure", "none",
                                      "--runs-root", str(tmp_path / "runs"), *argv])
    gpu_session.main()
    return calls, json.loads((out / "gpu_session.json").read_text())


def test_each_group_gets_the_budget_left_less_what_packing_and_fig3_keep(tmp_path, monkeypatch):
    """A group's child is cut where the budget ends, less 20 s to pack (and 40 s more for
    Fig. 3's statistics when the cooldown group trains the runs they read and they are not kept)."""
    calls, result = _session(tmp_path, monkeypatch, ["--budget", "400"])
    assert calls == [("cooldown_fig1", 340.0), ("order_matters_fig2", 240.0)]
    assert result["gradient_variance"] == {"measured": True}
    calls, _ = _session(tmp_path, monkeypatch, ["--budget", "400"], fig3_kept=True)
    assert calls == [("cooldown_fig1", 380.0), ("order_matters_fig2", 280.0)]
    calls, _ = _session(tmp_path, monkeypatch, ["--budget", "400", "--groups", "order_matters_fig2"])
    assert calls == [("order_matters_fig2", 380.0)]  # no cooldown group: Fig. 3's runs are not this call's
    # the budget counts from the process's start (a cold machine's imports take seconds), not main's
    calls, _ = _session(tmp_path, monkeypatch, ["--budget", "400"], fig3_kept=True, started_ago=30.0)
    assert calls == [("cooldown_fig1", 350.0), ("order_matters_fig2", 250.0)]


def test_a_group_with_under_a_minute_left_is_skipped_and_said_so(tmp_path, monkeypatch):
    calls, result = _session(tmp_path, monkeypatch, ["--budget", "200"], group_seconds=90.0)
    assert calls == [("cooldown_fig1", 140.0)]  # then 200 - 90 - 60 = 50 s: not started
    assert result["order_matters_fig2"] == {"skipped": "50 s left of the budget"}
    assert result["cooldown_fig1"]["exit"] == 0 and result["cooldown_fig1"]["wall_s"] == 90.0
    calls, result = _session(tmp_path, monkeypatch, ["--budget", "80"])
    assert calls == [] and "skipped" in result["cooldown_fig1"]


def test_a_decision_call_measures_one_run_alone_and_within_its_share_of_the_budget(tmp_path, monkeypatch):
    """`--measure decision`: the trainer alone with host-built masks only; a measurement left
    no time before the groups' reserve is not started, and auto then trains the groups alone
    (and keeps that, for the continuation)."""
    measured = []

    def alone(preset, taskset, runs_root, masks=(True, False)):
        measured.append(masks)
        return {"steps_per_s": 40.0}

    monkeypatch.setattr(gpu_session, "trainer_alone", alone)
    argv = ["--budget", "400", "--measure", "decision", "--stack-seeds", "auto", "--groups", "order_matters_fig2"]
    _, result = _session(tmp_path, monkeypatch, argv + ["--groups-reserve", "300"])
    assert measured == [(True,)] and result["trainer_alone"] == {"steps_per_s": 40.0}
    _, result = _session(tmp_path, monkeypatch, argv + ["--groups-reserve", "400"])
    assert measured == [(True,)], "a measurement ran into the groups' reserve"
    assert result["trainer_alone"]["error"].startswith("OutOfTime: not started")
    assert result["stack_seeds"] is False and result["order_matters_fig2"]["stacked"] is False
    assert gpu_session.kept_decision(tmp_path / "runs")["stack"] is False


def test_the_flag_not_the_presets_default_says_whether_a_call_stacks(tmp_path, monkeypatch):
    """Once stacked runs are shipped, the preset says stack_seeds=True (benchmarks/gpu_session.sh);
    a later call without --stack-seeds (or a group retried alone) must still train alone in its
    child, as its parent summarises it, and the trainer's "one run alone" must be one run."""
    import dataclasses

    seen = []
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(presets.get("smoke"), stack_seeds=True))
    monkeypatch.setattr(gpu_session, "train_group", lambda name, preset, *a: seen.append(presets.get(preset).stack_seeds))
    for flag, stacks in (([], False), (["--stack-seeds"], True)):
        monkeypatch.setattr(sys, "argv", ["gpu_session", "--out", str(tmp_path / "out"), "--preset", "smoke",
                                          "--group", "cooldown_fig1", *flag])
        gpu_session.main()
        assert seen.pop() is stacks

    def alone(preset, taskset, runs_root, masks=(True, False)):
        seen.append(presets.get(preset).stack_seeds)
        return {"steps_per_s": 40.0}

    monkeypatch.setattr(gpu_session, "trainer_alone", alone)
    _session(tmp_path, monkeypatch, ["--budget", "400", "--measure", "decision", "--stack-seeds", "auto",
                                     "--groups", "order_matters_fig2"])
    assert seen == [False]


def test_the_groups_rate_is_kept_under_the_key_of_the_way_each_group_trained(tmp_path, monkeypatch):
    """Stacked groups' run-steps go to side_by_side_stacked, a group retried alone after its
    stacks failed to side_by_side: each is what the dry run charges that way of training at."""
    from paperlib import costs

    def trains(group, stacked):
        return (1, 0) if stacked and group == "cooldown_fig1" else (0, 300 if stacked else 100)

    calls, result = _session(tmp_path, monkeypatch, ["--budget", "600", "--stack-seeds"], fig3_kept=True,
                             trains=trains)
    assert [c[0] for c in calls] == ["cooldown_fig1", "cooldown_fig1", "order_matters_fig2"]
    stacked, alone = result[costs.SIDE_BY_SIDE[True]], result[costs.SIDE_BY_SIDE[False]]
    assert (stacked["groups"], stacked["steps"], stacked["wall_s"]) == (["order_matters_fig2"], 300, 100.0)
    assert (alone["groups"], alone["steps"], alone["wall_s"]) == (["cooldown_fig1"], 100, 100.0)
    cfg = E.cooldown_runs("smoke", E.pair("smoke"))[0][0]
    assert result["order_matters_fig2"]["flops"] == pytest.approx(300 * costs.flops_per_step(cfg))
    assert result["cooldown_fig1"]["run_steps_per_s"] == 1.0
    assert result["order_matters_fig2"]["runs_trained"] == 1  # the cooldown group's run did not grow in it
    # a run an earlier call left unfinished counts from where it resumed, not from its start
    _, result = _session(tmp_path, monkeypatch, ["--budget", "600", "--stack-seeds"], fig3_kept=True,
                         trains=trains, resumed=120)
    assert result["order_matters_fig2"]["run_steps"] == result[costs.SIDE_BY_SIDE[True]]["steps"] == 180


def test_a_stacks_rate_is_k_times_its_steps_per_second_from_a_fresh_run(tmp_path, monkeypatch):
    """run-steps/s of a stack of K: K x the steps/s of its first run's evaluation window; a
    stack an earlier call left finished is trained again (it would return at once, timing nothing)."""
    from paperlib import train

    trained = []

    def train_stack(cfgs, dirs, progress=True):
        assert [c.stack_seeds for c in cfgs] == [tuple(range(len(cfgs)))] * len(cfgs)
        for d in dirs:
            assert not (d / "metrics.jsonl").exists(), "an earlier stack's run was not removed"
            d.mkdir(parents=True)
            (d / "metrics.jsonl").write_text(json.dumps({"step": 0, "valid_loss": 5.0, "wall_time": 2.0}) + "\n"
                                             + json.dumps({"step": 8, "valid_loss": 4.0, "wall_time": 6.0}) + "\n")
        trained.append(len(cfgs))

    monkeypatch.setattr(train, "train_stack", train_stack)
    for _ in range(2):
        out = gpu_session.trainer_stacked("smoke", E.pair("smoke"), tmp_path / "runs", stacks=(2, 4), steps=8)
        assert out[2] == {"run_steps_per_s": 2 * 8 / 4.0} and out[4] == {"run_steps_per_s": 4 * 8 / 4.0}
    assert trained == [2, 4, 2, 4]
