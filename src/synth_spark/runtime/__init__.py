"""Where Spark runs: the session (classic or Spark Connect), Delta Lake's jars, the JVM's output, the
settings the written values depend on, reading a published table back, and whether a Spark Connect
server sees the folder this process writes. The job, publishing, validation and the checks use this
wing; it uses none of them. Nothing here is imported on ``import synth_spark``: the dbt checks run
without pyspark."""
