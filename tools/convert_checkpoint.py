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
  convert_checkpoint.py echoprime echo_prime_encoder.pt OUT.pt [--prefix video.]
      EchoPrime video encoder: the state_dict of torchvision's mvit_v2_s with head[-1] =
      Linear(768, 512) (module./model./encoder. prefixes stripped). Checks the mvit_v2_s key set
      and shapes and writes the tensors under `video.` (default; `--prefix ''` for bare
      torchvision names), the names the pipeline's MvitVideoEncoder loads (bundle.json
      "video_encoder": "mvit_v2_s", "video_weights": OUT.pt).

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


MVIT_BLOCKS = 16


def check_mvit(sd):
    """Structural check of a torchvision mvit_v2_s state dict (EchoPrime's encoder)."""
    need = ["conv_proj.weight", "conv_proj.bias", "pos_encoding.class_token", "norm.weight", "norm.bias",
            "head.1.weight", "head.1.bias"]
    for i in range(MVIT_BLOCKS):
        b = f"blocks.{i}."
        need += [b + n for n in ("norm1.weight", "attn.qkv.weight", "attn.rel_pos_h", "attn.rel_pos_t",
                                 "attn.pool_q.pool.weight", "attn.pool_k.norm_act.0.weight",
                                 "mlp.0.weight", "mlp.3.weight")]
    missing = [k for k in need if k not in sd]
    if missing:
        raise SystemExit(f"not a torchvision mvit_v2_s state dict: missing {', '.join(missing[:8])}"
                         + (" ..." if len(missing) > 8 else ""))
    if f"blocks.{MVIT_BLOCKS}.norm1.weight" in sd:
        raise SystemExit("more than 16 blocks: not mvit_v2_s")
    if tuple(sd["conv_proj.weight"].shape) != (96, 3, 3, 7, 7):
        raise SystemExit(f"conv_proj.weight {tuple(sd['conv_proj.weight'].shape)} != (96, 3, 3, 7, 7)")
    head = tuple(sd["head.1.weight"].shape)
    if head != (512, 768):
        print(f"warning: head.1.weight is {head}, EchoPrime's is (512, 768)", file=sys.stderr)


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
    ap.add_argument("--prefix", default=None,
                    help="prefix added to every output name (echoprime: default 'video.')")
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
    elif a.kind == "echoprime":
        check_mvit(sd)
        if a.prefix is None:
            a.prefix = "video."
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
