"""Runs and notebooks as jobs through submitit: its local executor starts real processes
(the code path of a Slurm job); Slurm itself is checked through the sbatch file."""

import time

import pytest

from paperlib import config, executors, runs, store
from paperlib.executors import Executor
from paperlib.train import train

OM = {"method": "order_matters", "pretrain_steps": 8, "finetune_steps": 4, "pretrain_on": "en-it"}


def _rows(run_dir):
    return [{k: v for k, v in r.items() if k not in ("wall_time", "bleu_seconds")} for r in store.read_metrics(run_dir)]


def _same_run(a, b):
    """Byte for byte the same metrics, wall times aside: a run trains on one fixed number of
    threads (`train.CPU_THREADS`) wherever it trains -- in this process, a worker or a job."""
    assert _rows(a) == _rows(b)


@pytest.fixture
def one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # job processes share the 2 cores


@pytest.mark.slow
def test_local_jobs_train_a_grid_through_the_run_store(tiny_cfg, tmp_path, one_thread):
    grid = [tiny_cfg({**OM, "rates": [0.5, 0.5]}, fork_at=8), tiny_cfg({**OM, "rates": [0.2, 0.8]}, fork_at=8),
            tiny_cfg({"method": "static", "steps": 8, "rates": [0.7, 0.3]})]
    ex = Executor(kind="local-jobs", folder=str(tmp_path / "jobs"))
    done = runs.get_or_train_many(grid, runs.Settings(tmp_path / "runs", executor=ex, progress=False))
    assert all(r.done for r in done)
    assert len(list((tmp_path / "runs" / "test").iterdir())) == 4  # three runs and one shared pre-training
    assert list((tmp_path / "jobs").glob("*_log.out")), "the runs were not trained in job processes"
    # a job trains exactly what this process trains
    here = runs.get_or_train(grid[1], runs.Settings(tmp_path / "here", progress=False))
    _same_run(done[1].dir, here.dir)
    # submitting the same grid again trains nothing
    again = runs.get_or_train_many(grid, runs.Settings(tmp_path / "runs", executor=ex, progress=False))
    assert [r.dir for r in again] == [r.dir for r in done]


@pytest.mark.slow
def test_local_workers_train_a_grid_side_by_side(tiny_cfg, tmp_path, monkeypatch):
    # two prefix runs (the shared pre-training, the static run's first 8 steps), then three runs
    grid = [tiny_cfg({**OM, "rates": [0.5, 0.5]}, fork_at=8), tiny_cfg({**OM, "rates": [0.2, 0.8]}, fork_at=8),
            tiny_cfg({"method": "static", "steps": 12, "rates": [0.7, 0.3]}, fork_at=8)]
    with monkeypatch.context() as m:  # training in this process is an error: the workers must do it
        m.setattr(runs, "train", lambda *a, **k: pytest.fail("a run was trained in this process"))
        done = runs.get_or_train_many(grid, runs.Settings(tmp_path / "runs", executor=Executor(workers=2), progress=False))
    assert all(r.done for r in done)
    assert len(list((tmp_path / "runs" / "test").iterdir())) == 5  # three runs and two prefixes
    for cfg, run in zip(grid, done):  # each worker trains exactly what this process trains
        _same_run(run.dir, runs.get_or_train(cfg, runs.Settings(tmp_path / "here", progress=False)).dir)
    # the progress bar's count: each run's own steps (after the shared prefix), read from its log
    assert [runs.steps_done(c, r.dir) for c, r in zip(grid, done)] == [4, 4, 4]
    prefix = runs.get_or_train(config.parent_config(grid[0]), runs.Settings(tmp_path / "runs", progress=False))
    assert runs.steps_done(config.parent_config(grid[0]), prefix.dir) == 8
    # a continuation's own seconds leave out the prefix's, which its log carries over
    final = [m for m in store.read_metrics(done[0].dir) if m.get("final")][-1]["wall_time"]
    at_fork = [m for m in store.read_metrics(prefix.dir) if m["step"] == 8 and not m.get("final")][-1]["wall_time"]
    own = store.own_seconds(grid[0], done[0].dir)
    assert own == pytest.approx(final - at_fork) and 0 < own < final
    assert runs.steps_done(grid[0], tmp_path / "nowhere") == 0


def test_each_worker_shows_which_run_it_trains(tiny_cfg, tmp_path, capsys):
    cfgs = [tiny_cfg({"method": "static", "steps": 4, "rates": r}) for r in ([0.5, 0.5], [0.2, 0.8])]
    start = time.time()
    schedule = runs.train_side_by_side(cfgs, 2, runs.Settings(tmp_path, progress=True))
    wall = time.time() - start
    own = [store.own_seconds(c, store.run_dir_for(c, tmp_path)) for c in cfgs]
    # one run per worker: the busiest worker's training time is the longer run's own time
    assert schedule.trained == 2 and schedule.busiest_seconds == max(own) and 0 < max(own) < wall
    err = capsys.readouterr().err
    assert "2 runs, 2 side by side" in err
    assert "worker 1: " in err and "worker 2: " in err
    assert "static rates=0.5/0.5 seed 0" in err and "static rates=0.2/0.8 seed 0" in err


def test_a_failed_side_by_side_run_names_its_directory(tiny_cfg, tmp_path):
    good = tiny_cfg({"method": "static", "steps": 4, "rates": [0.5, 0.5]})
    bad = tiny_cfg({"method": "static", "steps": 4, "rates": [0.5, 0.5]}, seed=1)
    bad_dir = store.run_dir_for(bad, tmp_path)
    bad_dir.mkdir(parents=True)
    (bad_dir / "config.json").write_text("{}")  # another config's directory under this hash
    with pytest.raises(RuntimeError, match=f"1 of 2 runs failed:\n{bad_dir}"):
        runs.train_side_by_side([good, bad], 2, runs.Settings(tmp_path, progress=False))
    assert (store.run_dir_for(good, tmp_path) / "DONE").exists()  # the other run still finished


