"""Focused tests for the PyTorch code-smell rules (DEBT306-DEBT308, DEBT1006), beyond examples."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "train.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


# --- DEBT306 gradients-not-cleared -----------------------------------------------------------


def test_gradients_reports_only_the_innermost_loop_once() -> None:
    source = """
    import torch

    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(3):
        for x, y in loader:
            loss_fn(model(x), y).backward()
            optimizer.step()
    """
    [finding] = findings("DEBT306", source)
    assert finding.line == 6
    assert "`optimizer.zero_grad()`" in finding.message


def test_gradients_optimizer_known_by_construction_not_name() -> None:
    source = """
    from torch.optim import AdamW

    adam = AdamW(params)
    for batch in loader:
        model(batch).loss.backward()
        adam.step()
    """
    [finding] = findings("DEBT306", source)
    assert "`adam.zero_grad()`" in finding.message


def test_gradients_cleared_by_method_helper_defined_later() -> None:
    source = """
    class Trainer:
        def fit(self):
            for batch in self.loader:
                self.model(batch).backward()
                self.optimizer.step()
                self._reset()

        def _reset(self):
            self.optimizer.zero_grad(set_to_none=True)
    """
    assert findings("DEBT306", source) == []


def test_gradients_model_zero_grad_and_grad_zero_count() -> None:
    source = """
    for batch in loader:
        model.zero_grad()
        model(batch).backward()
        optimizer.step()
    for batch in loader:
        model(batch).backward()
        optimizer.step()
        for p in model.parameters():
            p.grad.zero_()
    """
    assert findings("DEBT306", source) == []


# --- DEBT307 eval-mode-not-set ---------------------------------------------------------------


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


# --- DEBT308 forward-called-directly ---------------------------------------------------------


def test_forward_no_replacement_with_two_calls_on_a_line() -> None:
    source = """
    import torch

    y = head.forward(body.forward(x))
    """
    found = findings("DEBT308", source)
    assert [f.line for f in found] == [3, 3]
    assert all(f.replacement is None for f in found)


def test_forward_skipped_in_tests_and_without_arguments() -> None:
    source = """
    import torch

    out = model.forward(x)
    """
    assert findings("DEBT308", source, path="tests/test_model.py") == []
    assert findings("DEBT308", "import torch\ny = net.forward()\n") == []


def test_forward_label_for_module_built_in_place() -> None:
    source = """
    import torch

    out = ROIAlign((7, 7), 1.0, 0, aligned=True).forward(masks, rois)
    """
    [finding] = findings("DEBT308", source)
    assert "`ROIAlign(...)(...)`" in finding.message
    assert finding.replacement == "out = ROIAlign((7, 7), 1.0, 0, aligned=True)(masks, rois)"


# --- DEBT1006 nondeterministic-training ------------------------------------------------------

TRAIN_LOOP = """
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
"""


def test_nondeterministic_benchmark_wins_over_deterministic() -> None:
    source = (
        "import torch\n"
        "torch.manual_seed(0)\n"
        "torch.backends.cudnn.deterministic = True\n"
        "torch.backends.cudnn.benchmark = True\n" + TRAIN_LOOP
    )
    [finding] = findings("DEBT1006", source)
    assert finding.line == 2
    assert finding.message.startswith("Set `torch.backends.cudnn.benchmark = False`")


def test_nondeterministic_cudnn_alias_and_use_deterministic() -> None:
    aliased = (
        "import torch\nfrom torch.backends import cudnn\n"
        "torch.manual_seed(0)\ncudnn.deterministic = True\n" + TRAIN_LOOP
    )
    assert findings("DEBT1006", aliased) == []
    disabled = "import torch\ntorch.manual_seed(0)\ncudnn_off = False\n" + TRAIN_LOOP
    assert len(findings("DEBT1006", disabled)) == 1


def test_nondeterministic_needs_torch_for_torch_advice() -> None:
    source = """
    import jax
    from transformers import set_seed

    set_seed(0)
    state = state.apply_gradients(grads=grads)
    optimizer.step()
    """
    assert findings("DEBT1006", source) == []


def test_nondeterministic_skips_benchmarks_and_tests() -> None:
    source = "import torch\ntorch.manual_seed(0)\n" + TRAIN_LOOP
    assert len(findings("DEBT1006", source)) == 1
    assert findings("DEBT1006", source, path="bench.py") == []
    assert findings("DEBT1006", source, path="tests/test_train.py") == []


def test_nondeterministic_reports_inside_the_seeding_function() -> None:
    source = """
    import torch

    def set_seed(seed):
        torch.manual_seed(seed)

    def main():
        set_seed(0)
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    """
    [finding] = findings("DEBT1006", source)
    assert finding.line == 4
