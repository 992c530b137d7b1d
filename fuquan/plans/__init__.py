"""The plan file: its schema, loader and the validated plan with its policies; next year's plan."""
