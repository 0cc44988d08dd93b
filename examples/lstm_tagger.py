"""An LSTM part-of-speech tagger, written the usual PyTorch way (issue 6).

Token ids (N, L), right-padded with `padding_idx`, are embedded (the padding row
stays zero), read in both directions by a two-layer LSTM (batch_first) and scored
token by token: log-probabilities of each tag, (N, L, num_tags).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LSTMTagger(nn.Module):
    def __init__(self, vocab_size=100, num_tags=12, embedding_dim=32, hidden_dim=48,
                 num_layers=2, dropout=0.25, padding_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                            bidirectional=True, dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.hidden2tag = nn.Linear(2 * hidden_dim, num_tags)

    def forward(self, tokens):
        embeds = self.dropout(self.embedding(tokens))
        lstm_out, _ = self.lstm(embeds)
        tag_space = self.hidden2tag(self.dropout(lstm_out))
        return F.log_softmax(tag_space, dim=-1)


model = LSTMTagger()
