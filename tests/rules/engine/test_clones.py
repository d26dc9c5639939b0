"""The fingerprints behind DEBT804 (copied-block), tested on their own."""

from __future__ import annotations

from rules.engine import clones
from rules.engine.facts import FileFacts

LOOP = """\
def train(model, loader, optimizer, criterion, epochs):
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for images, labels in loader:
            images = images.to("cuda")
            labels = labels.to("cuda")
            optimizer.zero_grad()
            outputs = model(images)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: loss {total / len(loader):.4f}")
    return model
"""
RENAMED = (
    LOOP.replace("model", "net").replace("images", "x").replace("labels", "y")
    .replace('"cuda"', '"cuda:1"').replace("optimizer", "opt")
)  # fmt: skip
OTHER = """\
def evaluate(model, loader, metric):
    model.eval()
    with torch.no_grad():
        for images, labels in loader:
            predictions = model(images).argmax(dim=1)
            metric.update(predictions, labels)
            if metric.count > 1000:
                break
    score = metric.compute()
    metric.reset()
    print("score", score)
    return score
"""


def _clones(files: dict[str, str], path: str) -> list[clones.Clone]:
    prints = {p: clones.fingerprints(text) for p, text in files.items()}
    return clones.clones_of(path, prints[path], clones.build_index(prints))


def test_identical_blocks_are_found_with_their_lines():
    found = _clones({"a.py": "x = 1\n\n\n" + LOOP, "b.py": LOOP}, "a.py")
    assert len(found) == 1
    clone = found[0]
    assert clone.other == "b.py"
    # Winnowing sees a block from its first kept fingerprint to its last: a few lines short.
    assert 4 <= clone.start <= 8 and 14 <= clone.end <= 18
    assert (clone.other_start, clone.other_end) == (clone.start - 3, clone.end - 3)


def _exact(files: dict[str, str], path: str) -> list[clones.Clone]:
    return [
        clones.extend(c, path, clones.tokens(files[path]), clones.tokens(files[c.other]))
        for c in _clones(files, path)
    ]


def test_extended_clones_name_the_exact_lines():
    # The loop is lines 1-15 of b.py and 4-18 of a.py; what comes before and after differs.
    before, after = "x = 1\n\n\n", "\nprint(model)\n"
    files = {"a.py": before + LOOP + after, "b.py": LOOP + "\nwhile True:\n    pass\n"}
    [clone] = _exact(files, "a.py")
    assert (clone.start, clone.end, clone.other_start, clone.other_end) == (4, 18, 1, 15)


def test_extension_stops_mid_line_at_the_last_whole_line():
    head = "def run(loader):\n    total = compute(loader, 1)\n"
    other_head = "def run(loader):\n    total = compute(loader)[0]\n"
    body = LOOP.split("\n", 1)[1]
    [clone] = _exact({"a.py": head + body, "b.py": other_head + body}, "a.py")
    assert clone.start == 3 and clone.other_start == 3


def test_a_repeat_within_one_file_is_not_extended_into_itself():
    text = LOOP + "\n\n" + LOOP.replace("def train(", "def train_again(")
    for clone in _exact({"a.py": text}, "a.py"):
        assert clone.end < clone.other_start or clone.other_end < clone.start


def test_continued_imports_are_left_out():
    assert clones.code_lines("from a import b, \\\n    c\nimport x\nx = 1\n") == {4}


def test_renamed_identifiers_and_literals_still_match():
    assert _clones({"a.py": LOOP, "b.py": RENAMED}, "b.py")


def test_a_block_moved_to_another_depth_still_matches():
    indented = "if True:\n" + "".join("    " + line + "\n" for line in LOOP.splitlines())
    assert _clones({"a.py": LOOP, "b.py": indented}, "b.py")


def test_different_code_does_not_match():
    assert _clones({"a.py": LOOP, "b.py": OTHER}, "b.py") == []


def test_attribute_names_are_kept():
    detached = LOOP.replace(".backward()", ".detach()").replace(".step()", ".zero()")
    detached = detached.replace(".zero_grad()", ".reset()").replace(".item()", ".cpu()")
    assert _clones({"a.py": LOOP, "b.py": detached}, "b.py") == []


def test_short_blocks_share_no_fingerprint():
    short = "def f(a):\n    b = a + 1\n    return b * 2\n"
    assert clones.fingerprints(short) == ()
    assert _clones({"a.py": short, "b.py": short}, "b.py") == []


def test_the_order_of_files_does_not_matter():
    files = {"a.py": LOOP, "b.py": RENAMED, "c.py": OTHER}
    reordered = dict(reversed(list(files.items())))
    assert _clones(files, "b.py") == _clones(reordered, "b.py")


def test_fingerprints_are_deterministic_and_survive_the_cache():
    first = clones.fingerprints(LOOP + OTHER)
    assert first == clones.fingerprints(LOOP + OTHER)
    assert clones.unpack(clones.pack(first)) == first
    facts = FileFacts("a.py", fingerprints=first)
    assert FileFacts.from_json(facts.to_json()).fingerprints == first


def test_imports_docstrings_comments_and_data_lines_are_left_out():
    noisy = (
        'import os\nfrom x import (\n    a,\n    b,\n)\n"""A docstring."""\n# a comment\n'
        'SETTINGS = {\n    "lr": 0.1,\n    "epochs": 3,\n}\n'
    )
    assert clones.code_lines(noisy) == frozenset({8})
    codes, lines = clones.tokens(noisy + LOOP)
    assert len(codes) == len(lines) and min(lines) == 8


def test_a_copy_within_one_file_is_found_but_not_the_block_itself():
    twice = LOOP + "\n\n" + LOOP.replace("def train(", "def train_again(")
    found = _clones({"a.py": twice}, "a.py")
    assert {(c.other, c.other_start < c.start) for c in found} == {("a.py", True), ("a.py", False)}
    assert all(c.end < c.other_start or c.other_end < c.start for c in found)


def test_winnowing_keeps_the_minimum_of_every_window():
    hashes = [77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98]
    chosen = clones.winnow(hashes, 4)
    assert [hashes[i] for i in chosen] == [17, 17, 8, 39, 17]
    for start in range(len(hashes) - 3):
        assert any(
            start <= i < start + 4 and hashes[i] == min(hashes[start : start + 4]) for i in chosen
        )


def test_code_repeated_in_many_places_is_boilerplate():
    files = {f"s{i}.py": LOOP for i in range(10)}
    prints = {p: clones.fingerprints(t) for p, t in files.items()}
    assert clones.build_index(prints, most=8) == {}