def test_runs_continuing_a_failed_prefix_are_not_started_and_are_named(tiny_cfg, tmp_path):
    """One schedule over runs and prefixes: a fork waits for its prefix; when the prefix fails,
    the runs continuing it are named and never started, and an independent run still finishes."""
    forks = [tiny_cfg({**OM, "rates": r}, fork_at=8) for r in ([0.5, 0.5], [0.2, 0.8])]
    prefix_dir = store.run_dir_for(config.parent_config(forks[0]), tmp_path)
    prefix_dir.mkdir(parents=True)
    (prefix_dir / "config.json").write_text("{}")  # another config's directory under the prefix's hash
    other = tiny_cfg({"method": "static", "steps": 4, "rates": [0.5, 0.5]})
    with pytest.raises(RuntimeError) as info:
        runs.train_side_by_side(forks + [other], 2, runs.Settings(tmp_path, progress=False))
    message = str(info.value)
    assert message.startswith(f"1 of 4 runs failed:\n{prefix_dir}")
    fork_dirs = [store.run_dir_for(c, tmp_path) for c in forks]
    assert "not started, as they continue a failed run: " in message and all(str(d) in message for d in fork_dirs)
    assert not any(d.exists() for d in fork_dirs)
    assert (store.run_dir_for(other, tmp_path) / "DONE").exists()


def test_workers_setting(monkeypatch):
    from paperlib import cli

    monkeypatch.setattr(executors, "cpu_cores", lambda: 3)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert executors.default_workers() == 3  # one per core on a CPU machine ...
    monkeypatch.setattr(executors, "cpu_cores", lambda: 16)
    assert executors.default_workers() == 8  # ... up to 8
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert executors.default_workers() == 1  # the GPU trains one run at a time
    args = cli.build_parser().parse_args(["reproduce", "--workers", "2"])
    assert cli._executor(args) == Executor(workers=2)
    assert cli._executor(cli.build_parser().parse_args(["reproduce", "--workers", "1"])) is None  # this process
    with pytest.raises(ValueError, match="workers must be positive"):
        Executor(workers=0)
    with pytest.raises(Exception, match="positive number or 'auto'"):
        cli._workers("zero")


@pytest.mark.slow
def test_a_resubmitted_job_resumes_from_the_last_checkpoint(tiny_cfg, tmp_path, one_thread):
    cfg = tiny_cfg({"method": "static", "steps": 12, "rates": [0.5, 0.5]})
    run_dir = store.run_dir_for(cfg, tmp_path / "runs")
    train(cfg, run_dir, progress=False, stop_after=10)  # the job died at step 10; checkpoint at step 8
    assert not (run_dir / "DONE").exists() and (run_dir / "ckpt" / "last.pt").exists()
    ex = Executor(kind="local-jobs", folder=str(tmp_path / "jobs"))
    (resumed,) = runs.get_or_train_many([cfg], runs.Settings(tmp_path / "runs", executor=ex, progress=False))
    uninterrupted = runs.get_or_train(cfg, runs.Settings(tmp_path / "clean", progress=False))
    _same_run(resumed.dir, uninterrupted.dir)


@pytest.mark.slow
def test_reproduce_runs_notebooks_as_jobs(tmp_path, monkeypatch, one_thread):
    from paperlib import reproduce

    monkeypatch.setenv("PAPERLIB_ROOT", str(tmp_path))  # runs, figures and report go here
    monkeypatch.setattr(reproduce, "_prepare_data", lambda preset, progress, notebooks, corpus_params=None: None)  # the theory notebook needs no data
    ex = Executor(kind="local-jobs", folder=str(tmp_path / "jobs"))
    (res,) = reproduce.reproduce("smoke", ["B0_fig02_variance_theory"], progress=False, executor=ex)
    assert res.status == "ok", res.error
    assert res.figures and all(p.exists() for p in res.figures)
    assert list((tmp_path / "jobs" / "notebooks").glob("*_log.out"))
    assert (tmp_path / "figures" / "smoke" / "REPORT.md").exists()


def test_slurm_job_script(tmp_path):
    ex = Executor(kind="slurm", partition="gpu", account="proj42", gpus_per_node=4, nodes=2, timeout_min=600,
                  setup=("source .venv/bin/activate",))
    script = executors.sbatch_script(ex, tmp_path, "paperlib-runs")
    for line in ("#SBATCH --partition=gpu", "#SBATCH --account=proj42", "#SBATCH --gpus-per-node=4",
                 "#SBATCH --ntasks-per-node=4", "#SBATCH --nodes=2", "#SBATCH --time=600", "#SBATCH --signal=USR2@120",
                 "source .venv/bin/activate", "srun", "submitit.core._submit"):
        assert line in script, line


def test_executor_settings_are_checked():
    with pytest.raises(ValueError, match="needs a partition"):
        Executor(kind="slurm")
    with pytest.raises(ValueError, match="unknown executor"):
        Executor(kind="kubernetes")
    with pytest.raises(ValueError, match="nodes must be positive"):
        Executor(kind="local-jobs", nodes=0)
    ex = Executor(kind="slurm", partition="p", setup=("module load cuda",))
    settings = runs.Settings(executor=ex, wait_locked=True)
    # how reproduce hands the settings to a notebook (a papermill parameter, JSON)
    import json
    assert runs.Settings.from_parameters(json.loads(json.dumps(settings.to_parameters()))) == settings


def _children(pid):
    import pathlib

    out = []
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            out.append(int(status.parent.name))
    return out


