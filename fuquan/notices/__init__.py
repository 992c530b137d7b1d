"""A notice's 任务清单 read into a draft plan."""
