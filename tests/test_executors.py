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
