"""The /rules and /principles pages that review comments link to."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.app import pages
from rules.catalogue import all_rules
from rules.principles import ARTICLE_URL, PAPER_URL, PRINCIPLES


@pytest.fixture(scope="module")
def client():
    app = FastAPI()
    app.include_router(pages.router)
    return TestClient(app)


def test_the_rules_page_lists_every_rule_with_its_principle(client):
    response = client.get("/rules")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for rule in all_rules():
        assert f'href="/rules/{rule.code}"' in response.text
        assert f'href="/principles/{rule.principle}"' in response.text
    rows = response.text.split("<tr>")
    (sprawling,) = [row for row in rows if "/rules/DEBT903" in row]
    (lookup,) = [row for row in rows if "/rules/DEBT902" in row]
    assert "off by default" in sprawling and "off by default" not in lookup
    assert "off by default: runs when selected by its code" in client.get("/rules/DEBT903").text


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_every_rule_page_renders_its_documentation(client, rule):
    response = client.get(f"/rules/{rule.code}")
    assert response.status_code == 200
    page = response.text
    assert f"<h1>{rule.code} {rule.name}</h1>" in page
    for heading in ("What it does", "Why is this bad?", "Use instead"):
        assert f"<h2>{heading}</h2>" in page
    assert f"# debt: ignore[{rule.code}]" in page
    # Code blocks are rendered as code, with markup characters escaped.
    assert "<pre><code>" in page
    assert ".. code-block::" not in page
    assert "``" not in page
    for block in re.findall(r"<pre><code>(.*?)</code></pre>", page, flags=re.S):
        assert "<" not in block


def test_a_rule_page_shows_the_examples_as_code(client):
    page = client.get("/rules/DEBT301").text
    assert "    except Exception:\n        pass</code></pre>" in page
    assert "<code>S110</code>" in page  # inline ``S110`` from the references


def test_rules_are_found_by_name_and_any_case(client):
    assert "<h1>DEBT301 swallowed-exception</h1>" in client.get("/rules/debt301").text
    assert "<h1>DEBT301 swallowed-exception</h1>" in client.get("/rules/swallowed-exception").text


def test_an_unknown_rule_is_404(client):
    response = client.get("/rules/DEBT999")
    assert response.status_code == 404
    assert "There is no rule DEBT999" in response.text


def test_names_from_the_url_are_escaped(client):
    response = client.get("/rules/<script>alert(1)")
    assert response.status_code == 404
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.parametrize("slug", list(PRINCIPLES))
def test_every_principle_has_a_page_with_its_sources_and_rules(client, slug):
    response = client.get(f"/principles/{slug}")
    assert response.status_code == 200
    page = response.text
    principle = PRINCIPLES[slug]
    assert f"<h1>{principle.title}</h1>" in page.replace("&#x27;", "'")
    assert f'href="{ARTICLE_URL}"' in page and f'href="{PAPER_URL}"' in page
    for rule in all_rules():
        assert (f'href="/rules/{rule.code}"' in page) == (rule.principle == slug)


def test_the_principles_index_links_every_principle(client):
    page = client.get("/principles").text
    assert all(f'href="/principles/{slug}"' in page for slug in PRINCIPLES)


def test_an_unknown_principle_is_404(client):
    assert client.get("/principles/no-such-thing").status_code == 404


def test_markup_in_documentation_is_escaped():
    html = pages.rst_to_html(
        "Use ``a < b`` & <b>bold</b>\n\n- item with `x>1`\n  wrapped\n\n"
        ".. code-block:: python\n\n    if a < b:\n        pass\n\nAfter."
    )
    assert html == (
        "<p>Use <code>a &lt; b</code> &amp; &lt;b&gt;bold&lt;/b&gt;</p>\n"
        "<ul><li>item with <code>x&gt;1</code> wrapped</li></ul>\n"
        "<pre><code>if a &lt; b:\n    pass</code></pre>\n"
        "<p>After.</p>"
    )


@pytest.mark.parametrize("slug", sorted(PRINCIPLES))
def test_every_principle_page_says_what_to_do(client, slug):
    page = client.get(f"/principles/{slug}").text
    assert "<h2>What to do</h2>" in page
    assert PRINCIPLES[slug].remedy.split(":")[0].replace("'", "&#x27;") in page
