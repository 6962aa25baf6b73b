#!/usr/bin/python3
"""Convert published weights into this workstation's model bundles (bundle.json + tensor archives).

  convert_checkpoint.py detect PATH
      Prints one JSON line: {"kind": "echo2ecg-run" | "otis" | "echoprime" | "bundle" | "unknown", ...}.
  convert_checkpoint.py echo2ecg-run RUN_DIR OUT_DIR [--echoprime echo_prime_encoder.pt]
      RUN_DIR is an official Echo2ECG run (michelleespranita/Echo2ECG): the folder holding checkpoints/
      (config.yaml beside it), one torch.save({'model', 'cfg', 'epoch'}) per component. Writes a complete
      bundle that computes exactly the official function: the ECG encoder, the token aggregator's
      LayerNorm (eps 1e-5) over the mean patch token, the view projection + attention pooling, the two
      bias-free alignment layers, and the mvit_v2_s video encoder of echo_multimodal.ckpt (or --echoprime).
  convert_checkpoint.py otis OTIS.pth OUT_DIR [--echoprime echo_prime_encoder.pt] [--domain ecg]
      OTiS pre-training checkpoint {'model', 'domain_offsets'} -> an ECG-encoder bundle (role
      "ecg-encoder") to pretrain Echo2ECG from: the lead embedding sliced to the ECG domain with a zero
      padding row, the time table cut or interpolated to 1 + 42 rows (as the official
      interpolate_pos_embed_x), the global LayerNorm fresh (ones / zeros, eps 1e-5), the echo side and
      alignment layers freshly initialised (seed 0); the video encoder is EchoPrime's when given.
  convert_checkpoint.py echoprime echo_prime_encoder.pt OUT_DIR
      EchoPrime's video encoder (a bare torchvision mvit_v2_s state dict, head[-1] = Linear(768, 512)) ->
      a video-encoder bundle (role "video-encoder").
  OUT ending in .pt instead of a directory (otis, echoprime): a bare tensor archive, as before.

Every missing, unexpected or mis-shaped tensor is an error that names the file and the tensor; nothing is
dropped silently (the parts the official code itself never loads are listed in bundle.json "source").
"""
import argparse
import hashlib
import json
import os
import pickle
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import echo2ecg_reference as ref  # noqa: E402

ECG_LEADS, ECG_SAMPLES, ECG_PATCH = 12, 1008, 24
ECG_PATCHES = ECG_SAMPLES // ECG_PATCH
# The official Echo2ECG preprocessing (ecg/data_processing/processing.py: resample_signal with
# scipy.signal.resample, then process_ecg): the workstation's Fourier-resampling version of its input.
PREPROC = "ecg-100Hz-1008-als-fft-v1"
RUN_PARTS = ("ecg_multimodal.ckpt", "token_aggregator.ckpt", "echo_projection_for_agg.ckpt",
             "echo_view_aggregator.ckpt", "ecg_alignment_global_token.ckpt", "echo_alignment_global_token.ckpt")
# OTiS pre-training keeps MAE parts the encoder never uses; the official loader skips them too (strict=False).
OTIS_UNUSED = ("norm.", "head.", "fc_norm.", "decoder", "mask_token")


class ConvertError(Exception):
    pass


# ------------------------------------------------------------------ loading ----

class _Stub:
    """Stands in for classes we cannot import (OmegaConf's DictConfig without omegaconf installed)."""

    def __init__(self, *a, **k):
        pass

    def __setstate__(self, state):
        self.state = state


def _tolerant_pickle():
    mod = types.ModuleType("tolerant_pickle")

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module.split(".")[0] in ("torch", "collections", "builtins", "numpy", "_codecs", "copyreg"):
                return super().find_class(module, name)
            try:
                return super().find_class(module, name)
            except Exception:
                return type(name, (_Stub,), {"__module__": module})

    mod.__dict__.update({k: v for k, v in pickle.__dict__.items() if not k.startswith("__")})
    mod.Unpickler = Unpickler
    mod.load = lambda f, **kw: Unpickler(f, **kw).load()
    return mod


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_file(path):
    if not os.path.isfile(path):
        raise ConvertError(f"{path}: missing")
    try:
        return torch.load(path, map_location="cpu")
    except ImportError:
        pass  # a pickled class we do not have (omegaconf): read the tensors, skip the rest
    except Exception as e:  # truncated or not a torch file
        raise ConvertError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})")
    # torch 1.13's torch.load ignores pickle_module= unless weights_only: swap its module for the call.
    import torch.serialization as ts
    saved, ts.pickle = ts.pickle, _tolerant_pickle()
    try:
        return torch.load(path, map_location="cpu")
    except Exception as e:
        raise ConvertError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})")
    finally:
        ts.pickle = saved


