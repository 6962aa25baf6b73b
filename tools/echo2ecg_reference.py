#!/usr/bin/python3
"""Plain-PyTorch reference of the Echo2ECG networks (the parity oracle of core/model).

Module names follow the reference (OTiS ViT "baseDeep" + Echo2ECG heads), so the state_dict maps
1:1 onto the libtorch modules in core/model/model.h:

  ecg_encoder.patch_embed.proj / .norm, ecg_encoder.cls_token, ecg_encoder.pos_embed_y (lead
  embedding, padding row 0), ecg_encoder.pos_embed_x (frozen sin-cos time table, CLS row 0),
  ecg_encoder.blocks.N.{norm1, attn.qkv, attn.attn (nn.MultiheadAttention), attn.proj, norm2,
  mlp.fc1, mlp.fc2}, ecg_encoder.fc_norm, echo_aggregator.{proj, attn}, ecg_proj, echo_proj.

Usage:  /usr/bin/python3 tools/echo2ecg_reference.py --out DIR [--seed 0]
writes  DIR/weights.pt        tensor archive {name: tensor} (the format the C++ loads)
        DIR/inputs.pt         {ecg, views, valid}
        DIR/outputs.pt        {ecg_feature, ecg_tokens_cls, echo_feature, ecg_emb, echo_emb, clip_loss}
        DIR/otis_checkpoint.pth, DIR/otis_short.pth   the ECG encoder in the OTiS layout ({'model',
                                  'domain_offsets'}), time table longer / shorter than 43 rows
        RUN_DIR (--official-run)  the model as an official Echo2ECG run: config.yaml + checkpoints/*.ckpt
"""
import argparse
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


def sincos_table_1d(width, positions):
    half = width // 2
    omega = torch.arange(half, dtype=torch.float64) / half
    omega = 1.0 / (10000.0 ** omega)
    out = torch.outer(torch.arange(positions, dtype=torch.float64), omega)
    table = torch.cat([torch.sin(out), torch.cos(out)], dim=1).float()
    return torch.cat([torch.zeros(1, width), table], dim=0)  # row 0: CLS


class PatchEmbed(nn.Module):
    def __init__(self, dim=192, patch=24):
        super().__init__()
        self.proj = nn.Conv2d(1, dim, kernel_size=(1, patch), stride=(1, patch))
        self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x):  # [B, L, T] -> [B, L, P, dim]
        y = self.proj(x.unsqueeze(1)).permute(0, 2, 3, 1)
        return F.gelu(self.norm(y))


class Attention(nn.Module):
    def __init__(self, dim, heads, attn_drop=0.0):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=attn_drop, batch_first=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        out = self.attn(q, k, v, need_weights=False)[0]
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def drop_path(x, p, training):
    if not training or p <= 0:
        return x
    keep = 1 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x.div(keep) * mask


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_dim, dp):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_dim)
        self.dp = dp

    def forward(self, x):
        x = x + drop_path(self.attn(self.norm1(x)), self.dp, self.training)
        return x + drop_path(self.mlp(self.norm2(x)), self.dp, self.training)


