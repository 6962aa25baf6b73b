#!/usr/bin/python3
"""Parity oracle for core/model/mvit.{h,cpp}: torchvision's mvit_v2_s as EchoPrime uses it
(head[-1] = Linear(768, 512)), random weights from a fixed seed, eval mode.

Usage:  /usr/bin/python3 tests/model/mvit_reference.py --out DIR [--seed 0] [--runs 2] [--threads N]
writes  DIR/weights.pt               tensor archive {name: tensor} (torchvision state_dict names)
        DIR/inputs.pt                {clip: [1, 3, 16, 224, 224], seed}
        DIR/outputs.pt               {out: [1, 512], feature: [1, 768] (normed CLS token), seconds: [runs]}
        DIR/toy.pt                   a 2-block MViT on [2, 3, 8, 36, 36] (odd grids: rel-pos interpolation):
                                     {weights.NAME, clip, out}
        DIR/echo_prime_encoder.pt    the same weights as EchoPrime ships them (a DataParallel-style
                                     state dict, "module."-prefixed) for tools/convert_checkpoint.py
"""
import argparse
import collections
import os
import time

import torch
import torchvision
from torchvision.models.video.mvit import MSBlockConfig, MViT


def perturb(m):
    # torchvision initialises LayerNorms to (1, 0) and biases to 0: perturb every tensor so that a
    # swapped or ignored parameter shows up in the output.
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("rel_pos_h") or name.endswith("rel_pos_w") or name.endswith("rel_pos_t"):
                p.normal_(0.0, 0.2)
            elif p.dim() == 1 and "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif p.dim() == 1:
                p.normal_(0.0, 0.02)
    return m.eval()


def build(seed):
    torch.manual_seed(seed)
    m = torchvision.models.video.mvit_v2_s()
    m.head[-1] = torch.nn.Linear(m.head[-1].in_features, 512)  # EchoPrime
    return perturb(m)


def toy(seed):
    torch.manual_seed(seed + 2)
    cfg = [MSBlockConfig(1, 96, 96, [3, 3, 3], [3, 3, 3], [1, 1, 1], [1, 4, 4]),
           MSBlockConfig(2, 96, 192, [3, 3, 3], [3, 3, 3], [1, 2, 2], [1, 2, 2])]
    m = perturb(MViT(spatial_size=(36, 36), temporal_size=8, block_setting=cfg, residual_pool=True,
                     residual_with_cls_embed=False, rel_pos_embed=True, proj_after_attn=True, num_classes=7))
    clip = torch.randn(2, 3, 8, 36, 36)
    with torch.no_grad():
        out = m(clip)
    d = {"weights." + k: v.detach().clone().contiguous() for k, v in m.state_dict().items()}
    d.update(clip=clip, out=out.contiguous())
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)

    torch.save(toy(a.seed), os.path.join(a.out, "toy.pt"))
    m = build(a.seed)
    sd = {k: v.detach().clone().contiguous() for k, v in m.state_dict().items()}
    torch.save(sd, os.path.join(a.out, "weights.pt"))
    torch.save(collections.OrderedDict(("module." + k, v) for k, v in sd.items()),
               os.path.join(a.out, "echo_prime_encoder.pt"))

    gen = torch.Generator().manual_seed(a.seed + 1)
    clip = torch.randn(1, 3, 16, 224, 224, generator=gen)
    # Two entries: libtorch 1.13's unpickler rejects the SETITEM opcode pickle uses for 1-entry dicts.
    torch.save({"clip": clip, "seed": torch.tensor([a.seed])}, os.path.join(a.out, "inputs.pt"))

    feats = {}
    m.norm.register_forward_hook(lambda mod, inp, out: feats.__setitem__("feature", out[:, 0].clone()))
    seconds = []
    with torch.no_grad():
        for _ in range(max(1, a.runs)):
            t0 = time.perf_counter()
            out = m(clip)
            seconds.append(time.perf_counter() - t0)
    print(f"torchvision mvit_v2_s: {torch.get_num_threads()} threads, s/clip {seconds}")
    torch.save({"out": out.contiguous(), "feature": feats["feature"].contiguous(),
                "seconds": torch.tensor(seconds, dtype=torch.float64)}, os.path.join(a.out, "outputs.pt"))


if __name__ == "__main__":
    main()
