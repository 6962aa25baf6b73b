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
        DIR/otis_checkpoint.pth   the ECG encoder in the official OTiS layout ({'model', 'domain_offsets'})
        DIR/echo2ecg.ckpt         the whole model in a Lightning layout ({'state_dict': {'model.' + name}})
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

    def __init__(self, leads=12, samples=1008, patch=24, dim=192, depth=12, heads=3, mlp_dim=768, drop_path=0.1):
        super().__init__()
        self.leads, self.patches, self.dim = leads, samples // patch, dim
        self.patch_embed = PatchEmbed(dim, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed_y = nn.Embedding(leads + 1, dim // 2, padding_idx=0)
        self.pos_embed_x = nn.Parameter(sincos_table_1d(dim // 2, self.patches), requires_grad=False)
        dps = [drop_path * i / (depth - 1) if depth > 1 else 0.0 for i in range(depth)]
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_dim, dps[i]) for i in range(depth)])
        self.fc_norm = nn.LayerNorm(dim, eps=1e-6)

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


class Echo2ECG(nn.Module):
    def __init__(self):
        super().__init__()
        self.ecg_encoder = EcgEncoder()
        self.echo_aggregator = EchoAggregator()
        self.ecg_proj = nn.Linear(192, 512, bias=False)
        self.echo_proj = nn.Linear(1024, 512, bias=False)

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--views", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)

    model = Echo2ECG()
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

    # Official layouts for tools/convert_checkpoint.py:
    # OTiS: {'model': encoder state_dict with a multi-domain lead embedding, longer time table,
    #        final norm / head that the encoder does not use}, 'domain_offsets': {domain: offset}}
    enc = {k[len("ecg_encoder."):]: v.clone() for k, v in sd.items() if k.startswith("ecg_encoder.")}
    offsets = {"eeg": 0, "ecg": 20, "emg": 32}
    big_y = torch.randn(1 + 40, 96, generator=gen) * 0.02
    big_y[0] = enc["pos_embed_y.weight"][0]
    big_y[1 + offsets["ecg"]:1 + offsets["ecg"] + 12] = enc["pos_embed_y.weight"][1:13]
    enc["pos_embed_y.weight"] = big_y
    enc["pos_embed_x"] = sincos_table_1d(96, 100).reshape(1, 1, 101, 96)
    enc["norm.weight"], enc["norm.bias"] = torch.ones(192), torch.zeros(192)
    enc["head.weight"], enc["head.bias"] = torch.zeros(2, 192), torch.zeros(2)
    torch.save({"model": enc, "domain_offsets": offsets, "epoch": 99}, os.path.join(args.out, "otis_checkpoint.pth"))
    # Lightning: {'state_dict': {'model.' + name}, 'epoch', 'hyper_parameters'} plus a loss temperature buffer.
    lsd = {"model." + k: v.clone() for k, v in sd.items()}
    lsd["criterion.temperature"] = torch.tensor(0.5)
    torch.save({"state_dict": lsd, "epoch": 7, "hyper_parameters": {"lr": 5e-4}}, os.path.join(args.out, "echo2ecg.ckpt"))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
