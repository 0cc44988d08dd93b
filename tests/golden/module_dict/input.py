"""nanoGPT's layout: the model's parts in an nn.ModuleDict, read by attribute; the
output head tied to the token embedding through it."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.ln = nn.LayerNorm(n_embd)
        self.mlp = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        return x + F.gelu(self.mlp(self.ln(x)))


class GPT(nn.Module):
    def __init__(self, vocab_size=64, block_size=16, n_embd=32, n_layer=2):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block(n_embd) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(n_embd),
        ))
        self.heads = nn.ModuleDict({"lm": nn.Linear(n_embd, vocab_size, bias=False)})
        self.transformer.wte.weight = self.heads.lm.weight

    def forward(self, idx):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = {}
        for name, head in self.heads.items():
            logits[name] = head(x)
        return logits
