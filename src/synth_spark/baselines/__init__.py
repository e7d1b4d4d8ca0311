"""Reference root-cause methods, scored by ``synth-spark score`` like any tool under test: each reads
only what a tool is given (the KPI cube, the questions) and writes the findings format."""