@pytest.mark.slow
def test_workers_die_with_their_parent(tiny_cfg, tmp_path, data_dir):
    """kill -9 the process that trains runs side by side: its workers go too (no orphan keeps
    training or holding a run's lock)."""
    import json
    import os
    import signal
    import subprocess
    import sys as _sys
    import time

    long = [tiny_cfg({"method": "temperature", "steps": 5000, "tau": t}) for t in (1.0, 2.0)]
    script = tmp_path / "parent.py"
    script.write_text(
        "import json, sys\nfrom paperlib import config, runs\n"
        "if __name__ == '__main__':  # spawned workers import this file too\n"
        f"    cfgs = [config.from_dict(d) for d in json.loads({json.dumps(json.dumps([c.to_dict() for c in long]))})]\n"
        f"    runs.train_side_by_side(cfgs, 2, runs.Settings({str(tmp_path / 'runs')!r}, progress=False))\n")
    parent = subprocess.Popen([_sys.executable, str(script)], env={**os.environ, "PAPERLIB_DATA": str(data_dir)})
    workers = []
    for _ in range(240):  # until both workers are training (their runs have logged step 0)
        workers = [c for c in _children(parent.pid) if "multiprocessing" in open(f"/proc/{c}/cmdline").read()]
        logged = [p for p in (tmp_path / "runs").glob("*/*/metrics.jsonl") if p.stat().st_size > 0]
        if len(workers) >= 2 and len(logged) >= 2:
            break
        time.sleep(0.5)
    assert len(workers) >= 2 and len(logged) >= 2, "the workers did not start training"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{w}") and "Z" not in open(f"/proc/{w}/stat").read().split()[2]
                                         for w in workers):
        time.sleep(0.2)
    alive = [w for w in workers if os.path.exists(f"/proc/{w}") and open(f"/proc/{w}/stat").read().split()[2] != "Z"]
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert not alive, "workers outlived their parent"


def test_a_local_worker_needs_no_submitit(monkeypatch):
    # side-by-side workers call distributed_setup; on a machine without submitit (a GPU image)
    # every run failed with ModuleNotFoundError before this was caught
    import sys

    monkeypatch.setitem(sys.modules, "submitit", None)  # import submitit now raises ImportError
    monkeypatch.delenv("RANK", raising=False)
    executors.distributed_setup()
    assert "RANK" not in __import__("os").environ


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


