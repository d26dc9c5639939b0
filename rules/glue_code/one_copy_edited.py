"""
What it does
------------
Flags a small edit of a block of code that has a twin elsewhere in the repository (another
file, or another function of the same file) when the change leaves the twin as it was: a line
the two copies shared is rewritten in one of them only. The finding sits on the edited line and
names the twin's lines. It is the moment a copy starts to drift: the fix, the new argument, the
corrected shape reaches one copy and not the other.

The twins are found as DEBT804 finds copies (winnowed fingerprints, ``rules/engine/clones.py``),
over blocks of at least ``min-lines`` lines of code. Only edits are judged, not new lines: an
edited line must still resemble a line of the twin (most of its characters alike), so that it
was a shared line before the change, and the twin's line it resembles must be gone from this
copy (a new ``elif`` beside others like it is an addition, not an edit). Left alone: a change that edits both copies, an edit that
makes this copy agree with the twin, a change that rewrites a large part of the block (a third
or more of its lines: a rewrite, not a fix), and copies the repository keeps apart on purpose
(separate projects, examples, snapshots of a course: as for DEBT804). Deliberate standalone
copies are judged too: a copy kept on purpose must still receive the fixes of its original.
Option: ``min-lines`` (default 10).

Why is this bad?
----------------
When code lives in two places, every fix must be made twice. A change that corrects a shape,
a default or a condition in one copy and not in the other leaves the two paths computing
different things: the standalone version of a model no longer matches the one that was trained,
the evaluation script keeps the bug the training script lost. Nothing fails; the results just
differ.

Example
-------
.. code-block:: python

    # kernel.py, edited by the change; standalone/s4.py holds the same block, unedited
    if deterministic:
        C = torch.zeros(channels, self.n_ssm, self.N, dtype=cdtype)  # was self.H

Use instead
-----------
Make the same edit in the twin in the same change, or, better, let both places call one
function so that the next fix is made once.

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": glue code and multiple
  code paths that drift apart.
- Juergens et al., "Do code clones matter?" (ICSE 2009): inconsistent changes to clones as a
  frequent source of faults.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from rules import Change, Example, RepositoryContext, Rule, clones
from rules.glue_code.copied_block import _eligible, _Layout

_BLOCK = """\
def make_kernel(self, channels, deterministic, dtype):
    w, P, B, V = combination(self.measure, self.N, self.rank, self.n_ssm)
    if deterministic:
        C = torch.zeros(channels, self.H, self.N, dtype=dtype)
        C[:, :, :1] = 1.0
        C = contract("hmn, chn -> chm", V.conj().transpose(-1, -2), C)
    else:
        C = torch.randn(channels, self.H, self.N // 2, dtype=dtype)
    assert self.n_ssm % B.size(-2) == 0
    B = repeat(B, "t n -> (v t) n", v=self.n_ssm // B.size(-2)).clone()
    P = repeat(P, "r t n -> r (v t) n", v=self.n_ssm // P.size(-2)).clone()
    w = repeat(w, "t n -> (v t) n", v=self.n_ssm // w.size(-2)).clone()
    kernel = Kernel(w, P, B, C, self.log_dt, rank=self.rank)
    kernel.register("log_dt", self.log_dt, self.lr)
    return kernel
"""
# The same block with line 4 fixed.
_FIXED = _BLOCK.replace("torch.zeros(channels, self.H,", "torch.zeros(channels, self.n_ssm,")

RULE = Rule(
    code="DEBT806",
    name="one-copy-edited",
    principle="glue-code",
    severity="info",
    facts=("fingerprints",),
    default_enabled=False,
    disabled_because="new: 3 of 6 findings right, 2 debatable, on tuning repositories",
    message="Make the same edit in the copy of this block in `{other}` (lines {lines}), or let both call one function: the two copies now differ here.",
    options={"min-lines": 10},
    valid=(
        # Near miss: the change edits both copies alike.
        Example(
            _FIXED,
            path="kernel.py",
            added=(4,),
            others=(("standalone/s4.py", _FIXED),),
            changed=("standalone/s4.py",),
        ),
        # Near miss: the edit makes this copy agree with its twin.
        Example(_FIXED, path="kernel.py", added=(4,), others=(("standalone/s4.py", _FIXED),)),
        # Near miss: a new line, not an edit of a shared one.
        Example(
            _BLOCK.replace("    return kernel\n", "    kernel.setup()\n    return kernel\n"),
            path="kernel.py",
            added=(16,),
            others=(("standalone/s4.py", _BLOCK),),
        ),
        # Near miss: a copy in another project of the repository.
        Example(
            _FIXED,
            path="a/kernel.py",
            added=(4,),
            others=(("b/kernel.py", _BLOCK), ("b/requirements.txt", "torch\n")),
            files=("a/requirements.txt",),
        ),
    ),
    invalid=(
        Example(
            _FIXED, path="kernel.py", added=(4,), line=4, others=(("standalone/s4.py", _BLOCK),)
        ),
        Example(
            _FIXED, path="standalone/s4.py", added=(4,), line=4, others=(("kernel.py", _BLOCK),)
        ),
    ),
)

_SPACE = re.compile(r"\s+")
_COMMENT = re.compile(r"\s+#.*$")
_QUALIFIER = re.compile(r"\b(?!self\.)[A-Za-z_]\w*\.(?=[A-Za-z_])")  # ``hippo.`` of ``hippo.nplr``
_ALIKE = 0.8  # how alike an edited line and a line of the twin must be


def check_change(change: Change, ctx: RepositoryContext) -> None:
    repository = change.repository
    prints = _eligible(repository)
    index = clones.build_index(prints)
    layout = _Layout.of(repository)
    least = int(ctx.options["min-lines"])
    for path in sorted(change.added):
        if path not in prints:
            continue
        added = change.added[path]
        found = [
            clone
            for clone in clones.clones_of(path, prints[path], index)
            if any(clone.start < n < clone.end for n in added)
            and not layout.apart(path, clone.other)
        ]
        if not found:
            continue
        source = ctx.read(path)
        text = source.splitlines()
        holding_code = clones.code_lines(source)
        mine = clones.tokens(source)
        theirs = {other: clones.tokens(ctx.read(other)) for other in {c.other for c in found}}
        exact = [clones.extend(clone, path, mine, theirs[clone.other]) for clone in found]
        for clone in clones.merge(exact):
            code = [n for n in range(clone.start, clone.end + 1) if n in holding_code]
            edited = [n for n in code if n in added and clone.start < n < clone.end]
            if len(code) < least or not edited or len(edited) * 3 >= len(code):
                continue
            twin_added = change.added.get(clone.other, frozenset())
            if any(n in twin_added for n in range(clone.other_start, clone.other_end + 1)):
                continue  # the change edits both copies
            line = _drifted(text, code, edited, ctx.read(clone.other), clone)
            if line is not None:
                lines = f"{clone.other_start}-{clone.other_end}"
                ctx.report(path, line, text[line - 1].strip(), other=clone.other, lines=lines)


def _drifted(
    text: list[str], code: list[int], edited: list[int], other: str, clone: clones.Clone
) -> int | None:
    """The first edited line that rewrites a line the twin still has as it was: close to one
    of the twin's lines without being the same, and that line gone from this copy (a new line
    beside one like it, an ``elif`` added after another, is not an edit)."""
    twin = [_normal(line) for line in other.splitlines()[clone.other_start - 1 : clone.other_end]]
    twin = [line for line in twin if len(line) > 3]
    same = set(twin)
    here = {_normal(text[n - 1]) for n in code}
    for n in edited:
        line = _normal(text[n - 1])
        if len(line) <= 3 or line in same:
            continue
        matcher = SequenceMatcher(None, "", line, autojunk=False)
        best, closest = 0.0, None
        for candidate in twin:
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() > best and matcher.ratio() > best:
                best, closest = matcher.ratio(), candidate
        if best >= _ALIKE and closest not in here:
            return n
    return None


def _normal(line: str) -> str:
    # A module named or not (``hippo.nplr`` and ``nplr``) is the same code in two copies.
    return _QUALIFIER.sub("", _SPACE.sub(" ", _COMMENT.sub("", line))).strip()