def model_dict(path, ck, key="model"):
    if not isinstance(ck, dict) or not isinstance(ck.get(key), dict):
        raise ConvertError(f"{path}: not an official checkpoint (a dict with '{key}': state_dict expected)")
    sd = ck[key]
    bad = [k for k, v in sd.items() if not torch.is_tensor(v)]
    if bad:
        raise ConvertError(f"{path}: '{key}' holds non-tensors: {', '.join(map(str, bad[:5]))}")
    return {k: v.detach().cpu() for k, v in sd.items()}


def expect(path, sd, shapes, what):
    """sd must hold exactly `shapes` (name -> shape or None for any shape)."""
    missing = [k for k in shapes if k not in sd]
    unexpected = [k for k in sd if k not in shapes]
    wrong = [f"{k} {tuple(sd[k].shape)} (expected {tuple(s)})" for k, s in shapes.items()
             if k in sd and s is not None and tuple(sd[k].shape) != tuple(s)]
    msgs = []
    if missing:
        msgs.append("missing " + ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""))
    if unexpected:
        msgs.append("unexpected " + ", ".join(unexpected[:8]) + (" ..." if len(unexpected) > 8 else ""))
    if wrong:
        msgs.append("wrong shape " + ", ".join(wrong[:8]))
    if msgs:
        raise ConvertError(f"{path}: {what}: " + "; ".join(msgs))


# ------------------------------------------------------------------ architecture ----

def cfg_get(cfg, dotted, default=None):
    cur = cfg
    for part in dotted.split("."):
        if isinstance(cur, _Stub):
            cur = getattr(cur, "state", {}).get("_content", {})
        try:
            cur = cur[part]
        except Exception:
            return default
        if hasattr(cur, "_value") and callable(getattr(cur, "_value")):
            cur = cur._value()
    return cur


def read_config(run_dir, ckpts):
    """config.yaml beside checkpoints/ (else the cfg pickled into the checkpoints), as plain dicts."""
    path = os.path.join(run_dir, "config.yaml")
    if os.path.isfile(path):
        import yaml
        with open(path, encoding="utf-8") as f:
            try:
                return yaml.safe_load(f) or {}, "config.yaml"
            except yaml.YAMLError as e:
                raise ConvertError(f"{path}: not valid YAML ({e})")
    for ck in ckpts.values():
        cfg = ck.get("cfg") if isinstance(ck, dict) else None
        if cfg is not None:
            try:
                from omegaconf import OmegaConf
                return OmegaConf.to_container(cfg, resolve=True), "checkpoint cfg"
            except Exception:
                break
    return {}, "tensor shapes"


def architecture(cfg, enc, run_dir):
    """ECG encoder width/depth/heads, aggregator and alignment widths; refuses what this workstation lacks."""
    dim = enc["cls_token"].shape[-1]
    depth = len({k.split(".")[1] for k in enc if k.startswith("blocks.")})
    heads = {192: 3, 384: 6, 576: 8}.get(dim)
    name = cfg_get(cfg, "model.ecg.model_name")
    if name is not None:
        known = {v[0]: (d, v[1], v[2]) for d, v in ref.OFFICIAL_DEPTHS.items()}
        if name not in known:
            raise ConvertError(f"{run_dir}: model.ecg.model_name {name} is not one of {', '.join(known)}")
        want = known[name]
        if (dim, depth) != want[:2]:
            raise ConvertError(f"{run_dir}: config names {name} ({want[0]} wide, {want[1]} blocks), the checkpoint "
                               f"holds {dim} wide, {depth} blocks")
        heads = want[2]
    if heads is None:
        raise ConvertError(f"{run_dir}: an ECG encoder {dim} wide is not an OTiS size (192, 384, 576)")
    checks = {
        "model.ecg.input_variates": ECG_LEADS, "model.ecg.time_steps": ECG_SAMPLES,
        "model.ecg.patch_size": [1, ECG_PATCH], "model.ecg.use_adapter": False,
        "model.echo.view_aggregation.use": True, "model.echo.view_aggregation.strategy": "att",
        "model.echo.view_dropout.use": False, "model.token_aggregation.ecg.strategy": "mean",
        "model.alignment.alignment_type": "linear",
    }
    for key, want in checks.items():
        got = cfg_get(cfg, key)
        if got is not None and (list(got) if isinstance(got, (list, tuple)) else got) != want:
            if key == "model.echo.view_dropout.use":
                continue  # training-time only: view dropout is off at inference
            raise ConvertError(f"{run_dir}: {key} is {got!r}; this workstation implements {want!r}")
    return {"dim": dim, "depth": depth, "heads": heads, "mlp_dim": 4 * dim,
            "frames": int(cfg_get(cfg, "model.echo.num_frames", 16) or 16),
            "stride": int(cfg_get(cfg, "dataset.echo.sampling_rate", 2) or 2)}