def _alive(pid):
    import os

    try:
        return os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_killing_reproduce_leaves_no_kernel_and_no_worker(tiny_cfg, tmp_path, data_dir):
    """kill -9 `paperlib reproduce` while a notebook's runs train side by side: the notebook's
    kernel (ipykernel notices its parent is gone) and the kernel's workers (parent-death
    signal) all go; nothing keeps training or holds a run's lock."""
    import json
    import os
    import signal
    import subprocess
    import sys as _sys
    import time
    from pathlib import Path

    long = [tiny_cfg({"method": "temperature", "steps": 5000, "tau": t}) for t in (1.0, 2.0)]
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    _sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    from nbbuild import write_notebook

    write_notebook(nbdir / "a.ipynb", [
        ("params", 'preset = "smoke"\nfigures_dir = None\nrun_settings = None'),
        ("code", "import json\nfrom paperlib import config, runs\n"
                 f"cfgs = [config.from_dict(d) for d in json.loads({json.dumps(json.dumps([c.to_dict() for c in long]))})]\n"
                 "runs.get_or_train_many(cfgs, runs.Settings.from_parameters(run_settings))")])
    script = tmp_path / "reproduce.py"
    script.write_text(
        "import sys\nfrom paperlib import cli, reproduce\n"
        f"reproduce.paths.notebooks_dir = lambda: __import__('pathlib').Path({str(nbdir)!r})\n"
        "reproduce.NOTEBOOKS = ('a',)\n"
        "reproduce._prepare_data = lambda *a, **k: None\n"
        "sys.exit(cli.main(['reproduce', '--preset', 'smoke', '--workers', '2', '--no-progress']))\n")
    env = {**os.environ, "PAPERLIB_DATA": str(data_dir), "PAPERLIB_ROOT": str(tmp_path)}
    env.pop("MPLBACKEND", None)
    parent = subprocess.Popen([_sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family = []
    for _ in range(240):  # until both runs train in the kernel's workers (their logs have step 0)
        family = _descendants(parent.pid)
        logged = [p for p in (tmp_path / "runs").glob("*/*/metrics.jsonl") if p.stat().st_size > 0]
        if len(logged) >= 2 and len(family) >= 3:
            break
        time.sleep(0.5)
    assert len(logged) >= 2 and len(family) >= 3, "the notebook's workers did not start training"
    family = _descendants(parent.pid)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(p) for p in family):
        time.sleep(0.5)
    alive = [p for p in family if _alive(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    assert not alive, f"{len(alive)} of {len(family)} processes outlived paperlib reproduce"


def test_jobs_train_each_link_of_a_prefix_chain_after_the_one_it_continues():
    """As jobs (slurm, local-jobs), a chain of prefixes (`TrainConfig.prefix_forks`: τ=5's
    first half, its second piece to the pre-training length, then the run) trains in one wave
    per link: a wave never holds a prefix and the run that continues it (they would race for
    its lock)."""
    runs_ = {"half": "c-half", "to_pretrain": "c-pre", "static": "c-static", "restart": "c-restart",
             "cooldown": "c-cool", "alone": "c-alone"}
    parent_of = {"to_pretrain": "half", "static": "to_pretrain", "restart": "to_pretrain", "cooldown": "half"}
    waves = runs._job_waves(runs_, parent_of)
    assert [(name, sorted(wave)) for wave, name in waves] == [
        ("paperlib-prefixes-0", ["c-half"]), ("paperlib-prefixes-1", ["c-pre"]),
        ("paperlib-runs", sorted(["c-static", "c-restart", "c-cool", "c-alone"]))]


def test_a_cpu_only_slurm_job_asks_for_no_gpu_and_runs_one_task():
    ex = Executor(kind="slurm", partition="cpu", gpus_per_node=0, mem_gb=16, extra={"qos": "high"})
    assert ex.tasks_per_node == 1
    params = ex.slurm_parameters()
    assert "gpus_per_node" not in params and params["ntasks_per_node"] == 1
    assert params["mem"] == "16GB" and params["qos"] == "high" and params["partition"] == "cpu"
    assert "account" not in params and "setup" not in params  # unset: left to the cluster's defaults
    assert Executor(kind="slurm", partition="gpu", gpus_per_node=4).slurm_parameters()["ntasks_per_node"] == 4
    with pytest.raises(ValueError, match="gpus_per_node must be positive"):
        Executor(gpus_per_node=-1)
    for name in ("cpus_per_task", "timeout_min", "max_parallel"):
        with pytest.raises(ValueError, match=f"{name} must be positive"):
            Executor(**{name: 0})
    # a named setting given again through extra: one line naming it, not submitit's TypeError at submission
    with pytest.raises(ValueError, match=r"extra repeats a named setting: partition, time \(timeout_min\) --"):
        Executor(kind="slurm", partition="cpu", extra={"time": 60, "partition": "gpu", "qos": "high"})


def test_job_logs_go_to_the_executors_folder_else_beside_the_runs(tmp_path):
    assert executors.job_folder(Executor(kind="local-jobs", folder=str(tmp_path / "j")), tmp_path / "r") == tmp_path / "j"
    assert executors.job_folder(Executor(kind="local-jobs"), tmp_path / "r") == tmp_path / "r" / "_jobs"


class _FakeJob:
    def __init__(self, job_id, fn, args):
        self.job_id, self._fn, self._args = job_id, fn, args
        self.paths = type("P", (), {"stderr": f"/logs/{job_id}_log.err"})()

    def result(self):
        return self._fn(*self._args)


class _FakeSubmitit:
    """submitit's executor interface, running each job when its result is asked for."""

    def __init__(self):
        self.jobs, self.batched = [], False

    def batch(self):
        import contextlib

        @contextlib.contextmanager
        def batch():
            self.batched = True
            yield
            self.batched = False
        return batch()

    def submit(self, fn, *args):
        assert self.batched, "jobs are submitted as one array"
        self.jobs.append(_FakeJob(str(len(self.jobs) + 7), fn, args))
        return self.jobs[-1]


def test_run_jobs_returns_results_in_order_and_a_failed_job_names_its_log(monkeypatch, tmp_path):
    fake = _FakeSubmitit()
    monkeypatch.setattr(executors, "submitit_executor", lambda *a, **k: fake)
    ex = Executor(kind="local-jobs")
    assert executors.run_jobs(ex, lambda a, b: a * b, [(2, 3), (4, 5)], tmp_path, "x", progress=False) == [6, 20]

    def fails(x):
        raise ValueError(f"bad {x}")

    with pytest.raises(RuntimeError, match=r"job 9 failed; its log: /logs/9_log.err\nbad 1"):
        executors.run_jobs(ex, fails, [(1,)], tmp_path, "x", progress=False)
    monkeypatch.setattr(executors, "submitit_executor", lambda *a, **k: pytest.fail("nothing to submit"))
    assert executors.run_jobs(ex, fails, [], tmp_path, "x", progress=False) == []


def test_run_jobs_waits_for_every_job_before_it_raises_for_the_failed_ones(monkeypatch, tmp_path):
    fake = _FakeSubmitit()
    monkeypatch.setattr(executors, "submitit_executor", lambda *a, **k: fake)
    done = []

    def some_fail(x):
        if x % 2:
            raise ValueError(f"bad {x}")
        done.append(x)

    with pytest.raises(RuntimeError) as err:
        executors.run_jobs(Executor(kind="local-jobs"), some_fail, [(1,), (2,), (3,), (4,)], tmp_path, "x", progress=False)
    assert done == [2, 4]  # the jobs after the first failure were still waited for
    assert "bad 1" in str(err.value) and "bad 3" in str(err.value)


def test_a_preempted_job_is_requeued_with_the_same_call():
    import submitit

    job = runs.TrainJob()
    again = job.checkpoint({"seed": 1}, {"progress": False})
    assert isinstance(again, submitit.helpers.DelayedSubmission)
    assert again.function is job and again.args == ({"seed": 1}, {"progress": False})


def test_a_single_task_slurm_job_runs_once_whatever_its_gpus(monkeypatch, tmp_path):
    import submitit

    seen = {}

    class Slurm:
        def __init__(self, folder):
            seen["folder"] = folder

        def update_parameters(self, **params):
            seen.update(params)

    monkeypatch.setattr(submitit, "SlurmExecutor", Slurm)
    ex = Executor(kind="slurm", partition="gpu", gpus_per_node=4, nodes=2)
    executors.submitit_executor(ex, tmp_path, "nb", single_task=True)
    assert seen["ntasks_per_node"] == 1 and seen["nodes"] == 1 and seen["gpus_per_node"] == 4
    assert seen["job_name"] == "nb" and seen["folder"] == str(tmp_path)
    executors.submitit_executor(ex, tmp_path, "runs")
    assert seen["ntasks_per_node"] == 4 and seen["nodes"] == 2  # one task per GPU: data-parallel


# ---------------------------------------------------------------- runs: scheduling without training
# Fakes stand in for training so each test pins what paperlib.runs decides (what trains, in
# which order, from which directory) in well under a second per run.

STATIC = {"method": "static", "rates": [0.5, 0.5]}


def _finish(cfg, root, d=None):
    """Make cfg's run (in d, else its own directory) a finished one in the store, as
    training it would (config, log, DONE)."""
    d = d or store.run_dir_for(cfg, root)
    data, plan, _ = store.resolve(cfg)
    d.mkdir(parents=True, exist_ok=True)
    store.write_or_check_config(d, cfg, plan, data)
    store.write_metrics(d, [{"step": 0}, {"step": config.total_steps(cfg), "final": True}])
    (d / "DONE").write_text("{}")
    return d


@pytest.fixture
def fake_training(monkeypatch):
    """runs.train / runs.train_stack replaced by fakes that finish the runs; the calls, in order."""
    calls = []

    def fake_train(cfg, run_dir, init_from=None, progress=True, log_with=None):
        assert not (run_dir / "DONE").exists(), "a finished run was trained again"
        calls.append((cfg, run_dir, init_from))
        _finish(cfg, None, run_dir)

    def fake_train_stack(cfgs, run_dirs, init_froms=None, progress=True):
        calls.append((cfgs, run_dirs, init_froms))
        for c, d in zip(cfgs, run_dirs):
            _finish(c, None, d)

    monkeypatch.setattr(runs, "train", fake_train)
    monkeypatch.setattr(runs, "train_stack", fake_train_stack)
    return calls


def test_settings_check_their_poll_interval_and_travel_whole(tmp_path):
    with pytest.raises(ValueError, match="poll_seconds must be > 0"):
        runs.Settings(poll_seconds=0)
    assert not runs.Settings().parallel and not runs.Settings(executor=Executor(workers=1)).parallel
    assert runs.Settings(executor=Executor(workers=2)).parallel
    assert runs.Settings(executor=Executor(kind="local-jobs")).parallel
    every = runs.Settings(tmp_path, Executor(workers=3), wait_locked=True, poll_seconds=2.5, progress=False,
                          train_missing=False, log_with="tensorboard")
    import json
    back = runs.Settings.from_parameters(json.loads(json.dumps(every.to_parameters())))
    assert back == every and isinstance(back.executor, Executor) and back.runs_root == tmp_path
    assert runs.Settings.from_parameters(None) == runs.Settings()


def test_a_fork_trains_its_chain_of_prefixes_first_and_continues_each(tiny_cfg, tmp_path, fake_training):
    cfg = tiny_cfg({"method": "temperature", "steps": 16, "tau": 5}, fork_at=12, prefix_forks=(8,))
    run = runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False))
    first, second = config.parent_config(config.parent_config(cfg)), config.parent_config(cfg)
    assert [c for c, _, _ in fake_training] == [first, second, cfg]  # 0-8, then 8-12, then 12-16
    dirs = [d for _, d, _ in fake_training]
    assert [i for _, _, i in fake_training] == [None, dirs[0], dirs[1]]  # each continues the one before
    assert run.dir == dirs[2] == store.run_dir_for(cfg, tmp_path / "runs")
    fake_training.clear()
    assert runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False)).dir == run.dir
    assert fake_training == []  # finished: reused, nothing trained


