"""DDP under torchrun: 2 CPU processes on gloo train exactly like one process on the whole batch."""

import json
import os
import subprocess
import sys
import textwrap

import torch

SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    import torch
    from minillm.device import seed_everything
    from minillm.model import GPT, GPTConfig
    from minillm.train import TokenLoader, TrainConfig, Trainer, distributed_info

    out, global_batch = sys.argv[1], 8
    info = distributed_info()
    seed_everything(0)
    model = GPT(GPTConfig.modern(vocab_size=64, context_length=16, n_layer=2, n_head=2, n_embd=32))
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 64, 5000).astype(np.uint16)
    loader = TokenLoader(tokens, global_batch // info.world_size, 16, seed=0)
    config = TrainConfig(max_steps=6, lr=1e-2, min_lr=1e-3, warmup_steps=2, eval_every=0, grad_accum=2)
    trainer = Trainer(model, config, loader, device="cpu", progress=False,
                      out_dir=out + "/run")
    history = trainer.fit()
    if info.is_main:
        torch.save(trainer.model.state_dict(), out + "/weights.pt")
        json.dump({"world": info.world_size, "loss": history.loss.tolist()}, open(out + "/result.json", "w"))
''')


def run(tmp_path, name, nproc):
    out = tmp_path / name
    out.mkdir()
    script = tmp_path / "ddp_script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MINILLM_DEVICE": "cpu", "TQDM_DISABLE": "1"}
    if nproc == 1:
        cmd = [sys.executable, str(script), str(out)]
        env.pop("WORLD_SIZE", None)
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={nproc}", str(script), str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "result.json").read_text()), torch.load(out / "weights.pt")


def test_ddp_two_processes_match_one(tmp_path):
    single, single_weights = run(tmp_path, "single", 1)
    ddp, ddp_weights = run(tmp_path, "ddp", 2)
    assert single["world"] == 1 and ddp["world"] == 2
    assert len(ddp["loss"]) == 6
    torch.testing.assert_close(torch.tensor(ddp["loss"]), torch.tensor(single["loss"]), atol=1e-5, rtol=1e-5)
    # Adam divides by sqrt(v): float-rounding differences of the gradient all-reduce grow a bit
    for name, weight in single_weights.items():
        torch.testing.assert_close(ddp_weights[name], weight, atol=1e-4, rtol=1e-4, msg=name)
    assert single["loss"][-1] < single["loss"][0]
    assert (tmp_path / "ddp" / "run" / "checkpoint" / "MANIFEST.json").exists()   # rank 0 wrote it
