"""DEBT307 eval_mode_not_set: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "train.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


def test_eval_toggle_epoch_loop_without_train() -> None:
    source = """
    import torch

    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        model.eval()
        val_loss = validate(model, val_loader)
    """
    [finding] = findings("DEBT307", source)
    assert finding.line == 10
    assert "`model.train()`" in finding.message


def test_eval_toggle_gan_critic_loop_is_deliberate() -> None:
    source = """
    for batch in loader:
        for _ in range(5):
            netG.eval()
            netD.train()
            optimizerD.zero_grad()
            critic_loss(netD, netG, batch).backward()
            optimizerD.step()
        netG.train()
        optimizerG.zero_grad()
        gen_loss(netD, netG).backward()
        optimizerG.step()
    """
    assert findings("DEBT307", source) == []


def test_eval_set_in_a_chain_counts() -> None:
    source = """
    import torch

    model = Net().to(device).eval()
    with torch.no_grad():
        out = model(x)

    class Teacher:
        def __init__(self, path):
            self.model = torchvision.models.densenet121()
            self.model.load_state_dict(torch.load(path))
            self.model.to(self.device).eval()

        def infer(self, x):
            with torch.no_grad():
                return self.model(x)
    """
    assert findings("DEBT307", source) == []


def test_eval_after_the_call_does_not_count_for_a_local() -> None:
    source = """
    import torch

    def predict(path, x):
        net = torch.jit.load(path)
        with torch.inference_mode():
            y = net(x)
        net.eval()
        return y
    """
    [finding] = findings("DEBT307", source, path="serve.py")
    assert finding.line == 6
    assert "`net.eval()`" in finding.message


def test_eval_layers_without_mode_and_hf_models_are_ignored() -> None:
    source = """
    import torch
    import torch.nn as nn
    from transformers import AutoModel

    head = nn.Linear(768, 2)
    criterion = nn.CrossEntropyLoss()
    encoder = AutoModel.from_pretrained("bert-base-uncased")
    with torch.no_grad():
        loss = criterion(head(encoder(**batch).pooler_output), labels)
    """
    assert findings("DEBT307", source) == []


def test_eval_skips_classes_with_imported_bases_and_tests() -> None:
    source = """
    import torch

    class Policy(PreTrainedPolicy):
        def __init__(self):
            self.actor = torch.load("actor.pt")

        def select_action(self, obs):
            with torch.no_grad():
                return self.actor(obs)
    """
    assert findings("DEBT307", source) == []
    plain = source.replace("(PreTrainedPolicy)", "")
    assert len(findings("DEBT307", plain)) == 1
    assert findings("DEBT307", plain, path="tests/test_policy.py") == []