def test_a_fork_with_a_checkpoint_resumes_without_its_prefix(tiny_cfg, tmp_path, fake_training):
    cfg = tiny_cfg({"method": "temperature", "steps": 16, "tau": 5}, fork_at=8)
    own = store.run_dir_for(cfg, tmp_path / "runs")
    (own / "ckpt").mkdir(parents=True)
    (own / "ckpt" / "last.pt").write_bytes(b"a checkpoint past the fork")
    runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False))
    assert fake_training == [(cfg, own, None)]


def test_a_stack_of_forks_needs_its_prefix_unless_every_run_can_resume(tiny_cfg, tmp_path, fake_training):
    stacked = [tiny_cfg({"method": "temperature", "steps": 16, "tau": 5}, fork_at=8, seed=s, stack_seeds=(0, 1))
               for s in (0, 1)]
    dirs = [store.run_dir_for(c, tmp_path / "runs") for c in stacked]
    (dirs[0] / "ckpt").mkdir(parents=True)
    (dirs[0] / "ckpt" / "last.pt").write_bytes(b"seed 0 only")
    run = runs.get_or_train(stacked[1], runs.Settings(tmp_path / "runs", progress=False))
    parents = [config.parent_config(c) for c in stacked]
    parent_dirs = [store.run_dir_for(c, tmp_path / "runs") for c in parents]
    # the prefix stack trains once (both seeds), then the stack continues it, seed by seed
    assert fake_training == [(parents, parent_dirs, [None, None]), (stacked, dirs, parent_dirs)]
    assert run.dir == dirs[1] and run.config == stacked[1]


def test_a_damaged_finished_run_is_named_when_reading_and_resumed_in_place_when_training(tiny_cfg, tmp_path,
                                                                                        fake_training):
    cfg = tiny_cfg({**STATIC, "steps": 8})
    d = _finish(cfg, tmp_path / "runs")
    (d / "metrics.jsonl").write_text('{"step": 0}\n{"st\n')
    with pytest.raises(runs.MissingRun, match=rf"run test/{d.name} \(static, seed 0\) is damaged in "
                                              rf"{tmp_path / 'runs'} and training is off"):
        runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False, train_missing=False))
    absent = tiny_cfg({**STATIC, "steps": 8}, seed=3)
    with pytest.raises(runs.MissingRun, match=r"\(static, seed 3\) is not there in .* --preset mini`$"):
        runs.get_or_train(absent, runs.Settings(tmp_path / "runs", progress=False, train_missing=False))
    assert fake_training == []
    runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False))
    assert fake_training == [(cfg, d, None)]  # its DONE taken away first (the fake refuses a finished run)


def test_a_finished_run_of_the_same_identity_under_another_experiment_is_reused(tiny_cfg, tmp_path, fake_training):
    elsewhere = _finish(tiny_cfg({**STATIC, "steps": 8}, experiment="other"), tmp_path / "runs")
    cfg = tiny_cfg({**STATIC, "steps": 8})
    run = runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False))
    assert run.dir == elsewhere and fake_training == []
    (elsewhere / "metrics.jsonl").write_text('{"step": 0}\n{"st\n')  # damaged: resumed where it is, not trained anew
    assert runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False)).dir == elsewhere
    assert fake_training == [(cfg, elsewhere, None)] and not store.run_dir_for(cfg, tmp_path / "runs").exists()