class EcgEncoder(nn.Module):
    """OTiS ViT baseDeep on [B, 12, 1008]."""

    def __init__(self, leads=12, samples=1008, patch=24, dim=192, depth=12, heads=3, mlp_dim=768, drop_path=0.1,
                 global_eps=1e-6):
        super().__init__()
        self.leads, self.patches, self.dim = leads, samples // patch, dim
        self.patch_embed = PatchEmbed(dim, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed_y = nn.Embedding(leads + 1, dim // 2, padding_idx=0)
        self.pos_embed_x = nn.Parameter(sincos_table_1d(dim // 2, self.patches), requires_grad=False)
        dps = [drop_path * i / (depth - 1) if depth > 1 else 0.0 for i in range(depth)]
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_dim, dps[i]) for i in range(depth)])
        # Global LayerNorm over the mean patch token: 1e-6 in this project's models; the official code's
        # token aggregator (ecg_layernorm_global) is a default nn.LayerNorm, eps 1e-5.
        self.fc_norm = nn.LayerNorm(dim, eps=global_eps)

    def positional_embedding(self):
        L, P = self.leads, self.patches
        dev = self.pos_embed_x.device
        lead_ids = torch.cat([torch.zeros(1, dtype=torch.long), torch.arange(1, L + 1).repeat_interleave(P)]).to(dev)
        time_ids = torch.cat([torch.zeros(1, dtype=torch.long), torch.arange(1, P + 1).repeat(L)]).to(dev)
        return torch.cat([self.pos_embed_y(lead_ids), self.pos_embed_x[time_ids]], dim=1)

    def forward_tokens(self, ecg):
        B = ecg.shape[0]
        x = self.patch_embed(ecg).reshape(B, -1, self.dim)
        x = torch.cat([self.cls_token.expand(B, 1, self.dim), x], dim=1)
        x = x + self.positional_embedding().unsqueeze(0)
        for b in self.blocks:
            x = b(x)
        return x

    def forward(self, ecg):
        return self.fc_norm(self.forward_tokens(ecg)[:, 1:].mean(1))


class EchoAggregator(nn.Module):
    def __init__(self, view_dim=512, dim=1024, heads=4):
        super().__init__()
        self.proj = nn.Linear(view_dim, dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, views, valid):  # views [B, V, 512], valid [B, V] bool
        h = self.proj(views)
        m = valid.unsqueeze(-1).to(h.dtype)
        q = (h * m).sum(1, keepdim=True) / m.sum(1, keepdim=True)
        return self.attn(q, h, h, key_padding_mask=~valid, need_weights=False)[0].squeeze(1)


class SmallVideoNet(nn.Module):
    """core/model SmallVideoNet: 4 x (Conv3d, BatchNorm3d, ReLU), global mean, Linear -> 512."""

    def __init__(self, in_channels=3, embed_dim=512):
        super().__init__()
        layers, c = [], in_channels
        for i, w in enumerate((32, 64, 128, 256)):
            layers += [nn.Conv3d(c, w, 3, stride=(1, 2, 2) if i == 0 else 2, padding=1, bias=False),
                       nn.BatchNorm3d(w), nn.ReLU(inplace=True)]
            c = w
        self.stem = nn.Sequential(*layers)
        self.head = nn.Linear(c, embed_dim)

    def forward(self, x):
        return self.head(self.stem(x).mean((2, 3, 4)))


class Echo2ECG(nn.Module):
    def __init__(self, depth=12, dim=192, heads=3, mlp_dim=768, global_eps=1e-6, view_dim=512, echo_dim=1024,
                 echo_heads=4, shared_dim=512):
        super().__init__()
        self.ecg_encoder = EcgEncoder(dim=dim, depth=depth, heads=heads, mlp_dim=mlp_dim, global_eps=global_eps)
        self.echo_aggregator = EchoAggregator(view_dim, echo_dim, echo_heads)
        self.ecg_proj = nn.Linear(dim, shared_dim, bias=False)
        self.echo_proj = nn.Linear(echo_dim, shared_dim, bias=False)

    def embed_ecg(self, ecg):
        return F.normalize(self.ecg_proj(self.ecg_encoder(ecg)), dim=-1)

    def embed_echo(self, views, valid):
        return F.normalize(self.echo_proj(self.echo_aggregator(views, valid)), dim=-1)


def clip_loss(ecg_emb, echo_emb, temperature=0.5, lam=0.5):
    a, b = F.normalize(ecg_emb, dim=-1), F.normalize(echo_emb, dim=-1)
    logits = a @ b.t() / temperature
    labels = torch.arange(a.shape[0], device=a.device)
    return lam * F.cross_entropy(logits, labels) + (1 - lam) * F.cross_entropy(logits.t(), labels)


def perturb_(model, gen):
    """Make every parameter non-trivial (LayerNorm ones/zeros, zero biases) so mapping errors show."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            p.add_(torch.randn(p.shape, generator=gen) * 0.02)
            if name.endswith("pos_embed_y.weight"):
                p[0].zero_()


def plain_state_dict(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


OFFICIAL_DEPTHS = {192: ("vit_baseDeep_patchX", 12, 3), 384: ("vit_largeDeep_patchX", 18, 6),
                   576: ("vit_hugeDeep_patchX", 24, 8)}


def official_cfg(dim=192, echo_dim=1024, echo_heads=4, shared_dim=512):
    """The run configuration (OmegaConf) the official code pickles into every .ckpt and saves as config.yaml."""
    from omegaconf import OmegaConf
    name = OFFICIAL_DEPTHS[dim][0]
    return OmegaConf.create({
        "seed": 42,
        "model": {
            "ecg": {"input_channels": 1, "input_variates": 12, "time_steps": 1008, "input_size": [1, 12, 1008],
                    "model_name": name, "patch_height": 1, "patch_width": 24, "patch_size": [1, 24],
                    "drop_path_rate": 0.1, "use_adapter": False, "adapter_bottleneck_dim": 64,
                    "ignore_pos_embed_y": False, "use_checkpoint": True, "embed_dim": dim},
            "echo": {"img_size": 224, "num_frames": 16, "num_channels": 3, "embed_dim": 512,
                     "view_dropout": {"use": False, "mask_ratio": 0.0},
                     "view_aggregation": {"use": True, "strategy": "att", "num_heads": echo_heads, "dropout": 0.1,
                                          "num_layers": 1, "proj_embed_dim": echo_dim}},
            "token_aggregation": {"ecg": {"strategy": "mean", "num_heads": 4}},
            "alignment": {"proj_embed_dim": shared_dim, "width_factor": 8, "alignment_type": "linear"},
        },
        "dataset": {"echo": {"sampling_rate": 2, "max_n_views": 128}},
    })


def official_encoder_names(enc):
    """This project's encoder names -> the official ECGEncoder's (blocks.N.attn.mha, pos_embed_x [1, 43, D/2])."""
    out = {}
    for k, v in enc.items():
        if k.startswith("fc_norm."):
            continue  # the official multimodal model deletes fc_norm; its global norm is the token aggregator's
        k = k.replace(".attn.attn.", ".attn.mha.")
        if k == "pos_embed_x":
            v = v.reshape(1, v.shape[0], v.shape[1])
        out[k] = v.clone()
    return out


def write_official_run(sd, cfg, run_dir, gen, video_sd=None):
    """An official Echo2ECG run directory exactly as Multimodal_CLIP.on_save_checkpoint writes it: config.yaml
    beside checkpoints/, one torch.save({'model', 'cfg', 'epoch'}) per component."""
    from omegaconf import OmegaConf
    ck = os.path.join(run_dir, "checkpoints")
    os.makedirs(ck, exist_ok=True)
    enc = official_encoder_names({k[len("ecg_encoder."):]: v for k, v in sd.items() if k.startswith("ecg_encoder.")})
    # The official encoder never reads the padding row of pos_embed_y (lead ids start at 1): make it non-zero so
    # that a converter which adds it to the CLS token shows.
    enc["pos_embed_y.weight"][0] = torch.randn(enc["pos_embed_y.weight"].shape[1], generator=gen) * 0.02
    parts = {
        "ecg_multimodal.ckpt": enc,
        "token_aggregator.ckpt": {"ecg_layernorm_global.weight": sd["ecg_encoder.fc_norm.weight"],
                                  "ecg_layernorm_global.bias": sd["ecg_encoder.fc_norm.bias"]},
        "echo_projection_for_agg.ckpt": {"weight": sd["echo_aggregator.proj.weight"],
                                         "bias": sd["echo_aggregator.proj.bias"]},
        "echo_view_aggregator.ckpt": {"aggregator.mha." + k[len("echo_aggregator.attn."):]: v
                                      for k, v in sd.items() if k.startswith("echo_aggregator.attn.")},
        "ecg_alignment_global_token.ckpt": {"weight": sd["ecg_proj.weight"]},
        "echo_alignment_global_token.ckpt": {"weight": sd["echo_proj.weight"]},
    }
    if video_sd is not None:
        parts["echo_multimodal.ckpt"] = video_sd
    for name, model_sd in parts.items():
        torch.save({"model": {k: v.clone() for k, v in model_sd.items()}, "cfg": cfg, "epoch": 49},
                   os.path.join(ck, name))
    OmegaConf.save(cfg, os.path.join(run_dir, "config.yaml"))


def write_otis(sd, out_dir, gen):
    """OTiS pre-training checkpoints: {'model', 'domain_offsets'}, attn.mha names, a multi-domain lead
    embedding, and a time table longer (otis_checkpoint.pth) or shorter (otis_short.pth) than 1 + 42 rows,
    plus the MAE parts the encoder does not use. otis_short_pos_x.pt: the table interpolated as the official
    util/pos_embed.interpolate_pos_embed_x does."""
    enc = official_encoder_names({k[len("ecg_encoder."):]: v for k, v in sd.items() if k.startswith("ecg_encoder.")})
    offsets = {"eeg": 0, "ecg": 20, "emg": 32}
    big_y = torch.randn(1 + 40, 96, generator=gen) * 0.02
    big_y[1 + offsets["ecg"]:1 + offsets["ecg"] + 12] = enc["pos_embed_y.weight"][1:13]
    enc["pos_embed_y.weight"] = big_y
    enc["norm.weight"], enc["norm.bias"] = torch.ones(192), torch.zeros(192)
    enc["mask_token"] = torch.zeros(1, 1, 192)
    enc["decoder_embed.weight"], enc["decoder_embed.bias"] = torch.zeros(160, 192), torch.zeros(160)
    long_enc = dict(enc, pos_embed_x=sincos_table_1d(96, 100).reshape(1, 101, 96))
    torch.save({"model": long_enc, "domain_offsets": offsets, "epoch": 99}, os.path.join(out_dir, "otis_checkpoint.pth"))
    short = sincos_table_1d(96, 20).reshape(1, 21, 96)
    torch.save({"model": dict(enc, pos_embed_x=short), "domain_offsets": offsets, "epoch": 99},
               os.path.join(out_dir, "otis_short.pth"))
    tokens = F.interpolate(short[:, 1:].permute(0, 2, 1), size=42, mode="linear", align_corners=False)
    # Two entries: libtorch's unpickler (torch::pickle_load) lacks the SETITEM opcode of one-item dicts.
    torch.save({"pos_embed_x": torch.cat([short[:, :1], tokens.permute(0, 2, 1)], 1)[0].clone(), "short": short[0]},
               os.path.join(out_dir, "otis_short_pos_x.pt"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--official-run", metavar="RUN_DIR",
                    help="also write the model as an official Echo2ECG run directory (config.yaml, checkpoints/); "
                         "the model is then the official function: global LayerNorm eps 1e-5")
    ap.add_argument("--echo-dim", type=int, default=1024, help="view aggregator width (official default config: 512)")
    ap.add_argument("--with-video", action="store_true",
                    help="official run: also echo_multimodal.ckpt (a seeded torchvision mvit_v2_s, head -> 512)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)

    official = args.official_run is not None
    model = Echo2ECG(global_eps=1e-5 if official else 1e-6, echo_dim=args.echo_dim)
    perturb_(model, gen)
    model.eval()
    sd = plain_state_dict(model)
    torch.save(sd, os.path.join(args.out, "weights.pt"))

    B, V = args.batch, args.views
    ecg = torch.randn(B, 12, 1008, generator=gen)
    views = torch.randn(B, V, 512, generator=gen)
    valid = torch.ones(B, V, dtype=torch.bool)
    for b in range(B):  # study b has V - b valid views (at least one)
        valid[b, max(1, V - b):] = False
    with torch.no_grad():
        tokens = model.ecg_encoder.forward_tokens(ecg)
        ecg_feature = model.ecg_encoder(ecg)
        echo_feature = model.echo_aggregator(views, valid)
        ecg_emb = model.embed_ecg(ecg)
        echo_emb = model.embed_echo(views, valid)
        loss = clip_loss(ecg_emb, echo_emb)
    torch.save({"ecg": ecg, "views": views, "valid": valid}, os.path.join(args.out, "inputs.pt"))
    torch.save({"ecg_feature": ecg_feature, "ecg_tokens_cls": tokens[:, 0].contiguous(),
                "echo_feature": echo_feature, "ecg_emb": ecg_emb, "echo_emb": echo_emb,
                "clip_loss": loss.reshape(1)}, os.path.join(args.out, "outputs.pt"))

    write_otis(sd, args.out, gen)
    if official:
        video_sd = None
        if args.with_video:
            import torchvision
            torch.manual_seed(args.seed + 2)
            mvit = torchvision.models.video.mvit_v2_s()
            mvit.head[-1] = nn.Linear(mvit.head[-1].in_features, 512)
            video_sd = plain_state_dict(mvit)
            torch.save(video_sd, os.path.join(args.out, "video_weights.pt"))
        write_official_run(sd, official_cfg(echo_dim=args.echo_dim), args.official_run, gen, video_sd)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
