"""Reports: gathering what a report needs from the database (gather.py, status.py) and rendering it for
people — Markdown 通报, Excel workbooks, PNG charts, the 专班's status tables, blank sheets for units
(render.py, excel.py, charts.py, status.py, templates.py). Imports the core and models/; flows/ runs it."""
