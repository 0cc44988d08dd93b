"""Train a small CNN classifier on synthetic MNIST-sized digits.

The usual PyTorch training script: a Dataset, a DataLoader, SGD with momentum and
weight decay, a StepLR schedule, cross-entropy, and an evaluation loop under
torch.no_grad(). The digits are synthetic (numpy, seeded), so the script runs
anywhere: each image is noise with a bright band whose row tells its label.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class SyntheticDigits(Dataset):
    """`n` 1x28x28 noise images with labels 0-9, made from `seed`."""

    def __init__(self, n, seed=0):
        rng = np.random.default_rng(seed)
        self.images = rng.random((n, 1, 28, 28), dtype=np.float32)
        self.labels = rng.integers(0, 10, size=n)
        for i, label in enumerate(self.labels):
            self.images[i, 0, 2 * label + 4 : 2 * label + 7, :] += 0.1

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = torch.from_numpy(self.images[index])
        return image, int(self.labels[index])


class Net(nn.Module):
    """Two conv blocks (conv, batch norm, ReLU, max pool) and a linear classifier."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 7 * 7, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)  # 14x14
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)  # 7x7
        return self.fc(torch.flatten(x, 1))


def train_epoch(model, loader, optimizer, criterion, device):
    """One pass over `loader`; the loss of each batch."""
    model.train()
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def evaluate(model, loader, criterion, device):
    """(mean loss, accuracy) over `loader`."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            total_loss += criterion(outputs, labels).item() * labels.size(0)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
    n = len(loader.dataset)
    return total_loss / n, correct / n


def main(epochs=3, batch_size=32):
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader = DataLoader(SyntheticDigits(640), batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(SyntheticDigits(160, seed=1), batch_size=64)

    model = Net().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    criterion = nn.CrossEntropyLoss()

    history = []
    for epoch in range(epochs):
        history += train_epoch(model, train_loader, optimizer, criterion, device)
        scheduler.step()
        test_loss, accuracy = evaluate(model, test_loader, criterion, device)
        print(f"epoch {epoch + 1}: train loss {history[-1]:.4f}, test loss {test_loss:.4f}, accuracy {accuracy:.1%}")
    torch.save(model.state_dict(), "mnist_cnn.pt")
    return history


if __name__ == "__main__":
    main()