def test_a_tracker_is_refused_for_a_stacked_run(tiny_cfg, tmp_path, fake_training):
    cfg = tiny_cfg({**STATIC, "steps": 8}, stack_seeds=(0, 1))
    with pytest.raises(ValueError, match="an experiment tracker follows one run, and seed 0 trains in a stack of 2"):
        runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False, log_with="tensorboard"))
    assert fake_training == []


def test_a_locked_run_fails_at_once_or_is_waited_for_until_it_is_finished(tiny_cfg, tmp_path, monkeypatch):
    cfg = tiny_cfg({**STATIC, "steps": 8})

    def locked(*a, **k):
        raise store.RunLocked("run is in use by another process")

    slept = []

    def sleep(seconds):  # the other process finishes the run during the second wait
        slept.append(seconds)
        if len(slept) == 2:
            _finish(cfg, tmp_path / "runs")
        assert len(slept) <= 2, "still waiting for a finished run"

    monkeypatch.setattr(runs, "train", locked)
    monkeypatch.setattr(runs.time, "sleep", sleep)
    with pytest.raises(store.RunLocked):
        runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False, poll_seconds=7))
    assert slept == []  # not waiting unless asked to
    run = runs.get_or_train(cfg, runs.Settings(tmp_path / "runs", progress=False, wait_locked=True, poll_seconds=7))
    assert slept == [7, 7] and run.done and run.dir == store.run_dir_for(cfg, tmp_path / "runs")


def test_figures_only_never_schedules_training_even_with_workers(tiny_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "train_side_by_side", lambda *a, **k: pytest.fail("scheduled training"))
    reading = runs.Settings(tmp_path / "runs", Executor(workers=2), progress=False, train_missing=False)
    with pytest.raises(runs.MissingRun, match="training is off"):
        runs.get_or_train_many([tiny_cfg({**STATIC, "steps": 8})], reading)


def test_local_workers_schedule_the_grid_once_then_only_read_it(tiny_cfg, tmp_path, monkeypatch, fake_training):
    grid = [tiny_cfg({**STATIC, "steps": 8}, seed=s) for s in (0, 1)]
    scheduled = []

    def schedule(cfgs, workers, settings):
        scheduled.append((cfgs, workers))
        for c in cfgs:
            _finish(c, tmp_path / "runs")

    monkeypatch.setattr(runs, "train_side_by_side", schedule)
    done = runs.get_or_train_many(grid, runs.Settings(tmp_path / "runs", Executor(workers=3), progress=False))
    assert scheduled == [(grid, 3)] and fake_training == []
    assert [r.dir for r in done] == [store.run_dir_for(c, tmp_path / "runs") for c in grid]


OM_FORK = {"method": "order_matters", "pretrain_steps": 8, "finetune_steps": 4, "pretrain_on": "en-it"}


def test_jobs_train_prefixes_in_an_earlier_wave_with_quiet_in_process_settings(tiny_cfg, tmp_path, monkeypatch,
                                                                               fake_training):
    forks = [tiny_cfg({**OM_FORK, "rates": r}, fork_at=8) for r in ([0.5, 0.5], [0.2, 0.8])]
    alone = tiny_cfg({**STATIC, "steps": 8})
    waves = []

    def run_jobs(executor, function, arg_lists, folder, name, progress=True):
        waves.append((name, [config.from_dict(c) for c, _ in arg_lists], [s for _, s in arg_lists], folder))
        for c, _ in arg_lists:
            _finish(config.from_dict(c), tmp_path / "runs")

    monkeypatch.setattr(executors, "run_jobs", run_jobs)
    ex = Executor(kind="local-jobs")
    done = runs.get_or_train_many(forks + [alone], runs.Settings(tmp_path / "runs", ex, progress=True))
    assert [(name, cfgs) for name, cfgs, _, _ in waves] == [
        ("paperlib-prefixes-0", [config.parent_config(forks[0])]), ("paperlib-runs", forks + [alone])]
    # in a job each run trains in the job's own process (no jobs submitting jobs), without bars
    assert all(s == runs.Settings(tmp_path / "runs", progress=False).to_parameters() for _, _, ss, _ in waves for s in ss)
    assert all(folder == tmp_path / "runs" / "_jobs" for *_, folder in waves)
    assert [r.dir for r in done] == [store.run_dir_for(c, tmp_path / "runs") for c in forks + [alone]]
    assert fake_training == []


def test_a_failed_prefix_job_costs_only_the_runs_continuing_it(tiny_cfg, tmp_path, monkeypatch, fake_training):
    forks = [tiny_cfg({**OM_FORK, "rates": r}, fork_at=8) for r in ([0.5, 0.5], [0.2, 0.8])]
    alone = tiny_cfg({**STATIC, "steps": 8})
    waves = []

    def run_jobs(executor, function, arg_lists, folder, name, progress=True):
        waves.append((name, [config.from_dict(c) for c, _ in arg_lists]))
        if name.startswith("paperlib-prefixes"):
            raise RuntimeError("job 7 failed; its log: /logs/7_log.err")  # the shared prefix: nothing finished
        for c, _ in arg_lists:
            _finish(config.from_dict(c), tmp_path / "runs")

    monkeypatch.setattr(executors, "run_jobs", run_jobs)
    with pytest.raises(RuntimeError, match=r"1 run job\(s\) failed, and the 2 run\(s\) continuing them were not "
                                           r"submitted:\njob 7 failed"):
        runs.get_or_train_many(forks + [alone], runs.Settings(tmp_path / "runs", Executor(kind="local-jobs")))
    assert waves == [("paperlib-prefixes-0", [config.parent_config(forks[0])]), ("paperlib-runs", [alone])]
    assert fake_training == []  # nothing trained here in their place


