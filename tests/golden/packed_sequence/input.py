"""Packed sequences: the standard variable-length LSTM classifier.

pack_padded_sequence becomes a PyTorchPackedSequence (the padded batch and the
lengths), the LSTM runs each sequence masked to its length, and
pad_packed_sequence writes zeros past each length.
"""
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class PackedLSTM(nn.Module):
    def __init__(self, vocab=60, emb=16, hidden=24, num_classes=5):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, num_classes)

    def forward(self, ids, lengths):
        x = self.emb(ids)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed)
        out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=ids.size(1))
        # Both directions' states at each sequence's last valid step.
        hidden = torch.cat((h_n[-2], h_n[-1]), dim=1)
        return self.fc(hidden), out
