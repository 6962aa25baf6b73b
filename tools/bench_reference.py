#!/usr/bin/python3
"""PyTorch-eager counterpart of bench/model/bench_model.cpp: the same ECG encoder
(tools/echo2ecg_reference.py), same batch sizes and iteration counts. Prints one JSON line.

--batches 1,16,64 --ecgs N (bench/model/bench_embed.cpp): the encoder alone at each batch size on
N random ECGs each, {"ecgs_per_s": {"1": .., "16": ..}, "best_batch": .., "best_ecgs_per_s": ..}.
--mvit (bench/model/bench_mvit.cpp): torchvision's mvit_v2_s with EchoPrime's 512-d head on
1 x 3 x 16 x 224 x 224 clips, {"mvit_s_per_clip": ..}."""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import echo2ecg_reference as ref  # noqa: E402


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t0) / iters


def batches(a, enc, amp, out):
    rates = {}
    with torch.inference_mode(), amp:
        for b in [int(v) for v in a.batches.split(",")]:
            x = torch.randn(b, 12, 1008)
            n = max(1, a.ecgs // b)
            enc(x)  # warm-up
            rates[str(b)] = b / timed(lambda: enc(x), 0, n)
    out["ecgs_per_s"] = rates
    out["best_batch"] = int(max(rates, key=rates.get))
    out["best_ecgs_per_s"] = max(rates.values())
    print(json.dumps(out))


def mvit(a):
    import torchvision
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = torchvision.models.video.mvit_v2_s()
    m.head[-1] = torch.nn.Linear(m.head[-1].in_features, 512)  # EchoPrime
    m.eval()
    clip = torch.randn(1, 3, 16, 224, 224)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
        s = timed(lambda: m(clip), 1, a.clips)
    print(json.dumps({"impl": "torchvision-eager", "torch": torch.__version__, "torchvision": torchvision.__version__,
                      "threads": torch.get_num_threads(), "precision": "bf16" if a.bf16 else "fp32",
                      "mvit_s_per_clip": s}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iters1", type=int, default=5)
    ap.add_argument("--iters64", type=int, default=1)
    ap.add_argument("--train-batch", type=int, default=8)
    ap.add_argument("--train-iters", type=int, default=2)
    ap.add_argument("--bf16", action="store_true",
                    help="bfloat16 CPU autocast, with the same two fp32 islands as the C++ model "
                         "(LayerNorm input, echo view aggregator): 1.13's CPU kernels reject mixed dtypes there")
    ap.add_argument("--batches", default="", help="comma-separated batch sizes: encoder throughput only")
    ap.add_argument("--ecgs", type=int, default=64, help="ECGs per batch size (--batches)")
    ap.add_argument("--mvit", action="store_true", help="torchvision mvit_v2_s per clip only")
    ap.add_argument("--clips", type=int, default=3, help="timed clips (--mvit)")
    a = ap.parse_args()
    if a.bf16:
        ln_forward = torch.nn.LayerNorm.forward
        torch.nn.LayerNorm.forward = lambda self, x: ln_forward(self, x.float())
    if a.mvit:
        return mvit(a)
    if a.bf16:
        agg_forward = ref.EchoAggregator.forward

        def agg_fp32(self, views, valid):
            with torch.autocast("cpu", enabled=False):
                return agg_forward(self, views.float(), valid)

        ref.EchoAggregator.forward = agg_fp32
    amp = torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ref.Echo2ECG()
    enc = model.ecg_encoder.eval()
    out = {"impl": "pytorch-eager", "torch": torch.__version__, "threads": torch.get_num_threads(),
           "precision": "bf16" if a.bf16 else "fp32"}
    if a.batches:
        return batches(a, enc, amp, out)
    with torch.inference_mode(), amp:
        x1, x64 = torch.randn(1, 12, 1008), torch.randn(64, 12, 1008)
        out["infer_b1_ms_per_ecg"] = 1e3 * timed(lambda: enc(x1), 3, a.iters1)
        out["infer_b64_ms_per_ecg"] = 1e3 * timed(lambda: enc(x64), 0, a.iters64) / 64
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=1e-7)
    B = a.train_batch
    ecg, views = torch.randn(B, 12, 1008), torch.randn(B, 4, 512)
    valid = torch.ones(B, 4, dtype=torch.bool)

    def step():
        with amp:
            loss = ref.clip_loss(model.embed_ecg(ecg), model.embed_echo(views, valid)).float()
        opt.zero_grad()
        loss.backward()
        opt.step()

    out["train_step_s"] = timed(step, 1, a.train_iters)
    out["train_ecgs_per_s"] = B / out["train_step_s"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
