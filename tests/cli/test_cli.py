import json
from pathlib import Path

import pytest

from tests import dbs
from tests.conftest import REAL_CONFIG, SMALL_PLAN


def test_plan_show_json_has_every_task_with_due_dates(run) -> None:  # type: ignore[no-untyped-def]
    r = run("plan", "show", "--config", str(REAL_CONFIG), "--json")
    assert r.code == 0, r.err
    tasks = {t["no"]: t for t in json.loads(r.out)["tasks"]}
    assert sorted(tasks) == list(range(1, 16))
    assert set(tasks[1]) == {"no", "section", "text", "short", "deadline", "units", "lead_unit", "assignees", "track"}
    assert tasks[14]["short"] == "月报报送" and tasks[6]["short"] == "公布审批服务事项"  # the plan's short titles
    assert set(tasks[1]["deadline"]) == {"text", "kind", "due", "start", "rule", "time", "parts"}
    due = {n: (t["deadline"]["text"], t["deadline"]["kind"], t["deadline"]["due"]) for n, t in tasks.items()}
    assert due[1] == due[3] == ("3月底前", "date", "2023-03-31")
    assert due[2] == ("4月底前", "date", "2023-04-30")
    assert due[5] == ("6月中旬前", "date", "2023-06-20")
    assert due[6] == ("5月底前", "date", "2023-05-31")
    assert due[13] == ("6月底前", "date", "2023-06-30")
    assert due[8] == ("持续推进", "ongoing", None)
    assert due[12] == ("按省级部署", "per_higher_level", None)
    assert due[15] == ("结合工作实际确定", "to_be_decided", None)
    assert tasks[14]["deadline"]["rule"] == {"freq": "monthly", "day": 20}
    assert tasks[10]["units"] == ["区级执法单位", "各镇", "区司法局"] and tasks[10]["lead_unit"] == "区级执法单位"
    assert tasks[9]["assignees"] == ["区司法局", "湾沚镇", "六郎镇", "陶辛镇", "红杨镇", "花桥镇"]


def test_plan_show_table_has_chinese_headers(run) -> None:  # type: ignore[no-untyped-def]
    r = run("plan", "show", "--config", str(REAL_CONFIG))
    assert r.code == 0
    for header in ("序号", "主要任务", "完成时限", "截止日期", "牵头单位", "责任单位"):
        assert header in r.out
    assert "6月中旬前" in r.out and "2023-06-20" in r.out


def test_plan_check_ok(run) -> None:  # type: ignore[no-untyped-def]
    r = run("plan", "check", "--config", str(REAL_CONFIG))
    assert (r.code, r.err) == (0, "")
    assert r.out.strip() == f"计划配置无误: {REAL_CONFIG} — 芜湖市湾沚区 2023 年度, 15 项任务, 20 个单位, 108 条分工"


def test_plan_check_prints_every_error_and_exits_1(run, write_plan) -> None:  # type: ignore[no-untyped-def]
    path = write_plan(SMALL_PLAN.replace("units: [区委编办]", "units: [区委办]").replace("3月底前", "某时"))
    r = run("plan", "check", "--config", str(path))
    assert r.code == 1 and r.out == ""
    lines = r.err.strip().splitlines()
    assert lines[0] == "错误: 计划配置有 2 处错误:"
    assert lines[1].startswith(f"{path}:20:15: 任务 1: 无法识别的完成时限 “某时”")
    assert lines[2] == f"{path}:31:13: 任务 3: 未知单位 “区委办”; 已有单位和单位组: 区委编办、区司法局、甲镇、乙镇、各镇"


def test_sync_twice_then_a_bad_file_changes_nothing(run, write_plan, db_url: str) -> None:  # type: ignore[no-untyped-def]
    good = write_plan()
    first = run("sync", "--config", str(good))
    assert first.code == 0
    assert first.out.strip() == ("已同步 测试区 2023 年度计划: 新增计划 1, 新增单位 4, 新增单位组 1, 新增任务 3, "
                                 "新增分工 8 (现有单位 4 个, 任务 3 项, 分工 8 条)")
    again = run("sync", "--config", str(good), "--json")
    assert json.loads(again.out)["changed"] is False
    before = dbs.fingerprint(db_url)
    bad = write_plan(SMALL_PLAN.replace("issued: 2023-04-18", "issued: 2023-13-01"), name="bad.yaml")
    r = run("sync", "--config", str(bad))
    assert r.code == 1 and "印发日期(issued) 应为日期" in r.err and f"{bad}:5:11" in r.err
    assert dbs.fingerprint(db_url) == before


def test_status_before_any_sync_says_what_to_do(run) -> None:  # type: ignore[no-untyped-def]
    r = run("status", "--today", "2023-04-28")
    assert r.code == 1 and r.err.strip() == "错误: 数据库中还没有计划; 请先运行 fuquan sync 载入 config/tasks.yaml"


def test_status_unknown_year_lists_known_plans(run, write_plan) -> None:  # type: ignore[no-untyped-def]
    run("sync", "--config", str(write_plan()))
    r = run("status", "--year", "2031")
    assert r.code == 1 and r.err.strip() == "错误: 未知计划 “2031”; 已有计划: 测试区 2023"


def test_bad_today_is_a_usage_error(run) -> None:  # type: ignore[no-untyped-def]
    r = run("status", "--today", "2023/04/28")
    assert r.code == 2 and "日期应为 YYYY-MM-DD" in r.err


