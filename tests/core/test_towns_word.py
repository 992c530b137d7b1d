"""What a plan calls its towns comes from the kinds it has (issue 26: 乡镇（街道） was fixed in the code, so a county of
镇 and 乡 with no 街道 read 乡镇（街道） everywhere), and the plan may say otherwise (`plan: {towns: …}`)."""

import pytest

from fuquan.plans.loader import load_plan
from fuquan.plans.plan import towns_word
from tests.conftest import ROOT


@pytest.mark.parametrize("kinds, word", [
    ({"镇"}, "镇"), ({"乡"}, "乡"), ({"街道"}, "街道"), ({"镇", "乡"}, "乡镇"), ({"镇", "街道"}, "镇（街道）"),
    ({"乡", "街道"}, "乡（街道）"), ({"镇", "乡", "街道"}, "乡镇（街道）"), (set(), "镇"),
])
def test_the_word_follows_the_kinds(kinds: set[str], word: str) -> None:
    assert towns_word(kinds) == word


@pytest.mark.parametrize("plan, word", [("wanzhi-2023.yaml", "镇"), ("qingshan-2024.yaml", "乡镇（街道）"),
                                        ("lianhe-2025.yaml", "乡镇")])
def test_each_county_in_its_own_word(plan: str, word: str) -> None:
    assert load_plan(ROOT / "tests" / "plans" / plan).words.towns == word


def test_the_plan_may_say(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / "tests" / "plans" / "lianhe-2025.yaml").read_text(encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("  district: ", "  towns: 乡镇（街道）\n  district: ", 1), encoding="utf-8")
    assert load_plan(path).words.towns == "乡镇（街道）"
