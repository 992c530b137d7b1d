"""`fuquan letters` for a county of 21 乡镇 fits the terminal: no line wider than COLUMNS (CJK counted as two
columns), every town and department named whole, the counts right (issue: a grid 21 towns wide, folded into
columns one character wide)."""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

from tests.conftest import ROOT

LIANHE = ROOT / "tests" / "plans" / "lianhe-2025.yaml"
TODAY = "2025-05-01"
DEPTS = ["县市场监督管理局", "县自然资源和规划局", "县生态环境分局", "县应急管理局", "县农业农村局",
         "县住房和城乡建设局", "县交通运输局", "县文化旅游体育局"]
TOWNS = ["莲河镇", "荷塘镇", "青石镇", "双桥镇", "金鸡镇", "马鞍镇", "新集镇", "长岗镇", "白鹭镇", "杏花乡", "枫林乡",
         "大坪乡", "茶山乡", "黄土乡", "三溪乡", "五里乡", "梅溪乡", "龙泉乡", "石桥乡", "桂花乡", "柏树乡"]
NOT_APPLICABLE = {("县交通运输局", "大坪乡"), ("县交通运输局", "茶山乡")}


@pytest.fixture
def letters(run, monkeypatch):  # type: ignore[no-untyped-def]
    """The plan synced, 莲河镇 signed by every department, 柏树乡 by one, one letter drafted."""
    assert run("sync", "--config", str(LIANHE)).code == 0
    for args in (("sign", "县级执法部门", "莲河镇", "--on", "2025-04-20"),
                 ("sign", "县市场监督管理局", "柏树乡", "--on", "2025-04-25"),
                 ("draft", "县交通运输局", "黄土乡", "--on", "2025-04-26")):
        assert run("letter", *args, "--today", TODAY).code == 0, args

    def at(columns: int) -> list[str]:
        monkeypatch.setenv("COLUMNS", str(columns))
        r = run("letters", "--today", TODAY)
        assert r.code == 0, r.err
        lines = r.out.splitlines()
        assert max(cell_len(line) for line in lines) <= columns, "\n".join(lines)
        assert "已签 9, 未签 157" in r.out  # 8 × 21 letters, 2 not applicable
        return lines

    return at


def grid_cells(lines: list[str]) -> dict[tuple[str, str], str]:
    """Every table printed, read back: (row label, column head) → cell text."""
    cells: dict[tuple[str, str], str] = {}
    heads: list[str] = []
    for line in lines:
        if line.startswith("┃"):
            heads = [c.strip() for c in line.strip("┃").split("┃")]
        elif line.startswith("│"):
            row = [c.strip() for c in line.strip("│").split("│")]
            assert len(row) == len(heads), line  # no cell folded onto a second line
            cells.update({(row[0], h): v for h, v in zip(heads[1:], row[1:], strict=True)})
    return cells


@pytest.mark.parametrize("columns", [100, 60])
def test_a_wide_county_is_shown_in_groups_of_towns_that_fit(letters, columns) -> None:  # type: ignore[no-untyped-def]
    lines = letters(columns)
    cells = grid_cells(lines)
    assert {t for _, t in cells} == {*TOWNS, "已签/应签"} and {d for d, _ in cells} == {*DEPTS, "已签/应签"}
    for d in DEPTS:
        for t in TOWNS:
            want = ("—" if (d, t) in NOT_APPLICABLE else "✓ 04-20" if t == "莲河镇"
                    else "✓ 04-25" if (d, t) == ("县市场监督管理局", "柏树乡")
                    else "起草" if (d, t) == ("县交通运输局", "黄土乡") else "✗")
            assert cells[(d, t)] == want, (d, t)
        signed = 1 + (d == "县市场监督管理局")
        assert cells[(d, "已签/应签")] == f"{signed}/{19 if d == '县交通运输局' else 21}", d
    for t in TOWNS:
        owed = 7 if t in ("大坪乡", "茶山乡") else 8
        assert cells[("已签/应签", t)] == f"{8 if t == '莲河镇' else 1 if t == '柏树乡' else 0}/{owed}", t
    assert cells[("已签/应签", "已签/应签")] == "9/166"
    assert any(re.fullmatch(r"已签 9, 未签 157; 21 个乡镇分 \d 组显示, 各部门合计在最后一组", line) for line in lines)


def test_a_narrow_terminal_gets_one_line_per_department(letters) -> None:  # type: ignore[no-untyped-def]
    lines = letters(40)
    blocks: dict[str, str] = {}  # a department's line and its indented continuations
    for line in lines[lines.index(next(x for x in lines if x.startswith(DEPTS[0]))):]:
        if line.startswith("  "):
            blocks[list(blocks)[-1]] += line
        else:
            blocks[line.split(":")[0]] = line
    assert list(blocks) == DEPTS
    for d, block in blocks.items():
        signed = 1 + (d == "县市场监督管理局")
        assert re.sub(r"\s", "", block).startswith(f"{d}:已签{signed}/{19 if d == '县交通运输局' else 21};未签:"), block
        names = re.findall("|".join(TOWNS), block.split("; 起草", 1)[0])
        owed = [t for t in TOWNS if (d, t) not in NOT_APPLICABLE and t != "莲河镇"
                and (d, t) != ("县市场监督管理局", "柏树乡")]
        assert names == owed, d  # each name whole, never split across lines
    assert "起草: 黄土乡" in blocks["县交通运输局"] and "起草" not in "".join(blocks.values()).replace("起草: 黄土乡", "")
