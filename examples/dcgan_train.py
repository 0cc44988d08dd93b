"""Train a small DCGAN: a generator and a discriminator, each with its optimizer.

The usual PyTorch DCGAN loop (after the PyTorch DCGAN tutorial): the discriminator
is trained on a real batch and on a batch the generator made (detached), then the
generator is trained to make the discriminator call its batch real. The "real"
images are synthetic 16x16 blobs (numpy, seeded), so the script runs anywhere.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset

NZ = 16  # size of the generator's input noise


class Blobs(Dataset):
    """`n` 1x16x16 images in [-1, 1]: a bright Gaussian blob at a random place."""

    def __init__(self, n, seed=0):
        rng = np.random.default_rng(seed)
        ys, xs = np.mgrid[0:16, 0:16]
        centres = rng.uniform(4, 12, size=(n, 2))
        images = np.exp(-((ys - centres[:, :1, None]) ** 2 + (xs - centres[:, 1:, None]) ** 2) / 8.0)
        self.images = (2.0 * images - 1.0).astype(np.float32)[:, None]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return torch.from_numpy(self.images[index])


class Generator(nn.Module):
    """Noise (N, nz, 1, 1) to images (N, 1, 16, 16)."""

    def __init__(self, nz=NZ, ngf=16):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),  # 4x4
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),  # 8x8
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False),  # 16x16
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    """Images (N, 1, 16, 16) to the probability that each is real, (N,)."""

    def __init__(self, ndf=16):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False),  # 8x8
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # 4x4
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),  # 1x1
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1)


def train(netG, netD, loader, epochs, device):
    """Alternating updates; the (discriminator, generator) losses of each step."""
    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real_label, fake_label = 1.0, 0.0
    netG.train()
    netD.train()
    history = []
    for epoch in range(epochs):
        for i, real in enumerate(loader):
            real = real.to(device)
            b_size = real.size(0)

            # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = netD(real)
            errD_real = criterion(output, label)
            errD_real.backward()
            noise = torch.randn(b_size, NZ, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            errD = errD_real + errD_fake
            optimizerD.step()

            # (2) Update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for the generator's loss
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            optimizerG.step()
            history.append((errD.item(), errG.item()))
        print(f"epoch {epoch + 1}: loss D {history[-1][0]:.4f}, loss G {history[-1][1]:.4f}")
    return history


def main(epochs=2):
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    loader = DataLoader(Blobs(320), batch_size=32, shuffle=True)
    netG = Generator().to(device)
    netD = Discriminator().to(device)
    history = train(netG, netD, loader, epochs, device)
    torch.save(netG.state_dict(), "generator.pt")
    return history


if __name__ == "__main__":
    main()
