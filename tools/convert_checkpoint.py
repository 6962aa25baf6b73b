#!/usr/bin/python3
"""Convert official checkpoints into the plain tensor archive that core/model loads
(a torch.save'd {name: tensor} dict with the module names of tools/echo2ecg_reference.py).

  convert_checkpoint.py otis     IN.pth  OUT.pt [--domain ecg] [--prefix ecg_encoder.]
      OTiS pre-training checkpoint: {'model': state_dict, 'domain_offsets': {domain: offset}}.
      Keeps the encoder, drops the final norm / head / decoder / mask token, slices the
      multi-domain lead embedding pos_embed_y to [padding row] + the 12 rows of `--domain`,
      and trims the sin-cos time table pos_embed_x to 1 + 42 rows.
  convert_checkpoint.py echo2ecg IN.ckpt OUT.pt [--strip model.]
      Lightning checkpoint {'state_dict': {'model.' + name}}: strips the prefix, keeps
      ecg_encoder.*, echo_aggregator.*, ecg_proj.*, echo_proj.* (pos tables fixed as above).
  convert_checkpoint.py echoprime IN.pt OUT.pt [--prefix video_encoder.]
      EchoPrime video encoder state_dict (module./model. prefixes stripped), for an MViT
      VideoEncoder implementation.

--rename OLD=NEW (repeatable) renames name prefixes after stripping.
"""
import argparse
import sys

import torch

ECG_LEADS = 12
ECG_PATCHES = 42
KEEP_TOP = ("ecg_encoder.", "echo_aggregator.", "ecg_proj.", "echo_proj.")
DROP_ENCODER = ("head.", "norm.", "decoder", "mask_token", "fc_norm_head.")


def load(path):
    ck = torch.load(path, map_location="cpu")
    if not isinstance(ck, dict):
        if hasattr(ck, "state_dict"):
            return ck.state_dict(), {}
        raise SystemExit(f"{path}: not a checkpoint dict")
    for key in ("state_dict", "model", "model_state_dict", "module"):
        if key in ck and isinstance(ck[key], dict):
            return ck[key], ck
    return ck, ck


def strip(name, prefixes):
    changed = True
    while changed:
        changed = False
        for p in prefixes:
            if p and name.startswith(p):
                name = name[len(p):]
                changed = True
    return name


def fix_encoder(sd, prefix, offsets, domain):
    ky, kx = prefix + "pos_embed_y.weight", prefix + "pos_embed_x"
    if ky in sd and sd[ky].shape[0] != ECG_LEADS + 1:
        w = sd[ky]
        off = int(offsets.get(domain, 0)) if offsets else 0
        if w.shape[0] < 1 + off + ECG_LEADS:
            raise SystemExit(f"pos_embed_y has {w.shape[0]} rows, domain offset {off} does not fit")
        sd[ky] = torch.cat([w[:1], w[1 + off:1 + off + ECG_LEADS]], 0)
    if kx in sd:
        t = sd[kx]
        t = t.reshape(-1, t.shape[-1])
        if t.shape[0] < ECG_PATCHES + 1:
            raise SystemExit(f"pos_embed_x has only {t.shape[0]} rows")
        sd[kx] = t[:ECG_PATCHES + 1]
    return sd


def finish(sd):
    out = {}
    for k, v in sd.items():
        if not torch.is_tensor(v):
            continue
        v = v.detach().cpu()
        if v.is_floating_point() and v.dtype != torch.float32:
            v = v.float()
        out[k] = v.clone().contiguous()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["otis", "echo2ecg", "echoprime"])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--domain", default="ecg")
    ap.add_argument("--prefix", default=None, help="prefix added to every output name")
    ap.add_argument("--strip", action="append", default=[], help="extra name prefix to strip")
    ap.add_argument("--rename", action="append", default=[], help="OLD=NEW name-prefix rename")
    a = ap.parse_args(argv)

    sd, ck = load(a.input)
    offsets = ck.get("domain_offsets", {}) if isinstance(ck, dict) else {}
    prefixes = ["module.", "_orig_mod."] + a.strip
    if a.kind == "echo2ecg":
        prefixes += ["model.", "net."]
    if a.kind == "echoprime":
        prefixes += ["model.", "encoder."]
    sd = {strip(k, prefixes): v for k, v in sd.items()}
    for r in a.rename:
        old, new = r.split("=", 1)
        sd = {(new + k[len(old):] if k.startswith(old) else k): v for k, v in sd.items()}

    if a.kind == "otis":
        sd = {k: v for k, v in sd.items() if not k.startswith(DROP_ENCODER)}
        sd = fix_encoder(sd, "", offsets, a.domain)
    elif a.kind == "echo2ecg":
        sd = {k: v for k, v in sd.items() if k.startswith(KEEP_TOP)}
        sd = {k: v for k, v in sd.items() if not k.startswith(tuple("ecg_encoder." + d for d in DROP_ENCODER))}
        sd = fix_encoder(sd, "ecg_encoder.", offsets, a.domain)
    if a.prefix:
        sd = {a.prefix + k: v for k, v in sd.items()}
    out = finish(sd)
    if not out:
        raise SystemExit("no tensors left after conversion")
    torch.save(out, a.output)
    print(f"wrote {a.output}: {len(out)} tensors, {sum(v.numel() for v in out.values())} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