def test_deadline_parse(run) -> None:  # type: ignore[no-untyped-def]
    r = run("deadline", "parse", "--year", "2023", "--json", "6月中旬前", "每周五前", "尽快")
    assert r.code == 1
    out = json.loads(r.out)
    assert out[0] == {"text": "6月中旬前", "kind": "date", "due": "2023-06-20", "start": None, "rule": None,
                      "time": None, "parts": []}
    assert out[1]["rule"] == {"freq": "weekly", "weekday": 5}
    assert out[2]["text"] == "尽快" and "可用写法" in out[2]["error"]
    table = run("deadline", "parse", "--year", "2024", "二月底前")
    assert table.code == 0 and "2024-02-29" in table.out


MALFORMED = {
    "syntax": (lambda s: s.replace("  year: 2023", "  year: [2023"), "YAML 语法错误"),
    "unknown unit": (lambda s: s.replace("units: [区委编办]", "units: [区委办]"), ":31:13: 任务 3: 未知单位 “区委办”"),
    "duplicate task": (lambda s: s.replace("  - no: 3\n", "  - no: 2\n"), ":27:9: 任务序号 2 重复"),
    "missing deadline": (lambda s: s.replace("    deadline: 4月底前\n", ""), ":22:5: 缺少必填字段 完成时限(deadline)"),
    "bad date": (lambda s: s.replace("issued: 2023-04-18", "issued: 2023-02-30"), ":5:11: 印发日期(issued) 应为日期"),
    "bad deadline": (lambda s: s.replace("deadline: 3月底前", "deadline: 尽快"), ":20:15: 任务 1: 无法识别的完成时限 “尽快”"),
}


def test_each_malformed_plan_names_its_line_and_leaves_the_database_as_it_was(run, write_plan, db_url) -> None:  # type: ignore[no-untyped-def]
    assert run("sync", "--config", str(write_plan())).code == 0
    before = dbs.fingerprint(db_url)
    for name, (mutate, expected) in MALFORMED.items():
        # each edit also changes a title, which a half-applied load would have written
        path = write_plan(mutate(SMALL_PLAN).replace("测试方案", "改过的方案"), name=f"{name}.yaml")
        r = run("sync", "--config", str(path))
        assert r.code == 1 and r.out == "", name
        assert r.err.startswith("错误: 计划配置有 1 处错误:\n" + str(path)) and expected in r.err, (name, r.err)
        assert dbs.fingerprint(db_url) == before, name


def test_report_commands_write_files_and_send_the_summary_once(run, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("FUQUAN_NOTIFY_FILE", str(tmp_path / "n.md"))
    assert run("sync", "--config", str(REAL_CONFIG)).code == 0
    out = str(tmp_path / "reports")
    r = run("report", "monthly", "--period", "2023-05", "--today", "2023-06-01", "--out", out, "--json", "--send")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    # nothing closed May (only the daily run does, by the real date): a preview, under its own file name
    assert (data["title"], data["provisional"], data["summary_sent"]) == ("2023年5月情况通报", True, True)
    assert data["markdown"].endswith("monthly-2023-05-preview.md")
    assert data["missing_reports"] == ["湾沚镇", "六郎镇", "陶辛镇", "红杨镇", "花桥镇"]
    assert Path(data["excel"]).exists() and all(Path(p).exists() for p in data["charts"])
    again = run("report", "monthly", "--period", "2023-05", "--today", "2023-06-02", "--out", out, "--send")
    assert "本期要点此前已发给专班, 不重复发送" in again.out
    assert (tmp_path / "n.md").read_text(encoding="utf-8").count("2023年5月情况通报") == 1
    q = run("report", "quarterly", "--period", "2023Q2", "--today", "2023-07-03", "--out", out)
    assert q.code == 0 and "已生成 芜湖市湾沚区 2023年第2季度综合分析:" in q.out
    bad = run("report", "quarterly", "--period", "2023-Q5", "--out", out)
    assert bad.code == 1 and "季度应写作 YYYYQn" in bad.err


def test_usage_errors_are_in_chinese(run) -> None:  # type: ignore[no-untyped-def]
    cases = [(("status", "--by", "镇"), "错误: 参数 --by 的值 “镇” 无效; 可选: 'task', 'unit', 'town'"),
             (("status", "--year", "abc"), "错误: 参数 --year: 年度应为整数, 实为 “abc”"),
             (("exam", "result", "湾沚镇", "--on", "2023-04-26"), "错误: 缺少参数: --candidates, --sat, --passed"),
             (("letters", "--zz"), "错误: 无法识别的参数: --zz")]
    for args, message in cases:
        r = run(*args)
        assert r.code == 2 and r.err.strip().splitlines()[-1] == message, r.err


@pytest.mark.parametrize("command", ["serve", "deploy"])
def test_serve_and_deploy_without_a_prefect_server_say_what_to_do(run, monkeypatch, tmp_path, command: str) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.test_dashboard import free_port

    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")  # nobody listens there
    # (set here so that prefect_env's setdefault() leaves them, and they are restored afterwards)
    for var, value in (("PREFECT_HOME", str(tmp_path / "prefect")), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                       ("PREFECT_LOGGING_LEVEL", "WARNING"), ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
        monkeypatch.setenv(var, value)
    r = run(command)
    # the server it was pointed at, named (no credentials) and said to be unreachable — not another server, no traceback
    assert r.code == 1 and "错误: 环境变量 PREFECT_API_URL 指向的 Prefect 服务" in r.err and "无法连接" in r.err, r.err
    assert "Traceback" not in r.err