def encoder_shapes(dim, depth, pos_x_rows=ECG_PATCHES + 1, pos_y_rows=ECG_LEADS + 1):
    h = dim // 2
    s = {"patch_embed.proj.weight": (dim, 1, 1, ECG_PATCH), "patch_embed.proj.bias": (dim,),
         "patch_embed.norm.weight": (dim,), "patch_embed.norm.bias": (dim,), "cls_token": (1, 1, dim),
         "pos_embed_x": (1, pos_x_rows, h), "pos_embed_y.weight": (pos_y_rows, h)}
    for i in range(depth):
        b = f"blocks.{i}."
        s.update({b + "norm1.weight": (dim,), b + "norm1.bias": (dim,), b + "norm2.weight": (dim,),
                  b + "norm2.bias": (dim,), b + "attn.qkv.weight": (3 * dim, dim), b + "attn.qkv.bias": (3 * dim,),
                  b + "attn.mha.in_proj_weight": (3 * dim, dim), b + "attn.mha.in_proj_bias": (3 * dim,),
                  b + "attn.mha.out_proj.weight": (dim, dim), b + "attn.mha.out_proj.bias": (dim,),
                  b + "attn.proj.weight": (dim, dim), b + "attn.proj.bias": (dim,),
                  b + "mlp.fc1.weight": (4 * dim, dim), b + "mlp.fc1.bias": (4 * dim,),
                  b + "mlp.fc2.weight": (dim, 4 * dim), b + "mlp.fc2.bias": (dim,)})
    return s


def to_project_encoder(enc):
    """Official ECGEncoder names -> ecg_encoder.* of this project (attn.mha -> attn.attn, pos_embed_x 2-D)."""
    out = {}
    for k, v in enc.items():
        if k == "pos_embed_x":
            v = v.reshape(v.shape[-2], v.shape[-1])
        out["ecg_encoder." + k.replace(".attn.mha.", ".attn.attn.")] = v
    # The official encoder looks up lead ids 1..12 only; this model also adds row 0 to the CLS token.
    out["ecg_encoder.pos_embed_y.weight"] = out["ecg_encoder.pos_embed_y.weight"].clone()
    out["ecg_encoder.pos_embed_y.weight"][0] = 0
    return out


# ------------------------------------------------------------------ video ----

MVIT_BLOCKS = 16


def mvit_shapes():
    import torchvision
    m = torchvision.models.video.mvit_v2_s()
    m.head[-1] = nn.Linear(768, 512)
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}


def strip_prefixes(sd, prefixes=("module.", "_orig_mod.", "model.", "encoder.")):
    out = {}
    for k, v in sd.items():
        changed = True
        while changed:
            changed = False
            for p in prefixes:
                if k.startswith(p):
                    k, changed = k[len(p):], True
        out[k] = v
    return out


def load_echoprime(path):
    ck = load_file(path)
    sd = ck if isinstance(ck, dict) and all(torch.is_tensor(v) for v in ck.values()) else None
    if sd is None and isinstance(ck, dict) and isinstance(ck.get("model"), dict):
        sd = ck["model"]  # echo_multimodal.ckpt of an official run
    if sd is None:
        raise ConvertError(f"{path}: not an mvit_v2_s state dict (EchoPrime's echo_prime_encoder.pt is a bare one)")
    sd = strip_prefixes({k: v.detach().cpu() for k, v in sd.items()})
    expect(path, sd, mvit_shapes(), "mvit_v2_s with head[-1] = Linear(768, 512)")
    return sd


