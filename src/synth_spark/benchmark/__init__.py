"""The benchmark: what a root-cause tool is given (questions, the KPI cube), and how its findings are scored."""
