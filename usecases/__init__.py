"""What a user can do: one use case per action, each taking one typed, keyword-only command (usecases/commands.py)
and the actor who asks. The CLI, the web pages, Slack's buttons and the import are thin doors that parse their
input into a command and call one of these; none of them reaches `models/` itself.

    record (record.py)              a letter, training, an exam, a 月报, an untracked share's status
    import_file (imports.py)        a filled sheet, every row through record's functions, all or nothing
    import_sheet (evidence.py)      a unit's own sheet from its page, its own rows only
    acknowledge (answers.py)        签收 a reminder
    give_feedback (answers.py)      反馈 with 佐证: a status, or a tracked share's items
    review_feedback (answers.py)    the 专班's 通过 (recorded as the CLI would) / 退回
    ask_extension (answers.py)      申请延期 (from the CLI: approved with --approved-by, else 待批)
    decide_extension (answers.py)   批准 / 不批准
    close_plan, reopen_plan (plans.py)
    backup, restore (backup.py)     the database, evidence, link secret and plan file in one checked archive
    unit_page, office_page (pages.py), the reads of reads.py and the web door's (links_door.py): what pages and
    commands show

The runtime context (context.py, from settings.py: the only module that reads the environment) is built once at
each door and passed down; every write first checks that the plan year is open (guard.py).
"""