# ------------------------------------------------------------------ bundle ----

def fresh_model(arch, echo_dim, echo_heads, seed=0):
    torch.manual_seed(seed)
    return ref.Echo2ECG(depth=arch["depth"], dim=arch["dim"], heads=arch["heads"], mlp_dim=arch["mlp_dim"],
                        global_eps=1e-5, echo_dim=echo_dim, echo_heads=echo_heads)


def write_bundle(out_dir, net_sd, video_sd, meta):
    """bundle.json + echo2ecg.pt (+ video.pt), all float32, written to a temp name and renamed."""
    os.makedirs(out_dir, exist_ok=True)

    def save(obj, name):
        tmp = os.path.join(out_dir, name + ".tmp")
        torch.save(obj, tmp)
        os.replace(tmp, os.path.join(out_dir, name))

    f32 = lambda sd: {k: (v.float() if v.is_floating_point() else v).clone().contiguous() for k, v in sd.items()}
    if video_sd is None:
        torch.manual_seed(1)
        net_sd = dict(net_sd, **{"video." + k: v for k, v in ref.plain_state_dict(ref.SmallVideoNet()).items()})
    save(f32(net_sd), "echo2ecg.pt")
    bundle = {"model_id": meta["model_id"], "version": "imported", "weights": "echo2ecg.pt",
              "weights_dtype": "float32", "preprocessing": PREPROC, "ecg_depth": meta["depth"],
              "ecg_dim": meta["dim"], "ecg_heads": meta["heads"], "ecg_mlp_dim": meta["mlp_dim"],
              "ecg_global_norm_eps": 1e-5, "view_dim": 512, "echo_dim": meta["echo_dim"],
              "echo_heads": meta["echo_heads"], "shared_dim": meta["shared_dim"]}
    if video_sd is not None:
        save(f32({"video." + k: v for k, v in video_sd.items()}), "video.pt")
        bundle.update({"video_encoder": "mvit_v2_s", "video_weights": "video.pt", "video_weights_dtype": "float32",
                       "video_frames": meta.get("frames", 16), "video_stride": meta.get("stride", 2),
                       "video_size": 224})
    else:  # no video encoder given: this project's small 3-D CNN, freshly initialised, in echo2ecg.pt
        bundle.update({"video_encoder": "small3dcnn", "video_frames": 16, "video_stride": 2, "video_size": 112,
                       "video_mean": 30, "video_std": 50})
    if meta.get("role"):
        bundle["role"] = meta["role"]
    bundle["synthetic_training_data"] = False
    bundle["source"] = meta["source"]
    tmp = os.path.join(out_dir, "bundle.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(bundle, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(out_dir, "bundle.json"))


def source_files(paths):
    return [{"file": os.path.abspath(p), "sha256": sha256(p)} for p in paths]


def convert_run(run_dir, out_dir, echoprime=None):
    ck_dir = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(ck_dir):
        if os.path.isfile(os.path.join(run_dir, "ecg_multimodal.ckpt")):
            ck_dir, run_dir = run_dir, os.path.dirname(os.path.abspath(run_dir))
        else:
            raise ConvertError(f"{run_dir}: no checkpoints/ folder (an official Echo2ECG run directory holds "
                               f"checkpoints/{RUN_PARTS[0]} ...)")
    missing = [p for p in RUN_PARTS if not os.path.isfile(os.path.join(ck_dir, p))]
    if missing:
        raise ConvertError(f"{ck_dir}: missing component(s) {', '.join(missing)} (an official run saves all of "
                           f"{', '.join(RUN_PARTS)}; a run with view_aggregation strategy 'mean' has no aggregator "
                           f"and is not supported)")
    paths = {p: os.path.join(ck_dir, p) for p in RUN_PARTS}
    video_path = os.path.join(ck_dir, "echo_multimodal.ckpt")
    if echoprime:
        video_path = echoprime
    elif not os.path.isfile(video_path):
        raise ConvertError(f"{ck_dir}: echo_multimodal.ckpt is missing; pass --echoprime echo_prime_encoder.pt "
                           f"(the video encoder the run was trained with)")
    ckpts = {p: load_file(path) for p, path in paths.items()}
    sds = {p: model_dict(paths[p], ck) for p, ck in ckpts.items()}
    cfg, cfg_from = read_config(run_dir, ckpts)
    enc = sds["ecg_multimodal.ckpt"]
    if "cls_token" not in enc:
        raise ConvertError(f"{paths['ecg_multimodal.ckpt']}: ECG encoder: missing cls_token")
    arch = architecture(cfg, enc, run_dir)
    dim, depth = arch["dim"], arch["depth"]
    expect(paths["ecg_multimodal.ckpt"], enc, encoder_shapes(dim, depth), "ECG encoder")
    expect(paths["token_aggregator.ckpt"], sds["token_aggregator.ckpt"],
           {"ecg_layernorm_global.weight": (dim,), "ecg_layernorm_global.bias": (dim,)},
           "token aggregator (mean pooling + LayerNorm)")
    proj = sds["echo_projection_for_agg.ckpt"]
    if "weight" not in proj:
        raise ConvertError(f"{paths['echo_projection_for_agg.ckpt']}: missing weight")
    echo_dim = proj["weight"].shape[0]
    want_dim = cfg_get(cfg, "model.echo.view_aggregation.proj_embed_dim")
    if want_dim is not None and int(want_dim) != echo_dim:
        raise ConvertError(f"{paths['echo_projection_for_agg.ckpt']}: weight {tuple(proj['weight'].shape)}, config "
                           f"proj_embed_dim is {want_dim}")
    expect(paths["echo_projection_for_agg.ckpt"], proj, {"weight": (echo_dim, 512), "bias": (echo_dim,)},
           "view projection Linear(512, proj_embed_dim)")
    expect(paths["echo_view_aggregator.ckpt"], sds["echo_view_aggregator.ckpt"],
           {"aggregator.mha.in_proj_weight": (3 * echo_dim, echo_dim), "aggregator.mha.in_proj_bias": (3 * echo_dim,),
            "aggregator.mha.out_proj.weight": (echo_dim, echo_dim), "aggregator.mha.out_proj.bias": (echo_dim,)},
           "attention pooling MultiheadAttention(proj_embed_dim)")
    ecg_al = sds["ecg_alignment_global_token.ckpt"]
    shared = ecg_al["weight"].shape[0] if "weight" in ecg_al else 512
    expect(paths["ecg_alignment_global_token.ckpt"], ecg_al, {"weight": (shared, dim)}, "bias-free Linear")
    expect(paths["echo_alignment_global_token.ckpt"], sds["echo_alignment_global_token.ckpt"],
           {"weight": (shared, echo_dim)}, "bias-free Linear")
    echo_heads = int(cfg_get(cfg, "model.echo.view_aggregation.num_heads", 4) or 4)
    if echo_dim % echo_heads:
        raise ConvertError(f"{run_dir}: proj_embed_dim {echo_dim} is not a multiple of num_heads {echo_heads}")
    video = load_echoprime(video_path)

    net = to_project_encoder(enc)
    agg = sds["token_aggregator.ckpt"]
    net["ecg_encoder.fc_norm.weight"] = agg["ecg_layernorm_global.weight"]
    net["ecg_encoder.fc_norm.bias"] = agg["ecg_layernorm_global.bias"]
    net["echo_aggregator.proj.weight"], net["echo_aggregator.proj.bias"] = proj["weight"], proj["bias"]
    for k, v in sds["echo_view_aggregator.ckpt"].items():
        net["echo_aggregator.attn." + k[len("aggregator.mha."):]] = v
    net["ecg_proj.weight"] = ecg_al["weight"]
    net["echo_proj.weight"] = sds["echo_alignment_global_token.ckpt"]["weight"]
    # Everything the model has, nothing else: the same check as the C++ loader, here with the names.
    fresh = fresh_model(arch, echo_dim, echo_heads)
    expect(out_dir, net, {k: tuple(v.shape) for k, v in fresh.state_dict().items()}, "converted model")
    epochs = {p: ck.get("epoch") for p, ck in ckpts.items() if isinstance(ck, dict)}
    files = [paths[p] for p in RUN_PARTS] + [video_path]
    if os.path.isfile(os.path.join(run_dir, "config.yaml")):
        files.append(os.path.join(run_dir, "config.yaml"))
    meta = dict(arch, model_id="echo2ecg-pretrain", echo_dim=echo_dim, echo_heads=echo_heads, shared_dim=shared,
                source={"kind": "echo2ecg-run", "run_dir": os.path.abspath(run_dir), "architecture_from": cfg_from,
                        "epochs": epochs, "files": source_files(files),
                        "converted": ["ECG encoder (attn.mha -> attn.attn; pos_embed_x [1,43,D/2] -> [43,D/2]; "
                                      "pos_embed_y padding row set to 0, the official encoder never reads it)",
                                      "token aggregator LayerNorm -> fc_norm (eps 1e-5)",
                                      "echo_projection_for_agg + aggregator.mha -> echo_aggregator",
                                      "alignment layers -> ecg_proj / echo_proj",
                                      "echo encoder mvit_v2_s -> video.*"]})
    write_bundle(out_dir, net, video, meta)
    return meta


def otis_encoder(path, domain):
    ck = load_file(path)
    sd = strip_prefixes(model_dict(path, ck), ("module.", "_orig_mod."))
    offsets = ck.get("domain_offsets") if isinstance(ck, dict) else None
    if not isinstance(offsets, dict) or domain not in offsets:
        raise ConvertError(f"{path}: no domain_offsets['{domain}'] (an OTiS pre-training checkpoint names the "
                           f"offset of each domain's lead embedding rows)")
    dropped = sorted(k for k in sd if k.startswith(OTIS_UNUSED))
    enc = {k: v for k, v in sd.items() if not k.startswith(OTIS_UNUSED)}
    if "cls_token" not in enc:
        raise ConvertError(f"{path}: ECG encoder: missing cls_token")
    dim = enc["cls_token"].shape[-1]
    depth = len({k.split(".")[1] for k in enc if k.startswith("blocks.")})
    y, x = enc.get("pos_embed_y.weight"), enc.get("pos_embed_x")
    if y is None or x is None:
        raise ConvertError(f"{path}: ECG encoder: missing pos_embed_y.weight or pos_embed_x")
    off = int(offsets[domain])
    if y.shape[0] < 1 + off + ECG_LEADS:
        raise ConvertError(f"{path}: pos_embed_y.weight has {y.shape[0]} rows; domain '{domain}' at offset {off} needs "
                           f"{1 + off + ECG_LEADS}")
    enc["pos_embed_y.weight"] = torch.cat([torch.zeros(1, y.shape[1]), y[1 + off:1 + off + ECG_LEADS]], 0)
    x = x.reshape(1, -1, x.shape[-1])
    if x.shape[1] - 1 < ECG_PATCHES:  # as the official interpolate_pos_embed_x
        tok = F.interpolate(x[:, 1:].permute(0, 2, 1), size=ECG_PATCHES, mode="linear", align_corners=False)
        x = torch.cat([x[:, :1], tok.permute(0, 2, 1)], 1)
    enc["pos_embed_x"] = x[:, :ECG_PATCHES + 1].contiguous()
    expect(path, enc, encoder_shapes(dim, depth), "OTiS ECG encoder")
    return enc, dim, depth, dropped, offsets


def convert_otis(path, out, echoprime=None, domain="ecg"):
    enc, dim, depth, dropped, offsets = otis_encoder(path, domain)
    if out.endswith(".pt"):  # a bare tensor archive of the encoder (this project's names), global norm fresh
        arc = {k[len("ecg_encoder."):]: v.float().contiguous() for k, v in to_project_encoder(enc).items()}
        arc["fc_norm.weight"], arc["fc_norm.bias"] = torch.ones(dim), torch.zeros(dim)
        torch.save(arc, out)
        return {"kind": "otis", "tensors": len(enc)}
    heads = {192: 3, 384: 6, 576: 8}.get(dim)
    if heads is None:
        raise ConvertError(f"{path}: an ECG encoder {dim} wide is not an OTiS size (192, 384, 576)")
    arch = {"dim": dim, "depth": depth, "heads": heads, "mlp_dim": 4 * dim}
    fresh = fresh_model(arch, 1024, 4)
    net = {k: v for k, v in ref.plain_state_dict(fresh).items()}
    net.update(to_project_encoder(enc))
    net["ecg_encoder.fc_norm.weight"], net["ecg_encoder.fc_norm.bias"] = torch.ones(dim), torch.zeros(dim)
    video = load_echoprime(echoprime) if echoprime else None
    files = [path] + ([echoprime] if echoprime else [])
    meta = dict(arch, model_id="echo2ecg-ecg-pretrain", role="ecg-encoder", echo_dim=1024, echo_heads=4,
                shared_dim=512,
                source={"kind": "otis" + ("+echoprime" if echoprime else ""), "files": source_files(files),
                        "domain": domain, "domain_offset": int(offsets[domain]),
                        "not_used": dropped,
                        "converted": ["OTiS encoder (attn.mha -> attn.attn)",
                                      f"pos_embed_y: zero padding row + rows {int(offsets[domain]) + 1}.."
                                      f"{int(offsets[domain]) + ECG_LEADS} ({domain})",
                                      "pos_embed_x: 1 + 42 rows (cut, or interpolated as interpolate_pos_embed_x)",
                                      "fc_norm fresh (ones, zeros; eps 1e-5); echo aggregator and alignment "
                                      "layers freshly initialised (seed 0): pretrain before use",
                                      "video: EchoPrime mvit_v2_s" if echoprime else
                                      "video: small 3-D CNN, freshly initialised"]})
    write_bundle(out, net, video, meta)
    return meta


def convert_echoprime(path, out):
    video = load_echoprime(path)
    if out.endswith(".pt"):
        torch.save({"video." + k: v.float().contiguous() for k, v in video.items()}, out)
        return {"kind": "echoprime", "tensors": len(video)}
    arch = {"dim": 192, "depth": 12, "heads": 3, "mlp_dim": 768}
    net = ref.plain_state_dict(fresh_model(arch, 1024, 4))
    meta = dict(arch, model_id="echo2ecg-echo-pretrain", role="video-encoder", echo_dim=1024, echo_heads=4,
                shared_dim=512,
                source={"kind": "echoprime", "files": source_files([path]),
                        "converted": ["EchoPrime mvit_v2_s -> video.*",
                                      "ECG side freshly initialised (seed 0): a video encoder only"]})
    write_bundle(out, net, video, meta)
    return meta


def detect(path):
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "bundle.json")):
            return {"kind": "bundle"}
        if os.path.isdir(os.path.join(path, "checkpoints")) or os.path.isfile(os.path.join(path, "ecg_multimodal.ckpt")):
            return {"kind": "echo2ecg-run"}
        return {"kind": "unknown", "reason": "a folder with neither bundle.json nor checkpoints/ecg_multimodal.ckpt"}
    ck = load_file(path)
    if isinstance(ck, dict) and "domain_offsets" in ck and isinstance(ck.get("model"), dict):
        return {"kind": "otis"}
    sd = ck if isinstance(ck, dict) else {}
    sd = strip_prefixes({k: v for k, v in sd.items() if torch.is_tensor(v)})
    if "conv_proj.weight" in sd and "pos_encoding.class_token" in sd:
        return {"kind": "echoprime"}
    return {"kind": "unknown", "reason": "not an OTiS checkpoint (no domain_offsets) nor an mvit_v2_s state dict"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["detect", "echo2ecg-run", "otis", "echoprime"])
    ap.add_argument("input")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--echoprime", help="EchoPrime's echo_prime_encoder.pt (the video encoder)")
    ap.add_argument("--domain", default="ecg")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line")
    a = ap.parse_args(argv)
    try:
        if a.kind == "detect":
            print(json.dumps(detect(a.input)))
            return 0
        if not a.output:
            raise ConvertError("OUT (a bundle directory, or a .pt file for otis / echoprime) is required")
        if a.kind == "echo2ecg-run":
            meta = convert_run(a.input, a.output, a.echoprime)
        elif a.kind == "otis":
            meta = convert_otis(a.input, a.output, a.echoprime, a.domain)
        else:
            meta = convert_echoprime(a.input, a.output)
    except ConvertError as e:
        print(json.dumps({"error": str(e)}) if a.json else f"error: {e}", file=sys.stdout if a.json else sys.stderr)
        return 2
    if a.json:
        print(json.dumps({"ok": True, "output": os.path.abspath(a.output), "model_id": meta.get("model_id"),
                          "source": meta.get("source")}))
    else:
        print(f"wrote {a.output} ({meta.get('model_id', meta.get('kind'))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
