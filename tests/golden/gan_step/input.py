"""A small GAN on vectors: two models, two optimizers, one loop over the data."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self, latent=8, features=4):
        super().__init__()
        self.latent = latent
        self.net = nn.Sequential(nn.Linear(latent, 32), nn.ReLU(), nn.Linear(32, features))

    def forward(self, z):
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, features=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(features, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def train_epoch(gen, critic, loader, opt_g, opt_d):
    """One pass over the data; the (critic, generator) losses of each batch."""
    bce = nn.BCEWithLogitsLoss()
    losses = []
    for (real,) in loader:
        ones = torch.ones(real.shape[0])
        zeros = torch.zeros(real.shape[0])
        # The critic: real batches are 1, generated ones 0.
        opt_d.zero_grad()
        fake = gen(torch.randn(real.shape[0], gen.latent))
        loss_d = bce(critic(real), ones) + bce(critic(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        # The generator: make the critic say 1.
        opt_g.zero_grad()
        loss_g = bce(critic(fake), ones)
        loss_g.backward()
        opt_g.step()
        losses.append((loss_d.item(), loss_g.item()))
    return losses


if __name__ == "__main__":
    torch.manual_seed(0)
    gen, critic = Generator(), Critic()
    gen.train()
    critic.train()
    loader = DataLoader(TensorDataset(torch.randn(256, 4) * 0.5 + 1.0), batch_size=32, shuffle=True)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for epoch in range(3):
        losses = train_epoch(gen, critic, loader, opt_g, opt_d)
        print(f"epoch {epoch}: critic {losses[-1][0]:.3f}, generator {losses[-1][1]:.3f}")