class _Pool:
    """ProcessPoolExecutor as train_side_by_side uses it, training nothing: `wait` finishes
    one run, the first of `order` in training (default: the earliest submitted), failing
    those named in `fail`; `log` records starts and ends."""

    def __init__(self, label, fail=(), order=()):
        self.label, self.fail, self.order, self.log, self.pending, self.most = label, set(fail), list(order), [], [], 0

    def __call__(self, workers, context, initializer, initargs):
        self.workers, self.initargs = workers, initargs
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, cfg_dict, settings):
        from concurrent.futures import Future

        assert isinstance(fn, runs.TrainJob) and settings["executor"] is None and not settings["progress"]
        name = self.label(config.from_dict(cfg_dict))
        self.log.append(("start", name))
        self.pending.append((Future(), name))
        self.most = max(self.most, len(self.pending))
        return self.pending[-1][0]

    def wait(self, futures, timeout=None, return_when=None):
        assert self.pending, "waiting with no run in training: the rest can never start"
        rank = {n: i for i, n in enumerate(self.order)}
        fut, name = min(self.pending, key=lambda p: rank.get(p[1], len(rank)))
        self.pending.remove((fut, name))
        if name in self.fail:
            fut.set_exception(ValueError(f"{name} diverged"))
        else:
            fut.set_result("ok")
        self.log.append(("end", name))
        return {fut}, set(futures) - {fut}


def _schedule_grid(tiny_cfg):
    """Named configs: a long run, a medium one, and two forks of one shared pre-training
    (own steps: B 16 > A 10 > P 8, but P's chain, 8 + 4, outranks A)."""
    forks = [tiny_cfg({**OM_FORK, "rates": r}, fork_at=8) for r in ([0.5, 0.5], [0.2, 0.8])]
    named = {"A": tiny_cfg({**STATIC, "steps": 10}), "B": tiny_cfg({**STATIC, "steps": 16}),
             "F1": forks[0], "F2": forks[1], "P": config.parent_config(forks[0])}
    return named, lambda c: next(k for k, v in named.items() if v == c)


def _fake_pool(monkeypatch, pool):
    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(concurrent.futures, "wait", pool.wait)


def test_side_by_side_starts_a_fork_after_its_prefix_and_the_longest_chain_first(tiny_cfg, tmp_path, monkeypatch):
    named, label = _schedule_grid(tiny_cfg)
    pool = _Pool(label, order=["B", "A", "P"])  # A, started when B ends, ends before the prefix P does
    _fake_pool(monkeypatch, pool)
    grid = [named[k] for k in ("A", "F1", "F2", "B")]
    schedule = runs.train_side_by_side(grid, 2, runs.Settings(tmp_path / "runs", progress=False))
    starts = [n for what, n in pool.log if what == "start"]
    assert sorted(starts) == ["A", "B", "F1", "F2", "P"] and schedule.trained == 5  # each once, prefix included
    assert starts[:3] == ["B", "P", "A"]  # by the steps to the end of each run's chain: 16, 12, 10
    for fork in ("F1", "F2"):
        assert pool.log.index(("end", "P")) < pool.log.index(("start", fork))
    assert pool.most == 2 == pool.workers  # never more runs at once than workers


def test_side_by_side_names_a_failed_prefix_and_never_starts_its_chain(tiny_cfg, tmp_path, monkeypatch):
    chain = tiny_cfg({"method": "temperature", "steps": 16, "tau": 5}, fork_at=12, prefix_forks=(8,))
    first, second = config.parent_config(config.parent_config(chain)), config.parent_config(chain)
    named = {"C": chain, "P8": first, "P12": second, "S": tiny_cfg({**STATIC, "steps": 8})}
    pool = _Pool(lambda c: next(k for k, v in named.items() if v == c), fail={"P8"})
    _fake_pool(monkeypatch, pool)
    monkeypatch.setattr(executors, "cpu_cores", lambda: 8)
    with pytest.raises(RuntimeError) as info:
        runs.train_side_by_side([chain, named["S"]], 6, runs.Settings(tmp_path / "runs", progress=False))
    assert pool.workers == 4 and pool.initargs == (2,)  # no more workers than runs; the cores split among them
    dirs = {k: store.run_dir_for(c, tmp_path / "runs") for k, c in named.items()}
    assert str(info.value).startswith(f"1 of 4 runs failed:\n{dirs['P8']}: ValueError('P8 diverged')")
    assert str(dirs["P12"]) in str(info.value) and str(dirs["C"]) in str(info.value)  # what was not started, named
    assert sorted(n for what, n in pool.log if what == "start") == ["P8", "S"]


class _DyingPool(_Pool):
    """A pool whose worker process dies while the first run trains: that run's future fails
    with BrokenProcessPool and every later submit raises it, as concurrent.futures does."""

    def submit(self, fn, cfg_dict, settings):
        from concurrent.futures.process import BrokenProcessPool

        if self.log:
            for fut, _ in self.pending:
                fut.set_exception(BrokenProcessPool("a child process terminated abruptly"))
            raise BrokenProcessPool("a child process terminated abruptly")
        return super().submit(fn, cfg_dict, settings)

    def wait(self, futures, timeout=None, return_when=None):
        done = {f for f in futures if f.done()}
        return (done, set(futures) - done) if done else super().wait(futures, timeout, return_when)


def test_a_dead_worker_names_the_run_it_killed_and_the_runs_never_started(tiny_cfg, tmp_path, monkeypatch):
    """A worker killed (out of memory) broke the pool: the next submit raised BrokenProcessPool
    out of the schedule, naming no run; now the run that was training and those never started
    are named, with what to do."""
    named, label = _schedule_grid(tiny_cfg)
    pool = _DyingPool(label)
    _fake_pool(monkeypatch, pool)
    with pytest.raises(RuntimeError) as info:
        runs.train_side_by_side([named["A"], named["B"]], 2, runs.Settings(tmp_path / "runs", progress=False))
    dirs = {k: store.run_dir_for(named[k], tmp_path / "runs") for k in ("A", "B")}
    first = [n for what, n in pool.log if what == "start"]
    assert len(first) == 1
    other = ({"A", "B"} - set(first)).pop()
    message = str(info.value)
    assert message.startswith(f"1 of 2 runs failed:\n{dirs[first[0]]}: BrokenProcessPool")
    assert message.endswith(f"not started, as a worker process died (killed, or out of memory?): {dirs[other]}; "
                            "rerun to resume them")


def test_one_worker_trains_the_runs_here_prefixes_first(tiny_cfg, tmp_path, monkeypatch):
    import concurrent.futures

    named, label = _schedule_grid(tiny_cfg)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", lambda *a, **k: pytest.fail("a worker pool"))
    order = []
    monkeypatch.setattr(runs, "get_or_train", lambda c, s: order.append(label(c)))
    schedule = runs.train_side_by_side([named["F1"], named["A"], named["F2"]], 1,
                                       runs.Settings(tmp_path / "runs", progress=False))
    assert order == ["P", "F1", "A", "F2"] and schedule.trained == 4


def test_a_chain_of_continuations_is_ordered_and_its_descendants_found():
    assert runs._dependency_order({"c": 3, "b": 2, "a": 1, "x": 0}, {"c": "b", "b": "a"}) == ["a", "b", "c", "x"]
    children = {"a": ["b", "d"], "b": ["c"]}
    assert sorted(runs._descendants_of("a", children)) == ["b", "c", "d"]
    assert runs._descendants_of("c", children) == []


def test_steps_done_counts_a_forks_own_steps_and_nothing_for_an_unreadable_log(tiny_cfg, tmp_path):
    fork = tiny_cfg({**OM_FORK, "rates": [0.5, 0.5]}, fork_at=8)
    store.write_metrics(tmp_path, [{"step": 0}, {"step": 8}, {"step": 10}])
    assert runs.steps_done(fork, tmp_path) == 2
    assert runs.steps_done(config.parent_config(fork), tmp_path) == 10
    assert runs.steps_done(fork, tmp_path / "not yet") == 0  # not below zero before its first row
    (tmp_path / "metrics.jsonl").write_text('{"step": 0}\n{"st\n{"step": 4}\n')
    assert runs.steps_done(fork, tmp_path) == 0


def test_a_workers_line_names_its_run(tiny_cfg):
    fork = tiny_cfg({**OM_FORK, "rates": [0.5, 0.5]}, fork_at=8, seed=1, stack_seeds=(0, 1))
    assert runs.worker_label(2, fork) == "worker 3: dir_translation order_matters rates=0.5/0.5 seeds 0, 1 stacked from step 8"
    assert runs.worker_label(0, tiny_cfg({**STATIC, "steps": 8}, seed=4)) == \
        "worker 1: dir_translation static rates=0.5/0.5 seed 4"


def test_figures_only_names_the_missing_runs_by_their_labels_but_the_lr(tmp_path, monkeypatch, capsys):
    labelled = [(i, {"method": "m", "seed": i, "lr": lr}) for i in range(8) for lr in (0.1, 0.2)]

    def get(i, settings):
        if i:
            raise runs.MissingRun(f"seed {i}")
        return f"run {i}"

    monkeypatch.setattr(runs, "get_or_train", get)
    monkeypatch.setattr(store, "summarize", lambda found: found)
    found = runs.train_labelled(labelled, runs.Settings(tmp_path, progress=False, train_missing=False))
    assert found == [("run 0", {"method": "m", "seed": 0, "lr": 0.1}), ("run 0", {"method": "m", "seed": 0, "lr": 0.2})]
    out = capsys.readouterr().out
    assert f"figures only: 14 of 16 runs are not in {tmp_path} and are left out: " in out
    assert "method=m, seed=1; method=m, seed=2; " in out and "seed=6 ..." in out  # six named, each once
    assert "seed=7" not in out and "lr" not in out
    with pytest.raises(runs.MissingRun, match="seed 1"):  # none there: the first one's error
        runs.train_labelled(labelled[2:], runs.Settings(tmp_path, progress=False, train_missing=False))


def test_the_schedule_leaves_out_finished_runs_but_resumes_damaged_ones(tiny_cfg, tmp_path):
    done, damaged, missing = [tiny_cfg({**STATIC, "steps": 8}, seed=s) for s in (0, 1, 2)]
    _finish(done, tmp_path)
    (_finish(damaged, tmp_path) / "metrics.jsonl").write_text('{"step": 0}\n{"st\n')
    planned, parent_of = runs._missing_with_prefixes([done, damaged, missing], runs.Settings(tmp_path))
    assert planned == {store.run_dir_for(c, tmp_path).name: c for c in (damaged, missing)} and parent_of == {}


def test_extra_naming_what_paperlib_sets_itself_is_refused_saying_what_sets_it(tmp_path):
    """The job's name (and the settings derived from the named fields) passed construction
    when given in extra, and failed at submission -- and `--dry-run`'s sbatch script -- as a
    bare TypeError ('got multiple values for keyword argument job_name'). Each is named with
    what sets it instead."""
    with pytest.raises(ValueError, match=r"extra repeats a named setting: job_name \(paperlib names its jobs\)"):
        Executor(kind="slurm", partition="p", extra={"job_name": "mine"})
    with pytest.raises(ValueError, match=r"mem \(mem_gb\), ntasks_per_node \(one task per GPU: gpus_per_node\), "
                                         r"time \(timeout_min\) -- leave it out of extra"):
        Executor(kind="slurm", partition="p", extra={"time": 60, "mem": "8G", "ntasks_per_node": 2})
    script = executors.sbatch_script(Executor(kind="slurm", partition="p", extra={"qos": "high"}), tmp_path, "mine")
    assert "#SBATCH --qos=high" in script and "#SBATCH --job-name=mine" in script
